/**
 * Theory of operation: the response a handler writes, shaped like node:http's ServerResponse:
 * `statusCode`, `setHeader/getHeader/removeHeader/hasHeader`, `writeHead`, `write` (false under
 * backpressure, then 'drain'), `end`. It holds no bytes and decides no framing: it hands its head
 * and body to its connection, which asks @tether/protocol to frame them — `end(body)` without
 * earlier writes becomes one write with Content-Length; writes before `end` stream (chunked to
 * HTTP/1.1, close-delimited to HTTP/1.0).
 *
 * It is also node's Writable contract (`res instanceof Writable`, `pipeline(src, res)`,
 * `write(chunk, encoding, cb)`, `end(data, encoding, cb)`, 'finish' then 'close', `destroy`),
 * paid for only when used: Writable's constructor does not run when a response is made. A
 * `_writableState` accessor on the prototype makes the state the first time anything looks at it
 * (`stream.finished`, `pipeline`); the response keeps that state's flags (ended, finished,
 * destroyed, closed) in step with its own. Its own methods and getters shadow Writable's, so the
 * state is never needed for writing.
 *
 * Invariants: the connection reaches a response only through `ResponseSink` calls made by the
 * response and the module functions `drainResponse` / `closeResponse` (closures over the class's
 * private state), never through a method looked up on it: frameworks re-prototype `res`.
 */

import { Writable } from 'node:stream';
import type { Socket } from 'node:net';
import { LocalProtocolError, validateField } from '@tether/protocol';
import { assignable } from './assignable.js';
import {
  contentLengthMismatchError,
  headersSentError,
  invalidChunkError,
  invalidFieldNameError,
  invalidFieldValueError,
  invalidReasonError,
  invalidStatusError,
  missingFieldValueError,
  responseRefusedError,
  writeAfterEndError,
} from './errors.js';
import type { FieldSection } from './errors.js';
import { abortRequest } from './request.js';
import type { ServerRequest } from './request.js';

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
  /** Send an informational (1xx) head before the final one; ignored once that is out. */
  sendInformational(res: ServerResponse, status: number, headers: readonly string[]): void;
  /** The handler gave up on `res`: close the connection after the answers before it. */
  destroyResponse(res: ServerResponse): void;
  /** Call `done(res, err)` once what `res` wrote is with the socket (`err`: it never will be). */
  afterSent(res: ServerResponse, done: (res: ServerResponse, err: Error | null) => void): void;
}

/** A header value as `setHeader()` takes it: a number is sent as its decimal text, an array as one field line per element. */
export type HeaderValue = string | number | readonly string[];

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

/** Encodings node's `write(chunk, encoding)` takes for a string chunk. */
export type ChunkEncoding = BufferEncoding;
/** The callback of `write()` (called on the next tick) and `end()` (called on 'finish'), node's shape. */
export type WriteCallback = (err?: Error | null) => void;

function toBytes(chunk: string | Uint8Array, encoding?: BufferEncoding): Uint8Array {
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding ?? 'utf8');
  if (chunk instanceof Uint8Array) return chunk;
  throw invalidChunkError(chunk);
}

/**
 * `validateField`, its refusal as node's error for the same misuse: `ERR_INVALID_HTTP_TOKEN` for
 * the name, `ERR_INVALID_CHAR` for the value. The protocol also refuses a value that starts or
 * ends with whitespace (RFC 9110 §5.5), which node sends; that is `ERR_INVALID_CHAR` too, the
 * protocol's reason in `cause`.
 */
function checkField(section: FieldSection, name: string, value: string): void {
  if (typeof name !== 'string') throw invalidFieldNameError(section, name);
  try {
    validateField(name, value);
  } catch (err) {
    if (err instanceof LocalProtocolError && err.code === 'H1_INVALID_FIELD_NAME') throw invalidFieldNameError(section, name, err);
    throw invalidFieldValueError(section, name, err);
  }
}

/**
 * The status to send for `statusCode`, as node:http reads it (`statusCode | 0`: a numeric string
 * or a fraction is accepted); node's `ERR_HTTP_INVALID_STATUS_CODE` unless it is in 100–999.
 */
export function checkStatus(statusCode: unknown): number {
  const status = Number(statusCode) | 0;
  if (status < 100 || status > 999) throw invalidStatusError(statusCode);
  return status;
}

/** Writable's fields the response answers with getters of its own (TypeScript types them as properties). */
type AccessorName = 'writableEnded' | 'writableFinished' | 'writable' | 'destroyed' | 'closed' | 'writableLength' | 'writableHighWaterMark' | 'writableNeedDrain' | 'writableCorked';

