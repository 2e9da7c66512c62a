/**
 * Theory of operation: bytes → body events, one reader per framing kind (see framing.ts). Every
 * reader hands out views into the received bytes (no copy) and never reads past the end of its
 * message, so the next pipelined message starts exactly where the body ended.
 *
 * The chunked reader is a small state machine (RFC 9112 §7.1):
 *   'size' → chunk-size [chunk-ext] CRLF → 'data' (size > 0) or 'trailers' (size 0)
 *   'data' → chunk-data → 'data-end' → CRLF → 'size'
 *   'trailers' → trailer-section CRLF → end of message
 */

import { HEX_VALUE, TCHAR, isOws } from './abnf.js';
import { RemoteProtocolError } from './errors.js';
import type { DataEvent, EndOfMessageEvent } from './events.js';
import type { HeadParser } from './head-parser.js';
import { decodeLatin1 } from './latin1.js';
import type { ResolvedLimits } from './limits.js';
import { readQuotedString } from './list-syntax.js';
import type { ListParam } from './list-syntax.js';
import type { ReceiveBuffer } from './receive-buffer.js';

const LF = 0x0a;
const CR = 0x0d;

/** What a body reader yields. */
export type BodyItem = DataEvent | EndOfMessageEvent;

/** Reads one message body from a receive buffer. */
export interface BodyReader {
  /** The next body event, or `null` when more bytes are needed. */
  read(rb: ReceiveBuffer): BodyItem | null;
  /** The peer closed: the final event, or the error a truncated body is. */
  eof(): EndOfMessageEvent;
}

const END: EndOfMessageEvent = { type: 'end-of-message', trailers: null };

/** A body of Content-Length octets (RFC 9112 §6.2). */
export class LengthReader implements BodyReader {
  readonly #length: number;
  #remaining: number;

  constructor(length: number) {
    this.#length = length;
    this.#remaining = length;
  }

