/**
 * @tether/netem — a userland link emulator: a TCP relay on loopback that puts a modelled
 * network path between a client and a server. Each new connection pays a handshake round trip
 * before its first byte, every byte pays half an RTT each way, all connections of a link share
 * its bandwidth in each direction, and each connection's congestion window starts small and
 * doubles per RTT (slow start). Toxics inject faults: resets, closes, stalls, sliced writes.
 *
 * @packageDocumentation
 */

export { createLink, Link } from './link.js';
export { Forward } from './forward.js';
export type { ForwardOptions } from './forward.js';
export {
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_INITIAL_WINDOW_SEGMENTS,
  DEFAULT_MAX_WINDOW,
  DEFAULT_MSS,
  RTO_MIN,
} from './options.js';
export type { Direction, DirectionalBandwidth, LinkOptions, ResolvedLinkOptions } from './options.js';
export { TOXIC_KINDS } from './toxics.js';
export type { CloseAfterToxic, ResetAfterToxic, SliceToxic, StallToxic, Toxic, ToxicBase } from './toxics.js';
export { MAX_CLOSED_CONNECTION_STATS } from './stats.js';
export type { ConnectionEnd, ConnectionStats, DirectionStats, LinkStats, Target } from './stats.js';
export { NetemError, NETEM_ERRORS } from './errors.js';
export type { NetemErrorCode } from './errors.js';
