/**
 * Theory of operation: the errors @tether/server throws at a handler (and gives a request's
 * 'error' listeners), in node:http's dialect. Code written for node:http — Fastify's error
 * replies, Express's and Koa's handlers, loggers — reads `err.code`, `err.message` and the
 * error's class, so each is node 20's for the same fault: `code` node's (`ERR_INVALID_CHAR`…),
 * the message node's text, the error a `TypeError` or `RangeError` where node's is one, and
 * `err.constructor` / `toString()` as node's own errors have them. tether's stable code stays
 * as `tetherCode` (`TETHER_*`), as 'clientError' errors carry theirs (client-error.ts). Where
 * node has no error for the fault — the protocol's refusals of what node would send — `code` is
 * tether's own. There is no `nodeCode` alias: with `code` node's it would repeat `code`, and no
 * release ever had it.
 *
 * `instanceof ServerError` holds for every one of them, though each is made from node's base
 * class (`Error`, `TypeError`, `RangeError`): JavaScript has no class that is both, so
 * ServerError answers `instanceof` for the three classes below.
 *
 * A refusal by @tether/protocol keeps the protocol's error as `cause`.
 */

import { format, inspect } from 'node:util';

/**
 * tether's codes (`err.tetherCode`), each with the codes `err.code` can then be: node:http's
 * for the same fault, or tether's own where node has none.
 */
export const SERVER_ERRORS = {
  /** A header set, removed or appended, or the head written, after the head was sent. */
  TETHER_HEADERS_SENT: ['ERR_HTTP_HEADERS_SENT'],
  /** `write()` after `end()`. */
  TETHER_WRITE_AFTER_END: ['ERR_STREAM_WRITE_AFTER_END'],
  /** A status code outside 100–999 (read as node reads it: `statusCode | 0`). */
  TETHER_INVALID_STATUS: ['ERR_HTTP_INVALID_STATUS_CODE'],
  /**
   * A header or trailer name that is not a token, or a value with a character it may not carry
   * (`ERR_INVALID_CHAR` also for a value starting or ending with whitespace, which node sends and
   * the protocol refuses: RFC 9110 §5.5), or no value at all (`undefined`).
   */
  TETHER_INVALID_HEADER: ['ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_CHAR', 'ERR_HTTP_INVALID_HEADER_VALUE'],
  /** A body chunk that is neither a string nor bytes (`null`: node's own code for it). */
  TETHER_INVALID_ARGUMENT: ['ERR_INVALID_ARG_TYPE', 'ERR_STREAM_NULL_VALUES'],
  /**
   * The protocol refused the response as the handler shaped it (`cause` is its
   * LocalProtocolError). Framing fields it may not carry (Content-Length on a 204,
   * Transfer-Encoding to HTTP/1.0) or a 1xx as the final status are tether's alone: node sends
   * them. A body longer or shorter than its Content-Length is node's
   * `ERR_HTTP_CONTENT_LENGTH_MISMATCH`, a reason phrase with a CR or LF node's `ERR_INVALID_CHAR`.
   */
  TETHER_RESPONSE_REFUSED: ['TETHER_RESPONSE_REFUSED', 'ERR_HTTP_CONTENT_LENGTH_MISMATCH', 'ERR_INVALID_CHAR'],
  /** The connection closed before the request body, or its response, was complete (node: `ECONNRESET`, "aborted"). */
  TETHER_REQUEST_ABORTED: ['ECONNRESET'],
} as const satisfies Record<`TETHER_${string}`, readonly string[]>;

/** tether's stable code of a {@link ServerError} (its `tetherCode`), see {@link SERVER_ERRORS}. */
export type ServerErrorCode = keyof typeof SERVER_ERRORS;

/** The `code` of a {@link ServerError}: node:http's for the fault, else tether's own. */
export type ServerErrorNodeCode = (typeof SERVER_ERRORS)[ServerErrorCode][number];

/** The base class of node's error for each code (node 20, lib/internal/errors.js); tether's own is an Error. */
const BASE_OF = {
  ERR_HTTP_HEADERS_SENT: Error,
  ERR_STREAM_WRITE_AFTER_END: Error,
  ERR_HTTP_INVALID_STATUS_CODE: RangeError,
  ERR_INVALID_HTTP_TOKEN: TypeError,
  ERR_INVALID_CHAR: TypeError,
  ERR_HTTP_INVALID_HEADER_VALUE: TypeError,
  ERR_INVALID_ARG_TYPE: TypeError,
  ERR_STREAM_NULL_VALUES: TypeError,
  ERR_HTTP_CONTENT_LENGTH_MISMATCH: Error,
  ECONNRESET: Error,
  TETHER_RESPONSE_REFUSED: Error,
} as const satisfies Record<ServerErrorNodeCode, ErrorConstructor>;

