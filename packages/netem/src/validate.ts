/**
 * Theory of operation: the number checks shared by options and toxics. Each returns the value
 * (or the default when the value is undefined) or throws a `RangeError` that names the option,
 * says what was expected and shows what was given.
 */

/** A value as an error message shows it: `-1`, `NaN`, `'abc'`, `{"kind":"x"}`. */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

/** A duration in ms: finite and ≥ 0 (or Infinity where `unbounded`), else a RangeError naming the option. */
export function duration(name: string, value: unknown, dflt: number, unbounded = false): number {
  if (value === undefined) return dflt;
  if (typeof value === 'number' && value >= 0 && (Number.isFinite(value) || (unbounded && value === Number.POSITIVE_INFINITY))) return value;
  throw new RangeError(`${name} must be a ${unbounded ? '' : 'finite '}number of ms ≥ 0${unbounded ? ' or Infinity' : ''}, got ${show(value)}`);
}

/** A byte count: an integer ≥ `min`, or Infinity where `unbounded`, else a RangeError naming the option. */
export function byteCount(name: string, value: unknown, dflt: number, min: number, unbounded: boolean): number {
  if (value === undefined) return dflt;
  if (typeof value === 'number' && ((unbounded && value === Number.POSITIVE_INFINITY) || (Number.isSafeInteger(value) && value >= min))) {
    return value;
  }
  throw new RangeError(`${name} must be an integer ≥ ${min}${unbounded ? ' or Infinity' : ''}, got ${show(value)}`);
}
