/**
 * Theory of operation: one accepted socket, driven by a server-role @tether/protocol Connection.
 * The socket's bytes go in, request events come out; the handler's response goes back through
 * the protocol and out to the socket. Every framing and persistence rule is the protocol's; the
 * decisions of this server live in their own modules, which this one calls:
 *
 *   response-policy.ts  whether a response is the last, and what Keep-Alive it advertises
 *   connection-policy.ts what to do when a deadline passes, and when a response fails
 *   response-head.ts    the fields the server adds to a head (Date, Keep-Alive and its Connection)
 *   output-buffer.ts    output batched per event-loop turn, and its backpressure
 *   early-response.ts   pipelined GET/HEAD handlers run ahead, their output held until their turn
 *   client-error.ts     who answers a fault of the client's ('clientError' listeners, or the server)
 *   expectation.ts      which event answers a request with Expect ('checkContinue'…), and the 100
 *   Deadlines           (@tether/protocol) idle, head, request and linger timeouts on one timer
 *
 * Requests are answered strictly in order. Requests that arrive while one is being answered are
 * parsed ahead into `#queue` (pipelining) up to `maxPipelineDepth`, beyond which reading pauses:
 *
 *   #queue: [ req0 (being answered) | req1 | req2 … ]   ← parsed from the socket
 *                                      └ #early: GET/HEAD handlers started ahead
 *                                        (pipelineConcurrency > 1), output held in an EarlyResponse
 *
 * The dispatch loop (#pump) is the only place a handler starts. Finishing a response only
 * marks state: when that happens inside the loop (a synchronous handler) the loop goes round
 * again; when it happens in user code outside it (an async handler's `res.end()`), the loop is
 * scheduled for after the caller's stack unwinds (a microtask). So a handler never runs inside
 * another handler's call, and a failure is always attributed to the response it belongs to: a
 * 500 in its place when none of it was written, else the connection closes right after the
 * earlier answers.
 *
 * Invariants: only the front request's response reaches the protocol and the socket; reading
 * pauses while the queue is full, while a request body is not being read, and while unsent bytes
 * pass the high-water mark; once the protocol says MUST_CLOSE, the socket is half-closed after
 * the last response and the peer's input is read and dropped for `lingerTimeout`, so a peer still
 * sending never receives a reset that destroys responses it has not read.
 */

import { Connection, Deadlines, NEED_DATA, PAUSED, RemoteProtocolError, STATUS_REASONS, parseConnection, requestAllowsPersistence } from '@tether/protocol';
import type { SendData, SendEndOfMessage, SendResponse } from '@tether/protocol';
import { isAscii } from 'node:buffer';
import type { Socket } from 'node:net';
import { clientFaultAction, handOverTimeout, parseClientError, timeoutClientError } from './client-error.js';
import type { CloseReason } from './close-reason.js';
import { onResponseFailed, onTimeout } from './connection-policy.js';
import type { ConnectionAction, Timeout } from './connection-policy.js';
import { EarlyResponse, mayRunAhead } from './early-response.js';
import { routeExpectation } from './expectation.js';
import type { RequestEvent } from './expectation.js';
import { requestAbortedError } from './errors.js';
import { NodeExchange } from './node-exchange.js';
import type { NodeExchangeHost, NodeKeepAlive } from './node-exchange.js';
import type { ResolvedServerOptions } from './options.js';
import { OutputBuffer } from './output-buffer.js';
import { ServerRequest, discardBody, endBody, failBody, pushBody } from './request.js';
import { headFields, httpDate, keepAliveValue, keepAliveValues } from './response-head.js';
import { decideResponseHead } from './response-policy.js';
import { ServerResponse, checkStatus, closeResponse, drainResponse } from './response.js';
import type { ResponseSink } from './response.js';

export type { CloseReason } from './close-reason.js';

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly options: ResolvedServerOptions;
  /** Handlers get node:http's own request and response objects (see node-exchange.ts), not tether's. */
  readonly nodeObjects: boolean;
  /** node's `server.timeout`: ms of socket inactivity while a request is in progress (0: none). */
  readonly timeout: number;
  /** Answer a request: the handler and 'request' listeners, or the listeners of `event` (see expectation.ts). */
  handle(req: ServerRequest, res: ServerResponse, event: RequestEvent): unknown;
  reportError(err: unknown, req: ServerRequest): void;
  onRequest(pipelined: boolean): void;
  onClosed(conn: ServerConnection, reason: CloseReason, requests: number): void;
  /** Listeners of one of the server's events (those that change what the connection does). */
  listenerCount(event: string): number;
  /** node's 'clientError' (only called when it has listeners): the error, and the socket they now own. */
  clientError(err: Error, socket: Socket): void;
  /** Offer a protocol upgrade to the application; `true` when it took the socket (then `detach` was called). */
  upgrade(req: ServerRequest, socket: Socket, head: Uint8Array, detach: () => void): boolean;
}

/** A final response head to send. */
type FinalHead = SendResponse & { readonly type: 'response' };

/** The connection's timeouts (see Deadlines). */
const TIMEOUTS: readonly Timeout[] = ['idle', 'head', 'request', 'linger'];

