/**
 * Theory of operation: the request a handler gets, node:http's IncomingMessage contract: method,
 * url, httpVersion(Major/Minor), headers, rawHeaders, headersDistinct, trailers, complete,
 * aborted, socket — and a `stream.Readable` of the body (`on('data')`, `pipe`, `pause`,
 * `setEncoding`, async iteration, `node:stream/consumers`), plus `text()` and `bytes()`.
 *
 * What a handler does not use it does not pay for. The request's prototype chain holds
 * `Readable.prototype`, but Readable's constructor does not run when the request is made: a
 * `_readableState` accessor on the prototype runs it the first time any of Readable's methods or
 * getters looks at the state (they all do, first thing), and the state then shadows the accessor as
 * an own property. Until then the body waits in a plain array (`#chunks`); making the state moves
 * it into the Readable.
 *
 * Invariants:
 * - The connection feeds the body through the module functions `pushBody`, `endBody`,
 *   `failBody` and `discardBody`, and the response calls `abortRequest` when the connection
 *   closes under it (closures over the class's private state), never through a method looked up
 *   on the request: frameworks re-prototype `req`.
 * - A reader that falls behind makes the connection stop reading the socket: `onBacklog(true)`
 *   when more than `BODY_HIGH_WATER` bytes wait unread (before the state exists) or when the
 *   Readable's `push` says its buffer is full; `onBacklog(false)` when the Readable asks for more
 *   (`_read`) or the body is discarded. So a body is never buffered without bound.
 * - `onFirstRead` (100-continue) runs on the first `_read`: the first time anyone reads.
 */

import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import type { Fields, HttpVersion } from '@tether/protocol';
import type { Socket } from 'node:net';
import { assignable } from './assignable.js';
import { requestAbortedError } from './errors.js';
import { headerView } from './node-headers.js';
import type { HeaderView } from './node-headers.js';

/**
 * Bytes of unread body above which the connection stops reading the socket; also the Readable's
 * `highWaterMark` (node 22's default for byte streams).
 */
const BODY_HIGH_WATER = 64 * 1024;


/** Feeds body data from the connection. */
export let pushBody: (req: ServerRequest, data: Uint8Array) => void;
/** Tells that the body is complete, with its trailers (null if none). */
export let endBody: (req: ServerRequest, trailers: Fields | null) => void;
/** Tells that the body will never complete (the connection closed or the body was malformed). */
export let failBody: (req: ServerRequest, err: Error) => void;
/** Drops what has arrived of the body: its request was answered (the connection drains the rest). */
export let discardBody: (req: ServerRequest) => void;
/** The connection closed before the request's response was complete (called by the response). */
export let abortRequest: (req: ServerRequest) => void;
/** node:http's default view of the fields (see node-headers.ts). */
const NODE_VIEW: HeaderView = headerView(undefined, undefined);
/** The body of a request before any arrives: most have none, and make no array. */
const NO_CHUNKS: Uint8Array[] = [];
/** Makes the Readable state of a request (from the `_readableState` accessor). */
let makeState: (req: ServerRequest) => object;
/** The request's part of `_read`. */
let readRequest: (req: ServerRequest) => void;

