/**
 * Theory of operation: one accepted socket, driven by a server-role @tether/protocol Connection.
 * The socket's bytes go in, request events come out; the handler's response goes back through
 * the protocol and out to the socket. This module owns the socket, the timers and the policy;
 * every framing and persistence decision is the protocol's.
 *
 * Requests are answered strictly in order. Requests that arrive while one is being answered are
 * parsed ahead into `#queue` (pipelining) up to `maxPipelineDepth`, beyond which reading pauses:
 *
 *   #queue: [ req0 (being answered) | req1 | req2 … ]   ← parsed from the socket
 *                                      └ #early: GET/HEAD handlers started ahead
 *                                        (pipelineConcurrency > 1), output held in a DeferredSink
 *
 * Invariants: only the front request's response reaches the protocol and the socket (responses
 * in order); by default one handler runs at a time, and with `pipelineConcurrency` only complete
 * GET/HEAD requests behind a front that is itself GET/HEAD run early; reading pauses while the
 * queue is full, while a request body is not being read, and while unsent bytes pass the
 * high-water mark; output waits in #batch and leaves in one write per connection at the end of
 * the event-loop turn (flushOutput), together with every other connection's;
 * timeouts are deadlines checked by one lazy timer (#watch); once the protocol says MUST_CLOSE,
 * the socket is half-closed after the last response and the peer's input is read and dropped for
 * `lingerTimeout`, so a peer still sending never receives a reset that destroys responses it has
 * not read.
 */

import { Connection, NEED_DATA, PAUSED, RemoteProtocolError, STATUS_REASONS, formatKeepAlive, parseConnection } from '@tether/protocol';
import type { SendResponse } from '@tether/protocol';
import type { Socket } from 'node:net';
import type { ResolvedServerOptions } from './options.js';
import { ServerRequest } from './request.js';
import { DeferredSink } from './deferred-sink.js';
import { ServerResponse } from './response.js';
import type { ResponseSink } from './response.js';

/** Why a connection closed (counted in the server's stats). */
export type CloseReason =
  | 'client-close'
  | 'connection-close'
  | 'keep-alive-timeout'
  | 'keep-alive-max'
  | 'parse-error'
  | 'timeout'
  | 'shutdown'
  | 'forced'
  | 'upgrade'
  | 'error';

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly options: ResolvedServerOptions;
  handle(req: ServerRequest, res: ServerResponse): unknown;
  reportError(err: unknown, req: ServerRequest | null): void;
  onRequest(pipelined: boolean): void;
  onClosed(conn: ServerConnection, reason: CloseReason, requests: number): void;
  /** Offer a protocol upgrade to the application; `true` when it took the socket (then `detach` was called). */
  upgrade(req: ServerRequest, socket: Socket, head: Uint8Array, detach: () => void): boolean;
}

/** Node fires a timer set beyond 2^31 − 1 ms after 1 ms: longer deadlines are re-armed in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/** This second's `Date` value, or null; a timer clears it when the second ends (no clock read per response). */
let dateValue: string | null = null;

/** Formatted `Keep-Alive` values per options, indexed by requests left (a response head needs one each). */
const KEEP_ALIVE_VALUES = new WeakMap<ResolvedServerOptions, string[]>();
const KEEP_ALIVE_CACHED = 4096;

/** The `Keep-Alive` values cached for `opts` (one list per options, shared by its connections). */
function keepAliveValues(opts: ResolvedServerOptions): string[] {
  let values = KEEP_ALIVE_VALUES.get(opts);
  if (values === undefined) KEEP_ALIVE_VALUES.set(opts, (values = []));
  return values;
}

/** The `Keep-Alive` value advertising `opts`' idle timeout and `left` more requests (`values`: its cache). */
function keepAliveValue(opts: ResolvedServerOptions, values: string[], left: number): string {
  // Without keepAliveMax every value is the same (no max): it sits at index KEEP_ALIVE_CACHED.
  const index = Number.isFinite(left) ? left : KEEP_ALIVE_CACHED;
  let value = values[index];
  if (value === undefined) {
    const timeout = opts.keepAliveTimeout === Number.POSITIVE_INFINITY ? undefined : Math.floor(opts.keepAliveTimeout / 1000);
    value = formatKeepAlive({ ...(timeout === undefined ? {} : { timeout }), ...(Number.isFinite(left) ? { max: left } : {}) });
    if (index <= KEEP_ALIVE_CACHED) values[index] = value;
  }
  return value;
}