/** The short text body of an error answer. */
function errorBody(status: number): Buffer {
  return Buffer.from(`${STATUS_REASONS[status] ?? 'Error'}\n`);
}

/** A character outside ASCII. */
const NOT_ASCII = /[\u0080-\uffff]/;

/**
 * Largest body sent as text when its octets are ASCII: the text way copies a body twice (into a
 * string, then into the socket's stack buffer), the bytes way once, so it pays only while the
 * fixed costs it saves outweigh a copy; 4 KiB is also the protocol's largest slab piece.
 */
const TEXT_BYTES_MAX = 4096;

/** `bytes` as a string of the same octets (latin1: one character per byte). */
function latin1Text(bytes: Uint8Array): string {
  // With its bounds given: without them Buffer's toString compares `undefined` with numbers (V8's
  // generic comparisons, a few dozen instructions a call).
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)).toString('latin1', 0, bytes.length);
}

/** Whether any of the response being answered was written. */
function headOut(current: Current): boolean {
  return current.node === null ? current.headOut : current.node.headSent;
}

/** Most bytes of an answered request's unread body dropped before the connection is closed instead. */
const ORPHAN_BODY_LIMIT = 1024 * 1024;

/**
 * The request being answered: with tether's response (`res`) or node:http's objects (`node`), and
 * whether any of a tether response was written.
 */
type Current =
  | { readonly req: ServerRequest; readonly res: ServerResponse; readonly node: null; headOut: boolean }
  | { readonly req: ServerRequest; readonly res: null; readonly node: NodeExchange; headOut: false };

/** One accepted socket and its protocol state. */
export class ServerConnection implements ResponseSink, NodeExchangeHost {
  readonly socket: Socket;
  readonly #host: ConnectionHost;
  readonly #opts: ResolvedServerOptions;
  readonly #conn: Connection;
  readonly #out: OutputBuffer;
  readonly #deadlines: Deadlines<Timeout>;
  readonly #keepAliveValues: string[];
  /** Ms for a request head to arrive whole: headersTimeout, or requestTimeout if shorter (a head is part of its request). */
  readonly #headTimeout: number;
  readonly #queue: ServerRequest[] = [];
  /** The request being answered, its response, and whether any of that response was written. */
  #current: Current | null = null;
  /** Handlers get node:http's objects. */
  readonly #nodeObjects: boolean;
  /** The connection closes after the node response being answered, whatever its head says. */
  #nodeClose = false;
  /** Where the batch ended before the streaming response's head (see destroyResponse). */
  #headMark = 0;
  /** Errors already reported when they happened (a refused node head), not again when the handler throws them on. */
  readonly #reported = new WeakSet<Error>();
  /** node's `server.timeout` when this connection was accepted: the socket's timer runs only while a request is in progress. */
  readonly #socketTimeout: number;
  /** Give the socket its own `write` back (node's objects: see interceptWrites). */
  #releaseWrites: (() => void) | null = null;
  /** Pipelined requests whose handlers started ahead of their turn (`pipelineConcurrency`). */
  readonly #early = new Map<ServerRequest, EarlyResponse>();
  #served = 0;
  #answered = 0;
  /** A shutdown asked this connection to finish what it has and close. */
  #draining = false;
  /** The reason we will give when the socket closes. */
  #reason: CloseReason = 'client-close';
  #pendingError: RemoteProtocolError | null = null;
  /** The chunk being parsed (during #onData), and the one the pending protocol error was found in: node's `rawPacket`. */
  #reading: Buffer | undefined;
  #errorPacket: Buffer | undefined;
  /** 'clientError' was emitted for this connection (node emits it once; a socket error after it is not). */
  #toldClient = false;
  /** The protocol error that cut the body of the request being answered (its handler sees it). */
  #bodyError: RemoteProtocolError | null = null;
  #bodyBacklog = false;
  #dispatching = false;
  #redispatch = false;
  /** The dispatch loop is scheduled to run after the current call stack (see #schedule). */
  #scheduled = false;
  /** Bytes dropped of a body whose request was already answered. */
  #orphanBody = 0;
  #finished = false;
  #closed = false;

  /** Shared by this connection's requests: their unread body passed (or fell below) the mark. */
  readonly #onBacklog = (backlogged: boolean): void => this.#setBodyBacklog(backlogged);

