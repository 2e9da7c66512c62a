/**
 * Theory of operation: one TCP connection to the origin, driven by a client-role
 * @tether/protocol Connection. Requests go out in the order the pool hands them over; responses
 * come back in the same order and are matched to the oldest request in flight:
 *
 *   #inFlight: [ req0 (its response is arriving) | req1 | req2 … ]   ← written, oldest first
 *
 * The protocol decides framing, persistence and whether one more request may be pipelined
 * (`canSend`, given this connection's limits as inputs); this module owns the socket and the
 * timers: how long to keep an idle connection (ours and the server's `Keep-Alive: timeout`) and
 * how many requests to send on it (ours, the server's `Keep-Alive: max`, and the pool's learned
 * limit: N requests, then wait for the N-th response to show whether the server closes). It
 * reports what it sees the server do (each response head's word on closing, how it ended) to the
 * pool's OriginProfile, which decides. When the connection ends, each request on it meets the fate
 * `lostRequestFate` decides (lost-request-policy.ts): given back to the pool (re-sent on a newer
 * connection) when re-sending is safe, or failed with an error that says whether the server may
 * have acted.
 *
 * Timeouts are named deadlines (`connect`, `headers`, `body`, `idle`) over one lazy timer on the
 * pool's clock (@tether/protocol's Deadlines): at most one is pending at a time, and none once
 * the connection is ending, destroyed or closed.
 *
 * Invariants: a connection is never closed with response bytes unread by us (we end our side
 * only when nothing is in flight, or after the server ended its own); a timed-out connection
 * is destroyed, never reused; writes produced in one turn of the event loop leave in one write.
 */

import net from 'node:net';
import type { Socket } from 'node:net';
import { Connection, Deadlines, LocalProtocolError, NEED_DATA, PAUSED, RemoteProtocolError, parseConnection, parseKeepAlive, responseAllowsPersistence } from '@tether/protocol';
import type { Clock, Fields, PipelineLimits, PipelineRequest, ResponseEvent } from '@tether/protocol';
import { retiredTraced, traceRetired } from './diagnostics.js';
import { ClientError } from './errors.js';
import type { ClientErrorCode } from './errors.js';
import { lostRequestFate } from './lost-request-policy.js';
import type { ConnectionLoss } from './lost-request-policy.js';
import type { ResolvedPoolOptions } from './options.js';
import type { EndedBy, OriginObservation } from './origin-profile.js';
import type { PendingRequest } from './pending.js';
import { ClientResponse, ResponseBody } from './response.js';
import type { BodySource } from './response.js';

/**
 * A connection's deadlines, in the order they are checked when due together:
 * - `connect`: from opening the socket until the handshake completes (connectTimeout);
 * - `headers`: from writing the oldest request in flight (or answering the one before it) until
 *   its response head (headersTimeout);
 * - `body`: from the last piece of the response body read until the next (bodyTimeout); none
 *   while the caller holds the body paused;
 * - `idle`: from the last response until the connection is retired (keepAliveTimeout, lowered by
 *   the server's `Keep-Alive: timeout`).
 */
type Deadline = 'connect' | 'headers' | 'body' | 'idle';
const DEADLINES: readonly Deadline[] = ['connect', 'headers', 'body', 'idle'];

/** Why a connection closed (counted in the pool's stats). */
export type ConnectionCloseReason =
  /** The server said `Connection: close` (or answered HTTP/1.0 without keep-alive). */
  | 'server-close'
  /** The server closed a connection that had nothing in flight. */
  | 'server-idle-close'
  /** We retired it idle, before our or the server's keep-alive timeout ran out. */
  | 'keep-alive-timeout'
  /** It carried as many requests as we or the server's `Keep-Alive: max` allow. */
  | 'keep-alive-max'
  /**
   * The server closed it, as the pool expected, on the response that completed the number of
   * requests it learned the server allows a connection (nothing was sent past it).
   */
  | 'learned-limit'
  /** Reset, refused, unparseable response, or dropped with requests in flight. */
  | 'error'
  /** A connect, headers or body timeout. */
  | 'timeout'
  /** The pool closed it (close(), destroy(), an abort, or to make room). */
  | 'client-close';

