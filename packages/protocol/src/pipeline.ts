/**
 * Theory of operation: every rule about whether a client may send one more request on a
 * connection, in one pure predicate (RFC 9112 §9.3.2, "HTTP: The Definitive Guide" §4.6), in
 * this order:
 * - nothing is sent on a connection that is closing, nor past the requests it may still carry
 *   (the sender's own limit, the server's `Keep-Alive: max`, a limit learned from its closes);
 * - a request that would not be pipelined (nothing in flight) is then always fine;
 * - otherwise: no deeper than the sender pipelines (first: the common refusal, and the cheapest),
 *   never behind a non-idempotent request or an upgrade whose response head has not arrived yet,
 *   only once persistence is confirmed (a response that keeps the connection open has been seen),
 *   not while the sender's output is backed up (it waits for the peer to read), never a protocol
 *   upgrade, only idempotent requests (by method, or as the sender said), never a streaming body.
 * The sender's limits are inputs, so a client needs no second predicate of its own. Each field
 * of the snapshot is read only when its rule is reached (a Connection computes them on demand).
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
  /**
   * The sender's word on whether repeating the request is harmless, overriding its method's
   * (undici's `idempotent` option): `false` keeps a GET from being pipelined, `true` lets a POST
   * be. Default: by method (RFC 9110 §9.2.2).
   */
  readonly idempotent?: boolean;
}

/** The sender's own limits, beside the protocol's rules. Every field is optional (no limit). */
export interface PipelineLimits {
  /** Most requests in flight at once (a client's `pipelining` depth). */
  readonly maxInFlight?: number;
  /**
   * Requests the connection may still carry, this one included (a per-connection limit, the
   * server's `Keep-Alive: max`, a limit learned from its closes): 0 refuses.
   */
  readonly remaining?: number;
  /** Output queued for the peer is over the sender's high-water mark: let it drain first. */
  readonly outputBackedUp?: boolean;
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
export type PipelineRefusal =
  | 'busy'
  | 'closing'
  | 'request-limit'
  | 'persistence-unconfirmed'
  | 'pipeline-full'
  | 'output-backed-up'
  | 'not-idempotent'
  | 'streaming-body'
  | 'upgrade'
  | 'behind-barrier';

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

const OK: PipelineVerdict = Object.freeze({ ok: true });

/** One frozen verdict per refusal: deciding allocates nothing. */
const REFUSED = Object.fromEntries(
  (['busy', 'closing', 'request-limit', 'persistence-unconfirmed', 'pipeline-full', 'output-backed-up', 'not-idempotent', 'streaming-body', 'upgrade', 'behind-barrier'] as const).map((reason) => [reason, Object.freeze({ ok: false, reason })]),
) as Readonly<Record<PipelineRefusal, PipelineVerdict>>;

const NO_LIMITS: PipelineLimits = {};

/** Decide whether `request` may be sent on a connection in the state `conn`, within the sender's `limits`. */
export function canPipeline(request: PipelineRequest, conn: PipelineSnapshot, limits: PipelineLimits = NO_LIMITS): PipelineVerdict {
  if (conn.closing) return REFUSED.closing;
  if (limits.remaining !== undefined && limits.remaining <= 0) return REFUSED['request-limit'];
  const inFlight = conn.inFlight;
  if (inFlight === 0) return OK;
  if (limits.maxInFlight !== undefined && inFlight >= limits.maxInFlight) return REFUSED['pipeline-full'];
  if (conn.barrierInFlight) return REFUSED['behind-barrier'];
  if (!conn.persistenceConfirmed) return REFUSED['persistence-unconfirmed'];
  if (limits.outputBackedUp === true) return REFUSED['output-backed-up'];
  if (request.upgrade === true || request.method === 'CONNECT') return REFUSED.upgrade;
  if (!(request.idempotent ?? mayPipelineMethod(request.method))) return REFUSED['not-idempotent'];
  if (request.streamingBody === true) return REFUSED['streaming-body'];
  return OK;
}
