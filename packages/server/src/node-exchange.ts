/**
 * Theory of operation: node:http's own request and response objects over a tether connection,
 * for handlers that need exactly those (a framework that re-prototypes `req`/`res` onto
 * `http.IncomingMessage.prototype` / `http.ServerResponse.prototype`, as Express does, runs
 * node's methods on them, and node's methods need node's internal state).
 *
 * Who does what:
 * - tether's connection parses (the request arrives as tether's `ServerRequest`, kept internal
 *   as the body's source), orders (a response gets the socket only at its turn, one at a time),
 *   decides persistence and Keep-Alive (set on the response before its handler runs: node's
 *   `shouldKeepAlive`, `_keepAliveTimeout`, `_maxRequestsPerSocket`), runs the deadlines,
 *   shutdown and linger, and answers errors and timeouts itself;
 * - node's `ServerResponse` frames the response and writes it to the socket, as it does under
 *   node:http; its `'prefinish'` (all of it handed to the socket) completes the exchange, and
 *   the protocol records it with `sentElsewhere`.
 *
 * Invariants: node's methods are called through functions taken from node's prototypes when
 * this module loads, never looked up on the objects a handler can re-prototype. The body reaches
 * the IncomingMessage through `push` as the handler reads (`_read`, an own property), so a reader
 * that falls behind stops the connection reading the socket, as with tether's own request.
 */

import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { decideFraming, isRefusal } from '@tether/protocol';
import { responseRefusedError } from './errors.js';
import { NODE_JOINED_HEADER_RULES } from './node-headers.js';
import type { HeaderView } from './node-headers.js';
import type { ServerRequest } from './request.js';

const { IncomingMessage, ServerResponse, OutgoingMessage } = http;

// node's methods, taken once: a handler may re-prototype the objects (see the theory above).
/* eslint-disable @typescript-eslint/unbound-method -- each is only ever called with `.call(object, …)` */
const assignSocket = ServerResponse.prototype.assignSocket;
const detachSocket = ServerResponse.prototype.detachSocket;
const incoming = IncomingMessage.prototype as unknown as {
  _dump: (this: http.IncomingMessage) => void;
  _addHeaderLines: (this: http.IncomingMessage, lines: string[], n: number) => void;
};
const dumpBody = incoming._dump;
/** node's parser hands it the head's (then the trailer's) field lines this way; `headers` and the like are made from them. */
const addHeaderLines = incoming._addHeaderLines;
const emit = EventEmitter.prototype.emit;
const on = EventEmitter.prototype.on;
const push = Readable.prototype.push;
const destroyReadable = Readable.prototype.destroy;
const storeHeader = (OutgoingMessage.prototype as unknown as { _storeHeader: (this: http.ServerResponse, firstLine: string, headers: unknown) => void })._storeHeader;
/* eslint-enable @typescript-eslint/unbound-method */

const OUTGOING_SYMBOLS = Object.getOwnPropertySymbols(new OutgoingMessage());
/** node's flag that a response's `write` returned false and waits for 'drain' (read off an instance). */
const NEED_DRAIN: symbol | undefined = OUTGOING_SYMBOLS.find((s) => s.description === 'kNeedDrain');
/** node's count of body bytes written so far (with `strictContentLength`; read off an instance). */
const BYTES_WRITTEN: symbol | undefined = OUTGOING_SYMBOLS.find((s) => s.description === 'kBytesWritten');
/** node's table of the fields set with `setHeader` (lower-case name → [name, value]; read off an instance). */
const OUT_HEADERS: symbol | undefined = OUTGOING_SYMBOLS.find((s) => s.description === 'kOutHeaders');

/** The fields of node's objects this module reads and sets (node's own names). */
interface NodeResponseState {
  shouldKeepAlive: boolean;
  _keepAliveTimeout: number;
  _maxRequestsPerSocket: number;
  _header: string | null;
  _headerSent: boolean;
  _last: boolean;
  _sent100: boolean;
  _hasBody: boolean;
  _contentLength: number | null;
  _removedContLen: boolean;
  chunkedEncoding: boolean;
  _storeHeader: (this: http.ServerResponse, firstLine: string, headers: unknown) => void;
  _closed: boolean;
  destroyed: boolean;
  finished: boolean;
  [key: symbol]: unknown;
}

