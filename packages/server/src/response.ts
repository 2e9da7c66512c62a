/**
 * Theory of operation: the response a handler writes, shaped like node:http's ServerResponse:
 * `statusCode`, `setHeader/getHeader/removeHeader/hasHeader`, `writeHead`, `write` (false under
 * backpressure, then 'drain'), `end`. It holds no bytes and decides no framing: it hands its head
 * and body to its connection, which asks @tether/protocol to frame them — `end(body)` without
 * earlier writes becomes one write with Content-Length; writes before `end` stream (chunked to
 * HTTP/1.1, close-delimited to HTTP/1.0).
 */

import { EventEmitter } from 'node:events';
import { LocalProtocolError, validateField } from '@tether/protocol';
import { ServerError } from './errors.js';

/** What a response needs from its connection. */
export interface ResponseSink {
  /** Send the head with the whole body (no earlier writes): one write. Text is sent as UTF-8. */
  sendWhole(res: ServerResponse, body: Uint8Array | string): void;
  /** Send the head for a streamed body. */
  sendHead(res: ServerResponse): void;
  /** Send body bytes; false when the socket is over its high-water mark. */
  sendData(res: ServerResponse, data: Uint8Array): boolean;
  /** End the streamed body, with trailers when the body is chunked. */
  sendEnd(res: ServerResponse, trailers: readonly string[] | undefined): void;
}

type HeaderValue = string | number | readonly string[];

/** Header names lower-cased, cached: handlers set the same few names on every response. */
const LOWER = new Map<string, string>();
const LOWER_MAX = 256;

function lowerCase(name: string): string {
  let lower = LOWER.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (LOWER.size >= LOWER_MAX) LOWER.clear();
    LOWER.set(name, lower);
  }
  return lower;
}

function toBytes(chunk: string | Uint8Array): Uint8Array {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return chunk;
  throw new ServerError('TETHER_INVALID_ARGUMENT', `a body chunk must be a string or a Uint8Array, got ${typeof chunk}`);
}

