/**
 * Theory of operation: how the body of a message is delimited, decided in exactly one place by
 * walking RFC 9112 §6.3 in order. The reader and the writer both call {@link decideFraming};
 * the reader turns a refusal into a RemoteProtocolError, the writer into a LocalProtocolError.
 * Invariant: tether decodes no transfer coding but chunked, so a request is framed by
 * Transfer-Encoding only when it is exactly `chunked`; a response may carry other codings before
 * chunked (they stay on the content for the application), and a Transfer-Encoding that does not
 * parse as a list of bare coding names (or has an empty list element) frames nothing, in either
 * direction. A CONNECT request has no content: only an absent or zero Content-Length passes.
 */

import { DIGITS, MAX_SAFE_DIGITS, trimOws } from './abnf.js';
import type { LocalErrorCode, RemoteErrorCode } from './errors.js';
import type { HttpVersion } from './events.js';
import { parseParamList } from './list-syntax.js';

/** How a body is delimited. `tunnel`: no HTTP body; the bytes that follow belong to another protocol. */
export type FramingKind = 'length' | 'chunked' | 'until-close' | 'none' | 'tunnel';

/** A framing decision. */
export interface Framing {
  /** How the body is delimited (RFC 9112 §6.3). */
  readonly kind: FramingKind;
  /** Body length for `'length'`, else 0. */
  readonly length: number;
  /** The message's framing obliges the connection to close after it (RFC 9112 §6.1, §6.3). */
  readonly mustClose: boolean;
}

/** What {@link decideFraming} looks at. */
export interface FramingInput {
  /** Which kind of message the head starts. */
  readonly kind: 'request' | 'response';
  /** The message's HTTP version. */
  readonly version: HttpVersion;
  /**
   * The method of the request: a request's own (it matters for CONNECT, which has no content),
   * or, for a response, that of the request it answers.
   */
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
  /** The code of the {@link RemoteProtocolError} a recipient raises. */
  readonly refused: RemoteErrorCode;
  /**
   * Sender only: the LocalProtocolError code when the fault is not a framing field the caller
   * set (a body where none may be); `H1_FRAMING_HEADERS_NOT_ALLOWED` when absent.
   */
  readonly local?: LocalErrorCode;
  /** What is wrong, for the error's message. */
  readonly message: string;
}

const NONE: Framing = { kind: 'none', length: 0, mustClose: false };
const TUNNEL: Framing = { kind: 'tunnel', length: 0, mustClose: false };
const CHUNKED: Framing = { kind: 'chunked', length: 0, mustClose: false };
const UNTIL_CLOSE: Framing = { kind: 'until-close', length: 0, mustClose: true };

const ONLY_CHUNKED: readonly string[] = ['chunked'];

/**
 * Parse Transfer-Encoding values (RFC 9112 §6.1: a comma-separated list of transfer-codings, over
 * one or more field lines) into lower-cased coding names, in order. The list is read with
 * list-syntax.ts, so a comma inside a quoted string does not split it (`gzip;x=",chunked"` is not
 * gzip then chunked). `null` when some element is not a bare coding name: one with parameters
 * (tether implements no coding that takes any, and chunked defines none, RFC 9112 §7.1), a stray
 * `=value`, or text that is not a token (`\xa0chunked`); and `null` when an element is empty
 * (`chunked,`, `,chunked`, an empty field line), unlike other lists (see below).
 */
export function transferCodings(values: readonly string[]): readonly string[] | null {
  // Fast path: the one field line "chunked" that nearly every chunked message has.
  if (values.length === 1) {
    const only = values[0]!;
    if (only.length === 7 && only.toLowerCase() === 'chunked') return ONLY_CHUNKED;
  }
  const parsed = parseParamList(values);
  // RFC 9110 §5.6.1.2: "A recipient MUST parse and ignore a reasonable number of empty list
  // elements: enough to handle common mistakes by senders that merge values". Transfer-Encoding
  // is where tether deviates. §5.6.1.1 forbids a sender to generate empty elements, and here
  // they are a known obfuscation (`chunked,`, `,chunked`, an empty line beside `chunked`): h11
  // refuses them (it takes one `chunked` line and nothing else), llhttp refuses `chunked,` in a
  // request, and a front end that does not see `chunked` in such a value frames the bytes after
  // the head differently from one that skips the empty element: a request-smuggling shape. So
  // where the strictest common parsers refuse, the list frames nothing: 400 and close for a
  // request. A response is refused too (a client's error, 502): peers do not agree on it either
  // (llhttp reads `chunked,` until close but `,chunked` as chunked), only a refusal cannot
  // disagree with one of them about where the body ends, and the writer shares this decision,
  // so tether never sends such a head itself.
  if (parsed.invalid.length > 0 || parsed.empty > 0) return null;
  const codings: string[] = [];
  for (const [name, value] of parsed.params) {
    if (value !== null) return null;
    codings.push(name);
  }
  return codings;
}