interface NodeRequestState {
  _consuming: boolean;
  _readableState: { resumeScheduled: boolean };
  _read: (this: http.IncomingMessage) => void;
  joinDuplicateHeaders: boolean;
  httpVersion: string;
  httpVersionMajor: number;
  httpVersionMinor: number;
  [SOURCE]?: NodeExchange;
}

const SOURCE = Symbol('tether.exchange');

/** A field line that speaks of persistence. */
const PERSISTENCE_LINE = /^(?:connection|keep-alive)[ \t]*:/i;

/** `head` (node's, ending in an empty line) saying `Connection: close` and nothing else of persistence. */
function closingHead(head: string): string {
  const lines = head.slice(0, -4).split('\r\n').filter((line) => !PERSISTENCE_LINE.test(line));
  return `${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`;
}

/** A field line of a head that frames its body: the name (any case) and the value. */
const FRAMING_LINE = /\r\n(content-length|transfer-encoding)[ \t]*:[ \t]*([^\r]*)/gi;

/**
 * node's `_storeHeader` (which makes the head), then tether's check of what it announces: a 1xx
 * as the final status, or a Content-Length or Transfer-Encoding no recipient can frame (an empty
 * coding, two different lengths…), would desynchronise every response after it, so it is refused
 * before any of it is written — the handler's call throws `TETHER_RESPONSE_REFUSED`. A body
 * delimited by closing makes the response the last. An own property of each node response, so a
 * re-prototyped response keeps it.
 */
function storeCheckedHeader(this: http.ServerResponse, firstLine: string, headers: unknown): void {
  storeHeader.call(this, firstLine, headers);
  const state = this as unknown as NodeResponseState;
  const head = state._header;
  if (head === null) return;
  const refusal = headers !== undefined && headers !== null && headers === state[OUT_HEADERS!] ? checkSetHead(this, state, headers as OutHeaders, head) : checkHead(this, state, head);
  if (refusal === null) return;
  // The response is given up at once (a 500 in its place when none of it was written): a handler
  // that catches the throw and goes on would write on node's state of a head never sent.
  state._header = null;
  const err = responseRefusedError(refusal);
  (this.req as unknown as NodeRequestState)[SOURCE]?.refused(err);
  throw err;
}

/** node's `kOutHeaders`: lower-case name → [name as set, value]. */
type OutHeaders = Record<string, [string, unknown] | undefined>;

/** A Content-Length value set with `setHeader` as one plain length (a number, or decimal digits), or -1. */
function plainLength(value: unknown): number {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : -1;
  if (typeof value !== 'string' || value.length === 0 || value.length > 15) return -1;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  return Number(value);
}

/**
 * {@link checkHead} for the usual head — its fields set with `setHeader` (Express's way): read
 * from node's table instead of the head's text. Only a head whose framing is node's own, or one
 * plain Content-Length, is judged here; anything else (a Transfer-Encoding, a list, framing that
 * node left to the close) goes to checkHead.
 */
function checkSetHead(res: http.ServerResponse, state: NodeResponseState, headers: OutHeaders, head: string): string | null {
  if (res.statusCode < 200 || headers['transfer-encoding'] !== undefined) return checkHead(res, state, head);
  const set = headers['content-length'];
  if (set === undefined) {
    // node framed it: a length it counted (unless the handler removed Content-Length), chunked,
    // or none for a status or method without a body. Left to the close: checkHead.
    const nodeFramed = state.chunkedEncoding || (typeof state._contentLength === 'number' && !state._removedContLen) || !state._hasBody;
    return nodeFramed ? null : checkHead(res, state, head);
  }
  const length = plainLength(set[1]);
  if (length < 0) return checkHead(res, state, head);
  if (state._hasBody) {
    state._contentLength = length;
    if (BYTES_WRITTEN !== undefined && (state[BYTES_WRITTEN] as number) > length) return `the body is longer than its Content-Length ${length}`;
  }
  return null;
}