/** A handler running ahead of its turn, and what it has written so far. */
interface Early {
  readonly res: ServerResponse;
  readonly sink: DeferredSink;
  /** It threw after its head was recorded: the response cannot be completed. */
  failed: boolean;
}

/** A final response head to send. */
type FinalHead = SendResponse & { readonly type: 'response' };

/** The short text body of an error answer. */
function errorBody(status: number): Buffer {
  return Buffer.from(`${STATUS_REASONS[status] ?? 'Error'}\n`);
}

/** One write's worth of output (`text`: every part is a string): text joined as text, anything else as bytes. */
function joinOutput(parts: readonly (Uint8Array | string)[], text: boolean): Uint8Array | string {
  if (text) return parts.join('');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}

/** A character outside ASCII. */
const NOT_ASCII = /[\u0080-\uffff]/;

/**
 * Connections with output waiting, written out together at the end of the event-loop turn
 * (setImmediate runs after the turn's socket reads), not one by one between the handling of
 * each read: the peer is woken for a burst of answers rather than for each, which on loopback
 * saves kernel time per answer (bench/: pipelined throughput up by about a quarter).
 */
let waitingFlush: ServerConnection[] = [];

function scheduleFlush(conn: ServerConnection): void {
  if (waitingFlush.length === 0) setImmediate(flushWaiting);
  waitingFlush.push(conn);
}

function flushWaiting(): void {
  const list = waitingFlush;
  // Output written by what runs below (a drain resuming a handler) waits for the next turn.
  waitingFlush = [];
  let i = 0;
  try {
    for (; i < list.length; i++) list[i]!.flushOutput();
  } finally {
    // A throw out of one connection's flush (a 'drain' listener) must not strand the others.
    if (++i < list.length) {
      if (waitingFlush.length === 0) setImmediate(flushWaiting);
      waitingFlush.push(...list.slice(i));
    }
  }
}

/** Most bytes of a read's output joined into one array; more is written as a gather list. */
const COPY_LIMIT = 16 * 1024;

/** Most bytes of an answered request's unread body dropped before the connection is closed instead. */
const ORPHAN_BODY_LIMIT = 1024 * 1024;

/** Whether a handler may run before the responses ahead of its request are written. */
function mayRunAhead(req: ServerRequest): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && req.complete && !req.fields.has('expect') && !req.fields.has('upgrade');
}

/** The `Date` header value, computed at most once a second (RFC 9110 §6.6.1 wants one on responses). */
function httpDate(): string {
  if (dateValue !== null) return dateValue;
  const now = new Date();
  dateValue = now.toUTCString();
  // Unref'd: the cache never keeps a process alive.
  setTimeout(() => (dateValue = null), 1000 - now.getUTCMilliseconds()).unref();
  return dateValue;
}

