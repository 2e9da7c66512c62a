import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('shows examples/nginx.ts verbatim, and it prints what the README says', { timeout: 60_000 }, async () => {
    const example = readFileSync(new URL('../examples/nginx.ts', import.meta.url), 'utf8');
    expect(readme).toContain(example.trim());
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    try {
      await import('../examples/nginx.js');
    } finally {
      spy.mockRestore();
    }
    const printed = ['hello /x\n'];
    expect(lines).toEqual(printed);
    expect(readme).toContain(['It prints:', '', '```', 'hello /x', '```'].join('\n'));
  });
});
