/**
 * Theory of operation: how the body of a message is delimited, decided in exactly one place by
 * walking RFC 9112 §6.3 in order. The reader and the writer both call {@link decideFraming};
 * the reader turns a refusal into a RemoteProtocolError, the writer into a LocalProtocolError.
 */

import { trimOws } from './abnf.js';
import type { RemoteErrorCode } from './errors.js';
import type { HttpVersion } from './events.js';

/** How a body is delimited. `tunnel`: no HTTP body; the bytes that follow belong to another protocol. */
export type FramingKind = 'length' | 'chunked' | 'until-close' | 'none' | 'tunnel';

/** A framing decision. */
export interface Framing {
  readonly kind: FramingKind;
  /** Body length for `'length'`, else 0. */
  readonly length: number;
  /** The message's framing obliges the connection to close after it (RFC 9112 §6.1, §6.3). */
  readonly mustClose: boolean;
}

/** What {@link decideFraming} looks at. */
export interface FramingInput {
  readonly kind: 'request' | 'response';
  readonly version: HttpVersion;
  /** Response only: the method of the request it answers. */
  readonly requestMethod?: string;
  /** Response only. */
  readonly status?: number;
  /** Raw Content-Length field values, `undefined` when absent. */
  readonly contentLength: readonly string[] | undefined;
  /** Raw Transfer-Encoding field values, `undefined` when absent. */
  readonly transferEncoding: readonly string[] | undefined;
}

/** A framing that cannot be used, with the code of the error it becomes. */
export interface FramingRefusal {
  readonly refused: RemoteErrorCode;
  readonly message: string;
}

const NONE: Framing = { kind: 'none', length: 0, mustClose: false };
const TUNNEL: Framing = { kind: 'tunnel', length: 0, mustClose: false };
const CHUNKED: Framing = { kind: 'chunked', length: 0, mustClose: false };
const UNTIL_CLOSE: Framing = { kind: 'until-close', length: 0, mustClose: true };

/** RFC 9112 §7: the transfer codings registered for HTTP/1.1. */
const KNOWN_CODINGS: ReadonlySet<string> = new Set(['chunked', 'gzip', 'x-gzip', 'deflate', 'compress', 'x-compress']);

/** Parse Transfer-Encoding values into lower-cased coding names (parameters dropped). */
export function transferCodings(values: readonly string[]): string[] {
  const codings: string[] = [];
  for (const value of values) {
    for (const element of value.split(',')) {
      const name = trimOws(element.split(';', 1)[0] ?? '').toLowerCase();
      if (name !== '') codings.push(name);
    }
  }
  return codings;
}

/** RFC 9112 §7.1: "The chunked coding does not define any parameters." Is one given anyway? */
function chunkedHasParameters(values: readonly string[]): boolean {
  for (const value of values) {
    for (const element of value.split(',')) {
      const semicolon = element.indexOf(';');
      if (semicolon !== -1 && trimOws(element.slice(0, semicolon)).toLowerCase() === 'chunked') return true;
    }
  }
  return false;
}

const DIGITS = /^[0-9]+$/;
// Lengths above 2^53 cannot be counted exactly; 15 digits stay below it.
const MAX_LENGTH_DIGITS = 15;

/**
 * Parse Content-Length values (RFC 9110 §8.6): digits only; a list or repeated lines of the same
 * value collapse to one; different values are an error.
 */
export function parseContentLength(values: readonly string[]): number | FramingRefusal {
  // Fast path: one field line of plain digits, as nearly every message has.
  if (values.length === 1) {
    const only = values[0]!;
    const n = only.length;
    if (n > 0 && n <= MAX_LENGTH_DIGITS) {
      let value = 0;
      let i = 0;
      for (; i < n; i++) {
        const d = only.charCodeAt(i) - 0x30;
        if (d < 0 || d > 9) break;
        value = value * 10 + d;
      }
      if (i === n) return value;
    }
  }
  let found: string | undefined;
  for (const value of values) {
    for (const element of value.split(',')) {
      const digits = trimOws(element);
      if (!DIGITS.test(digits) || digits.length > MAX_LENGTH_DIGITS) {
        return { refused: 'H1_INVALID_CONTENT_LENGTH', message: `invalid Content-Length ${JSON.stringify(value)}` };
      }
      const normal = digits.replace(/^0+(?=.)/, '');
      if (found !== undefined && found !== normal) {
        return { refused: 'H1_CONFLICTING_CONTENT_LENGTH', message: `conflicting Content-Length values ${found} and ${normal}` };
      }
      found = normal;
    }
  }
  if (found === undefined) return { refused: 'H1_INVALID_CONTENT_LENGTH', message: 'empty Content-Length' };
  return Number(found);
}

