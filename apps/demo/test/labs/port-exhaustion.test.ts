import { describe, expect, it } from 'vitest';

import { runPortExhaustion } from '../../src/labs/port-exhaustion.js';

describe('port-exhaustion lab', () => {
  it('runs out of a fixed port range after range-size connections, and one persistent connection does not', async () => {
    const result = await runPortExhaustion({ quick: true });
    const { range, short, heldOpen, persistent } = result.data;
    expect(range.last - range.first + 1).toBe(16);
    // Every port of the range was in TIME_WAIT after the first round (where /proc shows it).
    if (short.timeWaitAfterFirstRound !== null) expect(short.timeWaitAfterFirstRound).toBe(16);
    // Short connections either all succeeded (TIME_WAIT recycled, Linux) or failed once the range was used up.
    if (short.failure === null) expect(short.succeeded).toBe(32);
    else {
      expect(['EADDRINUSE', 'EADDRNOTAVAIL']).toContain(short.failure.code);
      expect(short.failure.attempt).toBeGreaterThan(16);
    }
    // The range carries at most 16 connections at a time.
    expect(heldOpen.opened).toBe(16);
    expect(['EADDRINUSE', 'EADDRNOTAVAIL']).toContain(heldOpen.failure?.code);
    expect(heldOpen.failure?.attempt).toBe(17);
    expect(persistent).toMatchObject({ requests: 1000, succeeded: 1000, failure: null });
    expect(result.ok).toBe(true);
  }, 30_000);
});