/** What a connection needs from its pool. */
export interface ConnectionHost {
  readonly options: ResolvedPoolOptions;
  /** The pool's origin (for tracing). */
  readonly origin: string;
  /** Host and port to connect to, and the Host field value. */
  readonly address: { readonly host: string; readonly port: number; readonly authority: string };
  /** The pool is closing and has nothing queued: the request being written is the last. */
  lastRequest(): boolean;
  /** Connections to the origin may be reused (the option, unless the server proved it unsafe). */
  keepAlive(): boolean;
  /** It can take (more) requests. */
  onFree(conn: ClientConnection): void;
  /** Its TCP handshake completed. */
  onConnected(conn: ClientConnection): void;
  /** A request was written. */
  onSent(conn: ClientConnection, req: PendingRequest, reused: boolean): void;
  /** A response completed. */
  onAnswered(conn: ClientConnection): void;
  /** What the connection saw the server do (a response head, its end): the pool learns from it. */
  observe(conn: ClientConnection, observation: OriginObservation): void;
  /**
   * Requests a connection sends before its last one is answered, learned from the server's past
   * closes (Infinity: no limit known). The connection holds there until that response shows
   * whether the server closes (see origin-profile.ts).
   */
  learnedLimit(): number;
  /** It closed; `requeue` are requests to send again, oldest first. */
  onClosed(conn: ClientConnection, reason: ConnectionCloseReason, requeue: PendingRequest[]): void;
}

/** `T` with its fields writable. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Ms we keep reading after ending our side, waiting for the server's FIN, before destroying. */
const LINGER_MS = 2000;

/**
 * Safety margin before a server's advertised idle timeout: 1 s (what undici keeps), or half the
 * timeout when it is shorter than 2 s, so a request never races the server's close.
 */
function serverIdleLimit(seconds: number): number {
  const ms = seconds * 1000;
  return ms >= 2000 ? ms - 1000 : ms / 2;
}

/** One connection to the origin. */
export class ClientConnection implements BodySource {
  /** Increases with every connection a pool opens (see PendingRequest.freshAfter). */
  readonly serial: number;
  readonly #host: ConnectionHost;
  readonly #opts: ResolvedPoolOptions;
  readonly #socket: Socket;
  readonly #conn: Connection;
  readonly #inFlight: PendingRequest[] = [];
  /** Requests taken but not written yet (before connect, or behind a streaming body). */
  readonly #unwritten: PendingRequest[] = [];
  #connected = false;
  #sent = 0;
  #answered = 0;
  /** Most requests this connection may carry (ours, lowered by the server's `Keep-Alive: max`). */
  #limit: number;
  /** Ms it may stay idle (ours, lowered by the server's `Keep-Alive: timeout`). */
  #idleLimit: number;
  /** No new requests: it closes once what is in flight is answered (set by #retire only). */
  #retiring: ConnectionCloseReason | null = null;
  /** `#limit` comes from the server's `Keep-Alive: max`. */
  #limitAdvertised = false;
  /** `#idleLimit` comes from the server's `Keep-Alive: timeout`. */
  #idleAdvertised = false;
  /** The server announced that it closes after a response (so later requests were not processed). */
  #announcedAt = -1;
  /** The index of the request on which we said `Connection: close` (-1: none yet). */
  #closeAskedAt = -1;
  #streaming = false;
  #body: ResponseBody | null = null;
  #bodyPaused = false;
  #reason: ConnectionCloseReason = 'error';
  #error: ClientError | null = null;
  #ending = false;
  #closed = false;
  /** Destroyed because a request on it was aborted. */
  #aborted = false;
  /**
   * destroy() was called: bytes already received are not processed any more (a dispatcher
   * handler may destroy its pool from inside the read loop).
   */
  #destroyed = false;
  #out: (Uint8Array | string)[] = [];
  /** See `resting`. */
  #resting = false;
  /** What canTake hands the pipelining predicate, filled in per question (it is asked often). */
  readonly #ask: Mutable<PipelineRequest> = { method: 'GET', streamingBody: false, idempotent: true };
  readonly #limits: Mutable<PipelineLimits> = {};
  readonly #clock: Clock;
  readonly #deadlines: Deadlines<Deadline>;
  /** The linger timer (a handle of `#clock`), once our side is ending. */
  #lingerTimer: unknown = undefined;
  #openedAt = 0;
  /** When the bytes being processed were read, for timings (`performance.now()` ms). */
  #readAt = 0;
  /** The same moment on the clock, for deadlines. */
  #readTick = 0;

