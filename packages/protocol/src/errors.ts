/**
 * Theory of operation: the two error classes of @tether/protocol and the catalog of their codes.
 *
 * - {@link RemoteProtocolError}: the peer's bytes broke HTTP/1.1. It carries the status a server
 *   should answer with (400, 413, 414, 431, 501, 505). A client's errors — a response it could not
 *   use — all carry 502, what a gateway answers its own client whatever was wrong upstream. Once
 *   raised, the receiving side of the connection is dead: it never resynchronises.
 * - {@link LocalProtocolError}: our own misuse (an event not allowed in the current state, a body
 *   longer than declared, a header value with a CR LF in it). The connection refuses to emit
 *   malformed bytes and throws this instead.
 *
 * Codes are stable strings: match on `err.code`, never on the message.
 */

/** Codes of {@link RemoteProtocolError}, with the status a server (or gateway) would answer. */
export const REMOTE_ERRORS = {
  H1_INVALID_REQUEST_LINE: 400,
  H1_INVALID_METHOD: 400,
  H1_INVALID_TARGET: 400,
  H1_TARGET_TOO_LONG: 414,
  H1_INVALID_VERSION: 400,
  H1_UNSUPPORTED_VERSION: 505,
  H1_INVALID_STATUS_LINE: 502,
  H1_INVALID_HEADER_NAME: 400,
  H1_WHITESPACE_BEFORE_COLON: 400,
  H1_OBS_FOLD: 400,
  H1_INVALID_HEADER_VALUE: 400,
  H1_HEADERS_TOO_LARGE: 431,
  H1_TOO_MANY_HEADERS: 431,
  H1_BARE_LF: 400,
  H1_BARE_CR: 400,
  H1_MISSING_HOST: 400,
  H1_DUPLICATE_HOST: 400,
  H1_INVALID_HOST: 400,
  H1_INVALID_CONTENT_LENGTH: 400,
  H1_CONFLICTING_CONTENT_LENGTH: 400,
  H1_CONTENT_LENGTH_AND_TRANSFER_ENCODING: 400,
  H1_TRANSFER_ENCODING_NOT_CHUNKED: 400,
  H1_UNSUPPORTED_TRANSFER_CODING: 501,
  H1_TRANSFER_ENCODING_IN_HTTP10: 400,
  H1_CONNECT_WITH_CONTENT: 400,
  H1_BODY_TOO_LARGE: 413,
  H1_INVALID_CHUNK_SIZE: 400,
  H1_INVALID_CHUNK_EXTENSION: 400,
  H1_CHUNK_EXTENSIONS_TOO_LARGE: 400,
  H1_INVALID_CHUNK_DATA: 400,
  H1_INCOMPLETE_MESSAGE: 400,
  H1_UNSOLICITED_RESPONSE: 502,
  H1_UNEXPECTED_SWITCH: 502,
} as const;

/** Codes of {@link LocalProtocolError}. */
export const LOCAL_ERRORS = [
  'H1_INVALID_STATE',
  'H1_INVALID_FIELD_NAME',
  'H1_INVALID_FIELD_VALUE',
  'H1_INVALID_METHOD',
  'H1_INVALID_TARGET',
  'H1_INVALID_STATUS',
  'H1_INVALID_REASON',
  'H1_BODY_NOT_ALLOWED',
  'H1_BODY_LENGTH_MISMATCH',
  'H1_FRAMING_HEADERS_NOT_ALLOWED',
  'H1_INVALID_CONTENT_LENGTH',
  'H1_REQUEST_AFTER_CLOSE',
  'H1_MISSING_HOST',
  'H1_INVALID_OPTION',
] as const;

/** A code of {@link RemoteProtocolError}. */
export type RemoteErrorCode = keyof typeof REMOTE_ERRORS;
/** A code of {@link LocalProtocolError}. */
export type LocalErrorCode = (typeof LOCAL_ERRORS)[number];

/** The peer sent bytes that are not valid HTTP/1.1. The receiving side is dead afterwards. */
export class RemoteProtocolError extends Error {
  /** Stable machine-readable code, e.g. `'H1_HEADERS_TOO_LARGE'`. */
  readonly code: RemoteErrorCode;
  /** The status a server should answer with (a gateway's 502 for a bad response). */
  readonly status: number;

  /** `status` defaults to the catalog's answer for `code`. */
  constructor(code: RemoteErrorCode, message: string, status: number = REMOTE_ERRORS[code]) {
    super(message);
    this.name = 'RemoteProtocolError';
    this.code = code;
    this.status = status;
  }
}

/** We asked the connection to do something HTTP/1.1 does not allow; nothing was emitted. */
export class LocalProtocolError extends Error {
  /** Stable machine-readable code, e.g. `'H1_INVALID_STATE'`. */
  readonly code: LocalErrorCode;

  constructor(code: LocalErrorCode, message: string) {
    super(message);
    this.name = 'LocalProtocolError';
    this.code = code;
  }
}