/** One accepted socket and its protocol state. */
export class ServerConnection implements ResponseSink {
  readonly socket: Socket;
  readonly #host: ConnectionHost;
  readonly #opts: ResolvedServerOptions;
  readonly #conn: Connection;
  readonly #keepAliveValues: string[];
  readonly #queue: ServerRequest[] = [];
  #current: { req: ServerRequest; res: ServerResponse } | null = null;
  /** Pipelined requests whose handlers started ahead of their turn (`pipelineConcurrency`). */
  readonly #early = new Map<ServerRequest, Early>();
  #served = 0;
  #answered = 0;
  /**
   * Timeouts are deadlines checked by one lazy timer (see #watch): when the connection went idle,
   * when the head being received started, when the request being answered was dispatched; -1 when
   * not running. Moving a deadline costs a clock read, not a timer.
   */
  #idleSince = -1;
  #headStart = -1;
  #requestStart = -1;
  #watchdog: NodeJS.Timeout | undefined;
  #watchAt = Number.POSITIVE_INFINITY;
  #lingerTimer: NodeJS.Timeout | undefined;
  /** A shutdown asked this connection to finish what it has and close. */
  #draining = false;
  /** The reason we will give when the socket closes. */
  #reason: CloseReason = 'client-close';
  #pendingError: RemoteProtocolError | null = null;
  #bodyBacklog = false;
  #dispatching = false;
  #redispatch = false;
  /** Bytes dropped of a body whose request was already answered. */
  #orphanBody = 0;
  #finished = false;
  #closed = false;
  /**
   * Output not yet handed to the socket, written in one piece at the end of this event-loop turn
   * (see flushOutput): the answers to a pipelined batch leave in one write, and the writes of
   * every connection served in one turn leave together. null when there is none.
   */
  #batch: (Uint8Array | string)[] | null = null;
  #batchBytes = 0;
  /** Every part of #batch is a string. */
  #batchText = true;
  /** Every part of #batch is ASCII text. */
  #batchAscii = true;
  /** Output passed the high-water mark and something waits for it to clear (see #onDrain). */
  #wantDrain = false;

  /** Shared by this connection's requests: their unread body passed (or fell below) the mark. */
  readonly #onBacklog = (backlogged: boolean): void => this.#setBodyBacklog(backlogged);

  constructor(socket: Socket, host: ConnectionHost) {
    this.socket = socket;
    this.#host = host;
    this.#opts = host.options;
    this.#conn = new Connection('server', this.#opts.parser);
    this.#keepAliveValues = keepAliveValues(this.#opts);
    socket.setNoDelay(this.#opts.noDelay);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('drain', () => {
      if (this.#wantDrain) this.#onDrain();
    });
    socket.on('error', () => {
      // A reset or a write after the peer left: the socket closes next; nothing else to do.
      this.#reason = this.#reason === 'client-close' ? 'error' : this.#reason;
    });
    socket.on('close', () => this.#onClose());
    this.#armIdle();
  }

  /** Whether no request is being answered or waiting. */
  get idle(): boolean {
    return this.#current === null && this.#queue.length === 0;
  }

  /** Requests handed to the handler on this connection so far. */
  get served(): number {
    return this.#served;
  }

  /** Responses completed on this connection so far. */
  get answered(): number {
    return this.#answered;
  }

  // ---------------------------------------------------------------------------------------------
  // Input

  #onData(chunk: Buffer): void {
    this.#idleSince = -1;
    if (this.#finished) return; // lingering: read and drop
    this.#conn.receiveData(chunk);
    this.#pump();
    // Between requests, part of a head left waiting starts the slowloris clock.
    if (this.#queue.length === 0 && this.#headStart < 0 && this.#conn.bufferedBytes > 0 && !this.#finished) {
      this.#headStart = performance.now();
      this.#watch(this.#headStart + this.#opts.headersTimeout);
    }
  }

  /**
   * Write `out` (text as UTF-8; `ascii`: the text is known to be ASCII, and goes out as latin1,
   * which the socket copies without an encoding pass), after whatever this read has produced.
   */
  #write(out: Uint8Array | string, ascii = false): boolean {
    let batch = this.#batch;
    if (batch === null) {
      batch = this.#batch = [];
      scheduleFlush(this);
    }
    batch.push(out);
    if (typeof out !== 'string') this.#batchText = false;
    if (!ascii) this.#batchAscii = false;
    // Text is counted by characters: close enough for a high-water mark.
    this.#batchBytes += out.length;
    return !this.#outputBacklog();
  }

