/**
 * Theory of operation: the clock a pool's timeouts run on when the caller gives none — Node's
 * monotonic `performance.now()` and `setTimeout`. Its timers are unref'd: a pending timeout never
 * keeps the process alive (a connection's socket does, while it has work).
 */

import type { Clock } from '@tether/protocol';

/** The default {@link Clock}: `performance.now()` and unref'd `setTimeout`. */
export const nodeClock: Clock = {
  now: () => performance.now(),
  setTimer: (fire, delay) => setTimeout(fire, delay).unref(),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
