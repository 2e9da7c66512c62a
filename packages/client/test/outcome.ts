/**
 * Watching a promise without awaiting it: tests on a ManualClock advance time, then check that
 * nothing settled a millisecond early (a deadline fires inside `advance()`; the promise's
 * reactions run on the next turn).
 */

/** A promise being watched. */
export interface Watched<T> {
  /** Its value or error, once settled. */
  readonly outcome: Promise<{ value: T } | { error: unknown }>;
  /** Whether it has settled (as of the reactions run so far). */
  settled(): boolean;
}

/** Watch `p` (its rejection is handled: no unhandled-rejection noise). */
export function watch<T>(p: Promise<T>): Watched<T> {
  let settled = false;
  const outcome = p.then(
    (value) => {
      settled = true;
      return { value };
    },
    (error: unknown) => {
      settled = true;
      return { error };
    },
  );
  return { outcome, settled: () => settled };
}

/** One turn of the event loop: settled promises' reactions and ready I/O callbacks run. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Poll `done` every 5 ms until it holds (or fail after `ms`): for I/O, never for a timeout. */
export async function eventually(done: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