/**
 * The class of tether's errors made from `Base`, shaped as node's `NodeError`: `toString()` is
 * `TypeError [ERR_INVALID_CHAR]: …`, and `constructor` is the base (node's "workaround for wpt
 * tests"), so a logger that names an error by `err.constructor.name` names it as node's.
 */
/** A class of errors, as `new` makes them. */
type ErrorClass = new (message?: string, options?: ErrorOptions) => Error;

function codedClass(Base: ErrorConstructor): ErrorClass {
  const Coded = class extends Base {
    override toString(): string {
      return `${this.name} [${(this as unknown as ServerError).code}]: ${this.message}`;
    }
  };
  Object.defineProperty(Coded.prototype, 'constructor', { value: Base, writable: true, configurable: true });
  return Coded;
}

const CODED_ERROR = codedClass(Error);
const CODED_TYPE_ERROR = codedClass(TypeError);
const CODED_RANGE_ERROR = codedClass(RangeError);
const CODED_BY_BASE = new Map<ErrorConstructor, ErrorClass>([
  [Error, CODED_ERROR],
  [TypeError, CODED_TYPE_ERROR],
  [RangeError, CODED_RANGE_ERROR],
]);

/**
 * An error @tether/server throws at a handler or gives a request's 'error' listeners: an
 * `Error`, `TypeError` or `RangeError` as node's for the same fault, with node's `code` and
 * message, and tether's code as `tetherCode`. Made by the server only; `instanceof ServerError`
 * tells them from other errors.
 */
export abstract class ServerError extends Error {
  /** node:http's code for the fault (`ERR_HTTP_HEADERS_SENT`, …), else tether's own; see {@link SERVER_ERRORS}. */
  declare readonly code: ServerErrorNodeCode;
  /** tether's stable code (`TETHER_HEADERS_SENT`, …); see {@link SERVER_ERRORS}. */
  declare readonly tetherCode: ServerErrorCode;

  /** Whether `value` is an error made by the server (made from node's base classes, see above). */
  static override [Symbol.hasInstance](value: unknown): value is ServerError {
    return value instanceof CODED_ERROR || value instanceof CODED_TYPE_ERROR || value instanceof CODED_RANGE_ERROR;
  }
}

/** The error for `tetherCode` with node's `code` (or tether's own) and `message`. */
function serverError<T extends ServerErrorCode>(tetherCode: T, code: (typeof SERVER_ERRORS)[T][number], message: string, cause?: unknown): ServerError {
  const Coded = CODED_BY_BASE.get(BASE_OF[code])!;
  const err = new Coded(message, cause === undefined ? undefined : { cause });
  // Own enumerable properties, as node's `code` (a class field of NodeError).
  return Object.assign(err, { code, tetherCode });
}

/** What a handler did after the head was sent: a header `set`, `remove`d or `append`ed, or the head `write`n. */
export type HeadersSentAction = 'set' | 'remove' | 'append' | 'write';

/** `ERR_HTTP_HEADERS_SENT`: node's "Cannot set headers after they are sent to the client". */
export function headersSentError(action: HeadersSentAction): ServerError {
  return serverError('TETHER_HEADERS_SENT', 'ERR_HTTP_HEADERS_SENT', `Cannot ${action} headers after they are sent to the client`);
}

/** `ERR_STREAM_WRITE_AFTER_END`: node's "write after end". */
export function writeAfterEndError(): ServerError {
  return serverError('TETHER_WRITE_AFTER_END', 'ERR_STREAM_WRITE_AFTER_END', 'write after end');
}

/** `ERR_HTTP_INVALID_STATUS_CODE` (a RangeError): node's "Invalid status code: 1000", the status as the handler gave it. */
export function invalidStatusError(statusCode: unknown): ServerError {
  return serverError('TETHER_INVALID_STATUS', 'ERR_HTTP_INVALID_STATUS_CODE', format('Invalid status code: %s', statusCode));
}

/** Which part of a message a field was for: node names it in its messages. */
export type FieldSection = 'header' | 'trailer';

/** `ERR_INVALID_HTTP_TOKEN` (a TypeError): node's `Header name must be a valid HTTP token ["bad name"]`. */
export function invalidFieldNameError(section: FieldSection, name: unknown, cause?: unknown): ServerError {
  const what = section === 'header' ? 'Header name' : 'Trailer name';
  return serverError('TETHER_INVALID_HEADER', 'ERR_INVALID_HTTP_TOKEN', format('%s must be a valid HTTP token ["%s"]', what, name), cause);
}

