/** The README's example is the file examples/pool.ts, verbatim, and it prints what the README says. */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('shows examples/pool.ts verbatim, and it prints what the README says', async () => {
    const example = readFileSync(new URL('../examples/pool.ts', import.meta.url), 'utf8');
    expect(readme).toContain(example.trim());
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    try {
      await import('../examples/pool.js');
    } finally {
      spy.mockRestore();
    }
    expect(lines[0]).toBe('200 hello /item/0 … 200 hello /item/9');
    // 10 requests, 4 per connection at most: at least 3 connections; none lost.
    expect(lines[1]).toMatch(/^10 responses, [34] connections opened, [67] handshakes saved, 0 re-sent$/);
    expect(readme).toContain(lines[0]);
  });

  it('shows examples/fetch.ts verbatim, and it prints what the README says', async () => {
    const example = readFileSync(new URL('../examples/fetch.ts', import.meta.url), 'utf8');
    expect(readme).toContain(example.trim());
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    try {
      await import('../examples/fetch.js');
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(['hello /item/0 … hello /item/19', '20 responses, some pipelined, 0 re-sent', '200 hello /via-agent']);
    for (const line of lines) expect(readme).toContain(line);
  });
});