  read(rb: ReceiveBuffer): BodyItem | null {
    if (this.#remaining === 0) return END;
    const n = Math.min(this.#remaining, rb.length);
    if (n === 0) return null;
    this.#remaining -= n;
    return { type: 'data', data: rb.take(n) };
  }

  eof(): EndOfMessageEvent {
    if (this.#remaining === 0) return END;
    throw new RemoteProtocolError(
      'H1_INCOMPLETE_MESSAGE',
      `connection closed after ${this.#length - this.#remaining} of ${this.#length} body bytes (Content-Length)`,
    );
  }
}

/** A response body delimited by the connection closing (RFC 9112 §6.3 rule 8). */
export class UntilCloseReader implements BodyReader {
  read(rb: ReceiveBuffer): BodyItem | null {
    const n = rb.length;
    return n === 0 ? null : { type: 'data', data: rb.take(n) };
  }

  eof(): EndOfMessageEvent {
    return END;
  }
}

type ChunkedState = 'size' | 'data' | 'data-end' | 'trailers';

/** Parse `*( BWS ";" BWS name [ BWS "=" BWS value ] )` (RFC 9112 §7.1.1). */
function parseChunkExtensions(s: string): ListParam[] {
  const out: ListParam[] = [];
  let i = 0;
  const fail = (): never => {
    throw new RemoteProtocolError('H1_INVALID_CHUNK_EXTENSION', `invalid chunk extension ${JSON.stringify(s.slice(0, 60))}`);
  };
  const skipBws = (): void => {
    while (i < s.length && isOws(s.charCodeAt(i))) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && TCHAR[s.charCodeAt(i)] === 1) i++;
    if (i === start) fail();
    return s.slice(start, i);
  };
  while (i < s.length) {
    skipBws();
    if (s.charCodeAt(i) !== 0x3b /* ';' */) fail();
    i++;
    skipBws();
    const name = token().toLowerCase();
    skipBws();
    let value: string | null = null;
    if (s.charCodeAt(i) === 0x3d /* '=' */) {
      i++;
      skipBws();
      if (s.charCodeAt(i) === 0x22) {
        const quoted = readQuotedString(s, i) ?? fail();
        [value, i] = quoted;
      } else {
        value = token();
      }
      skipBws();
    }
    out.push([name, value]);
  }
  return out;
}

/** A chunked body (RFC 9112 §7.1), with chunk extensions and trailers. */
export class ChunkedReader implements BodyReader {
  readonly #limits: ResolvedLimits;
  #state: ChunkedState = 'size';
  #remaining = 0;
  #total = 0;
  #extensionBytes = 0;
  #extensions: ListParam[] | undefined;
  readonly #trailers: () => HeadParser;

  /** `trailers` gives the parser of the trailer section (one per connection serves every message). */
  constructor(limits: ResolvedLimits, trailers: () => HeadParser) {
    this.#limits = limits;
    this.#trailers = trailers;
  }

  read(rb: ReceiveBuffer): BodyItem | null {
    for (;;) {
      switch (this.#state) {
        case 'size':
          if (!this.#readSize(rb)) return null;
          continue;
        case 'data': {
          const n = Math.min(this.#remaining, rb.length);
          if (n === 0) return null;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = 'data-end';
          const data = rb.take(n);
          const extensions = this.#extensions;
          if (extensions === undefined) return { type: 'data', data };
          this.#extensions = undefined;
          return { type: 'data', data, extensions };
        }
        case 'data-end':
          if (!this.#readDataEnd(rb)) return null;
          continue;
        case 'trailers': {
          const section = this.#trailers().read(rb);
          if (section === null) return null;
          return { type: 'end-of-message', trailers: section.fields.size === 0 ? null : section.fields };
        }
      }
    }
  }

  eof(): EndOfMessageEvent {
    throw new RemoteProtocolError('H1_INCOMPLETE_MESSAGE', `connection closed inside a chunked body after ${this.#total - this.#remaining} bytes`);
  }

  #readSize(rb: ReceiveBuffer): boolean {
    const data = rb.data;
    const start = rb.start;
    const limits = this.#limits;
    // The longest size line we accept: digits, extensions still allowed, CRLF.
    const maxLine = limits.maxChunkSizeDigits + (limits.maxChunkExtensionBytes - this.#extensionBytes) + 2;
    // Fail early on a non-hex first byte rather than waiting for a line end; and check it first
    // whether or not the line end has arrived, so the error never depends on how bytes were split.
    if (rb.length > 0 && HEX_VALUE[data[start]!] === 0xff) this.#invalidSize(data, start, rb.end);
    let lf = data.indexOf(LF, start);
    if (lf >= rb.end) lf = -1;
    if (lf === -1) {
      if (rb.length > maxLine) this.#sizeLineTooLong();
      return false;
    }
    if (lf - start + 1 > maxLine) this.#sizeLineTooLong();
    let lineEnd = lf;
    if (lf > start && data[lf - 1] === CR) lineEnd = lf - 1;
    else if (!limits.allowBareLf) throw new RemoteProtocolError('H1_BARE_LF', 'a chunk-size line ended in LF without CR');
    let i = start;
    let size = 0;
    while (i < lineEnd) {
      const v = HEX_VALUE[data[i]!]!;
      if (v === 0xff) break;
      size = size * 16 + v;
      i++;
    }
    const digits = i - start;
    if (digits === 0) this.#invalidSize(data, start, lineEnd);
    if (digits > limits.maxChunkSizeDigits || !Number.isSafeInteger(size)) {
      throw new RemoteProtocolError('H1_INVALID_CHUNK_SIZE', `chunk-size has more than ${limits.maxChunkSizeDigits} digits`);
    }
    if (i < lineEnd) {
      this.#extensionBytes += lineEnd - i;
      if (this.#extensionBytes > limits.maxChunkExtensionBytes) {
        throw new RemoteProtocolError('H1_CHUNK_EXTENSIONS_TOO_LARGE', `chunk extensions exceed ${limits.maxChunkExtensionBytes} bytes`);
      }
      const text = decodeLatin1(data, i, lineEnd);
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      if (/[\x00-\x08\x0a-\x1f\x7f]/.test(text)) this.#invalidSize(data, start, lineEnd);
      const extensions = parseChunkExtensions(text);
      if (size > 0 && extensions.length > 0) this.#extensions = extensions;
    }
    this.#total += size;
    if (this.#total > limits.maxBodySize) {
      throw new RemoteProtocolError('H1_BODY_TOO_LARGE', `chunked body larger than ${limits.maxBodySize} bytes`);
    }
    rb.consume(lf + 1 - start);
    this.#remaining = size;
    this.#state = size === 0 ? 'trailers' : 'data';
    return true;
  }

  #readDataEnd(rb: ReceiveBuffer): boolean {
    const data = rb.data;
    const start = rb.start;
    if (rb.length === 0) return false;
    const first = data[start];
    if (first === LF && this.#limits.allowBareLf) {
      rb.consume(1);
    } else {
      if (first !== CR) throw new RemoteProtocolError('H1_INVALID_CHUNK_DATA', 'chunk data longer than its chunk-size (no CRLF after it)');
      if (rb.length < 2) return false;
      if (data[start + 1] !== LF) throw new RemoteProtocolError('H1_INVALID_CHUNK_DATA', 'chunk data not followed by CRLF');
      rb.consume(2);
    }
    this.#state = 'size';
    return true;
  }

  #invalidSize(data: Uint8Array, start: number, end: number): never {
    const text = decodeLatin1(data, start, Math.min(end, start + 20));
    throw new RemoteProtocolError('H1_INVALID_CHUNK_SIZE', `invalid chunk-size line ${JSON.stringify(text)}`);
  }

  #sizeLineTooLong(): never {
    throw new RemoteProtocolError('H1_CHUNK_EXTENSIONS_TOO_LARGE', 'chunk-size line too long');
  }
}
