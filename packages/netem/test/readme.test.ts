import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/**
 * How much later than the README's figure, in RTT, a printed timing may read. The link never
 * delivers before the model's time and the example rounds down to a half, so a figure lower than
 * the README's is a fault whatever the machine. A loaded machine fires timers late: up to one
 * RTT late reads as half an RTT more; a whole extra round trip still fails.
 */
const LATE_RTT = 0.5;

/** A printed line as its words, with the number of RTT it states (if any) taken out. */
function inRtt(line: string): { words: string; rtt: number | undefined } {
  const match = /(\d+(?:\.\d+)?) RTT\b/.exec(line);
  return { words: line.replace(/\d+(?:\.\d+)? RTT\b/, '# RTT'), rtt: match === null ? undefined : Number(match[1]) };
}

describe('README', () => {
  it('shows examples/echo.ts verbatim, and it prints what the README says: timings never lower, at most half an RTT higher', async () => {
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
    expect(readme).toContain(['It prints:', '', '```', ...printed, '```'].join('\n'));
    expect(lines).toHaveLength(printed.length);
    printed.map(inRtt).forEach((expected, i) => {
      const got = inRtt(lines[i] ?? '');
      expect(got.words, lines[i]).toBe(expected.words);
      if (expected.rtt === undefined) return;
      expect(got.rtt, lines[i]).toBeGreaterThanOrEqual(expected.rtt);
      expect(got.rtt, lines[i]).toBeLessThanOrEqual(expected.rtt + LATE_RTT);
    });
  });
});