  /**
   * Hand the output waiting to the socket: one write, however many answers it holds. Called at
   * the end of the event-loop turn, and before anything that must follow the output (ending or
   * destroying the socket, handing it over).
   */
  flushOutput(): void {
    const batch = this.#batch;
    if (batch === null) return;
    this.#batch = null;
    if (this.socket.destroyed) {
      this.#batchBytes = 0;
      return;
    }
    const size = this.#batchBytes;
    const text = this.#batchText;
    const encoding = this.#batchAscii ? 'latin1' : 'utf8';
    this.#batchBytes = 0;
    this.#batchText = true;
    this.#batchAscii = true;
    // Something waits for the backlog to clear: the socket says 'drain' only when it passed its
    // own mark, which can be above ours, so check again once this output is written.
    const written = this.#wantDrain ? this.#recheckBacklog : undefined;
    if (batch.length === 1) this.socket.write(batch[0]!, encoding, written);
    else if (size <= COPY_LIMIT) this.socket.write(joinOutput(batch, text), encoding, written);
    else {
      // Large pieces are not copied: the kernel gathers them (writev).
      this.socket.cork();
      for (let i = 0; i < batch.length; i++) this.socket.write(batch[i]!, i === batch.length - 1 ? written : undefined);
      this.socket.uncork();
    }
    this.#recheckBacklog();
  }

  /** Carry on with what waits for the output backlog, if it has cleared. */
  readonly #recheckBacklog = (err?: Error | null): void => {
    if ((err === undefined || err === null) && this.#wantDrain && !this.socket.destroyed && this.#unsent <= this.#opts.writeHighWaterMark) this.#onDrain();
  };

  /** Whether output is backed up past the high-water mark (then #onDrain follows once it clears). */
  #outputBacklog(): boolean {
    if (this.#unsent <= this.#opts.writeHighWaterMark) return false;
    this.#wantDrain = true;
    return true;
  }