/** `validateField`, its refusal as a ServerError. */
function checkField(name: string, value: string): void {
  try {
    validateField(name, value);
  } catch (err) {
    throw new ServerError('TETHER_INVALID_HEADER', err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** A protocol refusal of what the handler asked for, as a ServerError; anything else as is. */
function refusal(err: unknown): unknown {
  return err instanceof LocalProtocolError ? new ServerError('TETHER_RESPONSE_REFUSED', err.message, { cause: err }) : err;
}

/**
 * The status to send for `statusCode`, as node:http reads it (`statusCode | 0`: a numeric string
 * or a fraction is accepted); a ServerError unless it is in 100–999.
 */
export function checkStatus(statusCode: unknown): number {
  const status = Number(statusCode) | 0;
  if (status < 100 || status > 999) throw new ServerError('TETHER_INVALID_STATUS', `invalid status code ${String(statusCode)}: it must be an integer from 100 to 999`);
  return status;
}

/**
 * EventEmitter without its constructor: a response makes its listener table on the first `on()`
 * (EventEmitter's methods all accept an instance that has none yet), so the many responses nobody
 * listens to cost no table. Instances are still `instanceof EventEmitter`.
 */
const LazyEmitter = function LazyEmitter(): void {
  // Nothing: EventEmitter's constructor is what this skips.
} as unknown as typeof EventEmitter;
LazyEmitter.prototype = EventEmitter.prototype;

/** An HTTP response being written by a handler. */
export class ServerResponse extends LazyEmitter {
  /** The status to send; default 200. */
  statusCode = 200;
  /** The reason phrase; default the standard one for `statusCode`. */
  statusMessage: string | undefined;
  readonly #sink: ResponseSink;
  /**
   * The headers set, as `[lower-case name, name, value, …]` in the order first set: a response
   * has a handful, and a scan of them costs less than a map made per response.
   */
  readonly #headers: (string | HeaderValue)[] = [];
  #headSent = false;
  #ended = false;
  #trailers: string[] | undefined;

  /** @internal Made by the connection. */
  constructor(sink: ResponseSink) {
    super();
    this.#sink = sink;
  }

  /** The head has been sent: headers can no longer change. */
  get headersSent(): boolean {
    return this.#headSent;
  }

  /** `end()` has been called. */
  get writableEnded(): boolean {
    return this.#ended;
  }

  /** Set a header (replacing any value of the same name, any case). */
  setHeader(name: string, value: HeaderValue): this {
    if (this.#headSent) throw new ServerError('TETHER_HEADERS_SENT', `cannot set header ${JSON.stringify(name)} after the head was sent`);
    if (Array.isArray(value)) for (const v of value as readonly string[]) checkField(name, String(v));
    else checkField(name, typeof value === 'string' ? value : String(value));
    const lower = lowerCase(name);
    const at = this.#find(lower);
    if (at < 0) this.#headers.push(lower, name, value);
    else {
      this.#headers[at + 1] = name;
      this.#headers[at + 2] = value;
    }
    return this;
  }

  /** A header's value, or undefined. */
  getHeader(name: string): HeaderValue | undefined {
    const at = this.#find(lowerCase(name));
    return at < 0 ? undefined : (this.#headers[at + 2]!);
  }

  /** Whether a header is set. */
  hasHeader(name: string): boolean {
    return this.#find(lowerCase(name)) >= 0;
  }

  /** @internal Whether a header is set, by its lower-case name (no case folding). */
  hasLowerCaseHeader(lower: string): boolean {
    return this.#find(lower) >= 0;
  }

  /** Remove a header. */
  removeHeader(name: string): void {
    if (this.#headSent) throw new ServerError('TETHER_HEADERS_SENT', `cannot remove header ${JSON.stringify(name)} after the head was sent`);
    const at = this.#find(lowerCase(name));
    if (at >= 0) this.#headers.splice(at, 3);
  }

  /** The headers set so far, lower-cased names. */
  getHeaders(): Record<string, HeaderValue> {
    const out: Record<string, HeaderValue> = {};
    const h = this.#headers;
    for (let i = 0; i < h.length; i += 3) out[h[i] as string] = h[i + 2]!;
    return out;
  }

  /** Set the status (and reason) and headers, as node:http's writeHead. The head is sent with the first write. */
  writeHead(status: number, reasonOrHeaders?: string | Record<string, HeaderValue>, headers?: Record<string, HeaderValue>): this {
    if (this.#headSent) throw new ServerError('TETHER_HEADERS_SENT', 'writeHead() after the head was sent');
    this.statusCode = checkStatus(status);
    const fields = typeof reasonOrHeaders === 'string' ? headers : reasonOrHeaders;
    if (typeof reasonOrHeaders === 'string') this.statusMessage = reasonOrHeaders;
    if (fields === undefined) return this;
    // Object.keys, not Object.entries: V8 answers keys from the object's enum cache, while entries
    // is a runtime call that makes an array per field (~0.1 µs a writeHead of two, bench/ server-harness).
    for (const name of Object.keys(fields)) this.setHeader(name, fields[name]!);
    return this;
  }

  /** Trailer fields to send after a streamed (chunked) body (RFC 9112 §7.1.2). */
  addTrailers(fields: Record<string, string>): void {
    const list = (this.#trailers ??= []);
    for (const [name, value] of Object.entries(fields)) {
      checkField(name, value);
      list.push(name, value);
    }
  }

  /** @internal The head's fields as a flat `[name, value, …]` list. */
  rawHeaderList(): string[] {
    const raw: string[] = [];
    const h = this.#headers;
    for (let i = 0; i < h.length; i += 3) {
      const name = h[i + 1] as string;
      const value = h[i + 2]!;
      if (typeof value === 'string') raw.push(name, value);
      else if (Array.isArray(value)) for (const v of value as readonly string[]) raw.push(name, v);
      else raw.push(name, String(value));
    }
    return raw;
  }

  /** Index in #headers of the header named `lower`, or -1. */
  #find(lower: string): number {
    const h = this.#headers;
    for (let i = 0; i < h.length; i += 3) if (h[i] === lower) return i;
    return -1;
  }

  /** @internal The head is on its way: headers can no longer change. */
  markHeadSent(): void {
    this.#headSent = true;
  }

  /** Send the head (its status checked first); on a refusal nothing was sent and the head can still change. */
  #sendHead(): void {
    checkStatus(this.statusCode);
    try {
      this.#sink.sendHead(this);
    } catch (err) {
      this.#headSent = false;
      throw refusal(err);
    }
  }

  /** Write body data (the head first, if not sent yet). Returns false under backpressure; wait for 'drain'. */
  write(chunk: string | Uint8Array): boolean {
    if (this.#ended) throw new ServerError('TETHER_WRITE_AFTER_END', 'write() after end()');
    const data = toBytes(chunk);
    if (!this.#headSent) this.#sendHead();
    try {
      return this.#sink.sendData(this, data);
    } catch (err) {
      throw refusal(err);
    }
  }

  /** Finish the response, optionally with a last chunk. Without earlier writes the whole message is one write. */
  end(chunkIn?: string | Uint8Array | null): this {
    if (this.#ended) return this;
    const chunk = chunkIn ?? undefined;
    if (chunk !== undefined && typeof chunk !== 'string') toBytes(chunk);
    if (!this.#headSent && this.#trailers === undefined) {
      checkStatus(this.statusCode);
      this.#ended = true;
      try {
        // Text stays text: the socket encodes it natively, in the same write as the head.
        this.#sink.sendWhole(this, chunk ?? '');
      } catch (err) {
        // Refused before anything was sent (the protocol sends all or nothing): the response is
        // still the handler's to answer, or the server's (500) when the handler throws this on.
        this.#ended = false;
        this.#headSent = false;
        throw refusal(err);
      }
    } else {
      const data = chunk === undefined ? undefined : toBytes(chunk);
      if (!this.#headSent) this.#sendHead();
      this.#ended = true;
      try {
        if (data !== undefined) this.#sink.sendData(this, data);
        this.#sink.sendEnd(this, this.#trailers);
      } catch (err) {
        throw refusal(err);
      }
    }
    this.emit('finish');
    return this;
  }
}

