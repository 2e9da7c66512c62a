/**
 * Theory of operation: what a connection does when one of its deadlines passes, and when a
 * response fails — pure decisions from what the connection knows, carried out by
 * server-connection.ts. (Whether a response is the last is response-policy.ts.)
 *
 * The rule behind both: a response is complete on the wire, or it is not sent at all and another
 * answer takes its place, or the connection closes right after the earlier answers. A head that
 * is out can only be followed by its own body, so once it is out, failing means closing.
 */

import type { CloseReason } from './close-reason.js';

/** What to do: nothing; close gracefully; answer `status` (in place of the current response, or alone) and close; close at once. */
export type ConnectionAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'close'; readonly reason: CloseReason }
  | { readonly kind: 'answer'; readonly status: number; readonly reason: CloseReason }
  | { readonly kind: 'abort'; readonly reason: CloseReason };

/** The connection's timeouts. */
export type Timeout = 'idle' | 'head' | 'request' | 'linger';

/** What {@link onTimeout} looks at. */
export interface TimeoutState {
  /** No request is being answered or waiting. */
  readonly idle: boolean;
  /** Requests received and not yet answered. */
  readonly queued: number;
  /** The request being answered: whether its body is complete and whether its head is out; null when none. */
  readonly current: { readonly complete: boolean; readonly headOut: boolean } | null;
}

const NONE: ConnectionAction = { kind: 'none' };
const LINGER_OVER: ConnectionAction = { kind: 'abort', reason: 'client-close' };
const IDLE_OVER: ConnectionAction = { kind: 'close', reason: 'keep-alive-timeout' };
const TIMEOUT_408: ConnectionAction = { kind: 'answer', status: 408, reason: 'timeout' };
const TIMEOUT_ABORT: ConnectionAction = { kind: 'abort', reason: 'timeout' };

/**
 * A deadline passed:
 * - `linger`: our FIN is out and the peer had its time to read: destroy (the reason is kept);
 * - `idle` (keepAliveTimeout + buffer): close, if still idle;
 * - `head` (headersTimeout, slowloris): 408 and close, if no request is waiting to be answered;
 * - `request` (requestTimeout): the body being read did not arrive: 408 in place of the
 *   response, or close at once when its head is already out.
 */
export function onTimeout(timeout: Timeout, s: TimeoutState): ConnectionAction {
  switch (timeout) {
    case 'linger':
      return LINGER_OVER;
    case 'idle':
      return s.idle ? IDLE_OVER : NONE;
    case 'head':
      return s.queued === 0 ? TIMEOUT_408 : NONE;
    case 'request':
      if (s.current === null || s.current.complete) return NONE;
      return s.current.headOut ? TIMEOUT_ABORT : TIMEOUT_408;
  }
}

/**
 * The current response failed (its handler threw or rejected, or what it wrote was refused).
 * `bodyErrorStatus`: the failure is the request body's own protocol error, with that status.
 * With its head out: close at once after what was written. Else answer in its place: the body
 * error's status, or 500.
 */
export function onResponseFailed(headOut: boolean, bodyErrorStatus: number | null): ConnectionAction {
  if (headOut) return { kind: 'abort', reason: 'error' };
  if (bodyErrorStatus !== null) return { kind: 'answer', status: bodyErrorStatus, reason: 'parse-error' };
  return { kind: 'answer', status: 500, reason: 'error' };
}