/** Why the head node made for `res` cannot be sent, or null; a body delimited by closing makes it the last. */
function checkHead(res: http.ServerResponse, state: NodeResponseState, head: string): string | null {
  // A 1xx is no final answer: the client would wait for one after it.
  if (res.statusCode < 200) return `${res.statusCode} cannot be the final response (send 1xx with writeContinue or writeEarlyHints)`;
  // Only the framing lines are read. Without either field the body runs to the close (unless the
  // status or method has none).
  let contentLength: string[] | undefined;
  let transferEncoding: string[] | undefined;
  for (const [, name, value] of head.matchAll(FRAMING_LINE)) {
    // "content-length" is 14 characters, "transfer-encoding" 17.
    if (name!.length === 14) (contentLength ??= []).push(value!.trimEnd());
    else (transferEncoding ??= []).push(value!.trimEnd());
  }
  const framing = decideFraming({ kind: 'response', version: '1.1', requestMethod: res.req.method ?? 'GET', status: res.statusCode, contentLength, transferEncoding });
  if (isRefusal(framing)) return `the response's framing cannot be sent: ${framing.message}`;
  if (contentLength !== undefined && state._hasBody && (framing.kind === 'length' || framing.kind === 'none')) {
    // node checks the writes after the head against its own reading of the length (NaN for a
    // list such as "5, 5"), and not the write that makes the head: give it the protocol's, and
    // check that write here.
    state._contentLength = framing.length;
    if (BYTES_WRITTEN !== undefined && (state[BYTES_WRITTEN] as number) > framing.length) return `the body is longer than its Content-Length ${framing.length}`;
  }
  // A body delimited by closing (a Transfer-Encoding without chunked last, no length at all): the
  // connection must close after it, and the head must say so.
  if (framing.mustClose && !state._last) {
    state._last = true;
    state._header = closingHead(head);
  }
  return null;
}

/** What the response advertises about the connection, decided before its handler runs. */
export interface NodeKeepAlive {
  /** The connection persists after this response unless its handler says `Connection: close`. */
  readonly persist: boolean;
  /** Ms advertised as `Keep-Alive: timeout=` (0: no Keep-Alive field). */
  readonly timeout: number;
  /** Requests advertised as `max=` (0: none). */
  readonly max: number;
}

/** What the exchange tells its connection. */
export interface NodeExchangeHost {
  /** All of the response is with the socket. */
  responseDone(exchange: NodeExchange): void;
  /** The response emitted 'error' (a write after end, a write to a destroyed response): a handler's misuse, reported. */
  responseError(exchange: NodeExchange, err: unknown): void;
  /** The head node made cannot be sent (see storeCheckedHeader): the response has failed. */
  responseRefused(exchange: NodeExchange, err: Error): void;
}

/** The handler's handle on the body: its own `_read`. */
function readBody(this: http.IncomingMessage): void {
  const state = this as unknown as NodeRequestState;
  // As node's own `_read`: a reader exists, so the body is not dumped when the response ends.
  state._consuming = true;
  state[SOURCE]?.read();
}

/** node's response 'close', once: after 'finish', or when the response is given up. */
function emitClose(res: http.ServerResponse): void {
  const state = res as unknown as NodeResponseState;
  if (state._closed) return;
  state.destroyed = true;
  state._closed = true;
  emit.call(res, 'close');
}

/** The exchange a node response belongs to (its request holds it). */
function exchangeOf(res: http.ServerResponse): NodeExchange | undefined {
  return (res.req as unknown as NodeRequestState | undefined)?.[SOURCE];
}

/** A node response's 'prefinish' listener (`this`: the response). */
function onPrefinish(this: http.ServerResponse): void {
  exchangeOf(this)?.prefinish();
}

