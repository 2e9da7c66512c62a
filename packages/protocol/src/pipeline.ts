/**
 * Theory of operation: every rule about whether a client may send one more request on a
 * connection that still has requests in flight, in one pure predicate (RFC 9112 §9.3.2,
 * "HTTP: The Definitive Guide" §4.6):
 * - nothing is sent on a connection that is closing;
 * - a request that would not be pipelined (nothing in flight) is always fine;
 * - otherwise: only once persistence is confirmed (a response that keeps the connection open has
 *   been seen), only idempotent methods, never a streaming body or a protocol upgrade, and never
 *   behind a non-idempotent request or an upgrade whose response head has not arrived yet.
 */

import { mayPipelineMethod } from './methods.js';

/** The request about to be sent. */
export interface PipelineRequest {
  /** The request method: only idempotent ones are pipelined. */
  readonly method: string;
  /** The body is streamed (its length unknown when the head is sent). */
  readonly streamingBody?: boolean;
  /** The request asks for a protocol switch (Upgrade or CONNECT). */
  readonly upgrade?: boolean;
}

/** What the connection knows, from `Connection.pipelineSnapshot()`. */
export interface PipelineSnapshot {
  /** Requests sent whose responses are not complete yet. */
  readonly inFlight: number;
  /** A response that lets the connection persist has been received on it. */
  readonly persistenceConfirmed: boolean;
  /** A close is decided: no further request may be sent. */
  readonly closing: boolean;
  /** A non-idempotent or upgrade request is in flight without its final response head. */
  readonly barrierInFlight: boolean;
}

/**
 * Why a request may not be sent now. `busy`: our previous request's body is still being sent, or
 * an upgrade request waits for its answer; the others are the rules above.
 */
export type PipelineRefusal = 'busy' | 'closing' | 'persistence-unconfirmed' | 'not-idempotent' | 'streaming-body' | 'upgrade' | 'behind-barrier';

/** `{ ok: true }` when the request may be sent now, else the reason it must wait (or go elsewhere). */
export type PipelineVerdict =
  | {
      /** The request may be sent now. */
      readonly ok: true;
    }
  | {
      /** The request must wait, or go elsewhere. */
      readonly ok: false;
      /** Which rule refused it. */
      readonly reason: PipelineRefusal;
    };

const OK: PipelineVerdict = { ok: true };

/** Decide whether `request` may be sent on a connection in the state `conn`. */
export function canPipeline(request: PipelineRequest, conn: PipelineSnapshot): PipelineVerdict {
  if (conn.closing) return { ok: false, reason: 'closing' };
  if (conn.inFlight === 0) return OK;
  if (conn.barrierInFlight) return { ok: false, reason: 'behind-barrier' };
  if (!conn.persistenceConfirmed) return { ok: false, reason: 'persistence-unconfirmed' };
  if (request.upgrade === true || request.method === 'CONNECT') return { ok: false, reason: 'upgrade' };
  if (!mayPipelineMethod(request.method)) return { ok: false, reason: 'not-idempotent' };
  if (request.streamingBody === true) return { ok: false, reason: 'streaming-body' };
  return OK;
}
