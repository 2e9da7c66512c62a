/**
 * Theory of operation: events → bytes. Heads are validated (no header injection: every name a
 * token, every value free of CR, LF, NUL and other controls; a request-target in a form its
 * method allows, by the rule the head parser applies, so tether never sends what it would refuse
 * to receive) and encoded octet-for-character into one array, with room reserved for a body
 * known in advance so a whole message is one write. Bodies go through one writer per framing
 * kind; the length writer refuses to write more or fewer bytes than declared, and the chunked
 * writer refuses trailer fields that framing, routing or the connection depend on, so the
 * connection can never emit a message whose framing lies. Data are never copied: chunked
 * framing is returned as separate pieces around the caller's bytes.
 */

import { NOT_FIELD_VALUE_CHAR, TOKEN_PATTERN, isOws, isReasonPhrase, isRequestTarget, isToken, requestTargetProblem, trimOws } from './abnf.js';
import { LocalProtocolError } from './errors.js';
import type { Fields } from './fields.js';
import type { FramingKind } from './framing.js';
import type { ByteSlab } from './byte-slab.js';
import { encodeLatin1, writeLatin1 } from './latin1.js';
import { STATUS_REASONS } from './status-codes.js';

const NON_ASCII = /[\x80-\xff]/;
const ASCII = new TextEncoder();

// RFC 9110 §5.1 field-name = token; §5.5 field-value octets. The regular expressions live in
// abnf.ts next to the tables they restate.
function checkName(name: string): void {
  if (KNOWN_NAMES.has(name)) return;
  if (!TOKEN_PATTERN.test(name)) {
    throw new LocalProtocolError('H1_INVALID_FIELD_NAME', name.length === 0 ? 'empty field name' : `invalid field name ${JSON.stringify(name)}`);
  }
  if (KNOWN_NAMES.size >= KNOWN_NAMES_MAX) KNOWN_NAMES.clear();
  KNOWN_NAMES.add(name);
}

/**
 * Field names already found to be tokens: a peer writes the same few names message after message,
 * and a set lookup costs less than the pattern. Bounded, and unobservable: a string's content
 * never changes, so a name found here would pass the check again.
 */
const KNOWN_NAMES = new Set<string>();
const KNOWN_NAMES_MAX = 512;

// Printable ASCII and HTAB: a value with nothing else needs no further check and encodes natively.
const NOT_PLAIN_ASCII = /[^\t\x20-\x7e]/;

/**
 * Field lines found valid, as name → the last value found valid with it, for values of plain
 * ASCII (printable and HTAB) with no surrounding whitespace: such a line is written as given. A
 * program sets the same few lines response after response (a Content-Type, this second's Date),
 * and one map lookup costs less than the checks. Bounded, and unobservable: a string's content
 * never changes, so a line found here would pass the checks again.
 */
const KNOWN_LINES = new Map<string, KnownLine>();
const KNOWN_LINES_MAX = 512;

/** A field line found valid, and its text on the wire (one piece to join into a head, not four). */
interface KnownLine {
  readonly value: string;
  readonly text: string;
}

function rememberLine(name: string, value: string, text = `${name}: ${value}\r\n`): void {
  if (KNOWN_LINES.size >= KNOWN_LINES_MAX) KNOWN_LINES.clear();
  KNOWN_LINES.set(name, { value, text });
}

function checkValue(name: string, value: string): void {
  const bad = NOT_FIELD_VALUE_CHAR.exec(value);
  if (bad !== null) {
    const c = value.charCodeAt(bad.index);
    throw new LocalProtocolError('H1_INVALID_FIELD_VALUE', `invalid character 0x${c.toString(16)} in the value of ${name}`);
  }
}

/**
 * Throw {@link LocalProtocolError} unless `name: value` is a valid field line, for checks before
 * anything is sent. It accepts exactly what `isToken(name) && isFieldValue(value)` accepts:
 * `H1_INVALID_FIELD_NAME` unless the name is a token, `H1_INVALID_FIELD_VALUE` for a CR, LF, NUL
 * or other control in the value, and also for leading or trailing SP / HTAB (RFC 9110 §5.5:
 * a field value neither starts nor ends with whitespace).
 *
 * The writers are more lenient than this check, never stricter: they strip leading and trailing
 * OWS from each value and then apply the same character check, so a field that passes here is
 * written byte for byte as given.
 */