/** Decide how a message's body is delimited (RFC 9112 §6.3), or refuse the message. */
export function decideFraming(m: FramingInput): Framing | FramingRefusal {
  const isResponse = m.kind === 'response';
  const status = m.status ?? 0;
  // 1. A response to HEAD, and any 1xx, 204 or 304 response, ends with its head.
  if (isResponse && (m.requestMethod === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304)) {
    return NONE;
  }
  // 2. A 2xx response to CONNECT turns the connection into a tunnel; framing fields are ignored.
  if (isResponse && m.requestMethod === 'CONNECT' && status >= 200 && status < 300) return TUNNEL;
  const te = m.transferEncoding;
  const cl = m.contentLength;
  if (te !== undefined) {
    // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is faulty.
    if (m.version === '1.0') {
      if (!isResponse) return { refused: 'H1_TRANSFER_ENCODING_IN_HTTP10', message: 'Transfer-Encoding in an HTTP/1.0 request' };
      return UNTIL_CLOSE;
    }
    // 3. Both Transfer-Encoding and Content-Length: in a request this is how smuggling starts, so
    //    refuse it; in a response Transfer-Encoding wins and the connection must close (§6.1).
    if (cl !== undefined && !isResponse) {
      return { refused: 'H1_CONTENT_LENGTH_AND_TRANSFER_ENCODING', message: 'a request with both Content-Length and Transfer-Encoding' };
    }
    const codings = transferCodings(te);
    const chunkedAt = codings.indexOf('chunked');
    if (chunkedAt !== -1 && chunkedAt !== codings.lastIndexOf('chunked')) {
      return { refused: 'H1_TRANSFER_ENCODING_NOT_CHUNKED', message: 'chunked applied more than once (RFC 9112 §6.1)' };
    }
    // RFC 9112 §7.1: parameters on chunked "SHOULD be treated as an error".
    if (chunkedAt !== -1 && chunkedHasParameters(te)) {
      return { refused: 'H1_TRANSFER_ENCODING_NOT_CHUNKED', message: 'the chunked transfer coding takes no parameters (RFC 9112 §7.1)' };
    }
    if (!isResponse) {
      for (const coding of codings) {
        if (!KNOWN_CODINGS.has(coding)) {
          return { refused: 'H1_UNSUPPORTED_TRANSFER_CODING', message: `unsupported transfer coding ${JSON.stringify(coding)}` };
        }
      }
    }
    // 4. chunked last: chunked framing. Otherwise a response is read until close and a request
    //    cannot be delimited (400, then close).
    if (codings.length > 0 && chunkedAt === codings.length - 1) {
      return cl !== undefined ? { ...CHUNKED, mustClose: true } : CHUNKED;
    }
    if (isResponse) return UNTIL_CLOSE;
    return { refused: 'H1_TRANSFER_ENCODING_NOT_CHUNKED', message: 'the final transfer coding of a request is not chunked' };
  }
  // 5./6. Content-Length: valid → that many octets; invalid → an unrecoverable error.
  if (cl !== undefined) {
    const length = parseContentLength(cl);
    if (typeof length !== 'number') return length;
    return length === 0 ? NONE : { kind: 'length', length, mustClose: false };
  }
  // 7. A request with neither has no body.
  if (!isResponse) return NONE;
  // 8. A response with neither is delimited by the server closing the connection.
  return UNTIL_CLOSE;
}

/** Narrow a {@link decideFraming} result. */
export function isRefusal(f: Framing | FramingRefusal): f is FramingRefusal {
  return 'refused' in f;
}