/**
 * Readable's members, which a request has through its prototype chain: the class has no base
 * class, so making a request calls no constructor but its own (see the theory above), and
 * `ServerRequest.prototype` inherits from `Readable.prototype` (set below the class).
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- the members come from Readable.prototype
export interface ServerRequest extends Omit<Readable, typeof Symbol.asyncIterator> {}

/** An HTTP request as the handler sees it. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class ServerRequest {
  /** The method, case-sensitive. */
  readonly method: string;
  /** The request-target as sent. */
  readonly url: string;
  /** The request's HTTP version, `'1.0'` or `'1.1'`. */
  readonly httpVersion: HttpVersion;
  /** The socket the request arrived on. */
  readonly socket: Socket;
  /** The whole body has arrived (whether or not it was read), as node's `complete`. */
  complete = false;
  /** The connection closed (or the body broke) before the body was complete; `'aborted'` was emitted. */
  aborted = false;
  readonly #fields: Fields;
  readonly #view: HeaderView;
  #headers: Record<string, string | string[]> | undefined;
  #trailers: Fields | null = null;
  /** The body waiting before the Readable state exists (shared `NO_CHUNKS` while none); null once it does. */
  #chunks: Uint8Array[] | null = NO_CHUNKS;
  #buffered = 0;
  #backlogged = false;
  #discarded = false;
  #error: Error | null = null;
  /** Set by the connection: called with `true` when unread body passes the mark, `false` when drained. */
  onBacklog: ((backlogged: boolean) => void) | null = null;
  /** Set by the connection: called once, when the handler first reads the body (100-continue). */
  onFirstRead: (() => void) | null = null;

  /** @internal Made by the connection; `view`: how `headers` folds the fields (node's rules by default). */
  constructor(socket: Socket, method: string, url: string, httpVersion: HttpVersion, fields: Fields, view: HeaderView = NODE_VIEW) {
    this.socket = socket;
    this.method = method;
    this.url = url;
    this.httpVersion = httpVersion;
    this.#fields = fields;
    this.#view = view;
  }

  static {
    pushBody = (req, data) => req.#push(data);
    endBody = (req, trailers) => req.#end(trailers);
    failBody = (req, err) => req.#fail(err);
    discardBody = (req) => req.#discard();
    abortRequest = (req) => req.#abort();
    makeState = (req) => req.#makeState();
    readRequest = (req) => req.#read();
  }

  /**
   * Field names lower-cased, repeated lines folded as node:http folds them: the first line of a
   * single-valued field (`content-type`, `authorization`, `user-agent`…), `cookie` joined with
   * "; ", `set-cookie` an array, the rest joined with ", " (see node-headers.ts; the server's
   * `joinDuplicateHeaders` joins them all). Only the first `maxHeadersCount` lines are read.
   */
  get headers(): Record<string, string | string[]> {
    return (this.#headers ??= this.#fields.toObject(this.#view.rules, this.#view.lines));
  }

  /** The field lines as received, `[name, value, …]`. */
  get rawHeaders(): readonly string[] {
    return this.#fields.raw;
  }

  /** Each field's values as received, one entry per field line, by lower-case name (node ≥ 18.3); the first `maxHeadersCount` lines. */
  get headersDistinct(): Record<string, string[]> {
    return distinct(this.#fields.raw, this.#view.lines);
  }

  /** The received fields with case-insensitive lookup. */
  get fields(): Fields {
    return this.#fields;
  }

  /** The trailer fields of a chunked body, folded as `headers` are; `{}` until the body ends or if none. */
  get trailers(): Record<string, string | string[]> {
    return this.#trailers === null ? {} : this.#trailers.toObject(this.#view.rules);
  }

  /** The trailer lines as received, `[name, value, …]`. */
  get rawTrailers(): readonly string[] {
    return this.#trailers === null ? [] : this.#trailers.raw;
  }

  /** Each trailer's values as received (node ≥ 18.3). */
  get trailersDistinct(): Record<string, string[]> {
    return distinct(this.#trailers === null ? [] : this.#trailers.raw);
  }

  /** The major digit of `httpVersion`. */
  get httpVersionMajor(): number {
    return Number.parseInt(this.httpVersion, 10);
  }

  /** The minor digit of `httpVersion`. */
  get httpVersionMinor(): number {
    return this.httpVersion === '1.0' ? 0 : 1;
  }

  /** node's alias of `socket`. */
  get connection(): Socket {
    return this.socket;
  }

  /**
   * node's `req.setTimeout(ms, cb)`: `cb` listens for `'timeout'`, which tether never emits — the
   * server's `requestTimeout` and `headersTimeout` govern a request, and the socket's own timer is
   * left alone. Returns the request.
   */
  setTimeout(_ms: number, callback?: () => void): this {
    if (callback !== undefined) this.on('timeout', callback);
    return this;
  }

  /** The body, chunk by chunk (Buffers; strings after `setEncoding`). */
  [Symbol.asyncIterator](): NodeJS.AsyncIterator<Buffer> {
    return Readable.prototype[Symbol.asyncIterator].call(this) as NodeJS.AsyncIterator<Buffer>;
  }

  /** The whole body as bytes. */
  async bytes(): Promise<Uint8Array> {
    const parts: Buffer[] = [];
    for await (const chunk of this) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return Buffer.concat(parts);
  }

  /** The whole body as UTF-8 text. */
  async text(): Promise<string> {
    return Buffer.from(await this.bytes()).toString('utf8');
  }

  #makeState(): object {
    Readable.call(this, { highWaterMark: BODY_HIGH_WATER, read: readBody, destroy: destroyBody });
    const chunks = this.#chunks!;
    this.#chunks = null;
    this.#buffered = 0;
    // The body that waited moves into the Readable; its buffer may now hold more than the mark.
    let full = false;
    for (const chunk of chunks) full = !Readable.prototype.push.call(this, chunk);
    if (!full && this.#backlogged) this.#unblock();
    if (this.#error !== null) Readable.prototype.destroy.call(this, this.#error);
    else if (this.complete) Readable.prototype.push.call(this, null);
    return ownState(this);
  }

  #push(data: Uint8Array): void {
    if (this.#discarded) return;
    const chunks = this.#chunks;
    if (chunks !== null) {
      if (chunks === NO_CHUNKS) this.#chunks = [data];
      else chunks.push(data);
      this.#buffered += data.length;
      if (this.#buffered > BODY_HIGH_WATER) this.#block();
      return;
    }
    if ((ownState(this) as { destroyed: boolean }).destroyed) return;
    if (!Readable.prototype.push.call(this, data)) this.#block();
  }

  #end(trailers: Fields | null): void {
    this.complete = true;
    this.#trailers = trailers;
    if (this.#chunks === null && !this.#discarded) Readable.prototype.push.call(this, null);
  }

  #fail(err: Error): void {
    if (this.complete || this.aborted) return;
    this.aborted = true;
    this.#error = err;
    EventEmitter.prototype.emit.call(this, 'aborted');
    if (this.#chunks === null) Readable.prototype.destroy.call(this, err);
  }

  /**
   * As node's `abortIncoming`: a request whose response was not complete when the connection
   * closed is destroyed — `aborted` (and 'aborted') unless its body was read to the end, then
   * 'error' (to listeners only) and 'close'. A body that broke first was aborted by `#fail`.
   */
  #abort(): void {
    if (this.aborted) return;
    const state = this.#chunks === null ? (ownState(this) as { endEmitted: boolean }) : null;
    // Read to its end: 'close' followed 'end' already, as node's.
    if (state?.endEmitted === true) return;
    this.aborted = true;
    const err = requestAbortedError();
    this.#error = err;
    EventEmitter.prototype.emit.call(this, 'aborted');
    if (state !== null) Readable.prototype.destroy.call(this, err);
  }

  #discard(): void {
    this.#discarded = true;
    if (this.#chunks !== null) this.#chunks = NO_CHUNKS;
    this.#buffered = 0;
    if (this.#backlogged) this.#unblock();
  }

  /** The Readable asks for more: the first read (100-continue), and the end of a backlog. */
  #read(): void {
    const first = this.onFirstRead;
    if (first !== null) {
      this.onFirstRead = null;
      first();
    }
    if (this.#backlogged) this.#unblock();
  }

  #block(): void {
    this.#backlogged = true;
    this.onBacklog?.(true);
  }

  #unblock(): void {
    this.#backlogged = false;
    this.onBacklog?.(false);
  }

}

// A request is a Readable without Readable's constructor having run (see the theory above).
Object.setPrototypeOf(ServerRequest.prototype, Readable.prototype);

// Data properties on node's IncomingMessage, which code written for node assigns.
assignable(ServerRequest.prototype, ['headers', 'rawHeaders', 'headersDistinct', 'trailers', 'rawTrailers', 'trailersDistinct', 'httpVersionMajor', 'httpVersionMinor', 'connection']);

/** The Readable's `_read`, an own property of each request (so a re-prototyped request keeps it). */
function readBody(this: Readable): void {
  readRequest(this as ServerRequest);
}

/**
 * The Readable's `_destroy`. As node's IncomingMessage, the error reaches `'error'` only when
 * someone listens for it: a body nobody reads does not crash the process when its client leaves.
 */
function destroyBody(this: Readable, err: Error | null, callback: (err?: Error | null) => void): void {
  callback(err !== null && this.listenerCount('error') > 0 ? err : null);
}

function ownState(req: ServerRequest): object {
  return (req as unknown as { _readableState: object })._readableState;
}

function distinct(raw: readonly string[], lines = Number.POSITIVE_INFINITY): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  const end = Math.min(raw.length, lines * 2);
  for (let i = 0; i + 1 < end; i += 2) {
    const name = raw[i]!.toLowerCase();
    (out[name] ??= []).push(raw[i + 1]!);
  }
  return out;
}

// The accessor that makes the Readable state on first use; Readable's constructor assigns the
// state through the setter, which makes it an own data property shadowing this accessor.
Object.defineProperty(ServerRequest.prototype, '_readableState', {
  configurable: true,
  get(this: ServerRequest): object {
    return makeState(this);
  },
  set(this: ServerRequest, state: object): void {
    Object.defineProperty(this, '_readableState', { value: state, writable: true, configurable: true, enumerable: true });
  },
});
