/**
 * Theory of operation: a pool of connections to one origin and one queue of requests waiting
 * for a connection:
 *
 *   #queue: [ next | … ]  ──#pick──▶  an idle connection
 *                                     else a new one (up to `connections`)
 *                                     else the least loaded one that may pipeline it
 *
 * Whether a request may be pipelined behind others is the protocol's `canSend` (persistence
 * confirmed, idempotent request, no streaming body, nothing non-idempotent in flight, within the
 * `pipelining` depth and the connection's request limits). Requests a connection gives back when
 * it drops are put at the front of the queue in their original order and may only go out on a
 * connection opened after the drop. When a connection fails to connect and none is up, the queued
 * requests fail with it (`queuedRequestFate`, lost-request-policy.ts) rather than each opening
 * an attempt of its own.
 *
 * The pool holds what it learned about the origin, an OriginProfile (origin-profile.ts): its
 * connections report what the server did (each response head, each end), and the profile
 * decides how many requests a connection sends before the server's usual close, whether to
 * pipeline at all, and whether to reuse connections. The connections only apply the decisions.
 *
 * Every promise handed out has, while pending, an armed event that settles it and a ref'd handle
 * that keeps the process alive until then (idle connections and all timers are unref'd):
 * - `request()`: queued — a dispatch on the next connection freed, opened or closed (a connection
 *   with work is ref'd; one closing is ref'd until it has closed); taken — its connection's
 *   response, failure, timeout or close (`#settleLost` decides each request's fate); aborted,
 *   destroyed — at once;
 * - body reads and `dump()`: the body's end or failure, from the same events of its connection;
 * - `close()`: the close of the last connection, each ending once its last response is read;
 * - a streamed request body's wait for `drain`: `drain`, or the socket's `close`.
 */

import { EventEmitter } from 'node:events';
import { Fields, isIdempotentMethod } from '@tether/protocol';
import { ClientConnection } from './client-connection.js';
import type { ConnectionCloseReason, ConnectionHost } from './client-connection.js';
import { destroyArguments, promiseOrCallback } from './close-forms.js';
import type { CloseCallback } from './close-forms.js';
import { ClientError } from './errors.js';
import { resolvePoolOptions } from './options.js';
import { queuedRequestFate } from './lost-request-policy.js';
import { UNKNOWN_ORIGIN, observeOrigin } from './origin-profile.js';
import type { OriginProfile } from './origin-profile.js';
import type { PoolOptions, ResolvedPoolOptions } from './options.js';
import { PendingRequest } from './pending.js';
import type { RequestBody } from './pending.js';
import type { ClientResponse } from './response.js';
import { dispatchOn } from './dispatcher.js';
import type { DispatchHandler, DispatchOptions } from './dispatcher.js';
import { traceConnection, traceRequest } from './diagnostics.js';

/** A request to send. */
export interface RequestOptions {
  /** Default 'GET'. */
  readonly method?: string;
  /** The request-target: path and query. Default '/'. */
  readonly path?: string;
  /** Header fields: a record (an array value repeats the field) or a flat `[name, value, …]` list. */
  readonly headers?: Readonly<Record<string, string | number | readonly string[] | undefined>> | readonly string[];
  /**
   * The body: text (UTF-8), bytes, or an async iterable of bytes (streamed: chunked, or with the
   * `content-length` given in `headers`). A streamed body is never pipelined nor re-sent.
   */
  readonly body?: RequestBody;
  /** Cancels the request (and, once it is on the wire, its connection). */
  readonly signal?: AbortSignal;
  /**
   * Treat the request as idempotent or not, whatever its method (as undici's option). `true`: it
   * may be pipelined, and re-sent after a drop when its method is in `retry.methods`; `false`: it
   * is neither, and nothing is pipelined behind it until its response head arrives. Default: by
   * method (RFC 9110 §9.2.2).
   */
  readonly idempotent?: boolean;
}

/** Counters of a pool. */
export interface PoolStats {
  /** Connections now and in all. */
  readonly connections: {
    /** Connections opened so far (TCP handshakes made). */
    readonly opened: number;
    /** Open now. */
    readonly open: number;
    /** Connected with nothing in flight, not retiring or closing. */
    readonly idle: number;
    /** Open and not idle: `open - idle`. */
    readonly busy: number;
    /** Connections that carried more than one request. */
    readonly reused: number;
  };
  /** Connections closed, by reason. */
  readonly closedBy: Readonly<Record<ConnectionCloseReason, number>>;
  /** Responses received. */
  readonly requests: number;
  /** Requests written while others were in flight on their connection. */
  readonly pipelinedRequests: number;
  /** Requests written again after their connection dropped. */
  readonly retries: number;
  /** Closed connections by the number of responses each carried: `{ [responses]: connections }`. */
  readonly requestsPerConnection: Readonly<Record<number, number>>;
  /** Responses received on a connection that had carried one before: handshakes not made. */
  readonly handshakesSaved: number;
}

