/**
 * Theory of operation: the field lines the server adds to a handler's response head — `Date`
 * (RFC 9110 §6.6.1), and the value of the `Keep-Alive` advertisement that
 * {@link decideResponseHead} chose (the protocol writes it, with the `Connection: keep-alive`
 * that names it) —
 * computed as rarely as possible: the date once a second, each Keep-Alive value once per options.
 * A handler's own `Keep-Alive` field is dropped: the advertisement is the server's, and one that
 * promised more than the server will serve would be wrong.
 */

import { formatKeepAlive } from '@tether/protocol';
import type { ResolvedServerOptions } from './options.js';
import type { ServerResponse } from './response.js';

/** This second's `Date` value, or null; a timer clears it when the second ends (no clock read per response). */
let dateValue: string | null = null;

/** The `Date` header value, computed at most once a second. */
export function httpDate(): string {
  if (dateValue !== null) return dateValue;
  const now = new Date();
  dateValue = now.toUTCString();
  // Unref'd: the cache never keeps a process alive.
  setTimeout(() => (dateValue = null), 1000 - now.getUTCMilliseconds()).unref();
  return dateValue;
}

/** Formatted `Keep-Alive` values per options, indexed by requests left; index KEEP_ALIVE_CACHED: no max. */
const KEEP_ALIVE_VALUES = new WeakMap<ResolvedServerOptions, string[]>();
const KEEP_ALIVE_CACHED = 4096;

/** The `Keep-Alive` values cached for `opts` (one list per options, shared by its connections). */
export function keepAliveValues(opts: ResolvedServerOptions): string[] {
  let values = KEEP_ALIVE_VALUES.get(opts);
  if (values === undefined) KEEP_ALIVE_VALUES.set(opts, (values = []));
  return values;
}

/**
 * The `Keep-Alive` value advertising `opts`' idle timeout (whole seconds, rounded down: the
 * server enforces `keepAliveTimeout + keepAliveTimeoutBuffer`, later than any client that honours
 * the hint gives up) and `max` = `left` more requests (`Infinity`: no max). `values`: its cache.
 */
export function keepAliveValue(opts: ResolvedServerOptions, values: string[], left: number): string {
  const index = Number.isFinite(left) ? left : KEEP_ALIVE_CACHED;
  let value = values[index];
  if (value === undefined) {
    const timeout = opts.keepAliveTimeout === Number.POSITIVE_INFINITY ? undefined : Math.floor(opts.keepAliveTimeout / 1000);
    value = formatKeepAlive({ ...(timeout === undefined ? {} : { timeout }), ...(Number.isFinite(left) ? { max: left } : {}) });
    if (index <= KEEP_ALIVE_CACHED) values[index] = value;
  }
  return value;
}

/**
 * The head's field lines: the handler's (less its Keep-Alive: the advertisement is the server's,
 * given to the protocol as `keepAlive`, which names it in `Connection: keep-alive`), and `Date`
 * unless set.
 */
export function headFields(res: ServerResponse): string[] {
  const raw = res.rawHeaderList();
  if (res.hasLowerCaseHeader('keep-alive')) {
    for (let i = raw.length - 2; i >= 0; i -= 2) if (raw[i]!.toLowerCase() === 'keep-alive') raw.splice(i, 2);
  }
  if (res.sendDate && !res.hasLowerCaseHeader('date')) raw.push('Date', httpDate());
  return raw;
}
