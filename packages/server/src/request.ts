/**
 * Theory of operation: the request a handler gets, shaped like node:http's IncomingMessage where
 * it matters (method, url, httpVersion, headers, rawHeaders) and read as an async iterable of
 * body chunks. The connection pushes body data in as it is parsed; a reader that falls behind
 * makes the connection stop reading the socket (see `onBacklog`), so a body is never buffered
 * without bound.
 */

import type { Fields, HttpVersion } from '@tether/protocol';
import type { Socket } from 'node:net';

/** Bytes of unread body above which the connection stops reading the socket. */
const BODY_HIGH_WATER = 64 * 1024;

/** An HTTP request as the handler sees it. */
export class ServerRequest implements AsyncIterable<Uint8Array> {
  /** The method, case-sensitive. */
  readonly method: string;
  /** The request-target as sent. */
  readonly url: string;
  readonly httpVersion: HttpVersion;
  /** The socket the request arrived on. */
  readonly socket: Socket;
  readonly #fields: Fields;
  #headers: Record<string, string | string[]> | undefined;
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  /** Set by the connection: called with `true` when unread body passes the mark, `false` when drained. */
  onBacklog: ((backlogged: boolean) => void) | null = null;
  /** Set by the connection: called once, when the handler first reads the body (100-continue). */
  onFirstRead: (() => void) | null = null;

  /** @internal Made by the connection. */
  constructor(socket: Socket, method: string, url: string, httpVersion: HttpVersion, fields: Fields) {
    this.socket = socket;
    this.method = method;
    this.url = url;
    this.httpVersion = httpVersion;
    this.#fields = fields;
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

  /** The whole body has arrived (whether or not it was read). */
  get complete(): boolean {
    return this.#ended;
  }

  /** @internal Body data from the connection. */
  pushBody(data: Uint8Array): void {
    this.#chunks.push(data);
    this.#buffered += data.length;
    if (this.#buffered > BODY_HIGH_WATER) this.onBacklog?.(true);
    this.#notify();
  }

  /** @internal The body is complete. */
  endBody(): void {
    this.#ended = true;
    this.#notify();
  }

  /** @internal The body will never complete. */
  failBody(err: Error): void {
    this.#error = err;
    this.#notify();
  }

  /** Discard what has arrived of the body (the connection drains the rest). */
  discardBody(): void {
    if (this.#chunks.length > 0) this.#chunks.length = 0;
    if (this.#buffered > 0) {
      this.#buffered = 0;
      this.onBacklog?.(false);
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** The body, chunk by chunk. */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const first = this.onFirstRead;
    this.onFirstRead = null;
    first?.();
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk !== undefined) {
        const wasBacklogged = this.#buffered > BODY_HIGH_WATER;
        this.#buffered -= chunk.length;
        if (wasBacklogged && this.#buffered <= BODY_HIGH_WATER) this.onBacklog?.(false);
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
    const parts: Uint8Array[] = [];
    for await (const chunk of this) parts.push(chunk);
    return Buffer.concat(parts);
  }

  /** The whole body as UTF-8 text. */
  async text(): Promise<string> {
    return Buffer.from(await this.bytes()).toString('utf8');
  }
}
