/**
 * Theory of operation: bytes → one message head (start line + field section), or a trailer
 * section.
 *
 * It is a line-at-a-time state machine (`'leading' | 'fields'`) rather than a byte-at-a-time one:
 * each step finds the next LF with the engine's native `indexOf`, checks the line terminator and
 * the limits, and moves on. Only when the whole head is present is it decoded, once, to a latin1
 * string and split into fields with string operations. This shape keeps the per-byte work in
 * native code (the reason it can match a C parser from JavaScript) while still refusing an
 * oversized or malformed head as soon as the offending line arrives.
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

import { TARGET_CHAR, TCHAR } from './abnf.js';
import { RemoteProtocolError } from './errors.js';
import type { HttpVersion } from './events.js';
import { decodeLatin1 } from './latin1.js';
import type { ResolvedLimits } from './limits.js';
import type { ReceiveBuffer } from './receive-buffer.js';

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

// Controls other than HTAB/CR/LF, and DEL, anywhere in a head; or a CR not ending a line.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVALID_HEAD_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)/;

/** The fields of a head that framing and persistence decisions need, collected while parsing. */
export class HeadFacts {
  host: string[] | undefined = undefined;
  connection: string[] | undefined = undefined;
  contentLength: string[] | undefined = undefined;
  transferEncoding: string[] | undefined = undefined;
  expect: string[] | undefined = undefined;
  upgrade: string[] | undefined = undefined;
}

/** A parsed head: request fields or response fields are set according to the kind. */
export interface ParsedHead {
  readonly method: string;
  readonly target: string;
  readonly status: number;
  readonly reason: string;
  readonly version: HttpVersion;
  readonly raw: string[];
  readonly facts: HeadFacts;
}

/** What a head parser reads: a request head, a response head, or a trailer section. */
export type HeadKind = 'request' | 'response' | 'trailers';

type ScanState = 'leading' | 'fields';

function push(list: string[] | undefined, value: string): string[] {
  if (list === undefined) return [value];
  list.push(value);
  return list;
}

