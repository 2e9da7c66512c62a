/**
 * Theory of operation: the listening server. It accepts sockets (refusing beyond
 * `maxConnections`), gives each a ServerConnection, counts what happens for `stats()`, and runs
 * the graceful shutdown: stop accepting, close idle connections at once, let busy ones answer
 * what they have received (the last answer says `Connection: close`), destroy what remains at
 * the deadline, and report how each connection ended.
 */

import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { checkTimeout, timerDelay } from '@tether/protocol';
import { CLOSE_REASONS } from './close-reason.js';
import type { CloseReason } from './close-reason.js';
import { resolveServerOptions } from './options.js';
import type { ResolvedServerOptions, ServerOptions } from './options.js';
import type { ServerRequest } from './request.js';
import type { ServerResponse } from './response.js';
import { ServerConnection } from './server-connection.js';
import type { ConnectionHost } from './server-connection.js';

/** A request handler, as in node:http. What it returns is ignored, except that a rejected promise is handled like a throw. */
export type Handler = (req: ServerRequest, res: ServerResponse) => unknown;

/** Counters of a server's life so far. */
export interface ServerStats {
  readonly connections: { readonly open: number; readonly idle: number; readonly active: number; readonly total: number };
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

/** Options of `close()`. */
export interface CloseOptions {
  /**
   * Ms to let busy connections finish before destroying them. Default 10000; `Infinity` waits
   * for ever; 0 destroys them at once. A negative number or NaN is a RangeError.
   */
  readonly timeout?: number;
}

/**
 * A keep-alive-aware HTTP/1.1 server. Events: 'error' (a handler failed), 'clientError' (a peer
 * sent bad HTTP), 'upgrade' (`(req, socket, head)`: a request with Upgrade; the listener owns the
 * socket and writes the 101 itself, as with node:http).
 */
export class TetherServer extends EventEmitter implements ConnectionHost {
  readonly options: ResolvedServerOptions;
  readonly #handler: Handler;
  readonly #net: net.Server;
  readonly #connections = new Set<ServerConnection>();
  #total = 0;
  #requests = 0;
  #pipelined = 0;
  readonly #perConnection: Record<number, number> = {};
  readonly #closedBy = Object.fromEntries(CLOSE_REASONS.map((r) => [r, 0])) as Record<CloseReason, number>;
  #shutdown: { closedIdle: number; forced: number; completed: number; answeredAtStart: Map<ServerConnection, number> } | null = null;
  /** Resolves `close()` once the last connection is gone. */
  #allClosed: (() => void) | null = null;

  constructor(options: ServerOptions, handler: Handler) {
    super();
    this.options = resolveServerOptions(options);
    this.#handler = handler;
    this.#net = net.createServer({ allowHalfOpen: true, noDelay: this.options.noDelay }, (socket) => this.#accept(socket));
  }

  /** Listen; resolves with the bound address. */
  listen(options: { port?: number; host?: string } = {}): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#net.once('error', reject);
      this.#net.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        this.#net.off('error', reject);
        resolve(this.#net.address() as AddressInfo);
      });
    });
  }

  /** The bound address, or null before `listen`. */
  address(): AddressInfo | null {
    return this.#net.address() as AddressInfo | null;
  }

  #accept(socket: Socket): void {
    if (this.#shutdown !== null || this.#connections.size >= this.options.maxConnections) {
      socket.destroy();
      return;
    }
    this.#total++;
    this.#connections.add(new ServerConnection(socket, this));
  }

  /** @internal */
  handle(req: ServerRequest, res: ServerResponse): unknown {
    return this.#handler(req, res);
  }

  /**
   * @internal Tell 'error' (a handler failed) or 'clientError' (a peer sent bad HTTP) listeners.
   * A listener that throws cannot break the connection that reported: its error becomes a
   * process warning.
   */
  reportError(err: unknown, req: ServerRequest | null): void {
    const event = req === null ? 'clientError' : 'error';
    if (this.listenerCount(event) === 0) return;
    try {
      this.emit(event, err, req);
    } catch (thrown) {
      process.emitWarning(thrown instanceof Error ? thrown : String(thrown), { code: 'TETHER_LISTENER_THREW', detail: `a '${event}' listener of @tether/server threw` });
    }
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
    if (this.#connections.size === 0) this.#allClosed?.();
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
   * `timeout` ms. Resolves when every connection is gone.
   *
   * @throws RangeError (as a rejection) when `timeout` is negative or NaN.
   */
  async close(options: CloseOptions = {}): Promise<ShutdownReport> {
    const timeout = options.timeout === undefined ? 10_000 : checkTimeout('timeout', options.timeout);
    const answeredAtStart = new Map([...this.#connections].map((c) => [c, c.answered]));
    const shutdown = { closedIdle: 0, forced: 0, completed: 0, answeredAtStart };
    this.#shutdown = shutdown;
    const listening = new Promise<void>((resolve) => this.#net.close(() => resolve()));
    const allClosed = new Promise<void>((resolve) => (this.#allClosed = resolve));
    for (const conn of [...this.#connections]) {
      if (conn.idle) shutdown.closedIdle++;
      conn.shutdown();
    }
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
    return {
      closedIdle: shutdown.closedIdle,
      drained: answeredAtStart.size - shutdown.closedIdle - shutdown.forced,
      forced: shutdown.forced,
      requestsCompleted: shutdown.completed,
    };
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

/** Create a server: `createServer(handler)` or `createServer(options, handler)`. */
export function createServer(handler: Handler): TetherServer;
export function createServer(options: ServerOptions, handler: Handler): TetherServer;
export function createServer(a: ServerOptions | Handler, b?: Handler): TetherServer {
  if (typeof a === 'function') return new TetherServer({}, a);
  if (b === undefined) throw new TypeError('createServer(options, handler): a handler is required');
  return new TetherServer(a, b);
}
