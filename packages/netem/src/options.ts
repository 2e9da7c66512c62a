/**
 * Theory of operation: the link's knobs, their defaults and where each default comes from,
 * checked once so the rest of the package can trust them. Every number is validated here:
 * a bad value is a `RangeError` naming the option. Times are milliseconds, sizes and rates
 * are bytes (rates per second), `Infinity` means "no limit" where allowed.
 */

import { resolveToxics } from './toxics.js';
import { byteCount, duration, show } from './validate.js';
import type { Toxic } from './toxics.js';

/** Ethernet's MTU (1500) less 20 bytes of IPv4 header and 20 of TCP header (RFC 879 §3 arithmetic). */
export const DEFAULT_MSS = 1460;

/** Segments in a fresh congestion window: RFC 6928's IW10, Linux's default since 2.6.39. */
export const DEFAULT_INITIAL_WINDOW_SEGMENTS = 10;

/**
 * Cap on the bytes in flight per connection and direction. It stands in for the receiver's
 * advertised window, which netem does not model: Linux autotunes its receive buffer up to
 * `tcp_rmem` max (6 MiB), of which roughly two thirds is advertised. It also bounds the
 * relay's memory when `bandwidth` and `initialWindow` are both unlimited.
 */
export const DEFAULT_MAX_WINDOW = 4 * 1024 * 1024;

/**
 * Linux's `TCP_RTO_MIN` (200 ms). With a constant RTT the RTT variance tends to zero and
 * Linux's RTO settles at SRTT + RTO_MIN, which is netem's default `rto`.
 */
export const RTO_MIN = 200;

/**
 * Bytes the relay holds per connection and direction (read from the sender, not yet sent on
 * the link, plus bytes the receiving socket has not flushed) above which it stops reading the
 * sender. 256 KiB: four of Node's 64 KiB socket reads, a few ms of a gigabit link.
 */
export const DEFAULT_HIGH_WATER_MARK = 256 * 1024;

/** One direction of a link. `upstream` is client → server, `downstream` is server → client. */
export type Direction = 'upstream' | 'downstream';

/** A rate for each direction, bytes per second. */
export interface DirectionalBandwidth {
  /** Client → server, bytes/s. */
  readonly upstream: number;
  /** Server → client, bytes/s. */
  readonly downstream: number;
}

/** Options of {@link createLink}. Every field is optional. */
export interface LinkOptions {
  /** Round-trip time, ms: each byte pays half of it each way, a new connection one more before its first byte. Default 0. */
  readonly rtt?: number;
  /**
   * Bytes per second, shared by every connection of the link, in each direction separately.
   * A number applies to both directions; `{ upstream, downstream }` models an asymmetric
   * access link. Default `Infinity` (no serialization delay).
   */
  readonly bandwidth?: number | DirectionalBandwidth;
  /** Congestion window of a fresh connection, bytes. Default 10 × `mss` (RFC 6928). `Infinity`: no slow start. */
  readonly initialWindow?: number;
  /** Maximum segment size, bytes: the unit of the scheduler's fair sharing. Default {@link DEFAULT_MSS}. */
  readonly mss?: number;
  /** Cap on bytes in flight per connection and direction. Default {@link DEFAULT_MAX_WINDOW}; `Infinity` allowed. */
  readonly maxWindow?: number;
  /**
   * RFC 5681 §4.1: a sender that has sent nothing for longer than one `rto` (with nothing in
   * flight) restarts from `min(initialWindow, cwnd)`. Linux does this by default
   * (`net.ipv4.tcp_slow_start_after_idle = 1`); netem's default is false, so a reused
   * connection keeps its grown window, which is the simpler model to predict.
   */
  readonly slowStartAfterIdle?: boolean;
  /** Idle time, ms, after which `slowStartAfterIdle` restarts the window. Default `rtt + 200` ({@link RTO_MIN}). */
  readonly rto?: number;
  /** Relay buffer per connection and direction before reading pauses. Default {@link DEFAULT_HIGH_WATER_MARK}. */
  readonly highWaterMark?: number;
  /** Faults applied to every new connection of the link (see {@link Toxic}). Default none. */
  readonly toxics?: readonly Toxic[];
}

/** {@link LinkOptions} with every default filled in. */
export interface ResolvedLinkOptions {
  /** Round-trip time, ms. */
  readonly rtt: number;
  /** Bytes/s in each direction; `Infinity`: unlimited. */
  readonly bandwidth: DirectionalBandwidth;
  /** Congestion window of a fresh connection, bytes. */
  readonly initialWindow: number;
  /** Maximum segment size, bytes. */
  readonly mss: number;
  /** Cap on bytes in flight per connection and direction. */
  readonly maxWindow: number;
  /** Whether an idle connection's window restarts from `initialWindow`. */
  readonly slowStartAfterIdle: boolean;
  /** Idle time, ms, after which the window restarts. */
  readonly rto: number;
  /** Relay buffer per connection and direction before reading pauses. */
  readonly highWaterMark: number;
  /** Faults applied to every new connection. */
  readonly toxics: readonly Toxic[];
}

/** A rate in bytes/s: > 0 (fractions allowed) or Infinity. */
function rate(name: string, value: unknown): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (typeof value === 'number' && value > 0) return value; // NaN fails `> 0`
  throw new RangeError(`${name} must be a number of bytes/s > 0 or Infinity, got ${show(value)}`);
}

function bandwidth(value: LinkOptions['bandwidth']): DirectionalBandwidth {
  if (typeof value === 'object') {
    return { upstream: rate('bandwidth.upstream', value.upstream), downstream: rate('bandwidth.downstream', value.downstream) };
  }
  const both = rate('bandwidth', value);
  return { upstream: both, downstream: both };
}

/**
 * Fill in the defaults.
 *
 * @throws RangeError naming the option when a value is out of range, NaN or of the wrong type.
 */
export function resolveLinkOptions(o: LinkOptions = {}): ResolvedLinkOptions {
  const rtt = duration('rtt', o.rtt, 0);
  const mss = byteCount('mss', o.mss, DEFAULT_MSS, 1, false);
  if (o.slowStartAfterIdle !== undefined && typeof o.slowStartAfterIdle !== 'boolean') {
    throw new RangeError(`slowStartAfterIdle must be a boolean, got ${show(o.slowStartAfterIdle)}`);
  }
  return {
    rtt,
    bandwidth: bandwidth(o.bandwidth),
    initialWindow: byteCount('initialWindow', o.initialWindow, DEFAULT_INITIAL_WINDOW_SEGMENTS * mss, 1, true),
    mss,
    maxWindow: byteCount('maxWindow', o.maxWindow, DEFAULT_MAX_WINDOW, 1, true),
    slowStartAfterIdle: o.slowStartAfterIdle ?? false,
    rto: duration('rto', o.rto, rtt + RTO_MIN),
    highWaterMark: byteCount('highWaterMark', o.highWaterMark, DEFAULT_HIGH_WATER_MARK, 1, false),
    toxics: resolveToxics('toxics', o.toxics),
  };
}
