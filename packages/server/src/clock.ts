/**
 * Theory of operation: the server's default time source — `performance.now()` and unref'd Node
 * timers, so no timeout keeps a process alive. Tests pass their own {@link Clock} (a
 * `ManualClock` from `@tether/protocol/testing`) to drive time instead of sleeping.
 */

import type { Clock } from '@tether/protocol';

/** `performance.now()` and unref'd `setTimeout`. */
export const NODE_CLOCK: Clock = {
  now: () => performance.now(),
  setTimer(fire, delay) {
    const timer = setTimeout(fire, delay);
    timer.unref();
    return timer;
  },
  clearTimer(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