  constructor(socket: Socket, host: ConnectionHost) {
    this.socket = socket;
    this.#host = host;
    this.#opts = host.options;
    this.#conn = new Connection('server', this.#opts.parser);
    this.#out = new OutputBuffer(socket, this.#opts.writeHighWaterMark, () => this.#onOutputClear());
    this.#deadlines = new Deadlines(this.#opts.clock, TIMEOUTS, (t) => this.#onTimeout(t));
    this.#keepAliveValues = keepAliveValues(this.#opts);
    this.#headTimeout = Math.min(this.#opts.headersTimeout, this.#opts.requestTimeout);
    this.#nodeObjects = host.nodeObjects;
    this.#socketTimeout = host.timeout;
    socket.setNoDelay(this.#opts.noDelay);
    // node's responses write to the socket: their writes join the connection's batched output.
    if (this.#nodeObjects) this.#releaseWrites = this.#out.interceptWrites();
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err) => {
      // A reset or a write after the peer left: the socket closes next. As node's, the error
      // goes to 'clientError' (once per connection; the socket is already destroyed).
      this.#reason = this.#reason === 'client-close' ? 'error' : this.#reason;
      if (!this.#toldClient && this.#host.listenerCount('clientError') > 0) this.#tellClient(err);
    });
    socket.on('close', () => this.#onClose());
    // The first request has the head timeout to arrive, counted from the connection's start, as
    // on node:http (which then answers 408 too): the keep-alive timeout is the idle time promised
    // after a response, and a connection opened ahead of use (a browser's preconnect, a pool
    // warming up) has had none.
    this.#deadlines.after('head', this.#headTimeout);
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
  // Input: bytes → requests in #queue

  #onData(chunk: Buffer): void {
    this.#deadlines.clear('idle');
    if (this.#finished) return; // lingering: read and drop
    this.#conn.receiveData(chunk);
    this.#reading = chunk;
    this.#pump();
    this.#reading = undefined;
    // Between requests, part of a head left waiting starts the slowloris clock.
    if (this.#queue.length === 0 && !this.#deadlines.has('head') && this.#conn.bufferedBytes > 0 && !this.#finished) {
      this.#deadlines.after('head', this.#headTimeout);
    }
  }

  #onEnd(): void {
    // Lingering after our half-close: the peer's FIN completes the close once our output is
    // flushed (destroying here would throw away unsent response bytes).
    if (this.#finished) return;
    this.#conn.receiveEof();
    this.#pump();
    if (this.#finished) return;
    if (this.idle) this.#finish('client-close');
    else if (!this.#opts.allowHalfOpen) this.#clientLeft();
  }

  /**
   * The client half-closed with a request still unanswered (and `allowHalfOpen` is off): as
   * node:http and nginx take it, the client gave up. The answer under way is dropped (its handler hears 'aborted' and 'close', as
   * when the connection closes), the requests queued behind it never start, and the connection
   * ends after what was already written. Answers a synchronous handler gave before the FIN was
   * read still go out.
   */
  #clientLeft(): void {
    const current = this.#current;
    this.#finish('client-close');
    // tether's responses close (aborting their requests) when the socket does, which follows at
    // once, both sides having ended: as on node:http, a response's 'close' finds its socket
    // destroyed.
    if (current?.node != null) current.node.clientLeft();
  }

  #parse(): void {
    try {
      while (this.#queue.length <= this.#opts.maxPipelineDepth && !this.#bodyBacklog) {
        const event = this.#conn.nextEvent();
        if (event === NEED_DATA || event === PAUSED) break;
        switch (event.type) {
          case 'request': {
            this.#deadlines.clear('head');
            // A request is in progress: node's socket timeout runs again (see #responseDone).
            if (this.#socketTimeout > 0 && this.#queue.length === 0) this.socket.setTimeout(this.#socketTimeout);
            const req = new ServerRequest(this.socket, event.method, event.target, event.version, event.headers, this.#opts.requestHeaders);
            req.onBacklog = this.#onBacklog;
            const pipelined = this.#queue.length > 0;
            this.#queue.push(req);
            this.#host.onRequest(pipelined);
            break;
          }
          case 'data': {
            const req = this.#queue.at(-1);
            if (req !== undefined) pushBody(req, event.data);
            else if ((this.#orphanBody += event.data.length) > ORPHAN_BODY_LIMIT) {
              // The rest of a body nobody reads: drop it, up to a bound; past it, close.
              this.#finish('connection-close');
              return;
            }
            break;
          }
          case 'end-of-message': {
            const req = this.#queue.at(-1);
            if (req !== undefined) endBody(req, event.trailers);
            this.#orphanBody = 0;
            break;
          }
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
    // Called from the handler's reading: parse on after its stack unwinds.
    if (!backlogged) this.#schedule();
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
      this.#out.checkBackpressure();
    // The socket is told only when this changes.
    if (stop === this.socket.isPaused()) return;
    if (stop) this.socket.pause();
    else this.socket.resume();
  }

  // ---------------------------------------------------------------------------------------------
  // Dispatch: the one loop that starts handlers

  /**
   * The dispatch loop: turn buffered bytes into requests, as far as the queue and readers allow,
   * then start what can be started — the front request's handler (or the replay of what it wrote
   * ahead), then early handlers. A call made while the loop runs (a synchronous handler finished)
   * only marks that it must go round again, so a long pipeline of synchronous answers does not
   * grow the stack and no handler starts inside another's call.
   */
  #pump(): void {
    if (this.#dispatching) {
      this.#redispatch = true;
      return;
    }
    this.#dispatching = true;
    try {
      do {
        this.#redispatch = false;
        if (this.#pendingError === null) this.#parse();
        this.#updateReading();
        if (this.#finished) break;
        if (this.#current === null) this.#startFront();
        if (this.#current !== null && this.#opts.pipelineConcurrency > 1 && !this.#nodeObjects && !this.#finished) this.#startEarly();
      } while (this.#redispatch && !this.#finished);
    } finally {
      this.#dispatching = false;
    }
    // Shutting down, and every request received is answered: close.
    if (this.#draining && this.idle && this.#pendingError === null) this.#finish('shutdown');
  }

  /** State changed in user code (a response ended, a body was read): run the loop once that code returns. */
  #schedule(): void {
    if (this.#dispatching) {
      this.#redispatch = true;
      return;
    }
    if (this.#scheduled || this.#finished) return;
    this.#scheduled = true;
    queueMicrotask(this.#runScheduled);
  }

  readonly #runScheduled = (): void => {
    this.#scheduled = false;
    if (!this.#finished) this.#pump();
  };

  /** Give the first request in the queue its turn: start its handler, or replay what it wrote ahead. */
  #startFront(): void {
    // Output backed up past the mark: answer more only once it drains.
    if (this.#out.checkBackpressure()) return;
    const req = this.#queue[0];
    if (req === undefined) {
      if (this.#pendingError !== null) this.#answerError(this.#pendingError);
      return;
    }
    const early = this.#early.size === 0 ? undefined : this.#early.get(req);
    if (early !== undefined) {
      this.#early.delete(req);
      this.#replay(req, early);
      return;
    }
    if (this.#nodeObjects) {
      const node = new NodeExchange(req, this.socket, this.#nodeKeepAlive(req), this.#opts.requestHeaders, this);
      this.#current = { req, res: null, node, headOut: false };
      this.#served++;
      const route = this.#admit(req);
      if (route === null) return;
      node.start();
      this.#runNode(req, node, route);
      return;
    }
    const res = new ServerResponse(this, req);
    this.#current = { req, res, node: null, headOut: false };
    this.#served++;
    const route = this.#admit(req);
    if (route !== null) this.#run(req, res, route);
  }

  /**
   * What the request at the front needs before its handler runs: its expectation (which event
   * answers it; a 417, or 100 Continue on the first read), an upgrade offered to 'upgrade'
   * listeners, the request deadline while its body arrives. Null when it is answered or taken.
   */
  #admit(req: ServerRequest): RequestEvent | null {
    const expect = req.fields.get('expect');
    const route = expect === undefined ? 'request' : this.#expectation(req, expect);
    if (route === null) return null;
    if (req.fields.has('upgrade') && parseConnection(req.fields.getAll('connection')).upgrade && this.#offerUpgrade(req)) return null;
    if (!req.complete) {
      // The body is still arriving: the whole request must be in within requestTimeout.
      this.#deadlines.after('request', this.#opts.requestTimeout);
    }
    return route;
  }

  /** Which event answers a request with `Expect` (node's rules, expectation.ts); null when it was answered 417. */
  #expectation(req: ServerRequest, expect: string): RequestEvent | null {
    const route = routeExpectation(expect, req.httpVersion, this.#listens);
    if (route === 'expectation-failed') {
      // RFC 9110 §10.1.1: an expectation the server cannot meet gets 417.
      this.#answerInstead(417, 'connection-close');
      return null;
    }
    // RFC 9110 §10.1.1: send 100 Continue when the handler starts reading a body the client holds
    // back ('checkContinue' listeners send it themselves, with writeContinue(), or answer at once).
    if (route === 'request' && !req.complete) {
      req.onFirstRead = () => {
        const current = this.#current;
        if (current?.req !== req || headOut(current) || !this.#conn.theyAreWaitingFor100Continue || current.node?.sent100 === true) return;
        for (const bytes of this.#conn.send({ type: 'informational-response', status: 100 })) this.#out.write(bytes);
      };
    }
    return route;
  }

  /** What a node response says about the connection, decided before its handler runs (see response-policy.ts). */
  #nodeKeepAlive(req: ServerRequest): NodeKeepAlive {
    const decision = decideResponseHead({
      ordinal: this.#answered + 1,
      keepAliveMax: this.#opts.keepAliveMax,
      draining: this.#draining,
      queuedBehind: this.#queue.length - 1,
      closing: !this.#conn.keepAlive,
      handlerClose: false,
      advertise: this.#opts.advertiseKeepAlive,
    });
    if (decision.close && decision.reason !== null) this.#reason = decision.reason;
    // While every request received allows persistence, this one does; else ask it.
    const persists = !decision.close && (this.#conn.keepAlive || requestAllowsPersistence({ version: req.httpVersion, connection: parseConnection(req.fields.getAll('connection')) }));
    this.#nodeClose = !persists;
    const left = decision.keepAliveMax;
    const timeout = this.#opts.keepAliveTimeout;
    return {
      persist: persists,
      timeout: left === null || timeout === Number.POSITIVE_INFINITY ? 0 : timeout,
      max: left === null || left === Number.POSITIVE_INFINITY ? 0 : left,
    };
  }

  /** NodeExchangeHost: a node response's 'error' is its handler's misuse, reported as the server's 'error'. */
  responseError(node: NodeExchange, err: unknown): void {
    this.#host.reportError(err, node.req as unknown as ServerRequest);
  }

  /** NodeExchangeHost: a node response's head was refused: reported now, and the response fails (a 500 in its place). */
  responseRefused(node: NodeExchange, err: Error): void {
    this.#reported.add(err);
    this.#host.reportError(err, node.req as unknown as ServerRequest);
    this.#failResponse(node, err);
  }

  /** NodeExchangeHost: all of a node response is with the socket; the protocol records it. */
  responseDone(node: NodeExchange): void {
    if (this.#current?.node !== node || this.#finished) return;
    try {
      this.#conn.sentElsewhere(node.res.statusCode, node.last || this.#nodeClose);
    } catch (err) {
      // A status the protocol cannot complete an exchange with (a 1xx as the final answer).
      this.#host.reportError(err, node.req as unknown as ServerRequest);
      this.#abort('error');
      return;
    }
    this.#responseDone();
  }

  readonly #listens = (event: string): boolean => this.#host.listenerCount(event) > 0;

  /** Its turn has come for a response written ahead: replay its record through this connection. */
  #replay(req: ServerRequest, early: EarlyResponse): void {
    const res = early.res;
    this.#current = { req, res, node: null, headOut: false };
    let waiting: boolean;
    try {
      waiting = early.replay(this);
    } catch (err) {
      // What the handler recorded cannot be framed (a status or fields the protocol refuses).
      this.#host.reportError(err, req);
      this.#failResponse(res, err);
      return;
    }
    if (this.#current?.res !== res) return;
    // Its handler failed ahead of its turn (reported then): its response pays now.
    if (early.failure !== null) this.#failResponse(res, early.failure);
    else if (waiting && !this.#out.checkBackpressure()) this.#emitDrain(req, res);
  }

  /** An 'upgrade' listener takes the socket; its throw is its own request's failure. */
  #offerUpgrade(req: ServerRequest): boolean {
    try {
      return this.#host.upgrade(req, this.socket, this.#conn.trailingData.data, () => this.#detach());
    } catch (err) {
      this.#host.reportError(err, req);
      if (this.#finished) this.socket.destroy();
      else this.#abort('error');
      return true;
    }
  }

  /** Call the handler (or `event`'s listeners); a throw or a rejection is its response's failure (see #failed). */
  #run(req: ServerRequest, res: ServerResponse, event: RequestEvent = 'request'): void {
    let result: unknown;
    try {
      result = this.#host.handle(req, res, event);
    } catch (err) {
      this.#failed(req, res, err);
      return;
    }
    if (result instanceof Promise) result.catch((err: unknown) => this.#failed(req, res, err));
  }
  /** #run for a handler given node's objects. */
  #runNode(req: ServerRequest, node: NodeExchange, event: RequestEvent): void {
    let result: unknown;
    try {
      result = this.#host.handle(node.req as unknown as ServerRequest, node.res as unknown as ServerResponse, event);
    } catch (err) {
      this.#failed(req, node, err);
      return;
    }
    if (result instanceof Promise) result.catch((err: unknown) => this.#failed(req, node, err));
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
      const early = new EarlyResponse(this.#opts.writeHighWaterMark, req);
      this.#early.set(req, early);
      this.#served++;
      this.#run(req, early.res);
      if (this.#finished) return;
      running++;
    }
  }

  /**
   * A handler failed (threw, rejected, or wrote what cannot be framed). Reported as the server's
   * 'error'; then its response, and no other, pays: a response still ahead of its turn fails at
   * its turn; the current one is answered with a 500 in its place when none of it was written,
   * else the connection closes right after the earlier answers.
   */
  #failed(req: ServerRequest, res: ServerResponse | NodeExchange, err: unknown): void {
    // A protocol error in the request's body (already reported as a client error) is answered
    // with its own status, not as the handler's fault.
    if (err !== this.#bodyError && !(err instanceof Error && this.#reported.has(err))) this.#host.reportError(err, res instanceof NodeExchange ? (res.req as unknown as ServerRequest) : req);
    const early = this.#early.get(req);
    if (early?.res === res) early.fail(err);
    else this.#failResponse(res, err);
  }

  /** The current response `res` failed with `err` (see #failed). */
  #failResponse(res: ServerResponse | NodeExchange, err: unknown): void {
    const current = this.#current;
    if (current === null || (current.res !== res && current.node !== res) || this.#finished) return;
    this.#act(onResponseFailed(headOut(current), err !== null && err === this.#bodyError ? this.#bodyError.status : null));
  }

  /** Emit 'drain' on a streaming response; a throwing listener is that response's failure. */
  #emitDrain(req: ServerRequest, res: ServerResponse): void {
    try {
      drainResponse(res);
    } catch (err) {
      this.#failed(req, res, err);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Output (ResponseSink): the current response's head and body through the protocol

  /** The head for `res`, with the server's connection management decided by the policy. */
  #head(res: ServerResponse): FinalHead {
    const status = checkStatus(res.statusCode);
    const ordinal = this.#answered + 1;
    const connection = res.hasLowerCaseHeader('connection') ? res.getHeader('connection') : undefined;
    const decision = decideResponseHead({
      ordinal,
      keepAliveMax: this.#opts.keepAliveMax,
      draining: this.#draining,
      queuedBehind: this.#queue.length - 1,
      closing: !this.#conn.keepAlive,
      handlerClose: connection !== undefined && parseConnection(Array.isArray(connection) ? (connection as string[]) : String(connection)).close,
      advertise: this.#opts.advertiseKeepAlive,
    });
    if (decision.close && decision.reason !== null) this.#reason = decision.reason;
    const keepAlive = decision.keepAliveMax === null ? undefined : keepAliveValue(this.#opts, this.#keepAliveValues, decision.keepAliveMax);
    // One shape for every head. Without a reason of the handler's, the protocol writes the standard one.
    return { type: 'response', status, reason: res.statusMessage, headers: headFields(res), close: decision.close, keepAlive };
  }

  /** The response carries no content: an answer to HEAD, or 204 / 304 (RFC 9110 §6.4.1). */
  #bodyless(res: ServerResponse): boolean {
    const status = res.statusCode;
    return this.#current?.req.method === 'HEAD' || status === 204 || status === 304;
  }

  /** The current response is `res` (a response replaced by an error answer, or of a closed connection, is not). */
  #owns(res: ServerResponse): boolean {
    return this.#current?.res === res && !this.#finished;
  }

  sendWhole(res: ServerResponse, body: Uint8Array | string): void {
    if (!this.#owns(res)) return;
    const head = this.#head(res);
    let out: Uint8Array | string;
    let ascii = false;
    if (this.#bodyless(res)) {
      // HEAD (RFC 9110 §9.3.2: the fields a GET would get, Content-Length included), 204, 304:
      // no content, whatever the handler passed.
      const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      if (this.#current?.req.method === 'HEAD' && length > 0 && !res.hasLowerCaseHeader('content-length') && !res.hasLowerCaseHeader('transfer-encoding')) {
        (head.headers as string[]).push('Content-Length', String(length));
      }
      out = this.#conn.sendMessageText(head, '');
      ascii = typeof out === 'string';
    } else if (typeof body === 'string') {
      out = this.#conn.sendMessageText(head, body);
      // Text comes back only with an ASCII head: with an ASCII body, all of it is ASCII.
      ascii = typeof out === 'string' && !NOT_ASCII.test(body);
    } else if (body.length <= TEXT_BYTES_MAX && isAscii(body)) {
      // A small ASCII body is the same octets as text: it goes the text way, head and body one
      // latin1 string, instead of a head encoded into an array, the body copied after it and a
      // Buffer made of the result to write (bench/ server-shapes, shape `buffer`).
      out = this.#conn.sendMessageText(head, latin1Text(body));
      ascii = typeof out === 'string';
    } else {
      out = this.#conn.sendMessage(head, body);
    }
    res.markHeadSent();
    this.#out.write(out, ascii);
    this.#responseDone();
  }

  sendHead(res: ServerResponse): void {
    if (!this.#owns(res)) {
      res.markHeadSent();
      return;
    }
    const parts = this.#conn.send(this.#head(res));
    this.#headMark = this.#out.mark;
    res.markHeadSent();
    this.#current!.headOut = true;
    for (const bytes of parts) this.#out.write(bytes);
  }

  sendData(res: ServerResponse, data: Uint8Array): boolean {
    if (!this.#owns(res)) return false;
    // A response without content drops what the handler writes (as node:http does).
    if (this.#bodyless(res)) return !this.#out.checkBackpressure();
    let ok = true;
    for (const bytes of this.#bodyPart({ type: 'data', data })) ok = this.#out.write(bytes);
    if (!ok) this.#updateReading();
    return ok;
  }

  sendEnd(res: ServerResponse, trailers: readonly string[] | undefined): void {
    if (!this.#owns(res)) return;
    // Trailers go only with a chunked body; otherwise they are dropped, as node:http drops them.
    const end: SendEndOfMessage = trailers === undefined || !this.#conn.sendingChunked ? { type: 'end-of-message' } : { type: 'end-of-message', trailers };
    for (const bytes of this.#bodyPart(end)) this.#out.write(bytes);
    this.#responseDone();
  }

  sendInformational(res: ServerResponse, status: number, headers: readonly string[]): void {
    if (!this.#owns(res) || this.#current!.headOut || this.#conn.ourState !== 'SEND_RESPONSE') return;
    for (const bytes of this.#conn.send({ type: 'informational-response', status, headers })) this.#out.write(bytes);
  }

  destroyResponse(res: ServerResponse): void {
    // The response is at the front: every earlier answer is written. Close after them; what it
    // wrote itself and is still in the batch is dropped, as node:http's destroy() drops what is
    // still corked in the socket, so the client sees no answer rather than a cut one.
    if (!this.#owns(res)) return;
    this.#out.truncate(this.#headMark);
    this.#abort('error');
  }

  afterSent(res: ServerResponse, done: (res: ServerResponse, err: Error | null) => void): void {
    this.#out.afterWrite(done, res);
  }

  /**
   * Frame a piece of the current body. The head is out, so a refusal (more bytes than its
   * Content-Length, an end before all of them) leaves a message that can never be completed: the
   * connection closes after what was written, and the handler gets the refusal.
   */
  #bodyPart(event: SendData | SendEndOfMessage): Uint8Array[] {
    try {
      return this.#conn.send(event);
    } catch (err) {
      this.#abort('error');
      throw err;
    }
  }

  /** The current response is complete: mark it, and let the loop go on (never from here). */
  #responseDone(): void {
    this.#answered++;
    this.#deadlines.clear('request');
    const current = this.#current;
    this.#current = null;
    this.#queue.shift();
    // A body the handler did not read is dropped as it arrives, so the next request parses.
    if (current !== null) {
      discardBody(current.req);
      if (!current.req.complete) current.req.onBacklog = null;
    }
    this.#bodyBacklog = false;
    if (this.#conn.ourState === 'MUST_CLOSE') {
      if (this.#reason === 'client-close') this.#reason = 'connection-close';
      this.#finish(this.#reason);
      return;
    }
    if (this.idle && this.#pendingError === null && !this.#draining) {
      // Part of the next head may be here already: it must complete within headersTimeout (the
      // loop clears this when it parses a whole request). Else the connection is idle.
      if (this.#conn.bufferedBytes > 0) {
        if (!this.#deadlines.has('head')) this.#deadlines.after('head', this.#headTimeout);
      } else {
        this.#deadlines.after('idle', this.#opts.idleTimeout);
        // Between requests keepAliveTimeout governs, as node:http swaps the socket's timer for it.
        if (this.#socketTimeout > 0) this.socket.setTimeout(0);
      }
    }
    this.#schedule();
  }

  /** Output fell back under the high-water mark: tell a streaming handler, read and answer what waits. */
  #onOutputClear(): void {
    const current = this.#current;
    if (current?.res != null && current.headOut) this.#emitDrain(current.req, current.res);
    else current?.node?.drain();
    this.#pump();
  }

  // ---------------------------------------------------------------------------------------------
  // Answers of the server's own: errors and timeouts

  /**
   * Answer the current request with `status` in place of its handler's response (which is then
   * ignored), and close after it. An error (4xx/5xx but 408 and 417) says what it is in a short
   * text body.
   */
  #answerInstead(status: number, reason: CloseReason): void {
    const current = this.#current!;
    this.#reason = reason;
    // A node response answered in its place writes nothing more.
    current.node?.abandon();
    const head: FinalHead = { type: 'response', status, headers: ['Content-Type', 'text/plain', 'Date', httpDate()], close: true, keepAlive: undefined };
    const bodyless = current.req.method === 'HEAD' || status === 408 || status === 417;
    let out: Uint8Array;
    try {
      out = this.#conn.sendMessage(head, bodyless ? undefined : errorBody(status));
    } catch {
      this.#abort(reason);
      return;
    }
    this.#out.write(out, false);
    this.#responseDone();
  }

  #protocolError(err: RemoteProtocolError): void {
    this.#errorPacket = this.#reading;
    this.#reason = 'parse-error';
    const broken = this.#queue.at(-1);
    if (broken !== undefined && !broken.complete) {
      // The error is inside this request's body: the request is broken.
      this.#bodyError = err;
      // Its handler is running: the error's turn is now. 'clientError' listeners answer in its
      // place (first, so that nothing the handler does on hearing of it reaches the socket).
      const current = this.#current;
      if (current?.req === broken && this.#host.listenerCount('clientError') > 0) this.#clientFault(parseClientError(err, this.#errorPacket), onResponseFailed(headOut(current), err.status));
      failBody(broken, err);
      // Else the failure reaches the handler as it reads, and its answer is the error's (see
      // #failed); the protocol closes after it. A node request is destroyed, as node:http
      // destroys it, and its answer is the error's at once.
      if (current?.req === broken) {
        if (current.node !== null) this.#failResponse(current.node, err);
        return;
      }
      this.#queue.pop();
      this.#early.delete(broken);
    }
    this.#pendingError = err;
    // Earlier requests are still answered, in order; the error answer follows them.
    if (this.#current === null && this.#queue.length === 0) this.#answerError(err);
  }

  /** The protocol error's turn: every answer before it is written. */
  #answerError(err: RemoteProtocolError): void {
    this.#pendingError = null;
    this.#clientFault(parseClientError(err, this.#errorPacket), { kind: 'answer', status: err.status, reason: 'parse-error' });
  }

  /**
   * A fault of the client's (bad bytes, a passed head or request deadline): the server answers it
   * (`own`), or its 'clientError' listeners do (see client-error.ts).
   */
  #clientFault(err: Error, own: ConnectionAction): void {
    const action = clientFaultAction(own, this.#host.listenerCount('clientError') > 0);
    switch (action.kind) {
      case 'own':
        this.#act(action.action);
        return;
      case 'hand-over':
        this.#handOver(err, action.reason);
        return;
      case 'abort-then-tell':
        this.#abort(action.reason);
        this.#tellClient(err);
        return;
    }
  }

  /**
   * The listeners answer the fault: what the server wrote goes out, then it writes nothing more,
   * parses nothing more and reads and drops the peer's input; the listeners get the socket. It is
   * destroyed `lingerTimeout` after they end it (as after the server's own answer), or after
   * `handOverTimeout` if they neither end nor destroy it.
   */
  #handOver(err: Error, reason: CloseReason): void {
    this.#reason = reason;
    this.#finished = true;
    // A node response writes straight to the socket: it must write nothing more.
    this.#current?.node?.abandon();
    for (const t of TIMEOUTS) this.#deadlines.clear(t);
    this.#out.flush();
    // The listeners write to the socket themselves, at once.
    this.#releaseWrites?.();
    this.socket.resume();
    this.socket.once('finish', () => {
      if (!this.#closed) this.#deadlines.after('linger', this.#opts.lingerTimeout);
    });
    this.#deadlines.after('linger', handOverTimeout(this.#opts.headersTimeout, this.#opts.lingerTimeout));
    this.#tellClient(err);
  }

  /** Emit 'clientError' with this connection's socket (once). */
  #tellClient(err: Error): void {
    this.#toldClient = true;
    this.#host.clientError(err, this.socket);
  }

  /** Answer `status` with no request to answer (an error, a timeout), then close. */
  #closeWith(status: number, reason: CloseReason): void {
    this.#reason = reason;
    try {
      const head = { type: 'response' as const, status, headers: ['Content-Type', 'text/plain', 'Date', httpDate(), 'Connection', 'close'] };
      this.#out.write(this.#conn.sendMessage(head, errorBody(status)));
    } catch {
      // No answer can be framed in this state (a response was half sent): just close.
    }
    this.#finish(reason);
  }

  #onTimeout(timeout: Timeout): void {
    if (this.#finished && timeout !== 'linger') return;
    const current = this.#current;
    const action = onTimeout(timeout, { idle: this.idle, queued: this.#queue.length, current: current === null ? null : { complete: current.req.complete, headOut: headOut(current) } });
    // A head or request that did not arrive in time is the client's fault, as node reports it.
    if ((timeout === 'head' || timeout === 'request') && action.kind !== 'none') this.#clientFault(timeoutClientError(timeout), action);
    else this.#act(action);
  }

  /** Carry out a decision of connection-policy.ts. */
  #act(action: ConnectionAction): void {
    switch (action.kind) {
      case 'none':
        return;
      case 'close':
        this.#finish(action.reason);
        return;
      case 'answer':
        if (this.#current === null) this.#closeWith(action.status, action.reason);
        else this.#answerInstead(action.status, action.reason);
        return;
      case 'abort':
        if (this.#finished) this.socket.destroy();
        else this.#abort(action.reason);
        return;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Closing

  /** Hand the socket over (protocol upgrade): stop listening to it and forget it. */
  #detach(): void {
    this.#out.flush();
    this.#releaseWrites?.();
    this.#finished = true;
    this.#deadlines.stop();
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('end');
    this.socket.removeAllListeners('drain');
    this.#reason = 'upgrade';
    this.#onClose();
  }

  /**
   * Close gracefully: half-close (our FIN after everything written), then keep reading and
   * dropping the peer's input for `lingerTimeout`, then destroy.
   */
  #finish(reason: CloseReason): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#reason = reason;
    for (const t of TIMEOUTS) this.#deadlines.clear(t);
    this.#out.flush();
    this.socket.end();
    this.socket.resume();
    this.#deadlines.after('linger', this.#opts.lingerTimeout);
  }

  /**
   * Close at once after the output already written (what is half written can never be
   * completed). Nothing more is parsed, dispatched or answered on this connection.
   */
  #abort(reason: CloseReason): void {
    this.#reason = reason;
    this.#finished = true;
    this.#out.flush();
    this.socket.destroy();
  }

  /** Shutdown: close now when idle, else answer what has arrived and close after the last. */
  shutdown(): void {
    this.#draining = true;
    // A node response whose head is not made yet says it is the last, as a tether one would.
    const node = this.#current?.node;
    if (node != null && this.#queue.length <= 1) {
      this.#nodeClose = true;
      node.closeAfter();
    }
    if (this.idle) this.#finish('shutdown');
    else this.#updateReading();
  }

  /** Shutdown deadline: destroy. */
  force(): void {
    if (this.#closed) return;
    // A connection already closing gracefully (lingering) keeps its reason.
    if (!this.#finished) this.#reason = 'forced';
    this.#finished = true;
    // What was written goes out first, as far as the socket takes it at once.
    this.#out.flush();
    this.socket.destroy();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#finished = true;
    this.#deadlines.stop();
    const current = this.#current;
    if (current !== null && !current.req.complete) failBody(current.req, requestAbortedError());
    if (current?.res != null) closeResponse(current.res);
    else if (current?.node != null) current.node.closed();
    for (const early of this.#early.values()) closeResponse(early.res);
    this.#host.onClosed(this, this.#reason, this.#served);
  }
}
