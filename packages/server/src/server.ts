/**
 * Theory of operation: the listening server. It accepts sockets (refusing beyond
 * `maxConnections`), gives each a ServerConnection, counts what happens for `stats()`, and runs
 * the graceful shutdown: stop accepting, close idle connections at once, let busy ones answer
 * what they have received (the last answer says `Connection: close`), destroy what remains at
 * the deadline, and report how each connection ended.
 *
 * It speaks node:http's dialect as well (see "node:http dialect" in the README): `listen` and
 * `close` each have a promise form and node's callback form, told apart by their arguments
 * alone (never by what they return); 'listening', 'close' and 'error' are the net.Server's,
 * forwarded; 'connection' and 'request' are emitted here. Settable timeouts replace the options
 * object, which each connection captures when it is accepted: they govern new connections.
 */

import { EventEmitter } from 'node:events';
import type http from 'node:http';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { checkTimeout, timerDelay } from '@tether/protocol';
import { CLOSE_REASONS } from './close-reason.js';
import type { CloseReason } from './close-reason.js';
import { resolveServerOptions } from './options.js';
import type { RequestEvent } from './expectation.js';
import type { ResolvedServerOptions, ServerOptions } from './options.js';
import type { ServerRequest } from './request.js';
import type { ServerResponse } from './response.js';
import { wantsNodeObjects } from './node-exchange.js';
import { ServerConnection } from './server-connection.js';

/** A request handler, as in node:http. What it returns is ignored, except that a rejected promise is handled like a throw. */
export type Handler = (req: ServerRequest, res: ServerResponse) => unknown;

/** A handler typed with node:http's classes (an Express application, Koa's `app.callback()`). */
export type NodeHandler = (req: http.IncomingMessage, res: http.ServerResponse) => unknown;

/** Counters of a server's life so far. */
export interface ServerStats {
  /** Connections now and in all. */
  readonly connections: {
    /** Open now. */
    readonly open: number;
    /** Open with no request being answered or waiting. */
    readonly idle: number;
    /** Open and answering or holding a request: `open - idle`. */
    readonly active: number;
    /** Accepted since the server started. */
    readonly total: number;
  };
  /** Requests received since the server started. */
  readonly requests: number;
  /** Requests that arrived while an earlier one on the same connection was still unanswered. */
  readonly pipelinedRequests: number;
  /** Closed connections by the number of requests they served. */
  readonly requestsPerConnection: Readonly<Record<number, number>>;
  /** Closed connections by why they closed. */
  readonly closedBy: Readonly<Record<CloseReason, number>>;
}

/** What `close()` did. */
export interface ShutdownReport {
  /** Connections that were idle and closed at once. */
  readonly closedIdle: number;
  /** Connections that finished their requests and then closed. */
  readonly drained: number;
  /** Connections destroyed at the deadline. */
  readonly forced: number;
  /** Requests answered during the shutdown. */
  readonly requestsCompleted: number;
}

/**
 * Options of the promise form of `listen()`: node's `net.ListenOptions` (`port`, `host`,
 * `backlog`, `exclusive`, `ipv6Only`, `reusePort`, `signal`…), passed through to
 * `net.Server.listen`. Without `port` (or `path`, `fd`, `handle`) the port is 0.
 */
export type ListenOptions = net.ListenOptions;

/** A callback of node's `close(cb)`: `err` is `ERR_SERVER_NOT_RUNNING` when the server was not listening. */
export type CloseCallback = (err?: Error) => void;

