import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { LOCAL_ERRORS, REMOTE_ERRORS, stateDiagram } from '../src/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('shows examples/pipelining.ts verbatim, and the example prints what the README says', async () => {
    const example = readFileSync(new URL('../examples/pipelining.ts', import.meta.url), 'utf8');
    expect(readme).toContain(example.trim());
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    try {
      await import('../examples/pipelining.js');
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual([
      '200 keep-alive',
      'you asked for /a',
      '200 close',
      'you asked for /b',
      'server: MUST_CLOSE client: MUST_CLOSE',
    ]);
  });

  it('carries the state diagrams generated from the transition tables', () => {
    for (const role of ['client', 'server'] as const) {
      expect(readme, `regenerate with: pnpm --filter @tether/protocol docs`).toContain(stateDiagram(role));
    }
  });

  it('lists every error code, remote ones with their status', () => {
    for (const [code, status] of Object.entries(REMOTE_ERRORS)) expect(readme).toContain(`\`${code}\` ${status}`);
    for (const code of LOCAL_ERRORS) expect(readme).toContain(`\`${code}\``);
  });
});