/** Writable's state as far as the response keeps it in step (node 22's setters). */
interface WritableStateFlags {
  ended: boolean;
  ending: boolean;
  finished: boolean;
  destroyed: boolean;
  closed: boolean;
  closeEmitted: boolean;
}

/** `#flags`: 'finish' was emitted (or would have been: nobody listened). */
const FINISHED = 1;
/** `#flags`: 'close' was emitted (or would have been). */
const CLOSED = 2;
/** `#flags`: `destroy()` was called. */
const DESTROYED = 4;
/** `#flags`: a `write()` returned false and 'drain' has not followed. */
const NEED_DRAIN = 8;
/** `#flags`: the handler removed Content-Length: `end(data)` streams (chunked), as node's does. */
const NO_LENGTH = 16;
/** `#flags`: the `cork()` count sits above the flag bits. */
const CORK_SHIFT = 5;

/** Emit 'drain' on a response whose write() returned false; throws what a listener throws. */
export let drainResponse: (res: ServerResponse) => void;
/** The connection closed: a response not finished emits 'close' (once). */
export let closeResponse: (res: ServerResponse) => void;
/** Makes the Writable state of a response (from the `_writableState` accessor). */
let makeState: (res: ServerResponse) => object;
/** `afterSent`'s callback: the ended response is with the socket. */
let responseSent: (res: ServerResponse, err: Error | null) => void;
/** Whether a response has listeners (EventEmitter keeps them in `_events`, undefined until the first). */
function listened(res: ServerResponse): boolean {
  return (res as unknown as { _events: object | undefined })._events !== undefined;
}

