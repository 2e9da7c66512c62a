import { describe, expect, it } from 'vitest';

import { CongestionWindow, slowStartRounds } from './congestion-window.js';

describe('CongestionWindow', () => {
  const window = (initial = 1000, max = Number.POSITIVE_INFINITY, restartAfter = Number.POSITIVE_INFINITY): CongestionWindow =>
    new CongestionWindow({ initial, max, restartAfter });

  it('starts at the initial window and limits bytes in flight', () => {
    const w = window();
    expect(w.available).toBe(1000);
    w.onSend(600, 0);
    expect(w.available).toBe(400);
    w.onSend(400, 0);
    expect(w.available).toBe(0);
  });

  it('grows by every acknowledged byte: doubles per round trip', () => {
    const w = window();
    w.onSend(1000, 0);
    w.onAck(1000);
    expect(w.size).toBe(2000);
    w.onSend(2000, 100);
    w.onAck(500);
    w.onAck(1500);
    expect(w.size).toBe(4000);
  });

  it('never exceeds max', () => {
    const w = window(1000, 1500);
    w.onSend(1000, 0);
    w.onAck(1000);
    expect(w.size).toBe(1500);
    expect(window(Number.POSITIVE_INFINITY, 4096).size).toBe(4096);
  });

  it('restarts after idle only when nothing is in flight and the idle time exceeds restartAfter', () => {
    const w = window(1000, Number.POSITIVE_INFINITY, 300);
    w.onSend(1000, 0);
    w.onAck(1000); // cwnd 2000
    w.beforeSend(300); // idle exactly 300: not longer
    expect(w.size).toBe(2000);
    w.beforeSend(301);
    expect(w.size).toBe(1000);
    expect(w.restarts).toBe(1);
    w.onSend(1000, 400);
    w.onAck(500);
    w.beforeSend(10_000); // 500 bytes still in flight: no restart
    expect(w.size).toBe(1500);
  });
});

describe('slowStartRounds', () => {
  it.each([
    [0, 14_600, 0],
    [1, 14_600, 1],
    [14_600, 14_600, 1],
    [14_601, 14_600, 2],
    [43_800, 14_600, 2],
    [200_000, 14_600, 4],
    [1_000_000, 14_600, 7], // 14.6 kB × (2^7 − 1) = 1.85 MB ≥ 1 MB > 14.6 kB × 63
    [5, Number.POSITIVE_INFINITY, 1],
  ])('%i bytes from a window of %i: %i rounds', (bytes, iw, rounds) => {
    expect(slowStartRounds(bytes, iw)).toBe(rounds);
  });
});