  /** The output backlog has cleared: resume reading, tell a streaming handler, answer what waits. */
  #onDrain(): void {
    this.#wantDrain = false;
    this.#updateReading();
    this.#current?.res.emit('drain');
    this.#dispatch();
  }

  /** Bytes written by us and not yet taken by the kernel. */
  get #unsent(): number {
    return this.socket.writableLength + this.#batchBytes;
  }

  #onEnd(): void {
    // Lingering after our half-close: the peer's FIN completes the close once our output is
    // flushed (destroying here would throw away unsent response bytes).
    if (this.#finished) return;
    this.#conn.receiveEof();
    this.#pump();
    if (this.idle) this.#finish('client-close');
  }

  /** Turn buffered bytes into requests, as far as the queue and readers allow. */
  #pump(): void {
    if (this.#pendingError === null) this.#parse();
    this.#updateReading();
    this.#dispatch();
  }

  #parse(): void {
    try {
      while (this.#queue.length <= this.#opts.maxPipelineDepth && !this.#bodyBacklog) {
        const event = this.#conn.nextEvent();
        if (event === NEED_DATA || event === PAUSED) break;
        switch (event.type) {
          case 'request': {
            this.#headStart = -1;
            const req = new ServerRequest(this.socket, event.method, event.target, event.version, event.headers);
            req.onBacklog = this.#onBacklog;
            const pipelined = this.#queue.length > 0;
            this.#queue.push(req);
            this.#host.onRequest(pipelined);
            break;
          }
          case 'data': {
            const req = this.#queue.at(-1);
            if (req !== undefined) req.pushBody(event.data);
            else if ((this.#orphanBody += event.data.length) > ORPHAN_BODY_LIMIT) {
              // The rest of a body nobody reads: drop it, up to a bound; past it, close.
              this.#finish('connection-close');
              return;
            }
            break;
          }
          case 'end-of-message':
            this.#queue.at(-1)?.endBody();
            this.#orphanBody = 0;
            break;
          case 'connection-closed':
            break;
          default:
            break;
        }
        if (event.type === 'connection-closed') break;
      }
    } catch (err) {
      if (!(err instanceof RemoteProtocolError)) throw err;
      this.#protocolError(err);
    }
  }

  #setBodyBacklog(backlogged: boolean): void {
    this.#bodyBacklog = backlogged;
    if (!backlogged) this.#pump();
    else this.#updateReading();
  }

  /** Pause reading while the queue is full, a body is not being read, or output is backed up. */
  #updateReading(): void {
    if (this.#finished) return;
    const stop =
      this.#queue.length > this.#opts.maxPipelineDepth ||
      this.#bodyBacklog ||
      // Shutting down: read no new requests, but finish a body the handler is reading.
      (this.#draining && (this.#queue.at(-1)?.complete ?? true)) ||
      this.#outputBacklog();
    // The socket is told only when this changes.
    if (stop === this.socket.isPaused()) return;
    if (stop) this.socket.pause();
    else this.socket.resume();
  }

  // ---------------------------------------------------------------------------------------------
  // Handlers

  /**
   * Start the next handler. A handler that answers synchronously completes its response inside
   * this call, which asks for the next dispatch: that is done by the loop here, not by recursion,
   * so a long pipeline of synchronous answers does not grow the stack.
   */
  #dispatch(): void {
    if (this.#dispatching) {
      this.#redispatch = true;
      return;
    }
    this.#dispatching = true;
    try {
      do {
        this.#redispatch = false;
        this.#dispatchOne();
      } while (this.#redispatch);
    } finally {
      this.#dispatching = false;
    }
  }

  #dispatchOne(): void {
    if (this.#finished) return;
    if (this.#current === null) this.#startFront();
    if (this.#current !== null && this.#opts.pipelineConcurrency > 1 && !this.#finished) this.#startEarly();
  }

  /** Give the first request in the queue its turn: start its handler, or replay what it wrote ahead. */
  #startFront(): void {
    // Output backed up past the mark: answer more only once it drains.
    if (this.#outputBacklog()) return;
    const req = this.#queue[0];
    if (req === undefined) {
      if (this.#pendingError !== null) this.#answerError(this.#pendingError);
      return;
    }
    const early = this.#early.size === 0 ? undefined : this.#early.get(req);
    if (early !== undefined) {
      this.#early.delete(req);
      this.#current = { req, res: early.res };
      const waiting = early.sink.replay(early.res, this);
      if (early.failed) {
        // Its handler threw halfway: what it wrote is out, the rest can never be framed.
        this.#reason = 'error';
        this.flushOutput();
        this.socket.destroy();
      } else if (waiting && this.#current?.res === early.res && !this.#outputBacklog()) {
        early.res.emit('drain');
      }
      return;
    }
    const res = new ServerResponse(this);
    this.#current = { req, res };
    this.#served++;
    const expect = req.fields.get('expect');
    if (expect !== undefined && expect.toLowerCase() !== '100-continue') {
      // RFC 9110 §10.1.1: an expectation the server cannot meet gets 417.
      res.statusCode = 417;
      res.setHeader('connection', 'close');
      res.end();
      return;
    }
    // RFC 9110 §10.1.1: send 100 Continue when the handler starts reading a body the client holds back.
    if (expect !== undefined && !req.complete) {
      req.onFirstRead = () => {
        if (this.#current?.req === req && !res.headersSent && this.#conn.theyAreWaitingFor100Continue) {
          for (const bytes of this.#conn.send({ type: 'informational-response', status: 100 })) this.#write(bytes);
        }
      };
    }
    if (req.fields.has('upgrade') && parseConnection(req.fields.getAll('connection')).upgrade && this.#host.upgrade(req, this.socket, this.#conn.trailingData.data, () => this.#detach())) return;
    if (!req.complete) {
      // The body is still arriving: the whole request must be in within requestTimeout.
      this.#requestStart = performance.now();
      this.#watch(this.#requestStart + this.#opts.requestTimeout);
    }
    this.#run(req, res);
  }

  /** Call the handler; a throw or a rejection is the handler's failure (see #handlerFailed). */
  #run(req: ServerRequest, res: ServerResponse): void {
    let result: unknown;
    try {
      result = this.#host.handle(req, res);
    } catch (err) {
      this.#handlerFailed(req, res, err);
      return;
    }
    if (result instanceof Promise) result.catch((err: unknown) => this.#handlerFailed(req, res, err));
  }

  /**
   * Start the handlers of pipelined GET and HEAD requests behind the one being answered, up to
   * `pipelineConcurrency` running at once. Only while every request from the front up to them is a
   * complete GET or HEAD: nothing runs ahead of (or alongside) a request that may change state.
   */
  #startEarly(): void {
    const limit = this.#opts.pipelineConcurrency;
    let running = 1 + this.#early.size;
    for (let i = 0; i < this.#queue.length && running < limit; i++) {
      const req = this.#queue[i]!;
      if (!mayRunAhead(req)) return;
      if (i === 0 || this.#early.has(req)) continue;
      // Past keepAliveMax the connection closes first: that request is never answered.
      if (this.#answered + i + 1 > this.#opts.keepAliveMax) return;
      this.#runEarly(req);
      if (this.#finished) return;
      running++;
    }
  }

  #runEarly(req: ServerRequest): void {
    const sink = new DeferredSink(this.#opts.writeHighWaterMark);
    const res = new ServerResponse(sink);
    this.#early.set(req, { res, sink, failed: false });
    this.#served++;
    this.#run(req, res);
  }

  #handlerFailed(req: ServerRequest, res: ServerResponse, err: unknown): void {
    // A protocol error in the request's body (already reported as a client error) is answered
    // with its own status, not as the handler's fault.
    const clientFault = err instanceof RemoteProtocolError;
    if (!clientFault) this.#host.reportError(err, req);
    if (res.writableEnded) return;
    const early = this.#early.get(req);
    if (early?.res === res && res.headersSent) {
      // Ahead of its turn: it fails when its turn comes (see #startFront).
      early.failed = true;
      return;
    }
    if (this.#current?.res !== res && early?.res !== res) return;
    if (clientFault && !res.headersSent) {
      for (const name of Object.keys(res.getHeaders())) res.removeHeader(name);
      res.statusCode = err.status;
      res.setHeader('Connection', 'close');
      res.end(errorBody(err.status));
    } else if (!res.headersSent) {
      // Nothing was sent: answer 500 (and close, since the request body may be half read).
      res.statusCode = 500;
      for (const name of Object.keys(res.getHeaders())) res.removeHeader(name);
      res.setHeader('connection', 'close');
      res.end('Internal Server Error\n');
    } else {
      // Part of the response is out: its framing can no longer be trusted.
      this.#reason = 'error';
      this.flushOutput();
      this.socket.destroy();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Output (ResponseSink)

  /** The head fields for `res`: the handler's, plus Date, and the persistence policy's. */
  #fields(res: ServerResponse): string[] {
    const raw = res.rawHeaderList();
    if (!res.hasLowerCaseHeader('date')) raw.push('Date', httpDate());
    // This response's number on the connection (handlers may have started ahead of it).
    const ordinal = this.#answered + 1;
    const lastByPolicy = ordinal >= this.#opts.keepAliveMax;
    const lastBeforeShutdown = this.#draining && this.#queue.length <= 1;
    if ((lastByPolicy || lastBeforeShutdown) && !res.hasLowerCaseHeader('connection')) {
      raw.push('Connection', 'close');
      this.#reason = lastByPolicy ? 'keep-alive-max' : 'shutdown';
    } else if (this.#opts.advertiseKeepAlive && this.#conn.keepAlive && !res.hasLowerCaseHeader('keep-alive')) {
      raw.push('Keep-Alive', keepAliveValue(this.#opts, this.#keepAliveValues, this.#opts.keepAliveMax - ordinal));
    }
    return raw;
  }

  /** The response carries no content: an answer to HEAD, or 204 / 304 (RFC 9110 §6.4.1). */
  #bodyless(res: ServerResponse): boolean {
    return this.#current?.req.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
  }

  #head(res: ServerResponse): FinalHead {
    res.markHeadSent();
    const head: FinalHead = { type: 'response', status: res.statusCode, headers: this.#fields(res) };
    // Without a reason of the handler's, the protocol writes the standard one.
    return res.statusMessage === undefined ? head : { ...head, reason: res.statusMessage };
  }

  sendWhole(res: ServerResponse, body: Uint8Array | string): void {
    const head = this.#head(res);
    if (this.#bodyless(res)) {
      // HEAD (RFC 9110 §9.3.2: the fields a GET would get, Content-Length included), 204, 304:
      // no content, whatever the handler passed.
      const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      if (this.#current?.req.method === 'HEAD' && length > 0 && !res.hasLowerCaseHeader('content-length') && !res.hasLowerCaseHeader('transfer-encoding')) {
        (head.headers as string[]).push('Content-Length', String(length));
      }
      const out = this.#conn.sendMessageText(head, '');
      this.#write(out, typeof out === 'string');
    } else if (typeof body === 'string') {
      const out = this.#conn.sendMessageText(head, body);
      // Text comes back only with an ASCII head: with an ASCII body, all of it is ASCII.
      this.#write(out, typeof out === 'string' && !NOT_ASCII.test(body));
    } else {
      this.#write(this.#conn.sendMessage(head, body));
    }
    this.#responseDone();
    this.#updateReading();
  }

  sendHead(res: ServerResponse): void {
    for (const bytes of this.#conn.send(this.#head(res))) this.#write(bytes);
  }

  sendData(res: ServerResponse, data: Uint8Array): boolean {
    // A response without content drops what the handler writes (as node:http does).
    if (this.#bodyless(res)) return !this.#outputBacklog();
    let ok = true;
    for (const bytes of this.#conn.send({ type: 'data', data })) ok = this.#write(bytes);
    if (!ok) this.#updateReading();
    return ok;
  }

  sendEnd(_res: ServerResponse, trailers: readonly string[] | undefined): void {
    const end = trailers === undefined ? { type: 'end-of-message' as const } : { type: 'end-of-message' as const, trailers };
    for (const bytes of this.#conn.send(end)) this.#write(bytes);
    this.#responseDone();
  }

  #responseDone(): void {
    this.#answered++;
    this.#requestStart = -1;
    const current = this.#current;
    this.#current = null;
    this.#queue.shift();
    // A body the handler did not read is dropped as it arrives, so the next request parses.
    current?.req.discardBody();
    if (current !== null && !current.req.complete) current.req.onBacklog = null;
    this.#bodyBacklog = false;
    if (this.#conn.ourState === 'MUST_CLOSE') {
      if (this.#reason === 'client-close') this.#reason = 'connection-close';
      this.#finish(this.#reason);
      return;
    }
    this.#pump();
    if (this.idle && this.#pendingError === null) {
      if (this.#draining) this.#finish('shutdown');
      else this.#armIdle();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Errors, timers, closing

  #protocolError(err: RemoteProtocolError): void {
    this.#host.reportError(err, null);
    this.#reason = 'parse-error';
    const broken = this.#queue.at(-1);
    if (broken !== undefined && !broken.complete) {
      // The error is inside this request's body: the request is broken.
      broken.failBody(err);
      // Its handler is reading: the failure reaches it, and its answer is the error's (see
      // #handlerFailed); the protocol closes after it.
      if (this.#current?.req === broken) return;
      this.#queue.pop();
    }
    this.#pendingError = err;
    // Earlier requests are still answered, in order; the error answer follows them.
    if (this.#current === null && this.#queue.length === 0) this.#answerError(err);
  }

  #answerError(err: RemoteProtocolError): void {
    this.#pendingError = null;
    this.#closeWith(err.status, 'parse-error');
  }

  /** Answer `status` with no request to answer (an error, a timeout), then close. */
  #closeWith(status: number, reason: CloseReason): void {
    this.#reason = reason;
    try {
      const head = { type: 'response' as const, status, headers: ['Content-Type', 'text/plain', 'Date', httpDate(), 'Connection', 'close'] };
      this.#write(this.#conn.sendMessage(head, errorBody(status)));
    } catch {
      // No answer can be framed in this state (a response was half sent): just close.
    }
    this.#finish(reason);
  }

  /**
   * Make sure the watchdog fires no later than `deadline`. It is armed at most `#horizon` ahead,
   * and every deadline set later lies at least that far ahead of its own start, so once armed it
   * rarely needs moving: it fires, acts on what expired, and re-arms for what is pending.
   */
  #watch(deadline: number): void {
    if (deadline >= this.#watchAt || this.#finished) return;
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchAt = deadline;
    this.#watchdog = setTimeout(() => this.#onWatchdog(), Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(deadline - performance.now()))));
    this.#watchdog.unref();
  }

  #onWatchdog(): void {
    this.#watchdog = undefined;
    this.#watchAt = Number.POSITIVE_INFINITY;
    if (this.#finished) return;
    const now = performance.now();
    const o = this.#opts;
    if (this.#idleSince >= 0 && now >= this.#idleSince + o.keepAliveTimeout) {
      if (this.idle) {
        this.#finish('keep-alive-timeout');
        return;
      }
      this.#idleSince = -1;
    }
    if (this.#headStart >= 0 && now >= this.#headStart + o.headersTimeout) {
      this.#headStart = -1;
      if (this.#queue.length === 0) {
        // Slowloris: the head did not arrive in time.
        this.#closeWith(408, 'timeout');
        return;
      }
    }
    if (this.#requestStart >= 0 && now >= this.#requestStart + o.requestTimeout) {
      this.#requestStart = -1;
      this.#requestTimedOut();
      if (this.#finished) return;
    }
    let next = now + this.#horizon;
    if (this.#idleSince >= 0) next = Math.min(next, this.#idleSince + o.keepAliveTimeout);
    if (this.#headStart >= 0) next = Math.min(next, this.#headStart + o.headersTimeout);
    if (this.#requestStart >= 0) next = Math.min(next, this.#requestStart + o.requestTimeout);
    this.#watch(next);
  }

  /** The shortest timeout: how far ahead the watchdog is armed at most. */
  get #horizon(): number {
    const o = this.#opts;
    return Math.min(o.keepAliveTimeout, o.headersTimeout, o.requestTimeout);
  }

  #requestTimedOut(): void {
    const current = this.#current;
    if (current === null || current.res.writableEnded) return;
    this.#reason = 'timeout';
    if (!current.res.headersSent && !current.req.complete) {
      // The request did not arrive in time: 408, then close.
      current.res.statusCode = 408;
      current.res.setHeader('connection', 'close');
      current.res.end();
    }
  }

  /** Hand the socket over (protocol upgrade): stop listening to it and forget it. */
  #detach(): void {
    this.flushOutput();
    this.#finished = true;
    this.#clearTimers();
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('end');
    this.socket.removeAllListeners('drain');
    this.#reason = 'upgrade';
    this.#onClose();
  }

  #armIdle(): void {
    this.#idleSince = performance.now();
    this.#watch(this.#idleSince + this.#opts.keepAliveTimeout);
  }

  #clearTimers(): void {
    this.#idleSince = this.#headStart = this.#requestStart = -1;
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    this.#watchAt = Number.POSITIVE_INFINITY;
  }

  /**
   * Close gracefully: half-close (our FIN after everything written), then keep reading and
   * dropping the peer's input for `lingerTimeout`, then destroy.
   */
  #finish(reason: CloseReason): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#reason = reason;
    this.#clearTimers();
    this.flushOutput();
    this.socket.end();
    this.socket.resume();
    if (Number.isFinite(this.#opts.lingerTimeout)) {
      this.#lingerTimer = setTimeout(() => this.socket.destroy(), this.#opts.lingerTimeout);
      this.#lingerTimer.unref();
    }
  }

  /** Shutdown: close now when idle, else answer what has arrived and close after the last. */
  drain(): void {
    this.#draining = true;
    if (this.idle) this.#finish('shutdown');
    else this.#updateReading();
  }

  /** Shutdown deadline: destroy. */
  force(): void {
    if (this.#closed) return;
    // A connection already closing gracefully (lingering) keeps its reason.
    if (!this.#finished) this.#reason = 'forced';
    // What was written goes out first, as far as the socket takes it at once.
    this.flushOutput();
    this.socket.destroy();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimers();
    if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer);
    const current = this.#current;
    if (current !== null && !current.req.complete) current.req.failBody(new Error('connection closed'));
    this.#host.onClosed(this, this.#reason, this.#served);
  }
}
