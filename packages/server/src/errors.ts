/**
 * Theory of operation: every error the server throws at a handler, or reports through its
 * 'error' and 'clientError' events, is a {@link ServerError} with a stable `code`. Each code says
 * which node:http code it stands for, so code written for node:http can match either. A refusal
 * from @tether/protocol (a header the response may not carry, a body longer than its
 * Content-Length) keeps the protocol's error as `cause`.
 */

/** The codes of {@link ServerError}, each with the node:http code it corresponds to. */
export const SERVER_ERRORS = {
  /** A header was set or removed, or the head written, after the head was sent (node: `ERR_HTTP_HEADERS_SENT`). */
  TETHER_HEADERS_SENT: 'ERR_HTTP_HEADERS_SENT',
  /** `write()` after `end()` (node: `ERR_STREAM_WRITE_AFTER_END`). */
  TETHER_WRITE_AFTER_END: 'ERR_STREAM_WRITE_AFTER_END',
  /** A status code outside 100–999, or not an integer (node: `ERR_HTTP_INVALID_STATUS_CODE`). */
  TETHER_INVALID_STATUS: 'ERR_HTTP_INVALID_STATUS_CODE',
  /** A header name that is not a token, or a value with CR, LF or NUL (node: `ERR_INVALID_HTTP_TOKEN`, `ERR_INVALID_CHAR`). */
  TETHER_INVALID_HEADER: 'ERR_INVALID_CHAR',
  /** A body chunk that is neither a string nor bytes (node: `ERR_INVALID_ARG_TYPE`). */
  TETHER_INVALID_ARGUMENT: 'ERR_INVALID_ARG_TYPE',
  /**
   * The protocol refused the response as the handler shaped it: framing fields it may not carry
   * (Content-Length on a 204, Transfer-Encoding to HTTP/1.0), a body longer or shorter than its
   * Content-Length. `cause` is the protocol's LocalProtocolError.
   */
  TETHER_RESPONSE_REFUSED: 'ERR_HTTP_CONTENT_LENGTH_MISMATCH',
  /** The connection closed before the request body was complete (node: the request's 'aborted'). */
  TETHER_REQUEST_ABORTED: 'ECONNRESET',
} as const;

/** A stable error code, see {@link SERVER_ERRORS}. */
export type ServerErrorCode = keyof typeof SERVER_ERRORS;

/** An error of @tether/server. */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  /** Stable code, see {@link SERVER_ERRORS}. */
  readonly code: ServerErrorCode;

  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  /** The node:http code this error stands for (`ERR_HTTP_HEADERS_SENT`, …). */
  get nodeCode(): string {
    return SERVER_ERRORS[this.code];
  }
}
