/**
 * Theory of operation: the pool's policy knobs, their defaults (and where each default comes
 * from), checked once so the rest of the package can trust them. Parser limits pass straight
 * to @tether/protocol; the clock passes to every connection's deadlines.
 */

import { checkTimeout, isIdempotentMethod } from '@tether/protocol';
import type { Clock, ParserOptions } from '@tether/protocol';
import { nodeClock } from './clock.js';

/** Automatic re-sending of requests whose connection dropped before their response (RFC 9112 §9.3.1). */
export interface RetryOptions {
  /** Re-sends per request after a connection dropped without warning. Default 3. */
  readonly attempts?: number;
  /** Methods that may be re-sent. Default the idempotent ones: GET, HEAD, OPTIONS, TRACE, PUT, DELETE. */
  readonly methods?: readonly string[];
}

/** Options of {@link Pool} and {@link Client}. Every field is optional. */
export interface PoolOptions extends ParserOptions {
  /** Most connections to the origin. Default 6 (what browsers open per origin). */
  readonly connections?: number;
  /** Most requests in flight on one connection; 1 = no pipelining. Default 1. */
  readonly pipelining?: number;
  /** Reuse connections. Default true; false sends `Connection: close` on every request. */
  readonly keepAlive?: boolean;
  /**
   * Ms an idle connection is kept. Default 4000 (undici's). A server's `Keep-Alive: timeout=N`
   * shortens it to N seconds less a safety margin (1 s, or half of N when N is shorter than 2 s).
   */
  readonly keepAliveTimeout?: number;
  /** Requests sent on one connection before it is retired. Default Infinity (the server's `Keep-Alive: max` still applies). */
  readonly maxRequestsPerConnection?: number;
  /** Ms allowed for the TCP handshake. Default 10000 (undici's). */
  readonly connectTimeout?: number;
  /** Ms from a request being sent until its response head arrives. Default 300000 (undici's). */
  readonly headersTimeout?: number;
  /** Ms allowed between two pieces of a response body. Default 300000 (undici's). */
  readonly bodyTimeout?: number;
  /** Re-sending after a dropped connection. */
  readonly retry?: RetryOptions;
  /** TCP_NODELAY. Default true. */
  readonly noDelay?: boolean;
  /** Unread response body bytes above which the connection stops reading. Default 64 KiB. */
  readonly bodyHighWaterMark?: number;
  /**
   * The time source of every timeout (tests pass a ManualClock); default: performance.now() and
   * unref'd setTimeout.
   */
  readonly clock?: Clock;
}

/** {@link PoolOptions} with every default filled in. */
export interface ResolvedPoolOptions {
  readonly connections: number;
  readonly pipelining: number;
  readonly keepAlive: boolean;
  readonly keepAliveTimeout: number;
  readonly maxRequestsPerConnection: number;
  readonly connectTimeout: number;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
  readonly retryAttempts: number;
  readonly retryMethods: ReadonlySet<string>;
  readonly noDelay: boolean;
  readonly bodyHighWaterMark: number;
  readonly parser: ParserOptions;
  readonly clock: Clock;
}

const IDEMPOTENT = ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'];

function count(name: string, value: number | undefined, dflt: number, min: number): number {
  if (value === undefined) return dflt;
  if (value === Number.POSITIVE_INFINITY || (Number.isSafeInteger(value) && value >= min)) return value;
  throw new RangeError(`${name} must be an integer ≥ ${min} or Infinity, got ${String(value)}`);
}

/**
 * A timeout in ms: a whole number, 0 and Infinity both meaning none. Negative and NaN are
 * refused (checkTimeout); a value past what a host timer holds is kept (the deadline clamps).
 */
export function timeoutOption(name: string, value: number): number {
  const ms = count(name, checkTimeout(name, value), 0, 0);
  return ms === 0 ? Number.POSITIVE_INFINITY : ms;
}

function timeout(name: string, value: number | undefined, dflt: number): number {
  return value === undefined ? dflt : timeoutOption(name, value);
}

function clock(value: Clock | undefined): Clock {
  if (value === undefined) return nodeClock;
  if (typeof value.now !== 'function' || typeof value.setTimer !== 'function' || typeof value.clearTimer !== 'function') {
    throw new TypeError('clock must have now(), setTimer() and clearTimer()');
  }
  return value;
}

/**
 * Fill in the defaults.
 *
 * @throws RangeError when a number option is negative, fractional or NaN, or a retry method is
 * not idempotent (re-sending a POST could repeat its effect); TypeError when `clock` is not one.
 */
export function resolvePoolOptions(o: PoolOptions = {}): ResolvedPoolOptions {
  const methods = o.retry?.methods ?? IDEMPOTENT;
  for (const m of methods) if (!isIdempotentMethod(m)) throw new RangeError(`retry.methods: ${m} is not idempotent and cannot be re-sent automatically`);
  return {
    connections: count('connections', o.connections, 6, 1),
    pipelining: count('pipelining', o.pipelining, 1, 1),
    keepAlive: o.keepAlive ?? true,
    keepAliveTimeout: timeout('keepAliveTimeout', o.keepAliveTimeout, 4000),
    maxRequestsPerConnection: count('maxRequestsPerConnection', o.maxRequestsPerConnection, Number.POSITIVE_INFINITY, 1),
    connectTimeout: timeout('connectTimeout', o.connectTimeout, 10_000),
    headersTimeout: timeout('headersTimeout', o.headersTimeout, 300_000),
    bodyTimeout: timeout('bodyTimeout', o.bodyTimeout, 300_000),
    retryAttempts: count('retry.attempts', o.retry?.attempts, 3, 0),
    retryMethods: new Set(methods),
    noDelay: o.noDelay ?? true,
    bodyHighWaterMark: count('bodyHighWaterMark', o.bodyHighWaterMark, 64 * 1024, 1),
    clock: clock(o.clock),
    parser: {
      ...(o.maxHeadBytes === undefined ? {} : { maxHeadBytes: o.maxHeadBytes }),
      ...(o.maxHeaderCount === undefined ? {} : { maxHeaderCount: o.maxHeaderCount }),
      ...(o.maxBodySize === undefined ? {} : { maxBodySize: o.maxBodySize }),
      ...(o.allowBareLf === undefined ? {} : { allowBareLf: o.allowBareLf }),
    },
  };
}
