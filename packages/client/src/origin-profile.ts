/**
 * Theory of operation: what a pool learns about its origin from how the server treats its
 * connections, as a value — observations in, decisions out, a pure function between:
 *
 *   observeOrigin(profile, observation) → profile'
 *
 * The decisions:
 * - `limitPerConnection`: the server closes every connection after the same number N of
 *   responses (nginx `keepalive_requests`, Apache `MaxKeepAliveRequests`, lighttpd
 *   `server.max-keep-alive-requests`) without saying so in advance (no `Keep-Alive: max`): each
 *   connection then carries N requests, and what is pipelined behind the N-th is sent again. Once
 *   {@link CLOSE_AFTER_STREAK} connections in a row were closed, unprompted, on their N-th
 *   response, a connection sends at most N requests until its N-th response shows whether the
 *   server really closes there. A response past N that keeps the connection open (the server's
 *   limit went up) forgets the limit; a streak of closes at another count learns the new one.
 * - `pipeliningSafe`: false once a server dropped pipelined requests after answering some,
 *   without announcing a close (they may or may not have been processed): never pipeline again.
 * - `reuseSafe`: false once {@link CLOSED_AFTER_ONE_LIMIT} connections ended after exactly one
 *   response, unannounced and closed by the server, while no connection ever carried two: a server
 *   that closes after every response without saying so. Every request then says
 *   `Connection: close` instead of racing its closes.
 *
 * An observation that changes nothing returns the same object (cheap to feed every response).
 */

/**
 * Unprompted closes on the same response count, in a row, before the pool holds connections to
 * that count. Two in a row happen by chance: connections opened together (`connections: 2`) are
 * often closed together on the same count by one event (a reload, a graceful shutdown, an idle
 * timeout announced on the next response). Three cannot come from one such pair alone, and cost
 * little: until then each connection loses what was pipelined behind the close (re-sent for free),
 * about three pipelines' worth in all.
 */
export const CLOSE_AFTER_STREAK = 3;

/** Connections closed by the server after exactly one response, unannounced, before reuse is given up. */
export const CLOSED_AFTER_ONE_LIMIT = 3;

/** How a response head speaks of its connection's future. */
export type ResponseClose =
  /** It lets the connection persist. */
  | 'none'
  /** It says the connection closes after it, though our request did not ask to close. */
  | 'announced'
  /** It closes the connection because our request said `Connection: close`. */
  | 'asked';

/** Who ended a connection. */
export type EndedBy = 'server' | 'timeout' | 'client';

/** What a pool saw one of its connections do. */
export type OriginObservation =
  | {
      /** A connection's `response`-th response head arrived. */
      readonly type: 'response';
      /** 1 for a connection's first response. */
      readonly response: number;
      /** Whether, and why, it closes the connection. */
      readonly close: ResponseClose;
    }
  | {
      /** A connection that had connected ended. */
      readonly type: 'connection-ended';
      /** Responses it completed. */
      readonly responses: number;
      /** One of its responses said the connection closes. */
      readonly closeAnnounced: boolean;
      /** Who ended it: the server (a FIN, a reset, unparseable bytes), a timeout, or we did (close, abort, retiring it). */
      readonly endedBy: EndedBy;
      /** Requests written on it after another was in flight that were lost unanswered, the server possibly having processed them. */
      readonly lostPipelined: number;
    };

/** What a pool knows about its origin, and what it decided from it. */
export interface OriginProfile {
  /** Requests a connection sends before its last one is answered (Infinity: no limit learned). */
  readonly limitPerConnection: number;
  /** Requests may be pipelined to this origin. */
  readonly pipeliningSafe: boolean;
  /** Connections to this origin may be reused. */
  readonly reuseSafe: boolean;
  /** The evidence. */
  readonly seen: {
    /** The latest unprompted closes on the same response count. */
    readonly closeStreak: {
      /** The response count they closed on (1: a connection's first response). */
      readonly at: number;
      /** How many connections in a row closed on it. */
      readonly count: number;
    };
    /** Connections the server closed, unannounced, after exactly one response. */
    readonly closedAfterOne: number;
    /** A connection completed a second response: reuse works with this server. */
    readonly reuse: boolean;
  };
}

/** Nothing learned yet: no limit, pipelining and reuse trusted. */
export const UNKNOWN_ORIGIN: OriginProfile = Object.freeze({
  limitPerConnection: Number.POSITIVE_INFINITY,
  pipeliningSafe: true,
  reuseSafe: true,
  seen: Object.freeze({ closeStreak: Object.freeze({ at: 0, count: 0 }), closedAfterOne: 0, reuse: false }),
});

/** The profile after `o` (the same object when `o` changes nothing). */
export function observeOrigin(p: OriginProfile, o: OriginObservation): OriginProfile {
  return o.type === 'response' ? observeResponse(p, o.response, o.close) : observeEnd(p, o);
}

function observeResponse(p: OriginProfile, n: number, close: ResponseClose): OriginProfile {
  let next = p;
  if (n >= 2 && !p.seen.reuse) next = { ...next, seen: { ...next.seen, reuse: true } };
  if (close === 'none') {
    // The server kept a connection open past the learned limit: its limit is not (or no longer) N.
    if (n >= next.limitPerConnection) next = { ...next, limitPerConnection: Number.POSITIVE_INFINITY, seen: { ...next.seen, closeStreak: { at: 0, count: 0 } } };
    return next;
  }
  if (close === 'asked') return next;
  const streak = next.seen.closeStreak;
  const count = streak.at === n ? streak.count + 1 : 1;
  const limit = count >= CLOSE_AFTER_STREAK ? n : next.limitPerConnection;
  return { ...next, limitPerConnection: limit, seen: { ...next.seen, closeStreak: { at: n, count } } };
}

function observeEnd(p: OriginProfile, o: Extract<OriginObservation, { type: 'connection-ended' }>): OriginProfile {
  let next = p;
  // Pipelined requests lost, after responses, with no close announced and not by our doing:
  // the server drops pipelined requests (or never read them).
  if (o.lostPipelined > 0 && o.responses > 0 && !o.closeAnnounced && o.endedBy !== 'client' && next.pipeliningSafe) next = { ...next, pipeliningSafe: false };
  if (o.responses === 1 && !o.closeAnnounced && o.endedBy === 'server') {
    const closedAfterOne = next.seen.closedAfterOne + 1;
    next = { ...next, reuseSafe: next.reuseSafe && !(closedAfterOne >= CLOSED_AFTER_ONE_LIMIT && !next.seen.reuse), seen: { ...next.seen, closedAfterOne } };
  }
  return next;
}
