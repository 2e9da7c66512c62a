import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('shows examples/echo.ts verbatim, and it prints what the README says', async () => {
    const example = readFileSync(new URL('../examples/echo.ts', import.meta.url), 'utf8');
    expect(readme).toContain(example.trim());
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    try {
      await import('../examples/echo.js');
    } finally {
      spy.mockRestore();
    }
    const printed = ['first echo: 2 RTT (handshake + round trip)', 'second echo: 1 RTT', '1 connection, 1 handshake, 10 bytes up, 10 bytes down'];
    expect(lines).toEqual(printed);
    expect(readme).toContain(['It prints:', '', '```', ...printed, '```'].join('\n'));
  });
});