export function validateField(name: string, value: string): void {
  if (KNOWN_LINES.get(name)?.value === value) return;
  checkName(name);
  checkValue(name, value);
  const n = value.length;
  if (n > 0 && (isOws(value.charCodeAt(0)) || isOws(value.charCodeAt(n - 1)))) {
    throw new LocalProtocolError('H1_INVALID_FIELD_VALUE', `the value of ${name} starts or ends with whitespace`);
  }
  if (!NOT_PLAIN_ASCII.test(value)) rememberLine(name, value);
}

/**
 * `name: value` and its CRLF, checked as {@link validateField} checks it, for a head's `lines`
 * (see {@link headText}); null when the value is valid but not printable ASCII (obs-text must go
 * through the head's own encoding). Throws as {@link validateField} does.
 */
export function checkedAsciiLine(name: string, value: string): string | null {
  validateField(name, value);
  return NOT_PLAIN_ASCII.test(value) ? null : `${name}: ${value}\r\n`;
}

/**
 * Fields a trailer section we send may not carry, lower-cased. RFC 9110 §6.5.1: a sender MUST NOT
 * generate a trailer field unless it is safe to process after the content; these are the fields
 * that message framing (Content-Length, Transfer-Encoding, Trailer), routing (Host) and
 * connection management (the hop-by-hop Connection, Keep-Alive, Proxy-Connection, TE, Upgrade)
 * are decided on before the body, so a recipient that merged them later would act on a lie.
 */
const FORBIDDEN_TRAILERS: ReadonlySet<string> = new Set([
  'content-length',
  'transfer-encoding',
  'trailer',
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'upgrade',
]);

/**
 * Throw {@link LocalProtocolError} unless `trailers` may be sent as a trailer section: every line
 * valid as the writers check it (names tokens, values free of controls once OWS is stripped), and
 * none of the framing, routing or hop-by-hop fields (`H1_FRAMING_HEADERS_NOT_ALLOWED`).
 */
export function validateTrailers(trailers: Fields): void {
  const raw = trailers.raw;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    checkName(name);
    if (FORBIDDEN_TRAILERS.has(name.toLowerCase())) {
      throw new LocalProtocolError('H1_FRAMING_HEADERS_NOT_ALLOWED', `${name} cannot be sent as a trailer field (RFC 9110 §6.5.1)`);
    }
    checkValue(name, trimOws(raw[i + 1]!));
  }
}

/**
 * Validate and encode a head: the start line, `fields`, then `extra` lines (flat `[name, value…]`),
 * then `lines` (see {@link headText}), into a new array with `reserve` free bytes after the head
 * (room for a body, so that head and body go out as one write without a second copy).
 */
function encodeHead(startLine: string, fields: Fields, extra: readonly string[], lines: string, reserve: number, slab: ByteSlab | undefined): Uint8Array {
  const { text: head, ascii } = headText(startLine, !NON_ASCII.test(startLine), fields, extra, lines);
  const size = head.length + reserve;
  const out = slab === undefined ? new Uint8Array(size) : slab.alloc(size);
  // Every character is below 0x100 by now; pure ASCII goes through the native encoder.
  if (ascii) ASCII.encodeInto(head, out);
  else writeLatin1(head, out, 0);
  return out;
}

/** A head, validated, as text. `ascii`: no character above 0x7F (else it must be written as latin1 octets). */
export interface HeadText {
  readonly text: string;
  readonly ascii: boolean;
}

/**
 * Validate a head and join it into one string: the start line (`startAscii`: it has no character
 * above 0x7F), the field lines of `fields` then of `extra` (both flat `[name, value, …]`), then
 * `lines` as given, the blank line. A value carrying obs-text (0x80–0xFF), which the ASCII encoder
 * cannot write, makes the head non-ASCII. `lines` are complete field lines already validated, in
 * printable ASCII (the connection's own, such as its Keep-Alive advertisement): never a caller's.
 */
