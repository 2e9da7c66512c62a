/**
 * Theory of operation: a response as the caller sees it. The head is complete when the caller
 * gets it; the body arrives as the connection parses it and is read once, as an async iterable
 * or whole (`text()`, `json()`, `arrayBuffer()`, `bytes()`). Unread bytes are bounded: above
 * `highWaterMark` the body asks its connection to stop reading the socket, and asks it to go on
 * once the caller has read below the mark (so pipelined responses behind it wait, in the
 * kernel's buffers, not ours).
 */

import type { Fields, HttpVersion } from '@tether/protocol';
import { traceBodyEnd, traceError } from './diagnostics.js';
import type { PendingRequest } from './pending.js';

/**
 * When things happened to a request, in `performance.now()` ms: for a waterfall chart (queued →
 * connect → sent → head → body end).
 */
export interface ResponseTimings {
  /** `request()` was called. */
  readonly queued: number;
  /** It waited for a new connection: when that connection's handshake started and ended. */
  readonly connectStart: number | undefined;
  /** The handshake ended (see `connectStart`). */
  readonly connected: number | undefined;
  /** Its head (and whole body, when known in advance) was written. */
  readonly sent: number;
  /** The response head arrived. */
  readonly head: number;
  /** Which connection of its pool carried it (1, 2, … in the order they were opened). */
  readonly connection: number;
}

const UTF8 = new TextDecoder();

/** What a body needs from its connection. */
export interface BodySource {
  /** Stop (`false`) or go on (`true`) reading the socket for this body. */
  flow(on: boolean): void;
}

/**
 * @internal Where a body in sink mode delivers: straight to a dispatcher handler, without
 * buffering. `data` returning false asks the connection to stop reading until `resume()`.
 */
export interface BodySink {
  data(chunk: Uint8Array): boolean;
  end(trailers: Fields | null): void;
  error(err: Error): void;
}

/** A response body: read it once, piece by piece or whole. */
export class ResponseBody implements AsyncIterable<Uint8Array> {
  readonly #chunks: Uint8Array[] = [];
  readonly #highWaterMark: number;
  readonly #source: BodySource;
  #buffered = 0;
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  #used = false;
  #dumping = false;
  #sink: BodySink | null = null;
  /** The sink asked the connection to stop reading. */
  #sinkPaused = false;
  /** @internal The request it answers (for tracing). */
  request: PendingRequest | null = null;
  /** @internal Called once when the body ends or fails. */
  onSettled: (() => void) | null = null;
  /** When the whole body had arrived (`performance.now()` ms), or undefined. */
  endedAt: number | undefined;

  /** @internal Made by the connection. */
  constructor(source: BodySource, highWaterMark: number) {
    this.#source = source;
    this.#highWaterMark = highWaterMark;
  }

  /** The whole body has arrived. */
  get complete(): boolean {
    return this.#ended;
  }

  /** Whether the body has been (or is being) read. */
  get bodyUsed(): boolean {
    return this.#used;
  }