/**
 * Parse Content-Length values (RFC 9110 §8.6): digits only; a list or repeated lines of the same
 * value collapse to one; different values are an error.
 */
export function parseContentLength(values: readonly string[]): number | FramingRefusal {
  // Fast path: one field line of plain digits, as nearly every message has.
  if (values.length === 1) {
    const only = values[0]!;
    const n = only.length;
    if (n > 0 && n <= MAX_SAFE_DIGITS) {
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
      if (!DIGITS.test(digits) || digits.length > MAX_SAFE_DIGITS) {
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
  // The request side of CONNECT, RFC 9110 §9.3.6: "A CONNECT request message does not have
  // content. The interpretation of data sent after the header section of the CONNECT request
  // message is specific to the version of HTTP in use." In HTTP/1.1 those bytes are the tunnel
  // (a client may send them before the 2xx arrives), and that is how llhttp (node:http) reads
  // them whatever the framing fields say. Honouring a Content-Length or Transfer-Encoding here
  // would end the message elsewhere than such a peer does: a request-smuggling shape. So refuse
  // both (400, and the connection closes); Content-Length: 0 announces no content and passes.
  if (!isResponse && m.requestMethod === 'CONNECT') {
    if (te !== undefined) return { refused: 'H1_CONNECT_WITH_CONTENT', message: 'a CONNECT request with Transfer-Encoding: a CONNECT request has no content (RFC 9110 §9.3.6)' };
    if (cl === undefined) return NONE;
    const length = parseContentLength(cl);
    if (typeof length !== 'number') return length;
    if (length !== 0) return { refused: 'H1_CONNECT_WITH_CONTENT', message: `a CONNECT request with Content-Length ${length}: a CONNECT request has no content (RFC 9110 §9.3.6)` };
    return NONE;
  }
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
    // RFC 9112 §6.1, §7.1: a list tether cannot read (or will not: one with an empty element,
    // see transferCodings) never frames a body, in either direction.
    // A reader that guessed could disagree with the peer about where the body ends; and the
    // writer shares this decision, so reading such a response "until close" would let us send a
    // body without the chunked framing its own head announces. (The same stance as §6.3 rule 5
    // takes on an invalid Content-Length.)
    if (codings === null) {
      return { refused: 'H1_TRANSFER_ENCODING_NOT_CHUNKED', message: `unusable Transfer-Encoding ${JSON.stringify(te.join(', ').slice(0, 60))}: an empty list element, a coding with parameters (chunked defines none, RFC 9112 §7.1) or not a list of tokens` };
    }
    const chunkedAt = codings.indexOf('chunked');
    if (chunkedAt !== -1 && chunkedAt !== codings.lastIndexOf('chunked')) {
      return { refused: 'H1_TRANSFER_ENCODING_NOT_CHUNKED', message: 'chunked applied more than once (RFC 9112 §6.1)' };
    }
    const chunkedLast = codings.length > 0 && chunkedAt === codings.length - 1;
    // 4. A request: chunked must be the final coding, else its length cannot be determined: 400
    //    and close. And it must be the only one: tether decodes no other coding, so the data
    //    events would carry still-coded bytes the application takes for the content (§6.1: "A
    //    server that receives a request message with a transfer coding it does not understand
    //    SHOULD respond with 501").
    if (!isResponse) {
      if (!chunkedLast) return { refused: 'H1_TRANSFER_ENCODING_NOT_CHUNKED', message: 'the final transfer coding of a request is not chunked (RFC 9112 §6.3)' };
      if (codings.length > 1) {
        return { refused: 'H1_UNSUPPORTED_TRANSFER_CODING', message: `unsupported transfer coding ${JSON.stringify(codings[0])}: only chunked is implemented` };
      }
      return CHUNKED;
    }
    // 4. A response: chunked last is chunked framing (the other codings stay on the content, for
    //    the application); otherwise the body is read until the server closes.
    if (chunkedLast) return cl !== undefined ? { ...CHUNKED, mustClose: true } : CHUNKED;
    return UNTIL_CLOSE;
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

/** What {@link decideSendFraming} looks at: a head we are about to send. */
export interface SendFramingInput {
  /** Which kind of message the head starts. */
  readonly kind: 'request' | 'response';
  /** Response only: the version of the request it answers (the peer's). */
  readonly peerVersion?: HttpVersion;
  /** The method of the request: a request's own, or, for a response, that of the request it answers. */
  readonly requestMethod?: string;
  /** Response only. */
  readonly status?: number;
  /** Content-Length values the caller set, `undefined` when absent. */
  readonly contentLength: readonly string[] | undefined;
  /** Transfer-Encoding values the caller set, `undefined` when absent. */
  readonly transferEncoding: readonly string[] | undefined;
  /** The body's length when known in advance. */
  readonly bodyLength?: number | undefined;
  /** Request only: the body is streamed with unknown length. */
  readonly streaming?: boolean | undefined;
}

/** A sender's framing: the decision, and the field to add to the head to announce it. */
export interface SendFraming extends Framing {
  /** The field that announces it (`Content-Length` or `Transfer-Encoding: chunked`); null when none is added. */
  readonly add: readonly [name: string, value: string] | null;
}

/**
 * The sender's side of framing: what a head we write must say about its body, from what the
 * caller set and knows (length known → Content-Length; streaming to HTTP/1.1 → chunked; streaming
 * a response to HTTP/1.0 → delimited by close), refusing heads a sender must not write and a
 * CONNECT request with a body. The resulting head is then framed by {@link decideFraming},
 * exactly as its recipient will frame it.
 */
export function decideSendFraming(m: SendFramingInput): SendFraming | FramingRefusal {
  const isResponse = m.kind === 'response';
  const status = m.status ?? 0;
  const method = m.requestMethod ?? 'GET';
  const hasTe = m.transferEncoding !== undefined;
  const hasCl = m.contentLength !== undefined;
  // RFC 9112 §6.2: a sender MUST NOT send Content-Length in a message with Transfer-Encoding.
  if (hasTe && hasCl) {
    return { refused: 'H1_CONTENT_LENGTH_AND_TRANSFER_ENCODING', message: 'a sender must not send Content-Length with Transfer-Encoding (RFC 9112 §6.2)' };
  }
  if (isResponse) {
    // RFC 9112 §6.1: no Transfer-Encoding in a response to an HTTP/1.0 request.
    if (hasTe && m.peerVersion === '1.0') {
      return { refused: 'H1_TRANSFER_ENCODING_IN_HTTP10', message: 'Transfer-Encoding cannot be sent to an HTTP/1.0 client (RFC 9112 §6.1)' };
    }
    // RFC 9110 §8.6, RFC 9112 §6.1: neither field in a 1xx or 204.
    if ((status < 200 || status === 204) && (hasTe || hasCl)) {
      return { refused: 'H1_CONTENT_LENGTH_AND_TRANSFER_ENCODING', message: `a ${status} response cannot carry Content-Length or Transfer-Encoding (RFC 9110 §8.6)` };
    }
  }
  // RFC 9110 §9.3.6: a CONNECT request has no content, so it is sent with no framing field;
  // a body for one is refused before any head is written (framing fields the caller set are
  // judged by decideFraming below, as the recipient will judge them).
  const connect = !isResponse && method === 'CONNECT';
  if (connect && ((m.bodyLength !== undefined && m.bodyLength !== 0) || m.streaming === true)) {
    return { refused: 'H1_CONNECT_WITH_CONTENT', local: 'H1_BODY_NOT_ALLOWED', message: 'a CONNECT request has no content (RFC 9110 §9.3.6)' };
  }
  let add: SendFraming['add'] = null;
  const bodyless = connect || (isResponse && (method === 'HEAD' || status < 200 || status === 204 || status === 304 || (method === 'CONNECT' && status < 300)));
  if (!hasTe && !hasCl && !bodyless) {
    // RFC 9110 §15.3.6: a 205 has no content; say so with Content-Length: 0.
    const length = isResponse && status === 205 ? 0 : m.bodyLength;
    if (length !== undefined && Number.isSafeInteger(length) && length >= 0) {
      // What decideFraming makes of the Content-Length added here (no framing field was set, and
      // the message may carry a body): the length itself, with no round trip through its text.
      return { kind: length === 0 ? 'none' : 'length', length, mustClose: false, add: ['Content-Length', String(length)] };
    }
    if (length !== undefined) add = ['Content-Length', String(length)];
    else if (isResponse ? m.peerVersion !== '1.0' : m.streaming === true) add = ['Transfer-Encoding', 'chunked'];
  }
  const framing = decideFraming({
    kind: m.kind,
    version: '1.1',
    requestMethod: method,
    status,
    contentLength: add?.[0] === 'Content-Length' ? [add[1]] : m.contentLength,
    transferEncoding: add?.[0] === 'Transfer-Encoding' ? [add[1]] : m.transferEncoding,
  });
  if (isRefusal(framing)) return framing;
  // A body delimited by close obliges us to close after it.
  // (Built field by field: a spread of the differently shaped framing objects is a slow path.)
  return { kind: framing.kind, length: framing.length, mustClose: framing.mustClose || framing.kind === 'until-close', add };
}