function headText(startLine: string, startAscii: boolean, fields: Fields, extra: readonly string[], lines = ''): HeadText {
  let head = startLine;
  let ascii = startAscii;
  for (let list = fields.raw, pass = 0; pass < 2; list = extra, pass++) {
    for (let i = 0; i < list.length; i += 2) {
      const name = list[i]!;
      const given = list[i + 1]!;
      const known = KNOWN_LINES.get(name);
      if (known?.value === given) {
        head += known.text;
        continue;
      }
      // Strip OWS only (RFC 9110 §5.5): String#trim would also eat obs-text 0xA0 and controls.
      const value = trimOws(given);
      checkName(name);
      const line = `${name}: ${value}\r\n`;
      // One test in the common case; only a value with something unusual gets the exact check.
      if (NOT_PLAIN_ASCII.test(value)) {
        checkValue(name, value);
        ascii = false;
      } else if (value === given) {
        rememberLine(name, value, line);
      }
      head += line;
    }
  }
  return { text: head + lines + '\r\n', ascii };
}

const NONE: readonly string[] = [];

/**
 * Serialize a request head (`slab`: where to allocate the result, see byte-slab.ts) (`method target HTTP/1.1`, `fields`, then `extra` lines), with `reserve`
 * free bytes at the end of the returned array.
 */
export function writeRequestHead(method: string, target: string, fields: Fields, extra: readonly string[] = NONE, reserve = 0, slab?: ByteSlab): Uint8Array {
  return encodeHead(requestLine(method, target), fields, extra, '', reserve, slab);
}

/** A request head as validated text (see {@link HeadText}). @internal */
export function requestHeadText(method: string, target: string, fields: Fields, extra: readonly string[]): HeadText {
  const line = requestLine(method, target);
  return headText(line, !NON_ASCII.test(line), fields, extra);
}

function requestLine(method: string, target: string): string {
  if (!isToken(method)) throw new LocalProtocolError('H1_INVALID_METHOD', `invalid method ${JSON.stringify(method)}`);
  if (!isRequestTarget(target)) throw new LocalProtocolError('H1_INVALID_TARGET', `invalid request-target ${JSON.stringify(target)}`);
  // RFC 9112 §3.2: the same form rules the head parser applies to a received request.
  const problem = requestTargetProblem(method, target);
  if (problem !== null) throw new LocalProtocolError('H1_INVALID_TARGET', problem);
  return `${method} ${target} HTTP/1.1\r\n`;
}

/**
 * Serialize a response head (`HTTP/1.1 status reason`, `fields`, then `extra` lines), with
 * `reserve` free bytes at the end of the returned array.
 */
export function writeResponseHead(status: number, reason: string, fields: Fields, extra: readonly string[] = NONE, reserve = 0, slab?: ByteSlab): Uint8Array {
  return encodeHead(statusLine(status, reason), fields, extra, '', reserve, slab);
}

/**
 * {@link writeResponseHead} with `lines` after `extra`: complete field lines the connection has
 * validated itself (see {@link headText}). @internal
 */
export function writeResponseHeadWith(status: number, reason: string, fields: Fields, extra: readonly string[], lines: string, reserve: number, slab: ByteSlab | undefined): Uint8Array {
  return encodeHead(statusLine(status, reason), fields, extra, lines, reserve, slab);
}

/** A response head as validated text (see {@link HeadText}; `lines` as there). @internal */
export function responseHeadText(status: number, reason: string, fields: Fields, extra: readonly string[], lines = ''): HeadText {
  const line = statusLine(status, reason);
  // A standard status line is ASCII: no pattern test for it.
  return headText(line, line === STANDARD_STATUS_LINES[status] || !NON_ASCII.test(line), fields, extra, lines);
}

/** `HTTP/1.1 <status> <standard reason>` for every status with a standard reason phrase. */
const STANDARD_STATUS_LINES: readonly (string | undefined)[] = (() => {
  const lines = new Array<string | undefined>(1000).fill(undefined);
  for (const [status, reason] of Object.entries(STATUS_REASONS)) lines[Number(status)] = `HTTP/1.1 ${status} ${reason}\r\n`;
  return lines;
})();

