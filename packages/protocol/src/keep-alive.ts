/**
 * Theory of operation: the Keep-Alive header field of the HTTP/1.0 persistence mechanism
 * (RFC 2068 §19.7.1.1, "HTTP: The Definitive Guide" §4.5.5): `Keep-Alive: timeout=5, max=100`,
 * where `timeout` is how many seconds the sender keeps an idle connection and `max` how many more
 * requests it will serve on it. Other parameters are kept as extensions. Bad values (not a
 * non-negative integer, given twice, a malformed element) are reported in `problems`; the first
 * good value wins.
 */

import { DIGITS, MAX_SAFE_DIGITS, isToken } from './abnf.js';
import { parseParamList } from './list-syntax.js';
import type { ListParam } from './list-syntax.js';

/** The parsed Keep-Alive field. */
export interface KeepAlive {
  /** Idle seconds the sender will keep the connection, when given and valid. */
  readonly timeout?: number;
  /** Requests the sender will still serve on the connection, when given and valid. */
  readonly max?: number;
  /** Parameters other than `timeout` and `max`, lower-cased names, in order. */
  readonly extensions: readonly ListParam[];
  /** Human-readable descriptions of what was wrong, empty when all was well. */
  readonly problems: readonly string[];
}

/** Parse the value(s) of a Keep-Alive field. */
export function parseKeepAlive(values: string | readonly string[] | undefined): KeepAlive {
  const parsed = parseParamList(values);
  const problems = parsed.invalid.map((text) => `malformed parameter ${JSON.stringify(text)}`);
  const extensions: ListParam[] = [];
  const found: { timeout?: number; max?: number } = {};
  for (const [name, value] of parsed.params) {
    if (name !== 'timeout' && name !== 'max') {
      extensions.push([name, value]);
      continue;
    }
    if (value === null || !DIGITS.test(value) || value.length > MAX_SAFE_DIGITS) {
      problems.push(`${name} must be a non-negative integer, got ${value === null ? 'no value' : JSON.stringify(value)}`);
    } else if (found[name] !== undefined) {
      problems.push(`${name} given more than once; keeping ${found[name]}`);
    } else {
      found[name] = Number(value);
    }
  }
  return { ...found, extensions, problems };
}

/** What {@link formatKeepAlive} writes. */
export interface KeepAliveInit {
  /** Seconds an idle connection is kept (`timeout=`). */
  readonly timeout?: number;
  /** Requests the connection may still carry (`max=`). */
  readonly max?: number;
  /** Further parameters, written after `timeout` and `max`. */
  readonly extensions?: readonly ListParam[];
}

/** Every character may appear in a quoted-string, escaped or not (no controls but HTAB). */
function isQuotable(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || (c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

function formatValue(value: string): string {
  return isToken(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Format a Keep-Alive value, e.g. `timeout=5, max=99`.
 *
 * @throws RangeError when `timeout` or `max` is not a non-negative safe integer, a parameter name
 * is not a token, or a parameter value cannot be written even as a quoted-string (a control
 * other than HTAB, a character above 0xFF). This is argument validation, like Node's
 * `ERR_OUT_OF_RANGE`, not a `LocalProtocolError`: nothing is being sent yet, and the
 * caller passed a value this function cannot represent.
 */
export function formatKeepAlive(init: KeepAliveInit): string {
  const parts: string[] = [];
  for (const key of ['timeout', 'max'] as const) {
    const v = init[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`Keep-Alive ${key} must be a non-negative integer, got ${v}`);
    parts.push(`${key}=${v}`);
  }
  for (const [name, value] of init.extensions ?? []) {
    if (!isToken(name)) throw new RangeError(`Keep-Alive parameter name ${JSON.stringify(name)} is not a token`);
    if (value !== null && !isQuotable(value)) throw new RangeError(`Keep-Alive parameter ${name} has a value that cannot be quoted`);
    parts.push(value === null ? name : `${name}=${formatValue(value)}`);
  }
  return parts.join(', ');
}
