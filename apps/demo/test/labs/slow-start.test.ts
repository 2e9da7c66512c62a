import { describe, expect, it } from 'vitest';

import { countBursts, modelFetch, runSlowStart, slowStartRounds, windowAfterIdle } from '../../src/labs/slow-start.js';

const W = 14_600;

describe('slowStartRounds', () => {
  it.each([
    [0, W, 0],
    [1, W, 1],
    [W, W, 1],
    [W + 1, W, 2], // W, then 1 byte of a 2W window
    [3 * W, W, 2], // W + 2W
    [3 * W + 1, W, 3],
    [7 * W, W, 3], // W + 2W + 4W
    [200_000, W, 4], // 14.6 + 29.2 + 58.4 KB = 102.2 KB after three rounds
    [200_000, W + 200_000, 1], // a window grown by a previous 200 KB
  ])('%i bytes from a window of %i take %i rounds', (bytes, cwnd, expected) => {
    expect(slowStartRounds(bytes, cwnd)).toBe(expected);
  });

  it('refuses a window that is not positive', () => {
    expect(() => slowStartRounds(10, 0)).toThrow(RangeError);
  });
});

describe('countBursts', () => {
  it.each([
    [[], 0],
    [[100], 1],
    [[100, 101, 102], 1],
    [[100, 101, 150, 151, 200], 3],
    [[100, 125, 150], 1], // gaps of exactly 25 ms do not split
    [[100, 126], 2],
  ])('%j at a 25 ms gap: %i bursts', (arrivals, expected) => {
    expect(countBursts(arrivals, 25)).toBe(expected);
  });
});

describe('windowAfterIdle', () => {
  it.each([
    [100_000, 400, true, W], // idle > RTO, restart on: back to the initial window
    [100_000, 250, true, 100_000], // idle = RTO: not longer than it
    [100_000, 400, false, 100_000], // restart off: kept
    [10_000, 400, true, 10_000], // min(W₀, cwnd): a window below W₀ stays
  ])('cwnd 100000 idle %i ms (RTO 250, restart %s)', (cwnd, idle, restarts, expected) => {
    expect(windowAfterIdle(cwnd, W, idle, 250, restarts)).toBe(expected);
  });
});

describe('modelFetch', () => {
  it('cold: handshake R, request R/2, four rounds (3 R), last window R/2 — 5 R', () => {
    expect(modelFetch(200_120, W, 50, true)).toEqual({ ms: 250, rounds: 4, cwndAfter: W + 200_120 });
  });

  it('warm: request R/2, one window R/2 — 1 R', () => {
    expect(modelFetch(200_120, W + 200_120, 50, false)).toMatchObject({ ms: 50, rounds: 1 });
  });
});

describe('slow-start lab', () => {
  it('takes more rounds cold than warm, and again after an idle period when the window restarts', async () => {
    const result = await runSlowStart({ quick: true });
    const { cold, warm, idleRestart, idleKept } = result.data;

    // The model: 200 KB from 10 segments in 4 rounds; from a grown window in 1.
    expect([cold, warm, idleRestart, idleKept].map((f) => f.model.rounds)).toEqual([4, 1, 4, 1]);
    expect(idleRestart.model.windowBefore).toBe(W);
    expect(idleKept.model.windowBefore).toBeGreaterThan(200_000);

    // What arrived: more bursts cold than warm, more after a restart than with the window kept.
    expect(cold.rounds).toBeGreaterThan(warm.rounds);
    expect(idleRestart.rounds).toBeGreaterThan(idleKept.rounds);
    expect(cold.bytes).toBeGreaterThan(200_000);

    // netem restarted the window on the restarting link only.
    expect(idleRestart.windowRestarts).toBe(1);
    expect(idleKept.windowRestarts).toBe(0);
    expect(result.measured).toHaveLength(4);
  }, 20_000);
});