/** A plain object (not a handle such as a net.Server or socket): the promise form's argument. */
function isPlainObject(value: unknown): value is ListenOptions {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** node's 0 ("none") for a timeout or limit tether holds as Infinity. */
function nodeValue(value: number): number {
  return value === Number.POSITIVE_INFINITY ? 0 : value;
}

/** What node's 'drop' event carries about a refused socket. */
function dropData(socket: Socket): Record<string, string | number | undefined> {
  return {
    localAddress: socket.localAddress,
    localPort: socket.localPort,
    localFamily: socket.localFamily,
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    remoteFamily: socket.remoteFamily,
  };
}

/** The error node's `close(cb)` passes when the server is not listening. */
function notRunning(): Error {
  return Object.assign(new Error('Server is not running.'), { code: 'ERR_SERVER_NOT_RUNNING' });
}

/** Options of `close()`. */
export interface CloseOptions {
  /**
   * Ms to let busy connections finish before destroying them. Default 10000; `Infinity` waits
   * for ever; 0 destroys them at once. A negative number or NaN is a RangeError.
   */
  readonly timeout?: number;
}

/**
 * A keep-alive-aware HTTP/1.1 server. Events: 'error' (`(err, req)`: a handler failed; `(err)`:
 * listening failed, as node's), 'clientError' (`(err, socket)`: a peer sent bad HTTP, was too
 * slow, or its socket failed; the listener owns the socket and answers, as with node:http), 'upgrade'
 * (`(req, socket, head)`: a request with Upgrade; the listener owns the socket and writes the 101
 * itself, as with node:http), and node's 'listening', 'close' (listening stopped and every
 * connection is gone), 'connection' (the accepted net.Socket), 'request' (`(req, res)`), and
 * 'checkContinue' / 'checkExpectation' (`(req, res)`: a request with Expect, in place of the
 * handler; see expectation.ts).
 */
export class TetherServer extends EventEmitter {
  /** The options as given, kept so that a settable property can re-resolve them. */
  #given: ServerOptions;
  #options: ResolvedServerOptions;
  readonly #handler: Handler | null;
  readonly #net: net.Server;
  /** Promise-form `listen` calls not settled yet (a listen error then rejects them). */
  #listenPromises = 0;
  /** The net.Server closed; 'close' waits for the last connection's `onClosed` as well. */
  #closePending = false;
  /** The last listen error reached an 'error' listener (read by a promise-form listen it rejects). */
  #errorHeard = false;
  /** node's `server.timeout`: socket inactivity ms for new connections (0: none). */
  #socketTimeout = 0;
  readonly #connections = new Set<ServerConnection>();
  #total = 0;
  #requests = 0;
  #pipelined = 0;
  readonly #perConnection: Record<number, number> = {};
  readonly #closedBy = Object.fromEntries(CLOSE_REASONS.map((r) => [r, 0])) as Record<CloseReason, number>;
  #shutdown: { closedIdle: number; forced: number; completed: number; answeredAtStart: Map<ServerConnection, number> } | null = null;
  /** Resolves `close()` once the last connection is gone. */
  #allClosed: (() => void) | null = null;

  /** `handler` answers every request; without one, the 'request' listeners do (as node:http's). */
  constructor(options: ServerOptions, handler: Handler | null = null) {
    super();
    this.#given = options;
    this.#options = resolveServerOptions(options);
    this.#handler = handler;
    this.#net = net.createServer({ allowHalfOpen: true, noDelay: this.#options.noDelay }, (socket) => this.#accept(socket));
    this.#net.on('listening', () => this.emit('listening'));
    this.#net.on('close', () => {
      this.#closePending = true;
      this.#emitCloseIfDrained();
    });
    this.#net.on('error', (err) => this.#onNetError(err));
  }

  /** The options in force for connections accepted from now on. */
  get options(): ResolvedServerOptions {
    return this.#options;
  }

  /**
   * @internal Whether handlers get node:http's objects (the `nodeObjects` option): as set, else
   * whether the handler or a 'request' listener asks for them (read per accepted connection).
   */
  get nodeObjects(): boolean {
    return this.#options.nodeObjects ?? (wantsNodeObjects(this.#handler) || (this.listenerCount('request') > 0 && this.listeners('request').some(wantsNodeObjects)));
  }

  #set(change: ServerOptions): void {
    const given = { ...this.#given, ...change };
    this.#options = resolveServerOptions(given);
    this.#given = given;
  }

  /**
   * Listen; resolves with the bound address (a string for a pipe `path`). This promise form is
   * chosen by its arguments: exactly one plain object and no callback. It binds as node's
   * `listen(options)` does (emitting 'listening'), so a framework that calls
   * `server.listen(options)` and waits for 'listening' works too. Options node refuses (a bad
   * port, listening twice) throw at once, as node's `listen` throws them. A listen error (such
   * as EADDRINUSE) rejects the promise; when the server has 'error' listeners they get it as
   * well and the promise counts as handled (no unhandled rejection for a caller that waits on
   * events).
   */
  listen(options: ListenOptions): Promise<AddressInfo>;
  /**
   * node's form: `listen([port[, host[, backlog]]][, cb])`, `listen(options, cb)`, `listen()`.
   * Passed to `net.Server.listen` unchanged: binding to an IP address (or no host) happens before
   * it returns, so `address()` works on the next line; a host name is looked up first. `cb`
   * becomes a 'listening' listener. Returns the server; a listen error is emitted as 'error'.
   */
  listen(port?: number, host?: string, backlog?: number, cb?: () => void): this;
  listen(port: number, host: string, cb?: () => void): this;
  listen(port: number, cb?: () => void): this;
  listen(options: ListenOptions, cb: () => void): this;
  listen(cb: () => void): this;
  listen(...args: unknown[]): Promise<AddressInfo> | this {
    if (args.length === 1 && isPlainObject(args[0])) return this.#listenPromise(args[0]);
    const last = args.at(-1);
    if (typeof last === 'function') {
      args.pop();
      this.once('listening', last as () => void);
    }
    const netServer = this.#net;
    (netServer.listen as (this: net.Server, ...a: unknown[]) => net.Server).apply(netServer, args);
    return this;
  }

  #listenPromise(options: ListenOptions): Promise<AddressInfo> {
    const o = options as ListenOptions & { fd?: unknown; handle?: unknown };
    const bound = o.port === undefined && o.path === undefined && o.fd === undefined && o.handle === undefined ? { ...options, port: 0 } : options;
    let promise: Promise<AddressInfo> | null = null;
    let cancel = (): void => undefined;
    promise = new Promise<AddressInfo>((resolve, reject) => {
      const done = (): void => {
        this.#listenPromises--;
        this.#net.off('listening', onListening);
        this.#net.off('error', onError);
      };
      const onListening = (): void => {
        done();
        resolve(this.#net.address() as AddressInfo);
      };
      const onError = (err: Error): void => {
        done();
        if (this.#errorHeard) promise?.catch(() => undefined);
        reject(err);
      };
      this.#listenPromises++;
      this.#net.once('listening', onListening);
      this.#net.once('error', onError);
      cancel = done;
    });
    try {
      this.#net.listen(bound);
    } catch (err) {
      // Arguments node refuses (a bad port, listening twice) throw here, as node's listen does.
      cancel();
      throw err;
    }
    return promise;
  }

  /** A listen error: to 'error' listeners; with none and no promise to reject, thrown as node's would be. */
  #onNetError(err: Error): void {
    this.#errorHeard = this.listenerCount('error') > 0;
    if (this.#errorHeard || this.#listenPromises === 0) this.emit('error', err);
  }

  /** The bound address, or null when not listening. */
  address(): AddressInfo | null {
    return this.#net.address() as AddressInfo | null;
  }

  /** Whether the server is listening (node's `server.listening`). */
  get listening(): boolean {
    return this.#net.listening;
  }

  /**
   * node's internal listening handle (null when not listening), which tools read to tell whether
   * a server listens: supertest closes the server it started only when it has one.
   */
  get _handle(): unknown {
    return (this.#net as unknown as { _handle: unknown })._handle ?? null;
  }

  /** Let the process exit while only this server is left (node's `unref()`). */
  unref(): this {
    this.#net.unref();
    return this;
  }

  /** Undo `unref()`. */
  ref(): this {
    this.#net.ref();
    return this;
  }

  /**
   * node's `keepAliveTimeout` (ms; 0: never close an idle connection). Setting it governs
   * connections accepted afterwards; open ones keep the value they were accepted with.
   */
  get keepAliveTimeout(): number {
    return nodeValue(this.#options.keepAliveTimeout);
  }
  /** A value the option refuses throws a RangeError and changes nothing. */
  set keepAliveTimeout(ms: number) {
    this.#set({ keepAliveTimeout: ms });
  }

  /** node's `headersTimeout` (ms; 0: none). Setting it governs connections accepted afterwards. */
  get headersTimeout(): number {
    return nodeValue(this.#options.headersTimeout);
  }
  /** A value the option refuses throws a RangeError and changes nothing. */
  set headersTimeout(ms: number) {
    this.#set({ headersTimeout: ms });
  }

  /** node's `requestTimeout` (ms; 0: none). Setting it governs connections accepted afterwards. */
  get requestTimeout(): number {
    return nodeValue(this.#options.requestTimeout);
  }
  /** A value the option refuses throws a RangeError and changes nothing. */
  set requestTimeout(ms: number) {
    this.#set({ requestTimeout: ms });
  }

  /**
   * node's `maxRequestsPerSocket`: tether's `keepAliveMax` (0: no limit, as node's). Setting it
   * governs connections accepted afterwards.
   */
  get maxRequestsPerSocket(): number {
    return nodeValue(this.#options.keepAliveMax);
  }
  /** A value the option refuses throws a RangeError and changes nothing. */
  set maxRequestsPerSocket(max: number) {
    this.#set({ keepAliveMax: max === 0 ? Number.POSITIVE_INFINITY : max });
  }

  /**
   * node's `server.timeout`: ms of socket inactivity (nothing read or written) after which a
   * connection accepted afterwards is destroyed, or handed to the 'timeout' listeners (the
   * socket) when there are any. 0 (the default, as node's since 13): none.
   */
  get timeout(): number {
    return this.#socketTimeout;
  }
  /** A value the option refuses throws a RangeError and changes nothing. */
  set timeout(ms: number) {
    this.#socketTimeout = nodeValue(checkTimeout('timeout', ms));
  }

  /** node's `setTimeout(ms[, cb])`: sets `timeout`; `cb` becomes a 'timeout' listener. */
  setTimeout(ms = 0, cb?: (socket: Socket) => void): this {
    this.timeout = ms;
    if (cb !== undefined) this.on('timeout', cb);
    return this;
  }

  /**
   * node's `maxHeadersCount`: `req.headers` reads the first this many field lines (0: all).
   * `null` until set, as node's, which means 2000. Setting it governs connections accepted
   * afterwards.
   */
  get maxHeadersCount(): number | null {
    return this.#given.maxHeadersCount ?? null;
  }
  /** A value the option refuses throws a RangeError and changes nothing. */
  set maxHeadersCount(max: number | null) {
    this.#set({ maxHeadersCount: max });
  }

  /** node's `joinDuplicateHeaders`: `req.headers` joins every repeated name. Governs connections accepted afterwards. */
  get joinDuplicateHeaders(): boolean {
    return this.#given.joinDuplicateHeaders ?? false;
  }
  /** A value the option refuses throws a RangeError and changes nothing. */
  set joinDuplicateHeaders(join: boolean) {
    this.#set({ joinDuplicateHeaders: join });
  }

  /**
   * node's `maxConnections`: with this many connections open, more are refused (closed at once)
   * and reported as 'drop'. Infinity (the default; node reads `undefined`): no limit. Counted are
   * the connections tether serves: a socket handed to an 'upgrade' listener no longer is.
   */
  get maxConnections(): number {
    return this.#options.maxConnections;
  }
  /** A value the option refuses throws a RangeError and changes nothing. */
  set maxConnections(max: number) {
    this.#set({ maxConnections: max });
  }

  /** node's `getConnections(cb)`: `cb(null, n)`, asynchronously, with the connections open (those `maxConnections` counts). */
  getConnections(cb: (err: Error | null, count: number) => void): this {
    process.nextTick(cb, null, this.#connections.size);
    return this;
  }

  /** node's `requireHostHeader`: an HTTP/1.1 request without Host gets 400. Governs connections accepted afterwards. */
  get requireHostHeader(): boolean {
    return this.#given.requireHostHeader ?? true;
  }
  /** A value the option refuses throws a RangeError and changes nothing. */
  set requireHostHeader(require: boolean) {
    this.#set({ requireHostHeader: require });
  }

  #accept(socket: Socket): void {
    if (this.#shutdown !== null || this.#connections.size >= this.options.maxConnections) {
      // node's 'drop' (≥ 18.6): a connection refused for maxConnections, with its addresses.
      if (this.#shutdown === null && this.listenerCount('drop') > 0) this.#emitSafely('drop', dropData(socket));
      socket.destroy();
      return;
    }
    this.#total++;
    const conn = new ServerConnection(socket, this);
    this.#connections.add(conn);
    if (this.#socketTimeout > 0) {
      socket.setTimeout(this.#socketTimeout, () => {
        if (this.listenerCount('timeout') > 0) this.#emitSafely('timeout', socket);
        else conn.force();
      });
    }
    if (this.listenerCount('connection') > 0) this.#emitSafely('connection', socket);
  }

  /** Emit one of the server's own events; a listener that throws becomes a process warning. */
  #emitSafely(event: string, ...args: unknown[]): void {
    try {
      this.emit(event, ...args);
    } catch (thrown) {
      process.emitWarning(thrown instanceof Error ? thrown : String(thrown), { code: 'TETHER_LISTENER_THREW', detail: `a '${event}' listener of @tether/server threw` });
    }
  }

  /**
   * @internal The handler given to createServer answers, then the 'request' listeners run (in
   * node:http the handler is the first 'request' listener); a throw from either is the handler's.
   * A request routed to 'checkContinue' or 'checkExpectation' (expectation.ts) goes to that
   * event's listeners instead, as node's.
   */
  handle(req: ServerRequest, res: ServerResponse, event: RequestEvent = 'request'): unknown {
    if (event !== 'request') {
      this.emit(event, req, res);
      return undefined;
    }
    const result = this.#handler === null ? undefined : this.#handler(req, res);
    // EventEmitter's own table (a key per event with listeners): `listenerCount` on every request
    // cost a call where a lookup will do.
    if ((this as unknown as { _events: Record<string, unknown> })._events.request !== undefined) this.emit('request', req, res);
    return result;
  }

  /**
   * @internal Tell 'error' listeners that a handler failed. A listener that throws cannot break
   * the connection that reported: its error becomes a process warning.
   */
  reportError(err: unknown, req: ServerRequest): void {
    if (this.listenerCount('error') === 0) return;
    this.#emitSafely('error', err, req);
  }

  /**
   * @internal node's 'clientError' `(err, socket)`: a peer sent bad HTTP, was too slow, or its
   * socket failed; the listeners own the socket (see client-error.ts). A throw becomes a process
   * warning.
   */
  clientError(err: Error, socket: Socket): void {
    this.#emitSafely('clientError', err, socket);
  }

  /** @internal An 'upgrade' listener takes the socket, as in node:http (a throw is the caller's to handle). */
  upgrade(req: ServerRequest, socket: Socket, head: Uint8Array, detach: () => void): boolean {
    if (this.listenerCount('upgrade') === 0) return false;
    detach();
    this.emit('upgrade', req, socket, Buffer.from(head));
    return true;
  }

  /** @internal */
  onRequest(pipelined: boolean): void {
    this.#requests++;
    if (pipelined) this.#pipelined++;
  }

  /** @internal */
  onClosed(conn: ServerConnection, reason: CloseReason, requests: number): void {
    this.#connections.delete(conn);
    this.#closedBy[reason]++;
    this.#perConnection[requests] = (this.#perConnection[requests] ?? 0) + 1;
    const shutdown = this.#shutdown;
    if (shutdown !== null) {
      shutdown.completed += conn.answered - (shutdown.answeredAtStart.get(conn) ?? conn.answered);
      if (reason === 'forced') shutdown.forced++;
    }
    if (this.#connections.size === 0) {
      this.#allClosed?.();
      this.#emitCloseIfDrained();
    }
  }

  /** 'close' once listening stopped and every connection is gone, as node's. */
  #emitCloseIfDrained(): void {
    if (!this.#closePending || this.#connections.size > 0) return;
    this.#closePending = false;
    this.emit('close');
  }

  /** Counters so far. */
  stats(): ServerStats {
    let idle = 0;
    for (const c of this.#connections) if (c.idle) idle++;
    return {
      connections: { open: this.#connections.size, idle, active: this.#connections.size - idle, total: this.#total },
      requests: this.#requests,
      pipelinedRequests: this.#pipelined,
      requestsPerConnection: { ...this.#perConnection },
      closedBy: { ...this.#closedBy },
    };
  }

  /**
   * Graceful shutdown: stop accepting; close idle connections at once; let busy ones answer what
   * they have received (the last answer says `Connection: close`); destroy what remains after
   * `timeout` ms. Resolves when every connection is gone (after 'close').
   *
   * @throws RangeError (as a rejection) when `timeout` is negative or NaN.
   */
  close(options?: CloseOptions): Promise<ShutdownReport>;
  /**
   * node's form: the same graceful shutdown with no deadline (node waits for ever too; call
   * `closeAllConnections()` to stop waiting). `cb` becomes a 'close' listener, called when
   * every connection is gone, with `ERR_SERVER_NOT_RUNNING` when the server was not listening.
   */
  close(cb: CloseCallback): this;
  close(arg?: CloseOptions | CloseCallback): Promise<ShutdownReport> | this {
    if (typeof arg !== 'function') return this.#close(arg?.timeout);
    const running = this.#net.listening;
    this.once('close', running ? () => arg() : () => arg(notRunning()));
    // A shutdown under way is not restarted (that would orphan its promise): as node's, a
    // second close only waits for 'close' again.
    if (this.#shutdown === null) void this.#close(Number.POSITIVE_INFINITY);
    else this.#net.close();
    return this;
  }

  /** node's `closeIdleConnections()`: close, gracefully, every connection with no request in progress. */
  closeIdleConnections(): void {
    for (const conn of [...this.#connections]) if (conn.idle) conn.shutdown();
  }

  /** `this.closeIdleConnections()`, whoever defined it; what a replacement throws becomes the server's 'error'. */
  #closeIdle(): void {
    try {
      this.closeIdleConnections();
    } catch (err) {
      this.#emitSafely('error', err);
    }
  }

  /** node's `closeAllConnections()`: destroy every connection (listening goes on). */
  closeAllConnections(): void {
    for (const conn of [...this.#connections]) conn.force();
  }

  async #close(timeoutMs: number | undefined): Promise<ShutdownReport> {
    const timeout = timeoutMs === undefined ? 10_000 : checkTimeout('timeout', timeoutMs);
    const answeredAtStart = new Map([...this.#connections].map((c) => [c, c.answered]));
    const shutdown = { closedIdle: 0, forced: 0, completed: 0, answeredAtStart };
    this.#shutdown = shutdown;
    for (const conn of this.#connections) if (conn.idle) shutdown.closedIdle++;
    // As node's close(): through the instance, so a framework's own closeIdleConnections() runs
    // (Fastify counts on it). What it leaves open is closed below all the same.
    this.#closeIdle();
    const listening = new Promise<void>((resolve) => this.#net.close(() => resolve()));
    const allClosed = new Promise<void>((resolve) => (this.#allClosed = resolve));
    for (const conn of [...this.#connections]) conn.shutdown();
    const forceAll = (): void => {
      for (const conn of [...this.#connections]) conn.force();
    };
    const clock = this.options.clock;
    let deadline: unknown;
    if (timeout === 0) forceAll();
    else if (timeout !== Number.POSITIVE_INFINITY) {
      // A deadline past what a timer holds is re-armed in steps (never fired early).
      const end = clock.now() + timeout;
      const arm = (): void => {
        const left = end - clock.now();
        deadline = left <= 0 ? undefined : clock.setTimer(arm, timerDelay(left));
        // A pending close keeps the process alive until it is done (the clock's timers do not).
        (deadline as { ref?: () => void } | undefined)?.ref?.();
        if (left <= 0) forceAll();
      };
      arm();
    }
    if (this.#connections.size > 0) await allClosed;
    this.#allClosed = null;
    if (deadline !== undefined) clock.clearTimer(deadline);
    await listening;
    // Done: the server may listen again and accept (as node's can).
    if (this.#shutdown === shutdown) this.#shutdown = null;
    return {
      closedIdle: shutdown.closedIdle,
      drained: answeredAtStart.size - shutdown.closedIdle - shutdown.forced,
      forced: shutdown.forced,
      requestsCompleted: shutdown.completed,
    };
  }

  /**
   * node's `server[Symbol.asyncDispose]()` (node ≥ 20.4, for `await using`): `close(cb)`, resolved
   * on 'close'; rejected with `ERR_SERVER_NOT_RUNNING` when the server was not listening, as node's.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await new Promise<void>((resolve, reject) => this.close((err) => (err === undefined ? resolve() : reject(err))));
  }

  /** Close gracefully on SIGTERM and SIGINT (once); returns a function that removes the hooks. */
  closeOnSignals(options: CloseOptions = {}): () => void {
    const stop = (): void => {
      off();
      void this.close(options);
    };
    const off = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return off;
  }
}

/**
 * Create a server: `createServer(handler)`, `createServer(options, handler)`, or without a
 * handler (then 'request' listeners answer, as with node:http).
 */
export function createServer(handler?: Handler): TetherServer;
export function createServer(options: ServerOptions, handler?: Handler): TetherServer;
/**
 * Create a server for a handler written against node:http's types: an Express application, Koa's
 * `app.callback()`, or any `(req: IncomingMessage, res: ServerResponse)` function. It gets
 * node's own objects when it needs them (the `nodeObjects` option, and see its default), else
 * tether's, which honour the same contracts.
 */
export function createServer(handler: NodeHandler): TetherServer;
export function createServer(options: ServerOptions, handler: NodeHandler): TetherServer;
export function createServer(a?: ServerOptions | Handler | NodeHandler, b?: Handler | NodeHandler): TetherServer {
  if (typeof a === 'function') return new TetherServer({}, a as Handler);
  return new TetherServer(a ?? {}, (b as Handler | undefined) ?? null);
}