const REASONS: readonly ConnectionCloseReason[] = ['server-close', 'learned-limit', 'server-idle-close', 'keep-alive-timeout', 'keep-alive-max', 'error', 'timeout', 'client-close'];

function abortError(signal: AbortSignal, req: string, sent: boolean): ClientError {
  const reason: unknown = signal.reason;
  const why = reason instanceof Error ? reason.message : 'aborted';
  return new ClientError('TETHER_ABORTED', `${req}: ${why}`, { mayHaveBeenProcessed: sent, cause: reason });
}

/**
 * Persistent connections to one origin, shared by the requests sent to it. It is also an undici
 * `Dispatcher` (`dispatch()`, the `'connect'`, `'disconnect'`, `'connectionError'` and `'drain'`
 * events): `fetch(url, { dispatcher: pool })`.
 */
export class Pool extends EventEmitter {
  /** The origin, e.g. `http://127.0.0.1:8080`. */
  readonly origin: string;
  /** @internal */
  readonly options: ResolvedPoolOptions;
  /** @internal */
  readonly address: { readonly host: string; readonly port: number; readonly authority: string };
  readonly #queue: PendingRequest[] = [];
  readonly #conns: ClientConnection[] = [];
  #serial = 0;
  /** What the pool learned about the origin (origin-profile.ts). */
  #profile: OriginProfile = UNKNOWN_ORIGIN;
  #closing: { promise: Promise<void>; resolve: () => void } | null = null;
  #destroyed: Error | null = null;
  #dispatching = false;
  /** `dispatch()` said the pool was saturated: `'drain'` is owed once the queue empties. */
  #needDrain = false;
  #dispatchQueued = false;
  #redispatch = false;
  #opened = 0;
  #reused = 0;
  #responses = 0;
  #pipelined = 0;
  #retries = 0;
  #handshakesSaved = 0;
  readonly #closedBy = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<ConnectionCloseReason, number>;
  readonly #perConnection: Record<number, number> = {};
  readonly #host: ConnectionHost;
  /** `['Host', authority]`: the head fields of a request without fields of its own. */
  readonly #hostOnly: readonly string[];