/** `ERR_INVALID_CHAR` (a TypeError): node's `Invalid character in header content ["x-a"]`. */
export function invalidFieldValueError(section: FieldSection, name: string, cause?: unknown): ServerError {
  return serverError('TETHER_INVALID_HEADER', 'ERR_INVALID_CHAR', `Invalid character in ${section} content ["${name}"]`, cause);
}

/** `ERR_HTTP_INVALID_HEADER_VALUE` (a TypeError): node's `Invalid value "undefined" for header "x-a"`. */
export function missingFieldValueError(name: string): ServerError {
  return serverError('TETHER_INVALID_HEADER', 'ERR_HTTP_INVALID_HEADER_VALUE', `Invalid value "undefined" for header "${name}"`);
}

/**
 * A body chunk that is neither a string nor bytes: `ERR_STREAM_NULL_VALUES` for `null`, else
 * `ERR_INVALID_ARG_TYPE` (both TypeErrors), with node's messages for `write(chunk)`.
 */
export function invalidChunkError(chunk: unknown): ServerError {
  if (chunk === null) return serverError('TETHER_INVALID_ARGUMENT', 'ERR_STREAM_NULL_VALUES', 'May not write null values to stream');
  const message = `The "chunk" argument must be of type string or an instance of Buffer or Uint8Array. Received ${received(chunk)}`;
  return serverError('TETHER_INVALID_ARGUMENT', 'ERR_INVALID_ARG_TYPE', message);
}

/**
 * How node's ERR_INVALID_ARG_TYPE describes the value it got (node 20's `determineSpecificType`),
 * for anything but a string (a string is a valid chunk).
 */
function received(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  switch (typeof value) {
    case 'number':
      return `type number (${Object.is(value, -0) ? '-0' : String(value)})`;
    case 'bigint':
      return `type bigint (${value}n)`;
    case 'boolean':
      return `type boolean (${String(value)})`;
    case 'symbol':
      return `type symbol (${String(value)})`;
    case 'function':
      return `function ${value.name}`;
    case 'object': {
      const ctor = (value as { constructor?: unknown }).constructor;
      if (typeof ctor === 'function') return `an instance of ${ctor.name}`;
      return inspect(value, { depth: -1 });
    }
    default: {
      // What inspect prints, cut as node cuts it (28 characters).
      const text = inspect(value, { colors: false });
      return `type ${typeof value} (${text.length > 28 ? `${text.slice(0, 25)}...` : text})`;
    }
  }
}

/**
 * A body longer or shorter than the Content-Length the handler set, refused by the protocol:
 * node's `ERR_HTTP_CONTENT_LENGTH_MISMATCH` and its message (body bytes so far, then the field's
 * value), tether's `TETHER_RESPONSE_REFUSED`.
 *
 * Why node's code, though node's own response checks this only with `strictContentLength` (by
 * default it sends the bytes and the connection carries a broken message): it is node's code for
 * exactly this fault, and tether refuses it as node does when strict — the call throws and no
 * byte of the excess goes out. On the node-objects path (node-exchange.ts) tether sets
 * `strictContentLength`, so node's response throws this very error there; both paths now agree.
 */
export function contentLengthMismatchError(bodyBytes: number, contentLength: unknown, cause: unknown): ServerError {
  const message = format("Response body's content-length of %s byte(s) does not match the content-length of %s byte(s) set in header", bodyBytes, contentLength);
  return serverError('TETHER_RESPONSE_REFUSED', 'ERR_HTTP_CONTENT_LENGTH_MISMATCH', message, cause);
}

/** A reason phrase the protocol refused (a CR, LF or other control in it): node's `ERR_INVALID_CHAR` for `statusMessage`. */
export function invalidReasonError(cause: unknown): ServerError {
  return serverError('TETHER_RESPONSE_REFUSED', 'ERR_INVALID_CHAR', 'Invalid character in statusMessage', cause);
}

/** A refusal node has no error for (it would send the response): `code` is `TETHER_RESPONSE_REFUSED`, the message tether's. */
export function responseRefusedError(message: string, cause?: unknown): ServerError {
  return serverError('TETHER_RESPONSE_REFUSED', 'TETHER_RESPONSE_REFUSED', message, cause);
}

/** A request whose connection closed before its body, or its response, was complete: node's `ECONNRESET` "aborted". */
export function requestAbortedError(): ServerError {
  return serverError('TETHER_REQUEST_ABORTED', 'ECONNRESET', 'aborted');
}
