/**
 * Theory of operation: node:http's 'clientError' contract — `(err, socket)` for a fault of the
 * client's, the listener owning the socket — as data and pure decisions; server-connection.ts
 * carries them out.
 *
 * The faults: bytes that are not HTTP/1.1 (a RemoteProtocolError of @tether/protocol), a head or
 * a request that did not arrive in time (`headersTimeout`, `requestTimeout`), and an error of the
 * socket itself (`ECONNRESET`…, forwarded unchanged, as node forwards a socket's 'error').
 *
 * The error a listener gets speaks node's dialect first: `code` is what node:http gives for the
 * same fault — llhttp's `HPE_*` code ({@link NODE_PARSE_ERROR_CODES}), `ERR_HTTP_REQUEST_TIMEOUT`
 * for a timeout — because listeners written for node (Fastify's among them) choose their answer
 * by it. tether's own code stays as `tetherCode`, the status tether would have answered as
 * `status`. (A ServerError thrown at a handler speaks the same way: `code` node's, `tetherCode`
 * tether's; errors.ts.)
 *
 * When: at the fault's turn. Responses to the requests before the bad one are written first
 * (node emits at once and may interleave; tether keeps the order). Who answers:
 * {@link clientFaultAction}.
 */

import type { RemoteErrorCode, RemoteProtocolError } from '@tether/protocol';
import type { CloseReason } from './close-reason.js';
import type { ConnectionAction, Timeout } from './connection-policy.js';

/**
 * The code node:http (llhttp, node 20) gives for the same fault, by tether's protocol code; `null`
 * where node has none (it accepts the request, or refuses it some other way), and then the error's
 * `code` is tether's own. Where llhttp's code depends on where in the line the fault is, this is
 * the one it gives most often (test/client-error-event.test.ts sends the same bytes to both).
 */
export const NODE_PARSE_ERROR_CODES = {
  H1_INVALID_REQUEST_LINE: 'HPE_INVALID_URL',
  H1_INVALID_METHOD: 'HPE_INVALID_METHOD',
  H1_INVALID_TARGET: 'HPE_INVALID_URL',
  // llhttp has no limit of its own on a target: a long one overflows the head.
  H1_TARGET_TOO_LONG: 'HPE_HEADER_OVERFLOW',
  H1_INVALID_VERSION: 'HPE_INVALID_VERSION',
  H1_UNSUPPORTED_VERSION: 'HPE_INVALID_VERSION',
  H1_INVALID_STATUS_LINE: null,
  H1_INVALID_HEADER_NAME: 'HPE_INVALID_HEADER_TOKEN',
  H1_WHITESPACE_BEFORE_COLON: 'HPE_INVALID_HEADER_TOKEN',
  H1_OBS_FOLD: 'HPE_INVALID_HEADER_TOKEN',
  H1_INVALID_HEADER_VALUE: 'HPE_INVALID_HEADER_TOKEN',
  H1_HEADERS_TOO_LARGE: 'HPE_HEADER_OVERFLOW',
  H1_TOO_MANY_HEADERS: 'HPE_HEADER_OVERFLOW',
  H1_BARE_LF: 'HPE_CR_EXPECTED',
  H1_BARE_CR: 'HPE_LF_EXPECTED',
  // node answers a request without Host itself (400) and emits no 'clientError'.
  H1_MISSING_HOST: null,
  H1_DUPLICATE_HOST: null,
  H1_INVALID_HOST: null,
  H1_INVALID_CONTENT_LENGTH: 'HPE_INVALID_CONTENT_LENGTH',
  H1_CONFLICTING_CONTENT_LENGTH: 'HPE_UNEXPECTED_CONTENT_LENGTH',
  H1_CONTENT_LENGTH_AND_TRANSFER_ENCODING: 'HPE_INVALID_TRANSFER_ENCODING',
  H1_TRANSFER_ENCODING_NOT_CHUNKED: 'HPE_INVALID_TRANSFER_ENCODING',
  H1_UNSUPPORTED_TRANSFER_CODING: 'HPE_INVALID_TRANSFER_ENCODING',
  H1_TRANSFER_ENCODING_IN_HTTP10: 'HPE_INVALID_TRANSFER_ENCODING',
  H1_CONNECT_WITH_CONTENT: null,
  H1_BODY_TOO_LARGE: null,
  H1_INVALID_CHUNK_SIZE: 'HPE_INVALID_CHUNK_SIZE',
  H1_INVALID_CHUNK_EXTENSION: 'HPE_STRICT',
  H1_CHUNK_EXTENSIONS_TOO_LARGE: 'HPE_CHUNK_EXTENSIONS_OVERFLOW',
  H1_INVALID_CHUNK_DATA: 'HPE_STRICT',
  H1_INCOMPLETE_MESSAGE: 'HPE_INVALID_EOF_STATE',
  H1_UNSOLICITED_RESPONSE: null,
  H1_UNEXPECTED_SWITCH: null,
} as const satisfies Record<RemoteErrorCode, `HPE_${string}` | null>;