  /**
   * @internal Deliver the body to `sink` as it arrives instead of buffering it (what a
   * dispatcher handler needs): chunks already buffered go first. The body is then used.
   */
  sink(sink: BodySink): void {
    this.#take();
    this.#sink = sink;
    const buffered = this.#chunks.splice(0);
    const wasOver = this.#buffered > this.#highWaterMark;
    this.#buffered = 0;
    let flowing = true;
    for (const chunk of buffered) flowing = sink.data(chunk) && flowing;
    if (!flowing) this.pauseSink();
    else if (wasOver) this.#source.flow(true);
    if (this.#error !== null) sink.error(this.#error);
    else if (this.#ended) sink.end(this.trailers);
  }

  /** @internal The sink wants no more for now: the connection stops reading. */
  pauseSink(): void {
    if (this.#sinkPaused || this.#ended || this.#error !== null) return;
    this.#sinkPaused = true;
    this.#source.flow(false);
  }

  /** @internal The sink wants more: the connection reads again. */
  resumeSink(): void {
    if (!this.#sinkPaused) return;
    this.#sinkPaused = false;
    if (!this.#ended && this.#error === null) this.#source.flow(true);
  }

  /** The trailer section of a chunked body, once complete (null when none came). */
  trailers: Fields | null = null;

  /** @internal Body data from the connection. */
  push(data: Uint8Array): void {
    if (this.#dumping) return;
    const sink = this.#sink;
    if (sink !== null) {
      if (this.#ended || this.#error !== null) return;
      if (!sink.data(data)) this.pauseSink();
      return;
    }
    this.#chunks.push(data);
    this.#buffered += data.length;
    if (this.#buffered > this.#highWaterMark) this.#source.flow(false);
    this.#notify();
  }

  /** @internal The body is complete. */
  end(at: number = performance.now(), trailers: Fields | null = null): void {
    if (this.#ended || this.#error !== null) return;
    this.#ended = true;
    this.endedAt = at;
    this.trailers = trailers;
    if (this.request !== null) traceBodyEnd(this.request, trailers?.raw ?? []);
    this.#settle();
    this.#notify();
    this.#sink?.end(trailers);
  }

  #settle(): void {
    const done = this.onSettled;
    this.onSettled = null;
    done?.();
  }

  /** @internal The body will never complete. */
  fail(err: Error): void {
    if (this.#ended || this.#error !== null) return;
    this.#error = err;
    if (this.request !== null) traceError(this.request, err);
    this.#settle();
    this.#notify();
    this.#sink?.error(err);
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #take(): void {
    if (this.#used) throw new TypeError('the response body has already been read');
    this.#used = true;
  }

  /** The body, piece by piece. */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.#take();
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk !== undefined) {
        const wasOver = this.#buffered > this.#highWaterMark;
        this.#buffered -= chunk.length;
        if (wasOver && this.#buffered <= this.#highWaterMark) this.#source.flow(true);
        yield chunk;
        continue;
      }
      if (this.#error !== null) throw this.#error;
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /** The whole body as bytes. */
  async bytes(): Promise<Uint8Array> {
    let parts: Uint8Array[];
    if (this.#ended && !this.#used) {
      // Already complete (a small response usually arrives with its head): no iteration needed.
      this.#take();
      parts = this.#chunks.splice(0);
      if (this.#buffered > this.#highWaterMark) this.#source.flow(true);
      this.#buffered = 0;
    } else {
      parts = [];
      for await (const chunk of this) parts.push(chunk);
    }
    let size = 0;
    for (const part of parts) size += part.length;
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** The whole body as UTF-8 text. */
  async text(): Promise<string> {
    return UTF8.decode(await this.bytes());
  }

  /** The whole body parsed as JSON. */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  /** The whole body in a new ArrayBuffer. */
  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  /**
   * Read the rest of the body and drop it, so the connection can carry on with the next
   * response. Resolves when the body is complete (rejects if it fails).
   */
  async dump(): Promise<void> {
    this.#take();
    this.#dumping = true;
    this.#chunks.length = 0;
    if (this.#buffered > this.#highWaterMark) this.#source.flow(true);
    this.#buffered = 0;
    while (!this.#ended) {
      if (this.#error !== null) throw this.#error;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}

/** A response: status and head now, the body as it arrives. */
export class ClientResponse {
  /** The status code. */
  readonly statusCode: number;
  /** The reason phrase as received. */
  readonly statusMessage: string;
  /** The version the server answered with. */
  readonly httpVersion: HttpVersion;
  /** The body (read once). */
  readonly body: ResponseBody;
  /** When the request was queued, connected, sent and answered. */
  readonly timings: ResponseTimings;
  readonly #fields: Fields;
  #headers: Record<string, string | string[]> | undefined;

  /** @internal Made by the connection. */
  constructor(status: number, reason: string, version: HttpVersion, fields: Fields, body: ResponseBody, timings: ResponseTimings) {
    this.timings = timings;
    this.statusCode = status;
    this.statusMessage = reason;
    this.httpVersion = version;
    this.#fields = fields;
    this.body = body;
  }

  /** Field names lower-cased, values joined with ", " (`set-cookie` an array), as in node:http. */
  get headers(): Record<string, string | string[]> {
    return (this.#headers ??= this.#fields.toObject());
  }

  /** The field lines as received, `[name, value, …]`. */
  get rawHeaders(): readonly string[] {
    return this.#fields.raw;
  }

  /** The received fields with case-insensitive lookup. */
  get fields(): Fields {
    return this.#fields;
  }

  /** The body as UTF-8 text. */
  text(): Promise<string> {
    return this.body.text();
  }

  /** The body parsed as JSON. */
  json(): Promise<unknown> {
    return this.body.json();
  }

  /** The body in a new ArrayBuffer. */
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.body.arrayBuffer();
  }

  /** The body as bytes. */
  bytes(): Promise<Uint8Array> {
    return this.body.bytes();
  }

  /** Drop the body (see {@link ResponseBody.dump}). */
  dump(): Promise<void> {
    return this.body.dump();
  }
}
