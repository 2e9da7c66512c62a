/**
 * Theory of operation: bytes → one message head (start line + field section), or a trailer
 * section.
 *
 * It is a line-at-a-time state machine (`'leading' | 'fields'`) rather than a byte-at-a-time one,
 * because per-character work in JavaScript is what makes a parser slow:
 * - each socket read is decoded once to a latin1 string (receive-buffer.ts) and lines are found
 *   with the engine's native `String#indexOf`;
 * - each line is checked in full as soon as its LF is in — terminator, limits, obs-fold, then the
 *   name against the token table and the value's octets four at a time (SWAR) — on the
 *   Uint8Array (a typed-array loop is several times faster than `charCodeAt`). So problems are
 *   reported in line order, whatever the input's segmentation, and never after the fact;
 * - no field string is cut until someone reads it: {@link Fields} keeps offsets into the decoded
 *   read; only the fields framing needs (Content-Length, Transfer-Encoding, Connection, Host,
 *   Expect, Upgrade) are cut at once.
 *
 * Grammar (RFC 9112 §2.2, §3, §4, §5):
 * - lines end in CRLF; a bare LF is refused unless `allowBareLf` (then the CR before an LF is
 *   optional); a CR anywhere else is refused (`H1_BARE_CR`);
 * - empty lines before the start line are skipped (RFC 9112 §2.2 SHOULD);
 * - `method SP request-target SP HTTP-version` / `HTTP-version SP status [SP reason]`, single
 *   spaces, no autocorrection;
 * - `field-name ":" OWS field-value OWS`; no whitespace before the colon; obs-fold refused;
 *   NUL and other controls refused anywhere in the head.
 */

import { FIELD_VALUE_CHAR, TARGET_CHAR, TCHAR, lowerEqualsAt, requestTargetProblem } from './abnf.js';
import { RemoteProtocolError } from './errors.js';
import type { HttpVersion } from './events.js';
import { EMPTY_FIELDS, Fields } from './fields.js';
import type { ResolvedLimits } from './limits.js';
import type { ReceiveBuffer } from './receive-buffer.js';

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/** Whether `data[i]` may not appear in a head: a control other than HTAB/CR/LF, DEL, or a CR not ending a line. */
function invalidAt(data: Uint8Array, i: number, end: number): boolean {
  const c = data[i]!;
  if (c >= 0x20) return c === 0x7f;
  if (c === HTAB || c === LF) return false;
  if (c === CR) return i + 1 >= end || data[i + 1] !== LF;
  return true;
}

/**
 * Index of the first octet of `data[start, end)` that may not appear in a head, or -1.
 *
 * Four octets at a time (SWAR): a word is looked at octet by octet only when it holds an octet
 * below 0x20 or equal to 0x7F — `(x - 0x20202020) & ~x & 0x80808080` is non-zero exactly when
 * some octet of x is below 0x20 (RFC-independent bit trick; exact for thresholds ≤ 0x80). In a
 * valid head that is only the words holding a CR, LF or HTAB, so the scan costs about a third of
 * an octet-by-octet loop.
 */
function findInvalidHeadOctet(rb: ReceiveBuffer, start: number, end: number): number {
  const data = rb.data;
  const words = rb.words();
  const origin = rb.wordOrigin;
  let i = start;
  while (i < end && ((i - origin) & 3) !== 0) {
    if (invalidAt(data, i, end)) return i;
    i++;
  }
  const wordEnd = (end - origin) >> 2;
  for (let w = (i - origin) >> 2; w < wordEnd; w++) {
    const x = words[w]!;
    const y = x ^ 0x7f7f7f7f;
    if ((((x - 0x20202020) & ~x) | ((y - 0x01010101) & ~y) | 0) & 0x80808080) {
      const b = (w << 2) + origin;
      for (let k = b; k < b + 4; k++) {
        const c = data[k]!;
        // Fast accept of what flagged the word in a valid head: CR LF, HTAB, printable.
        if (c >= 0x20 ? c !== 0x7f : c === HTAB || c === LF || (c === CR && data[k + 1] === LF && k + 1 < end)) continue;
        if (invalidAt(data, k, end)) return k;
      }
    }
  }
  for (i = Math.max(i, (wordEnd << 2) + origin); i < end; i++) if (invalidAt(data, i, end)) return i;
  return -1;
}

