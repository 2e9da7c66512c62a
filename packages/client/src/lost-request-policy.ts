/**
 * Theory of operation: when a connection is lost, every request it had taken and not finished
 * meets one fate, decided here from what is known about the request and the connection — a pure
 * function, no sockets, no timers. The connection gathers the facts and applies the fate.
 *
 * The rules, first match wins (RFC 9112 §9.3.1, "HTTP: The Definitive Guide" §4.7):
 *  1. it already settled (aborted while queued on the connection): nothing to do;
 *  2. its response head was handed to the caller: the body fails, nothing is re-sent;
 *  3. the server cannot have processed it — never written on this connection (and the
 *     connection did not fail to connect), or written after the response on which the server
 *     announced its close: re-sent at no cost to its retry budget;
 *  4. never written, the connection failed to connect: it fails with the connect error (not
 *     processed; the pool does not reconnect on its behalf);
 *  5. written on a connection that never connected (cannot happen; failed like 4, the safe way);
 *  6. not re-sendable (a non-idempotent method, a method outside `retry.methods`, a streamed
 *     body): fails, saying the server may have processed it;
 *  7. lost because another request on the connection was aborted (the connection had to be
 *     destroyed): re-sent free of charge;
 *  8. the keep-alive race — the first unanswered request on a reused connection, lost to a close
 *     or a reset (not a timeout: a server that does not answer in time is not racing a close),
 *     and not already re-sent once for that reason: re-sent once free of charge (the server most
 *     likely closed the idle connection as the request arrived);
 *  9. retry budget left: re-sent, spending one attempt;
 * 10. otherwise: fails, saying the server may have processed it.
 * Every re-sent request goes out on a connection opened after this one was lost.
 */

/** How the connection was lost. */
export type ConnectionLoss =
  /** It closed without an error of ours or the socket's: a FIN from the server, or we closed it. */
  | 'closed'
  /** A socket error (reset, …) or an unparseable response, after connecting. */
  | 'error'
  /** A headers or body timeout destroyed it. */
  | 'timeout'
  /** Another request on it was aborted: the exchange could not be cut out of the byte stream. */
  | 'aborted'
  /** It never connected (refused, unreachable, connect timeout). */
  | 'connect-failed';

/** What is known about one request on a lost connection. */
export interface LostRequestFacts {
  /** It settled already (aborted) without a response. */
  readonly settled: boolean;
  /** Its response head was handed to the caller. */
  readonly headHandedOver: boolean;
  /** It was written on this connection (else it waited for the handshake or a streamed body). */
  readonly written: boolean;
  /** It was written after the response on which the server announced its close. */
  readonly afterAnnouncedClose: boolean;
  /** The connection completed its handshake. */
  readonly connected: boolean;
  /** It may be re-sent: idempotent, a method in `retry.methods`, a body that can be replayed. */
  readonly retryable: boolean;
  /** Its retry budget (`retry.attempts`) is not spent. */
  readonly attemptsLeft: boolean;
  /** It is the first unanswered request on a connection that had answered others. */
  readonly firstUnansweredOnReused: boolean;
  /** It was re-sent once already as the loser of a keep-alive race. */
  readonly raced: boolean;
  /** How the connection was lost. */
  readonly loss: ConnectionLoss;
}

/** What becomes of a request whose connection was lost. */
export type LostRequestFate =
  /** Nothing: it settled already. */
  | 'ignore'
  /** Its response body fails (`TETHER_TRUNCATED_BODY`). */
  | 'fail-body'
  /** Re-sent free: the server did not process it. */
  | 'resend-unprocessed'
  /** Re-sent free: another request's abort destroyed the connection. */
  | 'resend-after-abort'
  /** Re-sent free, once: it lost the keep-alive race. */
  | 'resend-race'
  /** Re-sent, spending one retry attempt. */
  | 'retry'
  /** Fails with the connection's connect error; the server did not process it. */
  | 'fail-not-connected'
  /** Fails with `TETHER_CONNECTION_LOST`, `mayHaveBeenProcessed: true`. */
  | 'fail-may-have-been-processed';

/** Decide the fate of one request whose connection was lost (rules in the module comment). */
export function lostRequestFate(r: LostRequestFacts): LostRequestFate {
  if (r.settled) return 'ignore';
  if (r.headHandedOver) return 'fail-body';
  if (!r.written) return r.loss === 'connect-failed' ? 'fail-not-connected' : 'resend-unprocessed';
  if (r.afterAnnouncedClose) return 'resend-unprocessed';
  if (!r.connected) return 'fail-not-connected';
  if (!r.retryable) return 'fail-may-have-been-processed';
  if (r.loss === 'aborted') return 'resend-after-abort';
  if (r.firstUnansweredOnReused && !r.raced && (r.loss === 'closed' || r.loss === 'error')) return 'resend-race';
  if (r.attemptsLeft) return 'retry';
  return 'fail-may-have-been-processed';
}

/** Whether a fate sends the request again. */
export function isResend(fate: LostRequestFate): boolean {
  return fate === 'resend-unprocessed' || fate === 'resend-after-abort' || fate === 'resend-race' || fate === 'retry';
}

/*
 * A failed connect attempt decides the fate of the requests still queued in the pool too (not
 * only of those the failed connection had taken: rule 4 above). undici's Client fails its whole
 * queue when a connect fails and no request is running; undici's Pool gives each of its clients
 * one request while it connects, so a refusing origin costs it one connect attempt per request.
 * Here, first match wins:
 *  1. it settled already (aborted while queued): nothing to do;
 *  2. the pool holds a connection that completed its handshake and still takes requests: it
 *     waits for that one (no new attempt is needed to send it);
 *  3. otherwise it fails with the connect error, not processed: all it could wait for is another
 *     attempt at an origin that just refused one (or did not answer). That holds for requests
 *     given back by a dropped connection too (their error says they may have been processed),
 *     and while other attempts are still under way: those carry their own first requests.
 * So a burst of requests to a closed port makes at most `connections` attempts; a request made
 * after the failure starts a new one.
 */

/** What is known about a request still queued in the pool when one of its connections failed to connect. */
export interface QueuedRequestFacts {
  /** It settled already (aborted in the queue). */
  readonly settled: boolean;
  /** The pool holds a connection that completed its handshake and still takes requests. */
  readonly liveConnection: boolean;
}

/**
 * What becomes of a queued request when a connect attempt failed: `'wait'` (it stays queued, for
 * a connection that is up), or as a lost request's `'ignore'` and `'fail-not-connected'`.
 */
export type QueuedRequestFate = 'wait' | Extract<LostRequestFate, 'ignore' | 'fail-not-connected'>;

/** Decide the fate of one queued request after a failed connect attempt (rules above). */
export function queuedRequestFate(r: QueuedRequestFacts): QueuedRequestFate {
  if (r.settled) return 'ignore';
  if (r.liveConnection) return 'wait';
  return 'fail-not-connected';
}
