/**
 * Theory of operation: the one place that decides, for each final response, whether the server
 * ends the connection after it and what `Keep-Alive` it advertises. A pure function of what the
 * connection knows; the connection obeys it (the protocol writes `Connection: close` for a close,
 * whatever the handler's own Connection field says).
 *
 * Rules (hyper's `encode` with `is_last`; "HTTP: The Definitive Guide" §4.5):
 * - The server closes after the `keepAliveMax`-th response, and after the last received request
 *   once a shutdown began. A handler's `Connection: close` adds a close; a handler's
 *   `Connection: keep-alive` never cancels one.
 * - Keep-Alive is the server's: it is advertised only on a response after which the connection
 *   persists as far as anyone knows (no close decided by us, the handler or the request), never
 *   while shutting down, and its `max` counts the requests the server will still answer — at
 *   least 1, never more than `keepAliveMax` allows.
 */

import type { CloseReason } from './close-reason.js';

/** What the connection knows when a final response head is about to be sent. */
export interface ResponseHeadInput {
  /** This response's number on the connection, from 1. */
  readonly ordinal: number;
  /** Responses per connection (`Infinity`: no limit). */
  readonly keepAliveMax: number;
  /** A shutdown asked the connection to finish what it has. */
  readonly draining: boolean;
  /** Requests received after the one this response answers. */
  readonly queuedBehind: number;
  /** The protocol already knows the connection will close (a request said close, HTTP/1.0 without keep-alive, …). */
  readonly closing: boolean;
  /** The handler's Connection field has the `close` token. */
  readonly handlerClose: boolean;
  /** The server advertises Keep-Alive at all (`advertiseKeepAlive`). */
  readonly advertise: boolean;
}

/** What to do with a final response head. */
export interface ResponseHeadDecision {
  /** The server ends the connection after this response (the head says `Connection: close`). */
  readonly close: boolean;
  /** Why, when `close`: the reason counted in the server's stats. */
  readonly reason: CloseReason | null;
  /**
   * The `Keep-Alive` to advertise: `max` = requests the server will still answer after this one
   * (`Infinity`: no `max` parameter); `null`: none.
   */
  readonly keepAliveMax: number | null;
}

const CLOSE_MAX: ResponseHeadDecision = { close: true, reason: 'keep-alive-max', keepAliveMax: null };
const CLOSE_SHUTDOWN: ResponseHeadDecision = { close: true, reason: 'shutdown', keepAliveMax: null };
const CLOSE_HANDLER: ResponseHeadDecision = { close: true, reason: 'connection-close', keepAliveMax: null };
const PERSIST_SILENT: ResponseHeadDecision = { close: false, reason: null, keepAliveMax: null };
const PERSIST_UNLIMITED: ResponseHeadDecision = { close: false, reason: null, keepAliveMax: Number.POSITIVE_INFINITY };

/** Decide the connection management of one final response (see the rules above). */
export function decideResponseHead(i: ResponseHeadInput): ResponseHeadDecision {
  if (i.ordinal >= i.keepAliveMax) return CLOSE_MAX;
  if (i.draining && i.queuedBehind === 0) return CLOSE_SHUTDOWN;
  if (i.handlerClose) return CLOSE_HANDLER;
  if (!i.advertise || i.closing || i.draining) return PERSIST_SILENT;
  if (i.keepAliveMax === Number.POSITIVE_INFINITY) return PERSIST_UNLIMITED;
  return persist(i.keepAliveMax - i.ordinal);
}

/** Decisions to persist advertising `max` = left, made once each (one per response otherwise). */
const PERSIST: ResponseHeadDecision[] = [];
const PERSIST_CACHED = 4096;

function persist(left: number): ResponseHeadDecision {
  let decision = PERSIST[left];
  if (decision === undefined) {
    decision = Object.freeze({ close: false, reason: null, keepAliveMax: left });
    if (left <= PERSIST_CACHED) PERSIST[left] = decision;
  }
  return decision;
}