  constructor(host: ConnectionHost, serial: number) {
    this.serial = serial;
    this.#host = host;
    this.#opts = host.options;
    this.#limit = this.#opts.maxRequestsPerConnection;
    this.#idleLimit = this.#opts.keepAliveTimeout;
    this.#conn = new Connection('client', this.#opts.parser);
    this.#clock = this.#opts.clock;
    this.#deadlines = new Deadlines(this.#clock, DEADLINES, (name) => this.#expired(name));
    const { host: h, port } = host.address;
    this.#socket = net.connect({ host: h, port, noDelay: this.#opts.noDelay });
    this.#openedAt = performance.now();
    this.#deadlines.after('connect', this.#opts.connectTimeout);
    this.#socket.on('connect', () => this.#onConnect());
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('end', () => this.#onEnd());
    this.#socket.on('error', (err: Error) => this.#onError(err));
    this.#socket.on('close', () => this.#onClose());
    this.#socket.on('drain', () => this.#host.onFree(this));
  }

  /** Requests written or waiting to be, whose responses are not complete. */
  get load(): number {
    return this.#inFlight.length + this.#unwritten.length;
  }

  /**
   * Its last response completed in this turn of the event loop: it takes its next request in
   * the check phase (setImmediate), as undici's Client does without pipelining. The requests
   * freed by one socket read (every connection whose response arrived in it) then leave
   * together, after all of them are parsed, instead of one write between each two parses: the
   * server is woken once for them, not once per request (on a shared machine this halved the
   * involuntary context switches per request, 0.8–0.9 → 0.4, as undici's). It also leaves the
   * server a turn to close a connection it will not reuse before we write on it.
   */
  get resting(): boolean {
    return this.#resting;
  }

  /** Connected, nothing in flight, not retiring or closing. */
  get idle(): boolean {
    return this.#connected && this.load === 0 && this.#retiring === null && !this.#ending && !this.#closed;
  }

  /** Responses completed on it so far. */
  get answered(): number {
    return this.#answered;
  }

  /** Requests written on it so far. */
  get sent(): number {
    return this.#sent;
  }

  /** @internal Its TCP handshake completed (it stays true once the connection has closed). */
  get connected(): boolean {
    return this.#connected;
  }

  /** @internal What ended it, when it failed (null for an orderly close). */
  get error(): ClientError | null {
    return this.#error;
  }

  /** @internal The socket (for tracing: addresses and ports). */
  get socket(): Socket {
    return this.#socket;
  }

  /** It takes no new requests. */
  get retiring(): boolean {
    return this.#retiring !== null || this.#closed || this.#ending;
  }

  /** May `req` be handed to this connection now, with at most `pipelining` in flight? */
  canTake(req: PendingRequest, pipelining: number): boolean {
    if (this.retiring || this.#resting || req.freshAfter >= this.serial) return false;
    const load = this.load;
    // Before the handshake, a connection takes its first request only: nothing is pipelined
    // behind an exchange that has not shown the connection persists.
    if (!this.#connected) return load === 0;
    // Nothing in flight: only the protocol's state matters (the common case, made cheap). The
    // request limits cannot refuse here: the request that reached #limit retired the connection,
    // and with nothing in flight every request sent was answered, so none is held (see below).
    if (load === 0) return this.#conn.ourState === 'IDLE';
    // Requests wait behind a streamed body in order: nothing jumps the queue.
    if (this.#unwritten.length > 0) return false;
    // Every other rule is the protocol's pipelining predicate, with this connection's limits.
    const learned = this.#host.learnedLimit();
    const ask = this.#ask;
    ask.method = req.method;
    ask.streamingBody = req.streaming;
    ask.idempotent = req.idempotent;
    const limits = this.#limits;
    limits.maxInFlight = pipelining;
    limits.remaining = Math.min(this.#limit, this.#answered < learned ? learned : Number.POSITIVE_INFINITY) - this.#sent;
    limits.outputBackedUp = this.#socket.writableNeedDrain;
    return this.#conn.canSend(ask, limits).ok;
  }

  /** Take `req`: write it now, or once connected. */
  take(req: PendingRequest): void {
    req.connection = this;
    if (!this.#connected) {
      // It waits for this connection's handshake: that is part of its timeline.
      req.connectStartAt = this.#openedAt;
      req.connectedAt = undefined;
    }
    this.#deadlines.clear('idle');
    this.#socket.ref();
    if (!this.#connected || this.#streaming) this.#unwritten.push(req);
    else this.#write(req);
  }

  // ---------------------------------------------------------------------------------------------
  // Writing

  #onConnect(): void {
    this.#connected = true;
    this.#deadlines.clear('connect');
    this.#host.onConnected(this);
    const now = performance.now();
    for (const req of this.#unwritten) req.connectedAt = now;
    this.#writeWaiting();
    this.flush();
    if (this.load === 0) this.#becameIdle();
  }

  #writeWaiting(): void {
    while (this.#unwritten.length > 0 && !this.#streaming && !this.#closed) this.#write(this.#unwritten.shift()!);
  }

  #write(req: PendingRequest): void {
    if (req.settled) return; // aborted while waiting
    const lastForPool = this.#host.lastRequest();
    const last = !this.#host.keepAlive() || this.#sent + 1 >= this.#limit || lastForPool;
    const headers = last ? [...req.headers, 'Connection', 'close'] : req.headers;
    const head = { type: 'request' as const, method: req.method, target: req.path, headers, idempotent: req.idempotent };
    const pipelined = this.#inFlight.length > 0;
    const persisting = this.#conn.keepAlive;
    try {
      if (req.body === null || typeof req.body === 'string') {
        // Text (and no body) leaves as a string: the socket encodes it natively.
        this.#output(this.#conn.sendMessageText(head, req.body ?? ''));
      } else if (req.body instanceof Uint8Array) {
        this.#output(this.#conn.sendMessage(head, req.body));
      } else {
        const options = req.contentLength === undefined ? { streaming: true } : { bodyLength: req.contentLength };
        this.#output(...this.#conn.send(head, options));
      }
    } catch (err) {
      // The protocol refused it before changing anything (all or nothing): the connection is fine.
      if (!(err instanceof LocalProtocolError)) throw err;
      req.fail(new ClientError('TETHER_INVALID_REQUEST', `${req.toString()}: ${err.message}`, { mayHaveBeenProcessed: false, cause: err }));
      if (this.load === 0) this.#becameIdle();
      return;
    }
    req.pipelined = pipelined;
    req.sentAt = performance.now();
    this.#inFlight.push(req);
    this.#sent++;
    // Our close: the pool's (`last`), or the request's own `Connection: close` (a caller's field,
    // a dispatcher's `reset`), which the protocol saw go out. The server's close in answer to it
    // is not one of its own: the origin profile learns nothing from it.
    const asked = last || (persisting && !this.#conn.keepAlive);
    if (asked) this.#closeAskedAt = this.#sent - 1;
    this.#host.onSent(this, req, this.#sent > 1);
    if (this.#inFlight.length === 1) this.#deadlines.after('headers', this.#headersMs());
    if (last) this.#retire(this.#host.keepAlive() && !lastForPool ? 'keep-alive-max' : 'client-close');
    else if (asked) this.#retire('client-close');
    if (req.streaming) void this.#stream(req, req.body as AsyncIterable<Uint8Array>);
  }

  /** Write a streamed body, respecting the socket's backpressure; nothing else is written meanwhile. */
  async #stream(req: PendingRequest, body: AsyncIterable<Uint8Array>): Promise<void> {
    this.#streaming = true;
    try {
      for await (const data of body) {
        if (this.#closed) return;
        if (data.length === 0) continue;
        this.#output(...this.#conn.send({ type: 'data', data }));
        this.flush();
        if (this.#socket.writableNeedDrain) {
          // A destroyed socket never drains: wait for 'close' too, then stop (closing the body's iterator).
          await new Promise<void>((resolve) => {
            const done = (): void => {
              this.#socket.off('drain', done);
              this.#socket.off('close', done);
              resolve();
            };
            this.#socket.on('drain', done);
            this.#socket.on('close', done);
          });
          if (this.#socket.destroyed) return;
        }
      }
      if (this.#closed) return;
      this.#output(...this.#conn.send({ type: 'end-of-message' }));
    } catch (err) {
      // The body's source failed, or it did not match its declared length: the request cannot
      // be completed on this connection.
      const cause = err instanceof Error ? err : new Error(String(err));
      req.fail(new ClientError('TETHER_INVALID_REQUEST', `${req.toString()}: the request body failed: ${cause.message}`, { mayHaveBeenProcessed: true, cause }));
      this.destroy(null);
      return;
    } finally {
      this.#streaming = false;
    }
    this.#writeWaiting();
    this.flush();
    this.#host.onFree(this);
  }

  /**
   * Queue output (text is UTF-8) until `flush()`: requests the pool hands over in one dispatch
   * leave in one write. Whoever queues flushes: the pool after dispatching, the connection after
   * connecting and after each piece of a streamed body.
   */
  #output(...parts: (Uint8Array | string)[]): void {
    this.#out.push(...parts);
  }

  /** Write what is queued, in one write. */
  flush(): void {
    const out = this.#out;
    if (out.length === 0 || this.#closed) return;
    this.#out = [];
    if (out.length === 1) this.#socket.write(out[0]!);
    else if (out.every((p) => typeof p === 'string')) this.#socket.write(out.join(''));
    else this.#socket.write(Buffer.concat(out.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))));
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    this.#read();
    this.#conn.receiveData(chunk);
    this.#process();
  }

  #onEnd(): void {
    // The server finished sending: complete what can be completed (a body delimited by close),
    // then end our side too. Whatever is still in flight is lost (see #onClose).
    if (!this.#closed) {
      this.#read();
      this.#conn.receiveEof();
      this.#process();
    }
    if (this.#reason === 'error' && this.#error === null) {
      if (this.#announcedAt >= 0) this.#reason = 'server-close';
      else if (this.#inFlight.length === 0 && this.#unwritten.length === 0) this.#reason = 'server-idle-close';
    }
    this.#retire(this.#reason);
    this.#endOurSide();
  }

  /** Note when the bytes about to be processed were read. */
  #read(): void {
    this.#readAt = performance.now();
    this.#readTick = this.#clock.now();
  }

  /** Turn received bytes into responses. */
  #process(): void {
    try {
      for (;;) {
        if (this.#bodyPaused || this.#destroyed) return;
        const event = this.#conn.nextEvent();
        if (event === NEED_DATA || event === PAUSED) return;
        switch (event.type) {
          case 'response': {
            const req = this.#inFlight[0]!;
            this.#deadlines.clear('headers');
            this.#deadlines.after('body', this.#bodyMs(), this.#readTick);
            this.#heed(event);
            const body = new ResponseBody(this, this.#opts.bodyHighWaterMark);
            this.#body = body;
            const timings = { queued: req.queuedAt, connectStart: req.connectStartAt, connected: req.connectedAt, sent: req.sentAt, head: this.#readAt, connection: this.serial };
            const res = new ClientResponse(event.status, event.reason, event.version, event.headers, body, timings);
            if (req.settled) void body.dump().catch(() => undefined); // aborted: drop its body
            else req.succeed(res);
            break;
          }
          case 'data':
            this.#deadlines.after('body', this.#bodyMs(), this.#readTick);
            this.#body?.push(event.data);
            break;
          case 'end-of-message':
            this.#responseDone(event.trailers);
            break;
          case 'informational-response':
          case 'request':
            break;
          case 'connection-closed':
            return;
        }
      }
    } catch (err) {
      if (!(err instanceof RemoteProtocolError)) throw err;
      this.#protocolError(err);
    }
  }

  /** A response head arrived: note what the server says about this connection's future. */
  #heed(event: ResponseEvent): void {
    const n = this.#answered + 1;
    // The protocol's verdict counts our own `Connection: close` too: once we asked, only the
    // response's own fields tell whether the server announced a close of its own.
    const closes = !this.#conn.keepAlive && (this.#closeAskedAt < 0 || !responseAllowsPersistence({ version: event.version, connection: parseConnection(event.headers.getAll('connection')) }));
    if (closes) {
      // Connection: close, or HTTP/1.0 without keep-alive: this response is the last.
      this.#announcedAt = this.#answered;
      const asked = this.#closeAskedAt === this.#answered;
      // The server closed where the pool's learned limit held this connection: nothing was sent past it.
      const learned = !asked && n === this.#sent && n === this.#host.learnedLimit();
      this.#host.observe(this, { type: 'response', response: n, close: asked ? 'asked' : 'announced' });
      // A close we asked for keeps our reason (it retired when that request was written).
      const reason = asked && this.#retiring !== null ? this.#retiring : learned ? 'learned-limit' : 'server-close';
      this.#retire(reason);
      this.#retiring = reason;
      this.#reason = reason;
      return;
    }
    this.#host.observe(this, { type: 'response', response: n, close: this.#closeAskedAt === this.#answered ? 'asked' : 'none' });
    const keepAlive = event.headers.get('keep-alive');
    if (keepAlive === undefined) return;
    const params = parseKeepAlive(keepAlive);
    // Keep-Alive: max=N counts the requests the server still takes after this one.
    if (params.max !== undefined && this.#answered + 1 + params.max < this.#limit) {
      this.#limit = this.#answered + 1 + params.max;
      this.#limitAdvertised = true;
    }
    if (params.timeout !== undefined) {
      const ms = serverIdleLimit(params.timeout);
      this.#idleAdvertised = ms < this.#opts.keepAliveTimeout;
      this.#idleLimit = Math.min(this.#opts.keepAliveTimeout, ms);
    }
  }

  #responseDone(trailers: Fields | null): void {
    const req = this.#inFlight.shift()!;
    req.connection = null;
    this.#answered++;
    this.#body?.end(this.#readAt, trailers);
    this.#body = null;
    this.#deadlines.clear('body');
    this.#host.onAnswered(this);
    if (this.#inFlight.length > 0) this.#deadlines.after('headers', this.#headersMs(), this.#readTick);
    if (this.#retiring === null && this.#sent >= this.#limit) this.#retire('keep-alive-max');
    if (this.load === 0) {
      if (this.#retiring !== null) {
        this.#reason = this.#retiring;
        this.#endOurSide();
        return;
      }
      this.#becameIdle(true);
    }
    this.#host.onFree(this);
  }

  /** The headers timeout of the oldest request in flight (its own, or the pool's). */
  #headersMs(): number {
    return this.#inFlight[0]?.headersTimeout ?? this.#opts.headersTimeout;
  }

  /** The body timeout of the response being read (its request's own, or the pool's). */
  #bodyMs(): number {
    return this.#inFlight[0]?.bodyTimeout ?? this.#opts.bodyTimeout;
  }

  /**
   * Nothing in flight: wait for the next request, or end. `rest`: a response just completed;
   * the connection takes its next request in the event loop's check phase, not at once (see
   * `resting`).
   */
  #becameIdle(rest = false): void {
    if (this.#retiring !== null) {
      // Nothing left in flight on a connection that takes no more: end it now (an idle timer and
      // an unref'd socket would leave whoever waits for its close, pool.close(), waiting).
      this.#reason = this.#retiring;
      this.#endOurSide();
      this.#host.onFree(this);
      return;
    }
    this.#deadlines.after('idle', this.#idleLimit);
    // An idle connection does not keep the process alive (as Node's agents do).
    this.#socket.unref();
    if (rest && !this.#resting) {
      // The pending immediate keeps the process alive for whoever waits in the queue.
      this.#resting = true;
      setImmediate(() => {
        this.#resting = false;
        if (!this.retiring) this.#host.onFree(this);
      });
    }
    this.#host.onFree(this);
  }

  /** BodySource: the caller fell behind (false) or caught up (true). */
  flow(on: boolean): void {
    if (this.#bodyPaused === !on) return;
    this.#bodyPaused = !on;
    if (on) {
      // Bytes left over from before the pause count as read now.
      this.#read();
      this.#deadlines.after('body', this.#bodyMs(), this.#readTick);
      this.#socket.resume();
      this.#process();
    } else {
      this.#deadlines.clear('body');
      this.#socket.pause();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Failures and closing

  #protocolError(err: RemoteProtocolError): void {
    const truncated = err.code === 'H1_INCOMPLETE_MESSAGE';
    const code: ClientErrorCode = truncated ? 'TETHER_TRUNCATED_BODY' : 'TETHER_PROTOCOL';
    const req = this.#inFlight[0];
    const what = req === undefined ? 'response' : `response to ${req.toString()}`;
    this.#error = new ClientError(code, `${what}: ${err.message}`, { mayHaveBeenProcessed: true, cause: err });
    this.#reason = 'error';
    // The response being read fails; the ones behind it are lost with the connection.
    if (req !== undefined) {
      this.#inFlight.shift();
      if (req.response !== null) req.response.body.fail(this.#error);
      else req.fail(this.#error);
    }
    this.destroy(null);
  }

  #onError(err: Error): void {
    if (this.#error !== null) return;
    const code: ClientErrorCode = this.#connected ? 'TETHER_CONNECTION_LOST' : 'TETHER_CONNECT_FAILED';
    const { host, port } = this.#host.address;
    this.#error = new ClientError(code, `${host}:${port}: ${err.message}`, { mayHaveBeenProcessed: this.#connected, cause: err });
    this.#reason = 'error';
  }

  /** End our side once nothing more is expected; keep reading until the server's FIN (or a linger period). */
  #endOurSide(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    this.#deadlines.stop();
    this.flush();
    // Someone may be waiting for this close (pool.close(), a request queued for a free slot): an
    // idle connection's socket was unref'd, and the linger timer is too, so without this the
    // process could exit before the server's FIN, with those promises never settled.
    this.#socket.ref();
    this.#socket.end();
    this.#lingerTimer = this.#clock.setTimer(() => this.#socket.destroy(), LINGER_MS);
    if (this.#bodyPaused) this.#socket.resume();
  }

  /**
   * It takes no more requests, for `reason` (the first reason given counts): published on
   * `tether:client:connection:retired`, with the limit that ran out, when someone listens.
   */
  #retire(reason: ConnectionCloseReason): void {
    if (this.#retiring !== null) return;
    this.#retiring = reason;
    if (!retiredTraced()) return;
    switch (reason) {
      case 'keep-alive-max':
        return traceRetired(this, this.#host.origin, reason, this.#limit, this.#limitAdvertised);
      case 'learned-limit':
        return traceRetired(this, this.#host.origin, reason, this.#sent, false);
      case 'keep-alive-timeout':
        return traceRetired(this, this.#host.origin, reason, this.#idleLimit, this.#idleAdvertised);
      default:
        return traceRetired(this, this.#host.origin, reason, null, false);
    }
  }

  /** Close gracefully now (idle), or after what is in flight (busy). */
  close(reason: ConnectionCloseReason = 'client-close'): void {
    if (this.#closed) return;
    this.#retire(reason);
    if (this.load === 0) {
      this.#reason = this.#retiring ?? reason;
      if (this.#connected) this.#endOurSide();
      else this.destroy(null);
    }
  }

  /**
   * Cancel `req` (taken by this connection). Not yet written: it is simply dropped. Written: an
   * exchange cannot be cut out of the byte stream, so the connection is destroyed and the other
   * requests on it go back to the pool.
   */
  abort(req: PendingRequest, err: Error): void {
    const waiting = this.#unwritten.indexOf(req);
    if (waiting >= 0) {
      this.#unwritten.splice(waiting, 1);
      req.fail(err);
      if (this.load === 0 && this.#connected) this.#becameIdle();
      return;
    }
    if (!this.#inFlight.includes(req)) return;
    if (req.response !== null) req.response.body.fail(err);
    else req.fail(err);
    this.#aborted = true;
    this.destroy(null, 'client-close');
  }

  /** Destroy now; requests in flight fail with `err` (or are given back to the pool when null). */
  destroy(err: Error | null, reason?: ConnectionCloseReason): void {
    if (this.#closed) return;
    this.#destroyed = true;
    if (reason !== undefined) this.#reason = reason;
    // Gone as far as the pool is concerned, even before the socket's 'close' event: no timeout
    // fires in between.
    this.#retire(this.#reason);
    this.#deadlines.stop();
    if (err !== null) {
      for (const req of [...this.#inFlight.splice(0), ...this.#unwritten.splice(0)]) {
        if (req.response !== null) req.response.body.fail(err);
        else req.fail(err);
      }
    }
    this.#socket.destroy();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deadlines.stop();
    if (this.#lingerTimer !== undefined) this.#clock.clearTimer(this.#lingerTimer);
    this.#retire(this.#reason);
    this.#host.onClosed(this, this.#reason, this.#settleLost());
  }

  /** Who ended the connection, for what the pool learns from it. */
  #endedBy(): EndedBy {
    if (this.#aborted) return 'client';
    switch (this.#reason) {
      case 'timeout':
        return 'timeout';
      case 'client-close':
      case 'keep-alive-timeout':
      case 'keep-alive-max':
        return 'client';
      case 'server-close':
      case 'learned-limit':
      case 'server-idle-close':
      case 'error':
        return 'server';
    }
  }

  /** How the connection was lost, for the fate of its requests. */
  #loss(): ConnectionLoss {
    if (this.#aborted) return 'aborted';
    if (this.#error === null) return 'closed';
    if (!this.#connected) return 'connect-failed';
    return this.#reason === 'timeout' ? 'timeout' : 'error';
  }

  /**
   * The connection is gone: every request on it without a complete response meets the fate
   * `lostRequestFate` decides (lost-request-policy.ts); this applies it. Returns the requests to
   * send again, oldest first.
   */
  #settleLost(): PendingRequest[] {
    const requeue: PendingRequest[] = [];
    const lost = this.#error ?? new ClientError('TETHER_CONNECTION_LOST', 'the connection closed', { mayHaveBeenProcessed: true });
    const loss = this.#loss();
    const attempts = this.#opts.retryAttempts;
    let lostPipelined = 0;
    const settle = (req: PendingRequest, written: boolean, i: number): void => {
      const fate = lostRequestFate({
        settled: req.settled && req.response === null,
        headHandedOver: req.response !== null,
        written,
        afterAnnouncedClose: written && this.#announcedAt >= 0 && this.#answered + i > this.#announcedAt,
        connected: this.#connected,
        retryable: req.retryable,
        attemptsLeft: req.attempts < attempts,
        firstUnansweredOnReused: written && i === 0 && this.#answered > 0,
        raced: req.raced,
        loss,
      });
      if (written && req.pipelined && fate !== 'ignore' && fate !== 'fail-body' && fate !== 'resend-unprocessed') lostPipelined++;
      switch (fate) {
        case 'ignore':
          return;
        case 'fail-body':
          req.response!.body.fail(new ClientError('TETHER_TRUNCATED_BODY', `response to ${req.toString()}: the connection closed before the body was complete`, { mayHaveBeenProcessed: true, cause: lost }));
          return;
        case 'resend-race':
          req.raced = true;
          break;
        case 'retry':
          req.attempts++;
          break;
        case 'resend-unprocessed':
        case 'resend-after-abort':
          break;
        case 'fail-not-connected':
          req.fail(lost);
          return;
        case 'fail-may-have-been-processed':
          req.fail(new ClientError('TETHER_CONNECTION_LOST', `${req.toString()}: the connection closed before the response arrived; it may or may not have been processed`, { mayHaveBeenProcessed: true, cause: this.#error ?? undefined }));
          return;
      }
      // Counted as a retry when it is written again (pool stats), unless it was never written.
      if (written) req.resend = true;
      requeue.push(req);
    };
    this.#inFlight.forEach((req, i) => settle(req, true, i));
    this.#inFlight.length = 0;
    for (const req of this.#unwritten.splice(0)) settle(req, false, 0);
    for (const req of requeue) {
      req.freshAfter = this.serial;
      req.connection = null;
    }
    if (this.#connected) {
      this.#host.observe(this, { type: 'connection-ended', responses: this.#answered, closeAnnounced: this.#announcedAt >= 0, endedBy: this.#endedBy(), lostPipelined });
    }
    return requeue;
  }

  // ---------------------------------------------------------------------------------------------
  // Deadlines

  /** A deadline passed (it is cleared; the others are left to the timer). */
  #expired(name: Deadline): void {
    const o = this.#opts;
    switch (name) {
      case 'connect':
        return this.#timedOut('TETHER_CONNECT_TIMEOUT', `${this.#host.address.host}:${this.#host.address.port}: not connected within ${o.connectTimeout} ms`, false);
      case 'headers':
        return this.#timedOut('TETHER_HEADERS_TIMEOUT', `${this.#inFlight[0]?.toString() ?? 'request'}: no response head within ${this.#headersMs()} ms`, true);
      case 'body':
        return this.#timedOut('TETHER_BODY_TIMEOUT', `response to ${this.#inFlight[0]?.toString() ?? 'request'}: no body data for ${this.#bodyMs()} ms`, true);
      case 'idle':
        if (this.load === 0) this.close('keep-alive-timeout');
        return;
    }
  }

  /** A timeout: the oldest request (or its body) fails with `code`; the connection is destroyed. */
  #timedOut(code: ClientErrorCode, message: string, processed: boolean): void {
    const err = new ClientError(code, message, { mayHaveBeenProcessed: processed });
    this.#error = err;
    this.#reason = 'timeout';
    if (code === 'TETHER_CONNECT_TIMEOUT') {
      this.destroy(err);
      return;
    }
    const req = this.#inFlight.shift();
    if (req !== undefined) {
      if (req.response !== null) req.response.body.fail(err);
      else req.fail(err);
    }
    this.destroy(null);
  }
}