/** tether's code of a client fault: the protocol's, or which deadline passed. */
export type ClientErrorCode = RemoteErrorCode | 'TETHER_HEADERS_TIMEOUT' | 'TETHER_REQUEST_TIMEOUT';

/** The error a 'clientError' listener gets for bad bytes or a timeout (a socket's own error comes unchanged). */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  /** node:http's code for the fault (`HPE_*`, `ERR_HTTP_REQUEST_TIMEOUT`), else {@link ClientError.tetherCode}. */
  readonly code: string;
  /** tether's code: the protocol's (`H1_*`), or `TETHER_HEADERS_TIMEOUT` / `TETHER_REQUEST_TIMEOUT`. */
  readonly tetherCode: ClientErrorCode;
  /** The status tether answers the fault with when nobody listens (400, 408, 413, 414, 431, 501, 505). */
  readonly status: number;
  /** What was wrong, in words (node's `reason`). */
  readonly reason: string;
  /**
   * node's `rawPacket`: the chunk read from the socket in which the fault was found; `undefined`
   * for a timeout, at the end of input, or when it was found in bytes read earlier (parsing had
   * paused behind the requests before it). node's `bytesParsed` is not given: the protocol does
   * not say at which byte of a head it failed.
   */
  readonly rawPacket: Buffer | undefined;

  constructor(code: string, tetherCode: ClientErrorCode, status: number, message: string, reason: string, rawPacket?: Buffer, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.tetherCode = tetherCode;
    this.status = status;
    this.reason = reason;
    this.rawPacket = rawPacket;
  }
}

/** The 'clientError' error for a protocol error; the protocol's error is its `cause`. */
export function parseClientError(err: RemoteProtocolError, rawPacket: Buffer | undefined): ClientError {
  const code = NODE_PARSE_ERROR_CODES[err.code] ?? err.code;
  return new ClientError(code, err.code, err.status, `Parse Error: ${err.message}`, err.message, rawPacket, err);
}

/** The 'clientError' error for a passed `headersTimeout` or `requestTimeout`: node's `ERR_HTTP_REQUEST_TIMEOUT`. */
export function timeoutClientError(timeout: Extract<Timeout, 'head' | 'request'>): ClientError {
  const tetherCode = timeout === 'head' ? 'TETHER_HEADERS_TIMEOUT' : 'TETHER_REQUEST_TIMEOUT';
  const reason = timeout === 'head' ? 'the request head did not arrive within headersTimeout' : 'the request did not arrive within requestTimeout';
  // node's message for the same error.
  return new ClientError('ERR_HTTP_REQUEST_TIMEOUT', tetherCode, 408, 'Request timeout', reason);
}

/**
 * What the connection does with a fault of the client's: its own action (connection-policy.ts),
 * or, with 'clientError' listeners, hand the socket over or close it and then tell them.
 */
export type ClientFaultAction =
  | { readonly kind: 'own'; readonly action: ConnectionAction }
  | { readonly kind: 'hand-over'; readonly reason: CloseReason }
  | { readonly kind: 'abort-then-tell'; readonly reason: CloseReason };

/**
 * Who answers a fault of the client's, from what the server would do alone (`own`) and whether
 * 'clientError' has listeners:
 * - nobody listens: the server's own action (its answer — 400, 408, 431… — then a graceful close);
 * - the server would answer (nothing of the current response is out): the listeners answer
 *   instead — they get the socket once the earlier answers are written, and the server writes
 *   nothing more on it (node: "the listener is responsible for closing/destroying the socket");
 * - the server would close at once (part of a response is out, no other answer can follow it):
 *   it does, after what was written, and the listeners are told with the destroyed socket (as
 *   node tells of an `ECONNRESET`; node's documentation asks them to check `socket.writable`);
 * - anything else (nothing to do): the server's own.
 */
export function clientFaultAction(own: ConnectionAction, listening: boolean): ClientFaultAction {
  if (!listening) return { kind: 'own', action: own };
  switch (own.kind) {
    case 'answer':
      return { kind: 'hand-over', reason: own.reason };
    case 'abort':
      return { kind: 'abort-then-tell', reason: own.reason };
    default:
      return { kind: 'own', action: own };
  }
}

/**
 * How long a handed-over socket may stay open while the listener neither ends nor destroys it:
 * `headersTimeout` (the time a client is given for a head), or `lingerTimeout` when that is off.
 * Once the listener ends it, the peer gets `lingerTimeout` to read and close, as after an answer
 * of the server's.
 */
export function handOverTimeout(headersTimeout: number, lingerTimeout: number): number {
  return headersTimeout === Number.POSITIVE_INFINITY ? lingerTimeout : headersTimeout;
}