/**
 * Writable's members, which a response has through its prototype chain without Writable's
 * constructor (see the theory above): the class has no base class, so making a response calls no
 * constructor but its own, and `ServerResponse.prototype` inherits from `Writable.prototype` (set
 * below the class). A response makes its listener table on the first `on()` (EventEmitter's
 * methods accept an instance that has none yet) and its Writable state on first use; instances
 * are still `instanceof Writable` and `EventEmitter`.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- the members come from Writable.prototype
export interface ServerResponse extends Omit<Writable, AccessorName | 'cork' | 'uncork' | 'setDefaultEncoding' | 'destroy' | 'write' | 'end'> {}

/** An HTTP response being written by a handler. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class ServerResponse {
  /** The status to send; default 200. */
  statusCode = 200;
  /** The reason phrase; default the standard one for `statusCode`. */
  statusMessage: string | undefined;
  /** Send a `Date` field unless the handler set one (default true, on the prototype). */
  declare sendDate: boolean;
  /**
   * Accepted for node's sake; tether refuses a body that does not match its Content-Length
   * whatever it says (the protocol frames every body), with node's strict-mode error
   * `ERR_HTTP_CONTENT_LENGTH_MISMATCH`.
   */
  declare strictContentLength: boolean;
  /** The request this answers. */
  readonly req: ServerRequest | undefined;
  readonly #sink: ResponseSink;
  /**
   * The headers set, as `[lower-case name, name, value, …]` in the order first set: a response
   * has a handful, and a scan of them costs less than a map made per response.
   */
  readonly #headers: (string | HeaderValue)[] = [];
  #headSent = false;
  /** `writeHead()` was called: the head is fixed (node's `headersSent` is true from then on), though not yet sent. */
  #headFixed = false;
  #ended = false;
  #trailers: string[] | undefined;
  /** FINISHED | CLOSED | DESTROYED | NEED_DRAIN, and `cork()` calls waiting × CORK_UNIT: one field for what most responses never use. */
  #flags = 0;
  /** Body bytes handed to the connection so far (for node's Content-Length mismatch message). */
  #bodyBytes = 0;
  #state: WritableStateFlags | null = null;

  /** @internal Made by the connection. */
  constructor(sink: ResponseSink, req?: ServerRequest) {
    this.#sink = sink;
    this.req = req;
  }

  static {
    drainResponse = (res) => {
      res.#flags &= ~NEED_DRAIN;
      res.emit('drain');
    };
    closeResponse = (res) => res.#close();
    responseSent = (res, err) => res.#sent(err);
    makeState = (res) => res.#makeState();
  }

  /** The socket the response goes out on (as node's `res.socket`). */
  get socket(): Socket | null {
    return this.req?.socket ?? null;
  }

  /** Alias of `socket`, as node's (deprecated) `res.connection`. */
  get connection(): Socket | null {
    return this.socket;
  }

  /** The head has been sent: headers can no longer change. */
  get headersSent(): boolean {
    return this.#headSent || this.#headFixed;
  }

  /** `end()` has been called (node's older name for `writableEnded`). */
  get finished(): boolean {
    return this.#ended;
  }

  /** `end()` has been called. */
  get writableEnded(): boolean {
    return this.#ended;
  }

  /** The whole response was handed on ('finish' emitted). */
  get writableFinished(): boolean {
    return (this.#flags & FINISHED) !== 0;
  }

  /** `write()` may still be called. */
  get writable(): boolean {
    return !this.#ended && (this.#flags & (DESTROYED | CLOSED)) === 0;
  }

  /** `destroy()` was called. */
  get destroyed(): boolean {
    return (this.#flags & DESTROYED) !== 0;
  }

  /** 'close' was emitted. */
  get closed(): boolean {
    return (this.#flags & CLOSED) !== 0;
  }

  /** Bytes waiting in the socket. */
  get writableLength(): number {
    return this.socket?.writableLength ?? 0;
  }

  /** The socket's high-water mark. */
  get writableHighWaterMark(): number {
    return this.socket?.writableHighWaterMark ?? 16 * 1024;
  }

  /** A `write()` returned false and 'drain' has not followed yet. */
  get writableNeedDrain(): boolean {
    return (this.#flags & NEED_DRAIN) !== 0;
  }

  /** How many `cork()` calls wait for an `uncork()`. */
  get writableCorked(): number {
    return this.#flags >>> CORK_SHIFT;
  }

  /** Set a header (replacing any value of the same name, any case). */
  setHeader(name: string, value: HeaderValue): this {
    if (this.#headSent || this.#headFixed) throw headersSentError('set');
    if (value === undefined) {
      // As node's: the name is judged first, then the missing value.
      checkField('header', name, '');
      throw missingFieldValueError(name);
    }
    if (Array.isArray(value)) for (const v of value as readonly string[]) checkField('header', name, String(v));
    else checkField('header', name, typeof value === 'string' ? value : String(value));
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
    if (this.#headSent || this.#headFixed) throw headersSentError('remove');
    const lower = lowerCase(name);
    const at = this.#find(lower);
    if (at >= 0) this.#headers.splice(at, 3);
    if (lower === 'content-length') this.#flags |= NO_LENGTH;
  }

  /** Add a value to a header (a list when it has one already), as node's (≥ 18.3). */
  appendHeader(name: string, value: string | readonly string[]): this {
    if (this.#headSent || this.#headFixed) throw headersSentError('append');
    const old = this.getHeader(name);
    if (old === undefined) return this.setHeader(name, value);
    const before = Array.isArray(old) ? (old as readonly string[]) : [String(old)];
    return this.setHeader(name, before.concat(value));
  }

  /** The names of the headers set, lower-cased. */
  getHeaderNames(): string[] {
    const out: string[] = [];
    const h = this.#headers;
    for (let i = 0; i < h.length; i += 3) out.push(h[i] as string);
    return out;
  }

  /** The headers set so far, lower-cased names. */
  getHeaders(): Record<string, HeaderValue> {
    const out: Record<string, HeaderValue> = {};
    const h = this.#headers;
    for (let i = 0; i < h.length; i += 3) out[h[i] as string] = h[i + 2]!;
    return out;
  }

  /**
   * Set the status (and reason) and headers, as node:http's writeHead. The head is fixed from here
   * (`headersSent` is true and headers can no longer change, as node's) and sent with the first
   * write.
   */
  writeHead(status: number, reasonOrHeaders?: string | Record<string, HeaderValue>, headers?: Record<string, HeaderValue>): this {
    if (this.#headSent || this.#headFixed) throw headersSentError('write');
    this.statusCode = checkStatus(status);
    const fields = typeof reasonOrHeaders === 'string' ? headers : reasonOrHeaders;
    if (typeof reasonOrHeaders === 'string') this.statusMessage = reasonOrHeaders;
    // Object.keys, not Object.entries: V8 answers keys from the object's enum cache, while entries
    // is a runtime call that makes an array per field (~0.1 µs a writeHead of two, bench/ server-harness).
    if (fields !== undefined) for (const name of Object.keys(fields)) this.setHeader(name, fields[name]!);
    this.#headFixed = true;
    return this;
  }

  /** Trailer fields to send after a streamed (chunked) body (RFC 9112 §7.1.2). */
  addTrailers(fields: Record<string, string>): void {
    const list = (this.#trailers ??= []);
    for (const [name, value] of Object.entries(fields)) {
      checkField('trailer', name, value);
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
      throw this.#refusal(err, this.#bodyBytes);
    }
  }

  /**
   * A protocol refusal of what the handler asked for, as node's error where node has one for the
   * fault (see SERVER_ERRORS), else `TETHER_RESPONSE_REFUSED`; anything else as is. `bodyBytes`:
   * the body's length with the refused call's bytes.
   */
  #refusal(err: unknown, bodyBytes: number): unknown {
    if (!(err instanceof LocalProtocolError)) return err;
    switch (err.code) {
      case 'H1_BODY_LENGTH_MISMATCH': {
        // As node's `_contentLength` (`+value`, the last of a list).
        const field = this.getHeader('content-length');
        return contentLengthMismatchError(bodyBytes, Number(Array.isArray(field) ? field.at(-1) : field), err);
      }
      case 'H1_INVALID_REASON':
        return invalidReasonError(err);
      default:
        return responseRefusedError(err.message, err);
    }
  }

  /** Send the head now (the body then streams), as node's `flushHeaders()`. */
  flushHeaders(): void {
    if (!this.#headSent && !this.#ended) this.#sendHead();
  }

  /** Send `100 Continue`. */
  writeContinue(cb?: () => void): void {
    this.#sink.sendInformational(this, 100, []);
    if (cb !== undefined) process.nextTick(cb);
  }

  /** Send `103 Early Hints` with `hints` (`link` a string or a list), as node's (≥ 18.11). */
  writeEarlyHints(hints: Record<string, string | readonly string[]>, cb?: () => void): void {
    const raw: string[] = [];
    for (const name of Object.keys(hints)) {
      const value = hints[name]!;
      for (const v of typeof value === 'string' ? [value] : value) {
        checkField('header', name, v);
        raw.push(name, v);
      }
    }
    this.#sink.sendInformational(this, 103, raw);
    if (cb !== undefined) process.nextTick(cb);
  }

  /** Hold writes in the socket until as many `uncork()` calls. */
  cork(): void {
    this.#flags += 1 << CORK_SHIFT;
    this.socket?.cork();
  }

  /** Release one `cork()`. */
  uncork(): void {
    if (this.#flags >>> CORK_SHIFT === 0) return;
    this.#flags -= 1 << CORK_SHIFT;
    this.socket?.uncork();
  }

  /** Encoding is per write; accepted for Writable's sake. */
  setDefaultEncoding(): this {
    return this;
  }

  /**
   * Give up on the response: the connection closes after the answers before it (nothing more of
   * this one is sent); 'error' (with `err`) and 'close' follow. Never throws.
   */
  destroy(err?: Error): this {
    if ((this.#flags & (DESTROYED | CLOSED)) !== 0) return this;
    this.#flags |= DESTROYED;
    if (this.#state !== null) this.#state.destroyed = true;
    try {
      this.#sink.destroyResponse(this);
    } catch {
      // The connection is closing already.
    }
    process.nextTick(() => {
      if (err !== undefined && listened(this) && this.listenerCount('error') > 0) this.emit('error', err);
      this.#emitClose();
    });
    return this;
  }

  /**
   * Write body data (the head first, if not sent yet). Returns false under backpressure; wait for
   * 'drain'. As node's, a null encoding or callback is none (Fastify passes `null, null`).
   */
  write(chunk: string | Uint8Array, encodingIn?: ChunkEncoding | WriteCallback | null, cbIn?: WriteCallback | null): boolean {
    if ((this.#flags & DESTROYED) !== 0) return false;
    if (this.#ended) {
      throw writeAfterEndError();
    }
    let cb = typeof cbIn === 'function' ? cbIn : undefined;
    let encoding: ChunkEncoding | undefined;
    if (typeof encodingIn === 'function') cb = encodingIn;
    else encoding = encodingIn ?? undefined;
    const data = toBytes(chunk, encoding);
    if (!this.#headSent) this.#sendHead();
    let ok: boolean;
    try {
      ok = this.#sink.sendData(this, data);
    } catch (err) {
      throw this.#refusal(err, this.#bodyBytes + data.length);
    }
    this.#bodyBytes += data.length;
    if (!ok) this.#flags |= NEED_DRAIN;
    if (cb !== undefined) process.nextTick(cb);
    return ok;
  }

  /**
   * Finish the response, optionally with a last chunk. Without earlier writes the whole message is
   * one write. As node's, a null chunk, encoding or callback is none (Fastify ends every reply
   * with `end(payload, null, null)`).
   */
  end(chunkIn?: string | Uint8Array | null | WriteCallback, encodingIn?: ChunkEncoding | WriteCallback | null, cbIn?: WriteCallback | null): this {
    let chunk: string | Uint8Array | undefined;
    let encoding: ChunkEncoding | undefined;
    let cb = typeof cbIn === 'function' ? cbIn : undefined;
    if (typeof chunkIn === 'function') cb = chunkIn;
    else {
      chunk = chunkIn ?? undefined;
      if (typeof encodingIn === 'function') cb = encodingIn;
      else encoding = encodingIn ?? undefined;
    }
    if (this.#ended || (this.#flags & DESTROYED) !== 0) {
      if (cb !== undefined) {
        if ((this.#flags & FINISHED) !== 0) process.nextTick(cb);
        else this.once('finish', cb);
      }
      return this;
    }
    // A string in another encoding becomes its bytes; UTF-8 text stays text (see below).
    if (chunk !== undefined && (typeof chunk !== 'string' || (encoding !== undefined && encoding !== 'utf8' && encoding !== 'utf-8'))) chunk = toBytes(chunk, encoding);
    if (!this.#headSent && this.#trailers === undefined && ((this.#flags & NO_LENGTH) === 0 || this.hasLowerCaseHeader('content-length'))) {
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
        throw this.#refusal(err, chunk === undefined ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
      }
    } else {
      const data = chunk === undefined ? undefined : toBytes(chunk);
      if (!this.#headSent) this.#sendHead();
      this.#ended = true;
      const bodyBytes = this.#bodyBytes + (data?.length ?? 0);
      try {
        if (data !== undefined) this.#sink.sendData(this, data);
        this.#sink.sendEnd(this, this.#trailers);
      } catch (err) {
        throw this.#refusal(err, bodyBytes);
      }
    }
    if (this.#state !== null) this.#state.ended = this.#state.ending = true;
    if (cb !== undefined) this.once('finish', cb);
    // As node's: 'finish' once all of it is with the socket (never inside end()), then 'close'.
    if (listened(this)) this.#sink.afterSent(this, responseSent);
    else this.#flags |= FINISHED | CLOSED;
    return this;
  }

  /** All of it is with the socket (`err`: it never will be): 'finish' unless destroyed meanwhile, then 'close'. */
  #sent(err: Error | null): void {
    if (err === null && (this.#flags & (DESTROYED | FINISHED)) === 0) {
      this.#flags |= FINISHED;
      if (this.#state !== null) this.#state.finished = true;
      this.emit('finish');
    }
    this.#emitClose();
  }

  /** Emit 'close' once. */
  #emitClose(): void {
    if ((this.#flags & CLOSED) !== 0) return;
    this.#flags |= CLOSED;
    if (this.#state !== null) this.#state.closed = this.#state.closeEmitted = true;
    if (listened(this)) this.emit('close');
  }

  /** The connection closed under the response: its request is aborted first, as node's. */
  #close(): void {
    if (!this.#ended && this.req !== undefined) abortRequest(this.req);
    // As node's: destroyed when it closes, so a late end() neither writes nor emits 'finish'.
    this.#flags |= DESTROYED;
    if (this.#state !== null) this.#state.destroyed = true;
    this.#emitClose();
  }

  #makeState(): object {
    Writable.call(this, { decodeStrings: false });
    const state = (this as unknown as { _writableState: WritableStateFlags })._writableState;
    this.#state = state;
    if (this.#ended) state.ended = state.ending = true;
    if ((this.#flags & FINISHED) !== 0) state.finished = true;
    if ((this.#flags & DESTROYED) !== 0) state.destroyed = true;
    if ((this.#flags & CLOSED) !== 0) state.closed = state.closeEmitted = true;
    return state;
  }
}


// A response is a Writable without Writable's constructor having run (see the theory above).
Object.setPrototypeOf(ServerResponse.prototype, Writable.prototype);

// Data properties on node's ServerResponse, which code written for node assigns.
assignable(ServerResponse.prototype, ['socket', 'connection', 'finished']);
Object.defineProperty(ServerResponse.prototype, 'sendDate', { value: true, writable: true, configurable: true });
Object.defineProperty(ServerResponse.prototype, 'strictContentLength', { value: false, writable: true, configurable: true });
// A response writes bytes, not objects; its errors are the connection's (Writable's getters would make the state).
Object.defineProperty(ServerResponse.prototype, 'writableObjectMode', { value: false, configurable: true });
Object.defineProperty(ServerResponse.prototype, 'errored', { value: null, configurable: true });
// The accessor that makes the Writable state on first use; Writable's constructor assigns the
// state through the setter, which makes it an own data property shadowing this accessor.
Object.defineProperty(ServerResponse.prototype, '_writableState', {
  configurable: true,
  get(this: ServerResponse): object {
    return makeState(this);
  },
  set(this: ServerResponse, state: object): void {
    Object.defineProperty(this, '_writableState', { value: state, writable: true, configurable: true, enumerable: true });
  },
});