  constructor(origin: string | URL, options: PoolOptions = {}) {
    super();
    const url = new URL(origin);
    if (url.protocol !== 'http:') throw new TypeError(`@tether/client speaks plain HTTP/1.1: ${url.protocol} origins are not supported`);
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      throw new TypeError(`an origin is scheme, host and port only, got ${String(origin)}`);
    }
    this.origin = url.origin;
    this.options = resolvePoolOptions(options);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.address = { host, port: url.port === '' ? 80 : Number(url.port), authority: url.host };
    this.#hostOnly = Object.freeze(['Host', url.host]);
    // The connections' view of the pool (kept off the public surface).
    this.#host = {
      options: this.options,
      origin: this.origin,
      address: this.address,
      lastRequest: () => this.#closing !== null && this.#queue.length === 0,
      keepAlive: () => this.options.keepAlive && this.#profile.reuseSafe,
      onFree: () => this.#dispatch(),
      onConnected: (conn) => {
        traceConnection('connected', conn, this.origin, null);
        if (this.listenerCount('connect') > 0) this.#emit('connect', this.origin, [this]);
      },
      onSent: (conn, req) => {
        traceRequest('headers', req, this.origin, conn);
        req.onWritten?.();
        if (req.pipelined) this.#pipelined++;
        if (req.resend) {
          // Counted when it is written again, not when it was put back (it may be aborted first).
          req.resend = false;
          this.#retries++;
        }
      },
      onAnswered: (conn) => {
        this.#responses++;
        // A response on a connection that carried one before: a handshake not made.
        if (conn.answered > 1) this.#handshakesSaved++;
      },
      observe: (_conn, observation) => {
        this.#profile = observeOrigin(this.#profile, observation);
      },
      learnedLimit: () => this.#profile.limitPerConnection,
      onClosed: (conn, reason, requeue) => this.#onClosed(conn, reason, requeue),
    };
  }

  /** `close()` or `destroy()` was called: no new requests are taken. */
  get closed(): boolean {
    return this.#closing !== null;
  }

  /** `destroy()` was called. */
  get destroyed(): boolean {
    return this.#destroyed !== null;
  }

  /**
   * undici's `Dispatcher.dispatch`: send a request described by `options`, reporting to
   * `handler` (either handler style of undici 7). Returns false when the pool is saturated (the
   * request waits for a connection); `'drain'` follows once it can take more. Errors, including
   * invalid options, reach the handler's `onError` / `onResponseError`.
   */
  dispatch(options: DispatchOptions, handler: DispatchHandler): boolean {
    return dispatchOn(this, options, handler);
  }

  /** @internal Queue a request made by `dispatch()`. Returns false when the pool is saturated. */
  enqueue(req: PendingRequest): boolean {
    traceRequest('create', req, this.origin, null);
    this.#queue.push(req);
    this.#scheduleDispatch();
    if (this.#queue.length <= this.#freeSlots()) return true;
    this.#needDrain = true;
    return false;
  }

  /** @internal Requests queued or on a connection, and connections open: 0 and 0 when the pool is idle and empty. */
  get load(): { readonly requests: number; readonly connections: number } {
    let requests = this.#queue.length;
    for (const conn of this.#conns) requests += conn.load;
    return { requests, connections: this.#conns.length };
  }

  /** @internal Whether new requests are refused, and why (null: taken). */
  refusal(): string | null {
    if (this.#destroyed !== null) return 'destroyed';
    if (this.#closing !== null) return 'closing';
    return null;
  }

  /** @internal Cancel `req` with `err`: out of the queue, or its connection destroyed, or its body failed. */
  cancel(req: PendingRequest, err: Error): void {
    const queued = this.#queue.indexOf(req);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      req.fail(err);
    } else if (req.connection !== null) req.connection.abort(req, err);
    else if (req.response !== null) req.response.body.fail(err);
    else req.fail(err);
  }

  /** Requests that could be handed to a connection now (a cheap upper bound, for `dispatch()`). */
  #freeSlots(): number {
    let free = this.options.connections - this.#conns.length;
    const depth = this.#profile.pipeliningSafe ? this.options.pipelining : 1;
    for (const conn of this.#conns) if (!conn.retiring) free += Math.max(0, depth - conn.load);
    return free;
  }

  #scheduleDispatch(): void {
    if (!this.#dispatchQueued) {
      this.#dispatchQueued = true;
      queueMicrotask(() => {
        this.#dispatchQueued = false;
        this.#dispatch();
      });
    }
  }

  /** Emit an event; a throwing listener is the caller's bug, rethrown outside the pool's bookkeeping. */
  #emit(event: string, ...args: unknown[]): void {
    try {
      this.emit(event, ...args);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }

  /** Whether this origin is still trusted to answer pipelined requests (false once one dropped them). */
  get pipeliningSafe(): boolean {
    return this.#profile.pipeliningSafe;
  }

  /**
   * Whether connections to this origin are reused: the `keepAlive` option, turned off when the
   * server closed connections after one response each, unannounced, and never carried two.
   */
  get reusingConnections(): boolean {
    return this.options.keepAlive && this.#profile.reuseSafe;
  }

  /**
   * What the pool learned about the origin so far: a limit of requests per connection (the
   * server closes after the same number every time), whether pipelining and reuse are safe,
   * and the evidence.
   */
  get originProfile(): OriginProfile {
    return this.#profile;
  }

  /**
   * Send a request. Resolves with the response as soon as its head has arrived; read its body
   * (or `dump()` it) to free the connection for the responses behind it.
   */
  request(options: RequestOptions = {}): Promise<ClientResponse> {
    return new Promise<ClientResponse>((resolve, reject) => {
      const method = options.method ?? 'GET';
      const path = options.path ?? '/';
      if (this.#destroyed !== null || this.#closing !== null) {
        reject(new ClientError('TETHER_CLOSED', `${method} ${path}: the pool is ${this.#destroyed !== null ? 'destroyed' : 'closing'}`, { mayHaveBeenProcessed: false }));
        return;
      }
      let req: PendingRequest;
      try {
        req = this.#prepare(options, method, path, resolve, reject);
      } catch (err) {
        reject(err instanceof ClientError ? err : new ClientError('TETHER_INVALID_REQUEST', `${method} ${path}: ${String((err as Error).message)}`, { mayHaveBeenProcessed: false, cause: err }));
        return;
      }
      const signal = options.signal;
      if (signal !== undefined) {
        if (signal.aborted) {
          req.fail(abortError(signal, req.toString(), false));
          return;
        }
        const onAbort = (): void => this.cancel(req, abortError(signal, req.toString(), req.written));
        signal.addEventListener('abort', onAbort, { once: true });
        // Once the response (body included) is complete or failed, nothing is left to cancel.
        req.onSettled = () => signal.removeEventListener('abort', onAbort);
      }
      traceRequest('create', req, this.origin, null);
      this.#queue.push(req);
      // Requests made in the same turn are dispatched together, so a burst pipelined onto a
      // connection leaves in one write (a response freeing a connection dispatches at once).
      this.#scheduleDispatch();
    });
  }

  #prepare(options: RequestOptions, method: string, path: string, resolve: (res: ClientResponse) => void, reject: (err: Error) => void): PendingRequest {
    const given = options.body;
    const idempotent = options.idempotent ?? isIdempotentMethod(method);
    if (options.headers === undefined && (given === undefined || typeof given === 'string' || given instanceof Uint8Array)) {
      // No fields of the caller's: the pool's own Host line, shared by every such request.
      const retryable = idempotent && this.options.retryMethods.has(method);
      return new PendingRequest({ method, path, headers: this.#hostOnly, body: given ?? null, contentLength: undefined, retryable, signal: options.signal, idempotent, resolve, reject });
    }
    const fields = Fields.from(options.headers ?? []);
    const list = [...fields.raw];
    if (!fields.has('host')) list.push('Host', this.address.authority);
    let body: string | Uint8Array | AsyncIterable<Uint8Array> | null = null;
    let contentLength: number | undefined;
    if (typeof given === 'string' || given instanceof Uint8Array) body = given;
    else if (given !== undefined) {
      body = given;
      const declared = fields.get('content-length');
      if (declared !== undefined) contentLength = Number(declared);
    }
    // A whole body's length is added by the protocol; a declared one must not be repeated.
    const whole = typeof body === 'string' || body instanceof Uint8Array;
    const headers = whole ? list.filter((_, i, all) => !(i % 2 === 0 && all[i]!.toLowerCase() === 'content-length') && !(i % 2 === 1 && all[i - 1]!.toLowerCase() === 'content-length')) : list;
    const retryable = idempotent && this.options.retryMethods.has(method) && (body === null || whole);
    return new PendingRequest({ method, path, headers, body, contentLength, retryable, signal: options.signal, idempotent, resolve, reject });
  }

  /** Hand queued requests to connections, as far as they can take them. */
  #dispatch(): void {
    if (this.#dispatching) {
      this.#redispatch = true;
      return;
    }
    this.#dispatching = true;
    const touched = new Set<ClientConnection>();
    try {
      do {
        this.#redispatch = false;
        for (;;) {
          const req = this.#queue[0];
          if (req === undefined) break;
          if (req.settled) {
            this.#queue.shift();
            continue;
          }
          const conn = this.#pick(req);
          if (conn === null) break;
          this.#queue.shift();
          conn.take(req);
          touched.add(conn);
        }
      } while (this.#redispatch);
    } finally {
      this.#dispatching = false;
      // Each connection's new requests leave in one write.
      for (const conn of touched) conn.flush();
    }
    if (this.#needDrain && this.#queue.length === 0) {
      this.#needDrain = false;
      if (this.listenerCount('drain') > 0) queueMicrotask(() => this.#emit('drain', this.origin, [this]));
    }
    this.#settleClose();
  }

  #pick(req: PendingRequest): ClientConnection | null {
    const pipelining = this.#profile.pipeliningSafe ? this.options.pipelining : 1;
    for (const conn of this.#conns) if (conn.idle && conn.canTake(req, pipelining)) return conn;
    // A connection resting after its response is as good as idle: the request waits for it (it
    // takes requests in the check phase) rather than opening a connection or pipelining.
    for (const conn of this.#conns) if (conn.resting && req.freshAfter < conn.serial) return null;
    if (this.#conns.length < this.options.connections) return this.#open();
    let best: ClientConnection | null = null;
    for (const conn of this.#conns) if ((best === null || conn.load < best.load) && conn.canTake(req, pipelining)) best = conn;
    if (best === null && req.freshAfter > 0) {
      // A re-sent request needs a connection newer than the one that dropped it: make room by
      // retiring an idle older one (it may well be stale too).
      const stale = this.#conns.find((c) => c.idle && c.serial <= req.freshAfter);
      stale?.close('client-close');
    }
    return best;
  }

  #open(): ClientConnection {
    const conn = new ClientConnection(this.#host, ++this.#serial);
    this.#opened++;
    this.#conns.push(conn);
    return conn;
  }

  #onClosed(conn: ClientConnection, reason: ConnectionCloseReason, requeue: PendingRequest[]): void {
    const i = this.#conns.indexOf(conn);
    if (i >= 0) this.#conns.splice(i, 1);
    this.#closedBy[reason]++;
    this.#perConnection[conn.answered] = (this.#perConnection[conn.answered] ?? 0) + 1;
    if (conn.answered > 1) this.#reused++;
    traceConnection('closed', conn, this.origin, reason);
    const event = conn.connected ? 'disconnect' : 'connectionError';
    if (this.listenerCount(event) > 0) {
      const err = conn.error ?? new ClientError('TETHER_CONNECTION_LOST', `${this.origin}: connection closed (${reason})`, { mayHaveBeenProcessed: false });
      this.#emit(event, this.origin, [this], err);
    }
    if (this.#destroyed !== null) {
      for (const req of requeue) req.fail(this.#destroyed);
    } else {
      this.#queue.unshift(...requeue);
      if (!conn.connected && conn.error !== null) this.#connectFailed(conn.error);
    }
    this.#dispatch();
  }

  /**
   * A connect attempt failed with `err`: each queued request meets the fate `queuedRequestFate`
   * decides (lost-request-policy.ts) — it fails unless a connection that is up can take it, so a
   * refusing origin is not tried once per queued request.
   */
  #connectFailed(err: ClientError): void {
    let live = false;
    for (const conn of this.#conns) if (conn.connected && !conn.retiring) live = true;
    const failed: PendingRequest[] = [];
    for (const req of this.#queue.splice(0)) {
      switch (queuedRequestFate({ settled: req.settled, liveConnection: live })) {
        case 'ignore':
          break;
        case 'wait':
          this.#queue.push(req);
          break;
        case 'fail-not-connected':
          failed.push(req);
          break;
      }
    }
    // Failed once the queue is consistent: a rejection may reach a handler that dispatches again.
    for (const req of failed) req.fail(new ClientError(err.code, `${req.toString()}: ${err.message}`, { mayHaveBeenProcessed: false, cause: err.cause }));
  }

  /** Closing: once nothing is queued, close idle connections; busy ones close after their last response. */
  #settleClose(): void {
    const closing = this.#closing;
    if (closing === null || this.#queue.length > 0) return;
    for (const conn of [...this.#conns]) conn.close('client-close');
    if (this.#conns.length === 0) closing.resolve();
  }

  /**
   * Finish every queued and in-flight request, then close every connection gracefully. Resolves
   * (or calls `callback`) once every connection is closed.
   */
  close(): Promise<void>;
  close(callback: CloseCallback): void;
  close(callback?: CloseCallback): Promise<void> | void {
    if (this.#closing === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#closing = { promise, resolve };
      this.#settleClose();
    }
    return promiseOrCallback(this.#closing.promise, callback);
  }

  /**
   * Abort everything now: queued and in-flight requests fail with `err` (default: TETHER_CLOSED).
   * Resolves (or calls `callback`) once every connection is closed.
   */
  destroy(err?: Error | null): Promise<void>;
  destroy(callback: CloseCallback): void;
  destroy(err: Error | null | undefined, callback: CloseCallback): void;
  destroy(errOrCallback?: Error | null | CloseCallback, callback?: CloseCallback): Promise<void> | void {
    const { err, callback: cb } = destroyArguments(errOrCallback, callback);
    return promiseOrCallback(this.#destroy(err), cb);
  }

  /** Close gracefully (`await using pool = new Pool(…)`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #destroy(err: Error | undefined): Promise<void> {
    if (this.#destroyed !== null) return this.#closing!.promise;
    const reason = err ?? new ClientError('TETHER_CLOSED', 'the pool was destroyed', { mayHaveBeenProcessed: true });
    this.#destroyed = reason;
    for (const req of this.#queue.splice(0)) req.fail(new ClientError('TETHER_CLOSED', `${req.toString()}: the pool was destroyed`, { mayHaveBeenProcessed: false, cause: err }));
    for (const conn of [...this.#conns]) conn.destroy(reason, 'client-close');
    if (this.#closing === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#closing = { promise, resolve };
    }
    if (this.#conns.length === 0) this.#closing.resolve();
    return this.#closing.promise;
  }

  /** Counters so far. */
  stats(): PoolStats {
    let idle = 0;
    for (const conn of this.#conns) if (conn.idle) idle++;
    return {
      connections: { opened: this.#opened, open: this.#conns.length, idle, busy: this.#conns.length - idle, reused: this.#reused + this.#conns.filter((c) => c.answered > 1).length },
      closedBy: { ...this.#closedBy },
      requests: this.#responses,
      pipelinedRequests: this.#pipelined,
      retries: this.#retries,
      requestsPerConnection: { ...this.#perConnection },
      handshakesSaved: this.#handshakesSaved,
    };
  }
}
