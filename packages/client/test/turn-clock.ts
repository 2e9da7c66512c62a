/**
 * A ManualClock that moves 1 ms per turn of the event loop, for tests that stage a race between
 * a server's timers and socket I/O. Time then passes as on a real server, only faster and counted
 * in turns: every timer fires in order, at its own time, between the socket reads around it, and
 * a loop stalled by a loaded machine is one turn, never a jump that fires a timer before the
 * bytes already waiting on a socket are read.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ManualClock } from '@tether/protocol/testing';

/**
 * Run `clock` 1 ms per turn of the event loop (after that turn's I/O) until the returned stop
 * function is called, or it reached `maxMs` (the bound stops a stuck run).
 */
export function runClock(clock: ManualClock, maxMs: number): () => Promise<void> {
  let running = true;
  const ticking = (async () => {
    while (running && clock.now() < maxMs) {
      await nextTurn();
      clock.advance(1);
    }
  })();
  return async () => {
    running = false;
    await ticking;
  };
}
