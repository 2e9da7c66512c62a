/**
 * Theory of operation: every failure a caller of the client can see is a {@link ClientError} with
 * a stable `code`, and says whether the server may have acted on the request
 * (`mayHaveBeenProcessed`), which is what a caller needs to decide whether to repeat it.
 * Parse failures of the server's bytes keep the protocol's `RemoteProtocolError` as `cause`.
 */

/** The codes of {@link ClientError}. */
export const CLIENT_ERRORS = {
  TETHER_CONNECT_TIMEOUT: 'the TCP connection was not established within connectTimeout',
  TETHER_CONNECT_FAILED: 'the TCP connection could not be established',
  TETHER_HEADERS_TIMEOUT: 'the response head did not arrive within headersTimeout',
  TETHER_BODY_TIMEOUT: 'no response body data arrived within bodyTimeout',
  TETHER_CONNECTION_LOST: 'the connection closed before the response was complete',
  TETHER_TRUNCATED_BODY: 'the connection closed before the whole response body arrived',
  TETHER_PROTOCOL: 'the server sent bytes that are not a valid HTTP/1.1 response',
  TETHER_ABORTED: 'the request was aborted',
  TETHER_CLOSED: 'the pool is closed',
  TETHER_INVALID_REQUEST: 'the request cannot be sent as given',
} as const;

/** A stable error code. */
export type ClientErrorCode = keyof typeof CLIENT_ERRORS;

/** Why a request or a response body failed. */
export class ClientError extends Error {
  /** `'ClientError'`. */
  override readonly name = 'ClientError';
  /** Stable code, see {@link CLIENT_ERRORS}. */
  readonly code: ClientErrorCode;
  /**
   * Whether the server may have received and acted on the request. `false` only when tether
   * knows it did not (never written, or refused before sending).
   */
  readonly mayHaveBeenProcessed: boolean;

  constructor(code: ClientErrorCode, message: string, options: { mayHaveBeenProcessed: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.mayHaveBeenProcessed = options.mayHaveBeenProcessed;
  }
}