/** The fields framing and persistence decisions read, lower-cased. */
export const FACT_FIELDS = ['host', 'expect', 'upgrade', 'connection', 'content-length', 'transfer-encoding'] as const;
/** One of {@link FACT_FIELDS}. */
export type FactField = (typeof FACT_FIELDS)[number];

// No two of them have the same length, so a name's length alone says which one it could be.
const FACT_BY_LENGTH: readonly (FactField | undefined)[] = (() => {
  const table: (FactField | undefined)[] = [];
  for (const name of FACT_FIELDS) table[name.length] = name;
  return table;
})();

/**
 * The fields of a head that framing and persistence decisions need, collected while parsing.
 * One instance per parser, overwritten by the next head: read it before asking for another.
 */
export class HeadFacts {
  host: string[] | undefined = undefined;
  connection: string[] | undefined = undefined;
  contentLength: string[] | undefined = undefined;
  transferEncoding: string[] | undefined = undefined;
  expect: string[] | undefined = undefined;
  upgrade: string[] | undefined = undefined;

  /** Record a value of the field `name` (one of {@link FACT_FIELDS}). */
  add(name: FactField, value: string): void {
    switch (name) {
      case 'host':
        this.host = push(this.host, value);
        return;
      case 'expect':
        this.expect = push(this.expect, value);
        return;
      case 'upgrade':
        this.upgrade = push(this.upgrade, value);
        return;
      case 'connection':
        this.connection = push(this.connection, value);
        return;
      case 'content-length':
        this.contentLength = push(this.contentLength, value);
        return;
      case 'transfer-encoding':
        this.transferEncoding = push(this.transferEncoding, value);
        return;
    }
  }

  /** Forget the previous head's fields. */
  reset(): void {
    this.host = undefined;
    this.connection = undefined;
    this.contentLength = undefined;
    this.transferEncoding = undefined;
    this.expect = undefined;
    this.upgrade = undefined;
  }
}

/** The {@link HeadFacts} of a field list we are about to send (names in any case). */
export function factsOf(raw: readonly string[]): HeadFacts {
  const facts = new HeadFacts();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const fact = FACT_BY_LENGTH[name.length];
    if (fact !== undefined && lowerEqualsAt(name, 0, fact)) facts.add(fact, raw[i + 1]!);
  }
  return facts;
}

/** A parsed head: request fields or response fields are set according to the kind. */
export interface ParsedHead {
  readonly method: string;
  readonly target: string;
  readonly status: number;
  readonly reason: string;
  readonly version: HttpVersion;
  readonly fields: Fields;
  readonly facts: HeadFacts;
}

/** The start line of a parsed head. */
/** The parser's one result, overwritten by the next head: read it before asking for another. */
class HeadRecord implements ParsedHead {
  method = '';
  target = '';
  status = 0;
  reason = '';
  version: HttpVersion = '1.1';
  fields: Fields = EMPTY_FIELDS;
  constructor(readonly facts: HeadFacts) {}
}

/** The text of bytes `[start, end)` of `rb`. */
function cut(rb: ReceiveBuffer, start: number, end: number): string {
  const text = rb.text();
  const o = rb.textOrigin;
  return text.slice(start - o, end - o);
}

/** The error for an octet that may not appear in a field line. */
function octetError(data: Uint8Array, at: number): RemoteProtocolError {
  const c = data[at]!;
  if (c === CR) return new RemoteProtocolError('H1_BARE_CR', 'a CR not followed by LF in the head');
  const what = c === 0 ? 'NUL' : `control character 0x${c.toString(16).padStart(2, '0')}`;
  return new RemoteProtocolError('H1_INVALID_HEADER_VALUE', `${what} in a field line`);
}

/** What a head parser reads: a request head, a response head, or a trailer section. */
export type HeadKind = 'request' | 'response' | 'trailers';

type ScanState = 'leading' | 'fields';

function push(list: string[] | undefined, value: string): string[] {
  if (list === undefined) return [value];
  list.push(value);
  return list;
}