/** A node response's 'finish' listener: 'close' follows on the next tick, as node:http emits it. */
function onFinish(this: http.ServerResponse): void {
  process.nextTick(emitClose, this);
}

/** A node response's 'error' listener. */
function onError(this: http.ServerResponse, err: unknown): void {
  exchangeOf(this)?.error(err);
}

/** Whether a request's head announces a body (Content-Length other than 0, or Transfer-Encoding). */
function announcesBody(req: ServerRequest): boolean {
  const fields = req.fields;
  if (fields.has('transfer-encoding')) return true;
  const length = fields.get('content-length');
  return length !== undefined && length !== '0';
}

/** One request and its response as node:http's objects, driven by a tether connection. */
export class NodeExchange {
  /** The request the handler gets: a real `http.IncomingMessage`. */
  readonly req: http.IncomingMessage;
  /** The response the handler gets: a real `http.ServerResponse`. */
  readonly res: http.ServerResponse;
  /** tether's request: where the body arrives. */
  readonly source: ServerRequest;
  readonly #socket: Socket;
  readonly #host: NodeExchangeHost;
  /** The response holds the socket (between `start` and its end or `abandon`). */
  #attached = false;
  #done = false;

  constructor(source: ServerRequest, socket: Socket, keepAlive: NodeKeepAlive, view: HeaderView, host: NodeExchangeHost) {
    this.source = source;
    this.#socket = socket;
    this.#host = host;
    // Asked before `rawHeaders` makes the field strings: until then a lookup scans the head's text.
    const hasBody = announcesBody(source);
    const req = new IncomingMessage(socket);
    const r = req as unknown as NodeRequestState;
    req.method = source.method;
    req.url = source.url;
    r.httpVersion = source.httpVersion;
    r.httpVersionMajor = source.httpVersionMajor;
    r.httpVersionMinor = source.httpVersionMinor;
    // node makes `headers` (and `headersDistinct`) from these when first read, by its own
    // duplicate rules, of the first `maxHeadersCount` lines.
    r.joinDuplicateHeaders = view.rules === NODE_JOINED_HEADER_RULES;
    const raw = source.rawHeaders as string[];
    addHeaderLines.call(req, raw, Math.min(raw.length, view.lines * 2));
    r[SOURCE] = this;
    this.req = req;
    if (!hasBody) {
      // Ended before anyone reads: Readable never calls `_read`, so node's own stays (an own
      // property added to every request would cost each one a larger backing store).
      req.complete = true;
      push.call(req, null);
    } else {
      r._read = readBody;
      this.#bridgeBody(view.lines);
    }
    const res = new ServerResponse(req);
    const s = res as unknown as NodeResponseState;
    s.shouldKeepAlive = keepAlive.persist;
    s._keepAliveTimeout = keepAlive.timeout;
    s._maxRequestsPerSocket = keepAlive.max;
    // A body longer or shorter than the handler's Content-Length throws instead of going out:
    // it would desynchronise the responses after it.
    res.strictContentLength = true;
    s._storeHeader = storeCheckedHeader;
    // Module functions, not closures: one fewer allocation per listener and request.
    on.call(res, 'prefinish', onPrefinish);
    on.call(res, 'finish', onFinish);
    // node emits a misused response's errors ('write after end'…) as 'error', which with no
    // listener of the handler's would end the process: they are reported instead.
    on.call(res, 'error', onError);
    this.res = res;
  }