function lowerEquals(s: string, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    // ASCII letters only differ by 0x20; other tchars of `lower` compare exactly.
    if ((s.charCodeAt(start + i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

function collect(facts: HeadFacts, s: string, nameStart: number, nameLength: number, value: string): void {
  switch (nameLength) {
    case 4:
      if (lowerEquals(s, nameStart, 'host')) facts.host = push(facts.host, value);
      return;
    case 6:
      if (lowerEquals(s, nameStart, 'expect')) facts.expect = push(facts.expect, value);
      return;
    case 7:
      if (lowerEquals(s, nameStart, 'upgrade')) facts.upgrade = push(facts.upgrade, value);
      return;
    case 10:
      if (lowerEquals(s, nameStart, 'connection')) facts.connection = push(facts.connection, value);
      return;
    case 14:
      if (lowerEquals(s, nameStart, 'content-length')) facts.contentLength = push(facts.contentLength, value);
      return;
    case 17:
      if (lowerEquals(s, nameStart, 'transfer-encoding')) facts.transferEncoding = push(facts.transferEncoding, value);
      return;
  }
}

/**
 * Parse the field lines of `s` from `pos` to the empty line, pushing `[name, value]` onto `raw`.
 * `s` holds a complete section whose line terminators were already checked.
 */
function parseFieldLines(s: string, pos: number, raw: string[], facts: HeadFacts | null): void {
  for (;;) {
    const lf = s.indexOf('\n', pos);
    const lineEnd = s.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
    if (lineEnd === pos) return;
    const first = s.charCodeAt(pos);
    if (first === SP || first === HTAB) {
      throw new RemoteProtocolError('H1_OBS_FOLD', 'obsolete line folding (a field line starting with whitespace) is not accepted');
    }
    let i = pos;
    while (i < lineEnd && TCHAR[s.charCodeAt(i)] === 1) i++;
    if (i === lineEnd || s.charCodeAt(i) !== COLON || i === pos) {
      let k = i;
      while (k < lineEnd && (s.charCodeAt(k) === SP || s.charCodeAt(k) === HTAB)) k++;
      // Only whitespace that sits right before the colon is this error; "Bad Name: v" is not.
      if (i > pos && k > i && s.charCodeAt(k) === COLON) {
        throw new RemoteProtocolError('H1_WHITESPACE_BEFORE_COLON', 'whitespace between a field name and the colon is not allowed (RFC 9112 §5.1)');
      }
      throw new RemoteProtocolError('H1_INVALID_HEADER_NAME', `invalid field line ${JSON.stringify(s.slice(pos, Math.min(lineEnd, pos + 40)))}`);
    }
    let vs = i + 1;
    let ve = lineEnd;
    while (vs < ve && (s.charCodeAt(vs) === SP || s.charCodeAt(vs) === HTAB)) vs++;
    while (ve > vs && (s.charCodeAt(ve - 1) === SP || s.charCodeAt(ve - 1) === HTAB)) ve--;
    const value = s.slice(vs, ve);
    raw.push(s.slice(pos, i), value);
    if (facts !== null) collect(facts, s, pos, i - pos, value);
    pos = lf + 1;
  }
}

function parseVersion(s: string, start: number, end: number): HttpVersion {
  if (end - start === 8 && s.startsWith('HTTP/1.', start)) {
    const minor = s.charCodeAt(start + 7);
    if (minor === 0x31) return '1.1';
    if (minor === 0x30) return '1.0';
    // RFC 9110 §2.5: a higher minor version of a major we implement is read as our highest minor.
    if (minor > 0x31 && minor <= 0x39) return '1.1';
  }
  const text = s.slice(start, end);
  if (/^HTTP\/[0-9]\.[0-9]$/.test(text)) {
    throw new RemoteProtocolError('H1_UNSUPPORTED_VERSION', `HTTP version ${text.slice(5)} is not supported`);
  }
  throw new RemoteProtocolError('H1_INVALID_VERSION', `invalid HTTP version ${JSON.stringify(text.slice(0, 16))}`);
}

// RFC 9112 §3.2.1–3.2.4: the four request-target forms.
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const AUTHORITY_FORM = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+):[0-9]+$/;

function checkTarget(method: string, target: string): void {
  const c = target.charCodeAt(0);
  if (method === 'CONNECT') {
    if (!AUTHORITY_FORM.test(target)) {
      throw new RemoteProtocolError('H1_INVALID_TARGET', 'CONNECT needs an authority-form target (host:port)');
    }
    return;
  }
  if (c === 0x2f /* '/' */) return;
  if (target === '*') {
    if (method === 'OPTIONS') return;
    throw new RemoteProtocolError('H1_INVALID_TARGET', 'the asterisk-form target is only for OPTIONS');
  }
  if (ABSOLUTE_FORM.test(target)) return;
  throw new RemoteProtocolError('H1_INVALID_TARGET', `invalid request-target ${JSON.stringify(target.slice(0, 40))}`);
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

  constructor(kind: HeadKind, limits: ResolvedLimits) {
    this.#kind = kind;
    this.#limits = limits;
    this.#state = kind === 'trailers' ? 'fields' : 'leading';
  }

  /** Whether some bytes of a head have been seen (used to tell a clean close from a truncated head). */
  get inProgress(): boolean {
    return this.#offset > 0 || this.#state === 'fields';
  }

  /** Read a head from `rb`; `null` when more bytes are needed. Throws {@link RemoteProtocolError}. */
  read(rb: ReceiveBuffer): ParsedHead | null {
    const data = rb.data;
    const limits = this.#limits;
    let base = rb.start;
    const end = rb.end;
    let pos = base + this.#offset;
    for (;;) {
      let lf = pos < end ? data.indexOf(LF, pos) : -1;
      if (lf >= end) lf = -1;
      if (lf === -1) {
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
          // Consuming everything resets the buffer: `data` and `end` are stale, so stop here.
          if (rb.length === 0) {
            this.#offset = 0;
            return null;
          }
          base = rb.start;
          pos = base;
          continue;
        }
        this.#startLineEnd = lf + 1 - base;
        this.#state = 'fields';
        if (this.#kind === 'request') this.#checkTargetSoFar(data, pos, contentEnd);
      } else if (contentEnd === pos) {
        const headEnd = lf + 1;
        if (headEnd - base > limits.maxHeadBytes) this.#tooLarge();
        const head = this.#parse(decodeLatin1(data, base, headEnd));
        rb.consume(headEnd - base);
        this.#reset();
        return head;
      } else {
        // Size first, as #checkIncomplete does for a partial line: the error must not depend
        // on whether the line crossing the limit arrived whole or in pieces.
        if (lf + 1 - base > limits.maxHeadBytes) this.#tooLarge();
        const first = data[pos];
        if (first === SP || first === HTAB) {
          throw new RemoteProtocolError('H1_OBS_FOLD', 'obsolete line folding (a field line starting with whitespace) is not accepted');
        }
        if (++this.#lines > limits.maxHeaderCount) {
          throw new RemoteProtocolError('H1_TOO_MANY_HEADERS', `more than ${limits.maxHeaderCount} field lines`);
        }
      }
      if (lf + 1 - base > limits.maxHeadBytes) this.#tooLarge();
      pos = lf + 1;
    }
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

  #parse(s: string): ParsedHead {
    const bad = INVALID_HEAD_CHAR.exec(s);
    if (bad !== null) throw invalidCharError(s, bad.index, this.#startLineEnd, this.#kind);
    const raw: string[] = [];
    const facts = new HeadFacts();
    if (this.#kind === 'trailers') {
      parseFieldLines(s, 0, raw, null);
      return { method: '', target: '', status: 0, reason: '', version: '1.1', raw, facts };
    }
    const lf = this.#startLineEnd - 1;
    const lineEnd = s.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
    const head = this.#kind === 'request' ? this.#requestLine(s, lineEnd, raw, facts) : this.#statusLine(s, lineEnd, raw, facts);
    parseFieldLines(s, lf + 1, raw, facts);
    return head;
  }

  #requestLine(s: string, lineEnd: number, raw: string[], facts: HeadFacts): ParsedHead {
    // RFC 9112 §3: request-line = method SP request-target SP HTTP-version
    let i = 0;
    while (i < lineEnd && TCHAR[s.charCodeAt(i)] === 1) i++;
    if (i === 0 || s.charCodeAt(i) !== SP) {
      throw new RemoteProtocolError(i === lineEnd ? 'H1_INVALID_REQUEST_LINE' : 'H1_INVALID_METHOD', `invalid request line ${JSON.stringify(s.slice(0, Math.min(lineEnd, 40)))}`);
    }
    const method = s.slice(0, i);
    const targetStart = i + 1;
    let j = targetStart;
    while (j < lineEnd && TARGET_CHAR[s.charCodeAt(j)] === 1) j++;
    if (j === targetStart || j === lineEnd || s.charCodeAt(j) !== SP) {
      const c = s.charCodeAt(j);
      const code = j === lineEnd || c === SP ? 'H1_INVALID_REQUEST_LINE' : 'H1_INVALID_TARGET';
      throw new RemoteProtocolError(code, `invalid request line ${JSON.stringify(s.slice(0, Math.min(lineEnd, 60)))}`);
    }
    if (j - targetStart > this.#limits.maxTargetLength) {
      throw new RemoteProtocolError('H1_TARGET_TOO_LONG', `request-target longer than ${this.#limits.maxTargetLength} bytes`);
    }
    const target = s.slice(targetStart, j);
    checkTarget(method, target);
    const version = parseVersion(s, j + 1, lineEnd);
    return { method, target, status: 0, reason: '', version, raw, facts };
  }

  #statusLine(s: string, lineEnd: number, raw: string[], facts: HeadFacts): ParsedHead {
    // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
    const sp = s.indexOf(' ', 0);
    if (sp === -1 || sp > lineEnd) {
      throw new RemoteProtocolError('H1_INVALID_STATUS_LINE', `invalid status line ${JSON.stringify(s.slice(0, Math.min(lineEnd, 40)))}`);
    }
    let version: HttpVersion;
    try {
      version = parseVersion(s, 0, sp);
    } catch (err) {
      if (err instanceof RemoteProtocolError && err.code === 'H1_UNSUPPORTED_VERSION') throw err;
      throw new RemoteProtocolError('H1_INVALID_STATUS_LINE', `invalid status line ${JSON.stringify(s.slice(0, Math.min(lineEnd, 40)))}`);
    }
    const d0 = s.charCodeAt(sp + 1) - 0x30;
    const d1 = s.charCodeAt(sp + 2) - 0x30;
    const d2 = s.charCodeAt(sp + 3) - 0x30;
    const after = sp + 4;
    // Many servers omit the SP before an empty reason ("HTTP/1.1 200\r\n"); accept that one case.
    if (
      !(d0 >= 1 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9) ||
      (after < lineEnd && s.charCodeAt(after) !== SP) ||
      after > lineEnd
    ) {
      throw new RemoteProtocolError('H1_INVALID_STATUS_LINE', `invalid status line ${JSON.stringify(s.slice(0, Math.min(lineEnd, 40)))}`);
    }
    const status = d0 * 100 + d1 * 10 + d2;
    const reason = after < lineEnd ? s.slice(after + 1, lineEnd) : '';
    return { method: '', target: '', status, reason, version, raw, facts };
  }
}