/** Whether the octets at `data[start…]` spell `lower` case-insensitively (`lower` is lower-case ASCII). */
function lowerEquals(data: Uint8Array, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    // ASCII letters only differ by 0x20; the other tchars of `lower` have that bit set already.
    if ((data[start + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

function collect(facts: HeadFacts, data: Uint8Array, nameStart: number, nameLength: number, rb: ReceiveBuffer, vs: number, ve: number): void {
  // Only the fields that framing and persistence need are cut out as strings here.
  const name = FACT_BY_LENGTH[nameLength];
  if (name !== undefined && lowerEquals(data, nameStart, name)) facts.add(name, cut(rb, vs, ve));
}


function excerpt(text: string, o: number, start: number, end: number, max: number): string {
  return JSON.stringify(text.slice(start - o, Math.min(end, start + max) - o));
}

// "HTTP/1." as octets.
const HTTP_1 = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e] as const;

function parseVersion(data: Uint8Array, fullText: string, o: number, start: number, end: number): HttpVersion {
  if (
    end - start === 8 &&
    data[start] === HTTP_1[0] &&
    data[start + 1] === HTTP_1[1] &&
    data[start + 2] === HTTP_1[2] &&
    data[start + 3] === HTTP_1[3] &&
    data[start + 4] === HTTP_1[4] &&
    data[start + 5] === HTTP_1[5] &&
    data[start + 6] === HTTP_1[6]
  ) {
    const minor = data[start + 7]!;
    if (minor === 0x31) return '1.1';
    if (minor === 0x30) return '1.0';
    // RFC 9110 §2.5: a higher minor version of a major we implement is read as our highest minor.
    if (minor > 0x31 && minor <= 0x39) return '1.1';
  }
  const text = fullText.slice(start - o, end - o);
  if (/^HTTP\/[0-9]\.[0-9]$/.test(text)) {
    throw new RemoteProtocolError('H1_UNSUPPORTED_VERSION', `HTTP version ${text.slice(5)} is not supported`);
  }
  throw new RemoteProtocolError('H1_INVALID_VERSION', `invalid HTTP version ${JSON.stringify(text.slice(0, 16))}`);
}

/** The common methods as shared strings, so the hot path allocates none for them. */
function knownMethod(data: Uint8Array, start: number, length: number): string | undefined {
  const c = data[start];
  if (length === 3 && c === 0x47 && data[start + 1] === 0x45 && data[start + 2] === 0x54) return 'GET';
  if (length === 4 && c === 0x50 && data[start + 1] === 0x4f && data[start + 2] === 0x53 && data[start + 3] === 0x54) return 'POST';
  if (length === 4 && c === 0x48 && data[start + 1] === 0x45 && data[start + 2] === 0x41 && data[start + 3] === 0x44) return 'HEAD';
  if (length === 3 && c === 0x50 && data[start + 1] === 0x55 && data[start + 2] === 0x54) return 'PUT';
  return undefined;
}

function invalidCharError(s: string, at: number, startLineEnd: number, kind: HeadKind): RemoteProtocolError {
  const c = s.charCodeAt(at);
  if (c === CR) return new RemoteProtocolError('H1_BARE_CR', 'a CR not followed by LF in the head');
  const what = c === 0 ? 'NUL' : `control character 0x${c.toString(16).padStart(2, '0')}`;
  if (at < startLineEnd && kind !== 'trailers') {
    return kind === 'request'
      ? new RemoteProtocolError('H1_INVALID_REQUEST_LINE', `${what} in the request line`)
      : new RemoteProtocolError('H1_INVALID_STATUS_LINE', `${what} in the status line`);
  }
  return new RemoteProtocolError('H1_INVALID_HEADER_VALUE', `${what} in a field line`);
}

/**
 * An incremental parser of one head (or trailer section) at a time. Call {@link HeadParser.read}
 * whenever bytes arrive; it returns `null` until the head is complete, then the parsed head, and
 * is ready for the next one.
 */
export class HeadParser {
  readonly #kind: HeadKind;
  readonly #limits: ResolvedLimits;
  #state: ScanState;
  /** Offset from `rb.start` where the next line starts. */
  #offset = 0;
  #lines = 0;
  #startLineEnd = 0;
  readonly #record: HeadRecord;
  /** `[nameStart, nameEnd, valueStart, valueEnd]` per field line, from the head's first byte. */
  #fields: number[] = [];
  /** Reused for every head: the connection reads it before asking for the next one. */
  readonly #facts = new HeadFacts();

  constructor(kind: HeadKind, limits: ResolvedLimits) {
    this.#kind = kind;
    this.#limits = limits;
    this.#state = kind === 'trailers' ? 'fields' : 'leading';
    this.#record = new HeadRecord(this.#facts);
  }

  /** Whether some bytes of a head have been seen (used to tell a clean close from a truncated head). */
  get inProgress(): boolean {
    return this.#offset > 0 || this.#state === 'fields';
  }

  /** Read a head from `rb`; `null` when more bytes are needed. Throws {@link RemoteProtocolError}. */
  read(rb: ReceiveBuffer): ParsedHead | null {
    const limits = this.#limits;
    let base = rb.start;
    const end = rb.end;
    if (base === end) return null;
    // Lines are found in the decoded text (string indexOf is the engine's fastest search);
    // `o` maps byte indexes to string indexes. Each line is checked in full when its LF arrives,
    // so problems are reported in line order however the input was split.
    let data = rb.data;
    let text = rb.text();
    let o = rb.textOrigin;
    let pos = base + this.#offset;
    for (;;) {
      let lf = pos < end ? text.indexOf('\n', pos - o) : -1;
      if (lf !== -1) lf += o;
      if (lf === -1 || lf >= end) {
        this.#offset = pos - base;
        this.#checkIncomplete(data, end, end - base, end - pos);
        return null;
      }
      const hasCr = lf > pos && data[lf - 1] === CR;
      if (!hasCr && !limits.allowBareLf) {
        throw new RemoteProtocolError('H1_BARE_LF', 'a line ended in LF without CR (RFC 9112 §2.2)');
      }
      const contentEnd = hasCr ? lf - 1 : lf;
      if (this.#state === 'leading') {
        if (contentEnd === pos) {
          // RFC 9112 §2.2: ignore empty lines received before the start line.
          rb.consume(lf + 1 - base);
          // Consuming everything resets the buffer: its indexes start again, so stop here.
          if (rb.length === 0) {
            this.#offset = 0;
            return null;
          }
          base = rb.start;
          pos = base;
          data = rb.data;
          text = rb.text();
          o = rb.textOrigin;
          continue;
        }
        this.#startLineEnd = lf + 1 - base;
        this.#state = 'fields';
        if (this.#kind === 'request' && contentEnd - pos > limits.maxTargetLength) this.#checkTargetSoFar(data, pos, contentEnd);
        if (lf + 1 - base > limits.maxHeadBytes) this.#tooLarge();
        this.#facts.reset();
        try {
          // The start line's grammar admits no control octet, so a clean line needs no scan of
          // its own; a refused one is scanned to report a control octet as such.
          if (this.#kind === 'request') this.#requestLine(data, text, o, pos, contentEnd);
          else this.#statusLine(data, text, o, pos, contentEnd);
        } catch (err) {
          const bad = findInvalidHeadOctet(rb, pos, lf + 1);
          if (bad !== -1) throw invalidCharError(text.slice(pos - o, lf + 1 - o), bad - pos, this.#startLineEnd, this.#kind);
          throw err;
        }
      } else if (contentEnd === pos) {
        const headEnd = lf + 1;
        if (headEnd - base > limits.maxHeadBytes) this.#tooLarge();
        const parsed = this.#complete(rb, base);
        rb.consume(headEnd - base);
        this.#reset();
        return parsed;
      } else {
        // Size first, as #checkIncomplete does for a partial line: the error must not depend
        // on whether the line crossing the limit arrived whole or in pieces.
        if (lf + 1 - base > limits.maxHeadBytes) this.#tooLarge();
        const first = data[pos];
        if (first === SP || first === HTAB) {
          throw new RemoteProtocolError('H1_OBS_FOLD', 'obsolete line folding (a field line starting with whitespace) is not accepted');
        }
        if (this.#lines === limits.maxHeaderCount) {
          throw new RemoteProtocolError('H1_TOO_MANY_HEADERS', `more than ${limits.maxHeaderCount} field lines`);
        }
        this.#lines++;
        this.#fieldLine(rb, pos, contentEnd, base);
      }
      pos = lf + 1;
    }
  }

  /**
   * Check one complete field line `data[pos, lineEnd)` — `field-name ":" OWS field-value OWS`
   * (RFC 9112 §5.1) — and record where its name and value are.
   */
  #fieldLine(rb: ReceiveBuffer, pos: number, lineEnd: number, base: number): void {
    const data = rb.data;
    let i = pos;
    while (i < lineEnd && TCHAR[data[i]!] === 1) i++;
    if (i === lineEnd || data[i] !== COLON || i === pos) throw this.#badName(rb, pos, i, lineEnd);
    let vs = i + 1;
    let ve = lineEnd;
    while (vs < ve && (data[vs] === SP || data[vs] === HTAB)) vs++;
    while (ve > vs && (data[ve - 1] === SP || data[ve - 1] === HTAB)) ve--;
    // RFC 9110 §5.5: the value's octets, four at a time where aligned (see findInvalidHeadOctet).
    const words = rb.words();
    const origin = rb.wordOrigin;
    let k = vs;
    for (; k < ve && ((k - origin) & 3) !== 0; k++) if (FIELD_VALUE_CHAR[data[k]!] === 0) throw octetError(data, k);
    const wordEnd = (ve - origin) >> 2;
    for (let w = (k - origin) >> 2; w < wordEnd; w++) {
      const x = words[w]!;
      const y = x ^ 0x7f7f7f7f;
      if ((((x - 0x20202020) & ~x) | ((y - 0x01010101) & ~y) | 0) & 0x80808080) {
        const b = (w << 2) + origin;
        for (let j = b; j < b + 4; j++) if (FIELD_VALUE_CHAR[data[j]!] === 0) throw octetError(data, j);
      }
    }
    for (k = Math.max(k, (wordEnd << 2) + origin); k < ve; k++) if (FIELD_VALUE_CHAR[data[k]!] === 0) throw octetError(data, k);
    this.#fields.push(pos - base, i - base, vs - base, ve - base);
    if (this.#kind !== 'trailers') collect(this.#facts, data, pos, i - pos, rb, vs, ve);
  }

  /** The error for a field name that did not end in a colon at `data[i]`. */
  #badName(rb: ReceiveBuffer, pos: number, i: number, lineEnd: number): RemoteProtocolError {
    const data = rb.data;
    const c = data[i]!;
    if (i < lineEnd && ((c < 0x20 && c !== HTAB) || c === 0x7f)) return octetError(data, i);
    let k = i;
    while (k < lineEnd && (data[k] === SP || data[k] === HTAB)) k++;
    // Only whitespace that sits right before the colon is this error; "Bad Name: v" is not.
    if (i > pos && k > i && data[k] === COLON) {
      return new RemoteProtocolError('H1_WHITESPACE_BEFORE_COLON', 'whitespace between a field name and the colon is not allowed (RFC 9112 §5.1)');
    }
    const text = rb.text();
    const o = rb.textOrigin;
    return new RemoteProtocolError('H1_INVALID_HEADER_NAME', `invalid field line ${JSON.stringify(text.slice(pos - o, Math.min(lineEnd, pos + 40) - o))}`);
  }

  /** The parsed head, once its empty line has arrived. */
  #complete(rb: ReceiveBuffer, base: number): ParsedHead {
    const offsets = this.#fields;
    let fields = EMPTY_FIELDS;
    if (offsets.length > 0) {
      // Offsets from the head's first byte → indexes into the decoded text.
      const text = rb.text();
      const shift = base - rb.textOrigin;
      for (let k = 0; k < offsets.length; k++) offsets[k]! += shift;
      fields = Fields.fromText(text, offsets);
      this.#fields = [];
    }
    const record = this.#record;
    record.fields = fields;
    return record;
  }

  /**
   * Refuse with 414 as soon as the request-target seen so far in `data[lineStart, lineEnd)` is
   * longer than the limit, without waiting for the whole head (the version after the target takes
   * at most 10 more octets, " HTTP/1.1" and a CR whose LF has not arrived).
   */
  #checkTargetSoFar(data: Uint8Array, lineStart: number, lineEnd: number): void {
    let sp = data.indexOf(SP, lineStart);
    if (sp === -1 || sp >= lineEnd) return;
    sp++;
    if (lineEnd - sp > this.#limits.maxTargetLength + 10) {
      throw new RemoteProtocolError('H1_TARGET_TOO_LONG', `request-target longer than ${this.#limits.maxTargetLength} bytes`);
    }
  }

  #checkIncomplete(data: Uint8Array, end: number, have: number, lineSoFar: number): void {
    if (this.#state === 'leading' && this.#kind === 'request' && lineSoFar > this.#limits.maxTargetLength) {
      this.#checkTargetSoFar(data, end - lineSoFar, end);
    }
    if (have > this.#limits.maxHeadBytes) this.#tooLarge();
  }

  #tooLarge(): never {
    const what = this.#kind === 'trailers' ? 'trailer section' : 'message head';
    throw new RemoteProtocolError('H1_HEADERS_TOO_LARGE', `${what} larger than ${this.#limits.maxHeadBytes} bytes`);
  }

  #reset(): void {
    this.#state = this.#kind === 'trailers' ? 'fields' : 'leading';
    this.#offset = 0;
    this.#lines = 0;
    this.#startLineEnd = 0;
  }

  #requestLine(data: Uint8Array, text: string, o: number, start: number, lineEnd: number): void {
    // RFC 9112 §3: request-line = method SP request-target SP HTTP-version
    let i = start;
    while (i < lineEnd && TCHAR[data[i]!] === 1) i++;
    if (i === start || data[i] !== SP) {
      throw new RemoteProtocolError(i === lineEnd ? 'H1_INVALID_REQUEST_LINE' : 'H1_INVALID_METHOD', `invalid request line ${excerpt(text, o, start, lineEnd, 40)}`);
    }
    const method = knownMethod(data, start, i - start) ?? text.slice(start - o, i - o);
    const targetStart = i + 1;
    let j = targetStart;
    while (j < lineEnd && TARGET_CHAR[data[j]!] === 1) j++;
    if (j === targetStart || j === lineEnd || data[j] !== SP) {
      const code = j === lineEnd || data[j] === SP ? 'H1_INVALID_REQUEST_LINE' : 'H1_INVALID_TARGET';
      throw new RemoteProtocolError(code, `invalid request line ${excerpt(text, o, start, lineEnd, 60)}`);
    }
    if (j - targetStart > this.#limits.maxTargetLength) {
      throw new RemoteProtocolError('H1_TARGET_TOO_LONG', `request-target longer than ${this.#limits.maxTargetLength} bytes`);
    }
    const target = text.slice(targetStart - o, j - o);
    // RFC 9112 §3.2.1–3.2.4: the form must fit the method (the writer applies the same rule).
    const problem = requestTargetProblem(method, target);
    if (problem !== null) throw new RemoteProtocolError('H1_INVALID_TARGET', problem);
    const version = parseVersion(data, text, o, j + 1, lineEnd);
    const r = this.#record;
    r.method = method;
    r.target = target;
    r.version = version;
  }

  #statusLine(data: Uint8Array, text: string, o: number, start: number, lineEnd: number): void {
    // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
    let sp = start;
    while (sp < lineEnd && data[sp] !== SP) sp++;
    if (sp === lineEnd) {
      throw new RemoteProtocolError('H1_INVALID_STATUS_LINE', `invalid status line ${excerpt(text, o, start, lineEnd, 40)}`);
    }
    let version: HttpVersion;
    try {
      version = parseVersion(data, text, o, start, sp);
    } catch (err) {
      if (err instanceof RemoteProtocolError && err.code === 'H1_UNSUPPORTED_VERSION') throw err;
      throw new RemoteProtocolError('H1_INVALID_STATUS_LINE', `invalid status line ${excerpt(text, o, start, lineEnd, 40)}`);
    }
    const d0 = (data[sp + 1] ?? 0) - 0x30;
    const d1 = (data[sp + 2] ?? 0) - 0x30;
    const d2 = (data[sp + 3] ?? 0) - 0x30;
    const after = sp + 4;
    // Many servers omit the SP before an empty reason ("HTTP/1.1 200\r\n"); accept that one case.
    if (
      !(d0 >= 1 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9) ||
      (after < lineEnd && data[after] !== SP) ||
      after > lineEnd
    ) {
      throw new RemoteProtocolError('H1_INVALID_STATUS_LINE', `invalid status line ${excerpt(text, o, start, lineEnd, 40)}`);
    }
    const status = d0 * 100 + d1 * 10 + d2;
    // RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).
    for (let k = after + 1; k < lineEnd; k++) {
      if (FIELD_VALUE_CHAR[data[k]!] === 0) throw new RemoteProtocolError('H1_INVALID_STATUS_LINE', `invalid reason phrase ${excerpt(text, o, start, lineEnd, 40)}`);
    }
    const reason = after < lineEnd ? text.slice(after + 1 - o, lineEnd - o) : '';
    const r = this.#record;
    r.status = status;
    r.reason = reason;
    r.version = version;
  }
}
