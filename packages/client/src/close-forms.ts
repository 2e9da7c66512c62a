/**
 * Theory of operation: undici's `close()` and `destroy()` either return a promise or call a
 * callback `(err, null)` once done, and `destroy` takes its error, its callback, or both. Pool
 * and Agent each make one promise of the work; these helpers read the arguments and hand the
 * promise back in the form the caller chose.
 */

/** Called once when `close()` or `destroy()` has finished (undici's callback form). */
export type CloseCallback = (err: Error | null, data: null) => void;

/** The error and the callback of `destroy(err?)`, `destroy(callback)` or `destroy(err, callback)`. */
export function destroyArguments(errOrCallback: Error | null | CloseCallback | undefined, callback: CloseCallback | undefined): { err: Error | undefined; callback: CloseCallback | undefined } {
  if (typeof errOrCallback === 'function') return { err: undefined, callback: errOrCallback };
  return { err: errOrCallback ?? undefined, callback };
}

/** `done` itself when there is no callback; else nothing, and `callback(null, null)` once `done` resolves. */
export function promiseOrCallback(done: Promise<void>, callback: CloseCallback | undefined): Promise<void> | undefined {
  if (callback === undefined) return done;
  void done.then(() => callback(null, null));
  return undefined;
}