function statusLine(status: number, reason: string): string {
  // Checked first: a status given as text ('204') would find a prebuilt line, and then escape
  // every rule that compares the number (a 204 or 304 carries no body).
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new LocalProtocolError('H1_INVALID_STATUS', `invalid status code ${status}`);
  }
  if (reason === STATUS_REASONS[status]) {
    const standard = STANDARD_STATUS_LINES[status];
    if (standard !== undefined) return standard;
  }
  if (!isReasonPhrase(reason)) throw new LocalProtocolError('H1_INVALID_REASON', `invalid reason phrase ${JSON.stringify(reason)}`);
  return `HTTP/1.1 ${status} ${reason}\r\n`;
}

/** Frames outgoing body data for one message. */
export interface BodyWriter {
  /** Bytes to send for `data`. */
  write(data: Uint8Array): Uint8Array[];
  /** Bytes that end the body (trailers only for chunked). */
  end(trailers: Fields | undefined): Uint8Array[];
}

const CRLF = encodeLatin1('\r\n');

class NoBodyWriter implements BodyWriter {
  readonly #why: string;
  constructor(why: string) {
    this.#why = why;
  }
  write(data: Uint8Array): Uint8Array[] {
    if (data.length > 0) throw new LocalProtocolError('H1_BODY_NOT_ALLOWED', `${this.#why} has no body`);
    return [];
  }
  end(trailers: Fields | undefined): Uint8Array[] {
    if (trailers !== undefined && trailers.size > 0) throw new LocalProtocolError('H1_BODY_NOT_ALLOWED', 'trailers need a chunked body');
    return [];
  }
}

class LengthWriter implements BodyWriter {
  #remaining: number;
  readonly #length: number;
  constructor(length: number) {
    this.#length = length;
    this.#remaining = length;
  }
  write(data: Uint8Array): Uint8Array[] {
    const n = data.length;
    if (n > this.#remaining) {
      throw new LocalProtocolError('H1_BODY_LENGTH_MISMATCH', `body longer than its Content-Length of ${this.#length}`);
    }
    this.#remaining -= n;
    return n === 0 ? [] : [data];
  }
  end(trailers: Fields | undefined): Uint8Array[] {
    if (this.#remaining !== 0) {
      throw new LocalProtocolError('H1_BODY_LENGTH_MISMATCH', `body ended ${this.#remaining} bytes short of its Content-Length of ${this.#length}`);
    }
    if (trailers !== undefined && trailers.size > 0) throw new LocalProtocolError('H1_BODY_NOT_ALLOWED', 'trailers need a chunked body');
    return [];
  }
}

export class ChunkedWriter implements BodyWriter {
  readonly #slab: ByteSlab | undefined;
  constructor(slab: ByteSlab | undefined) {
    this.#slab = slab;
  }

  write(data: Uint8Array): Uint8Array[] {
    // A zero-size chunk would end the body: write nothing for empty data.
    if (data.length === 0) return [];
    const line = `${data.length.toString(16)}\r\n`;
    const bytes = this.#slab === undefined ? new Uint8Array(line.length) : this.#slab.alloc(line.length);
    writeLatin1(line, bytes, 0);
    return [bytes, data, CRLF];
  }
  end(trailers: Fields | undefined): Uint8Array[] {
    if (trailers === undefined || trailers.size === 0) return [LAST_CHUNK];
    validateTrailers(trailers);
    return [encodeHead('0\r\n', trailers, NONE, '', 0, this.#slab)];
  }
}

const LAST_CHUNK = encodeLatin1('0\r\n\r\n');

class UntilCloseWriter implements BodyWriter {
  write(data: Uint8Array): Uint8Array[] {
    return data.length === 0 ? [] : [data];
  }
  end(trailers: Fields | undefined): Uint8Array[] {
    if (trailers !== undefined && trailers.size > 0) throw new LocalProtocolError('H1_BODY_NOT_ALLOWED', 'trailers need a chunked body');
    return [];
  }
}

/** The body writer for a framing decision. */
export function bodyWriter(kind: FramingKind, length: number, what: string, slab?: ByteSlab): BodyWriter {
  switch (kind) {
    case 'length':
      return new LengthWriter(length);
    case 'chunked':
      return new ChunkedWriter(slab);
    case 'until-close':
      return new UntilCloseWriter();
    case 'none':
    case 'tunnel':
      return new NoBodyWriter(what);
  }
}

