/**
 * Theory of operation: the shapes `link.stats()` returns — plain, readonly snapshots, safe to
 * keep, compare and serialize. Counters are exact (they count bytes and events, not estimates);
 * times are `performance.now()` milliseconds, in model time (when the model says a thing
 * happened, which is never later than, and at most a timer tick earlier than, when the relay
 * did it).
 */

import type { Toxic } from './toxics.js';

/** Where a forward relays to. */
export interface Target {
  /** Host name or address. Default `'127.0.0.1'`. */
  readonly host?: string;
  /** TCP port. */
  readonly port: number;
}

/** One direction of one connection. */
export interface DirectionStats {
  /** Bytes read from the sending socket. */
  readonly received: number;
  /** Bytes written to the receiving socket, after the model and the toxics. */
  readonly delivered: number;
  /** Congestion window now, bytes. */
  readonly cwnd: number;
  /** Bytes sent on the link and not yet acknowledged. */
  readonly inFlight: number;
  /** Times the window restarted after idle (`slowStartAfterIdle`). */
  readonly windowRestarts: number;
  /** When the first byte was delivered, if one was. */
  readonly firstByteAt: number | undefined;
}

/**
 * How a relayed connection ended: `'fin'` both sides closed gracefully; `'reset'` one side
 * reset or failed and the other was reset; `'connect-failed'` the target refused or was
 * unreachable; `'toxic-reset'` / `'toxic-close'` a toxic ended it; `'closed'` the link or
 * forward was closed under it.
 */
export type ConnectionEnd = 'fin' | 'reset' | 'connect-failed' | 'toxic-reset' | 'toxic-close' | 'closed';

/** One relayed connection. */
export interface ConnectionStats {
  /** Link-wide sequence number, from 1. */
  readonly id: number;
  /** The port of the forward that accepted it. */
  readonly listenPort: number;
  /** Where it is relayed to. */
  readonly target: Required<Target>;
  /** Whether both sockets are still open. */
  readonly state: 'open' | 'closed';
  /**
   * The port of the client's socket (its `localPort`): tells which of a client's sockets this
   * connection is, to line its timings up with the client's own.
   */
  readonly clientPort: number;
  /**
   * When the client's connection was accepted: the start of the emulated handshake (a loopback
   * `connect()` completes at once, so the client's own connect timing shows no handshake).
   */
  readonly openedAt: number;
  /**
   * When the emulated handshake ends for the client: `openedAt + rtt` (SYN, SYN-ACK). Bytes the
   * client wrote earlier wait until then, so `openedAt` → `establishedAt` is the connection's
   * "connecting" phase in a waterfall; its first byte reaches the server rtt/2 later.
   */
  readonly establishedAt: number;
  /** When the relay's own connection to the target completed, if it did. */
  readonly connectedAt: number | undefined;
  /** When both sockets had closed, if they have. */
  readonly closedAt: number | undefined;
  /** How it ended, once it has. */
  readonly end: ConnectionEnd | undefined;
  /** The toxics applied to it. */
  readonly toxics: readonly Toxic[];
  /** Client → server. */
  readonly upstream: DirectionStats;
  /** Server → client. */
  readonly downstream: DirectionStats;
}

/** A link's counters. */
export interface LinkStats {
  /** Client connections accepted (`opened`), still open, and closed. */
  readonly connections: {
    /** Accepted since the link started. */
    readonly opened: number;
    /** Open now. */
    readonly open: number;
    /** Closed so far. */
    readonly closed: number;
  };
  /** Connections whose relay reached the target (one TCP handshake across the modelled link each). */
  readonly handshakes: number;
  /** Bytes delivered in each direction, all connections. */
  readonly bytes: {
    /** Client → server. */
    readonly upstream: number;
    /** Server → client. */
    readonly downstream: number;
  };
  /** Every open connection and the most recent closed ones (up to {@link MAX_CLOSED_CONNECTION_STATS}), oldest first. */
  readonly perConnection: readonly ConnectionStats[];
}

/** Closed connections whose stats a link keeps; older ones are dropped (their counts stay in the totals). */
export const MAX_CLOSED_CONNECTION_STATS = 10_000;