  /** Its turn: the response gets the socket (and writes what it holds). */
  start(): void {
    this.#attached = true;
    assignSocket.call(this.res, this.#socket);
  }

  /** Part of the response (its head at least) is with the socket. */
  get headSent(): boolean {
    return (this.res as unknown as NodeResponseState)._headerSent;
  }

  /** The head is not made yet: what it will say can still change. */
  get headPending(): boolean {
    return (this.res as unknown as NodeResponseState)._header === null;
  }

  /** The handler said `Connection: close`, or the response's length is delimited by closing. */
  get last(): boolean {
    return (this.res as unknown as NodeResponseState)._last;
  }

  /** The handler answered 100 Continue itself (`res.writeContinue()`). */
  get sent100(): boolean {
    return (this.res as unknown as NodeResponseState)._sent100;
  }

  /** The connection will close after this response (shutdown after the head was decided, …): say so if it is not made yet. */
  closeAfter(): void {
    if (this.headPending) (this.res as unknown as NodeResponseState).shouldKeepAlive = false;
  }

  /** The socket drained: a response that waits for it hears 'drain' (node's server does this). */
  drain(): void {
    const s = this.res as unknown as NodeResponseState;
    if (!this.#attached || s.finished || s.destroyed) return;
    if (NEED_DRAIN !== undefined) {
      if (s[NEED_DRAIN] !== true) return;
      s[NEED_DRAIN] = false;
    }
    emit.call(this.res, 'drain');
  }

  /** The response is given up (the server answers in its place, or the connection closed): it writes nothing more. */
  abandon(): void {
    this.#done = true;
    this.#detach();
    process.nextTick(emitClose, this.res);
  }

  /** The connection closed: the request is destroyed (aborted if its body was still arriving), as node:http does; the response is closed. */
  closed(): void {
    this.#abortBody();
    this.#done = true;
    // node's own listener on the socket emits the response's 'close' while it holds the socket.
    if (!this.#attached) process.nextTick(emitClose, this.res);
  }

  /** Its head was refused: the response has failed, whatever the handler does next. */
  refused(err: Error): void {
    if (!this.#done) this.#host.responseRefused(this, err);
  }

  /** The client gave up (it half-closed before the answer): the request is aborted and the response given up, as node:http does. */
  clientLeft(): void {
    this.#abortBody();
    // As on node:http, the response keeps the socket, which the connection ends: it is no longer
    // writable, so node holds back whatever the handler still writes, and code that asks whether
    // the response is done (on-finished) hears that it is; node's own listener emits its 'close'
    // when the socket closes.
    this.#done = true;
  }

  /** The handler wants more of the body. */
  read(): void {
    if (this.source.isPaused()) this.source.resume();
  }

  /** tether's request, flowing into the IncomingMessage as fast as the handler reads. */
  #bridgeBody(lines: number): void {
    const source = this.source;
    const req = this.req;
    source.on('data', (chunk: Buffer) => {
      if (!push.call(req, chunk)) source.pause();
    });
    source.on('end', () => {
      req.complete = true;
      const trailers = source.rawTrailers as string[];
      addHeaderLines.call(req, trailers, Math.min(trailers.length, lines * 2));
      push.call(req, null);
    });
    // A broken or cut body: node's request is destroyed, as node:http destroys it.
    source.on('error', () => undefined);
    source.on('aborted', () => this.#abortBody());
    source.pause();
  }

  /** node's `'aborted'` and the reset error (the request emits 'aborted' when its body is incomplete). */
  #abortBody(): void {
    if (!this.req.destroyed) destroyReadable.call(this.req, Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  }

  /** @internal The response emitted 'error' (see onError). */
  error(err: unknown): void {
    this.#host.responseError(this, err);
  }

  /** @internal All of the response is with the socket (node's 'prefinish', see onPrefinish). */
  prefinish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#detach();
    // A body nobody reads is drained, as node:http does, so the request ends and closes.
    const r = this.req as unknown as NodeRequestState;
    if (!r._consuming && !r._readableState.resumeScheduled) dumpBody.call(this.req);
    this.#host.responseDone(this);
  }

  #detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    detachSocket.call(this.res, this.#socket);
  }
}

/**
 * Whether a handler needs node:http's own objects: it publishes the prototypes it will give its
 * requests and responses (`handler.request`, `handler.response`, as an Express application
 * does) and they inherit from node's classes. Any other handler gets tether's objects.
 */
export function wantsNodeObjects(handler: unknown): boolean {
  if (typeof handler !== 'function') return false;
  const { request, response } = handler as { request?: unknown; response?: unknown };
  return request instanceof IncomingMessage || response instanceof ServerResponse;
}
