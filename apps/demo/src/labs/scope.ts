/**
 * Theory of operation: a {@link Scope} owns what a lab creates — sockets, node:net servers,
 * tether servers and pools, timers — and ends all of it in reverse order of creation when the lab
 * finishes, whether it succeeded or threw. Each cleanup is bounded in time, so a peer that never
 * answers cannot hold the lab open, and a failing cleanup does not stop the others. A
 * {@link Deadline} bounds a lab's loops in time as their counts bound them in size.
 */

import type net from 'node:net';

import type { Pool } from '@tether/client';
import type { TetherServer } from '@tether/server';

/** Ms a single cleanup step may take before the scope moves on (a graceful close that stalls). */
const CLEANUP_STEP_TIMEOUT_MS = 2_000;

/**
 * Ms a tether server's graceful close may wait for busy connections before destroying them: a
 * lab's own peers are gone by then, so anything still open is stuck by design (a dumb proxy).
 */
const SERVER_CLOSE_TIMEOUT_MS = 200;

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Races `promise` against `ms`; on time-out resolves to `onTimeout` instead. The timer is cleared either way. */
export async function within<T, U>(promise: Promise<T>, ms: number, onTimeout: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<U>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A point in time after which a lab's loops stop (and say so in their results). */
export class Deadline {
  readonly #end: number;

  /** A deadline `ms` from now. */
  constructor(ms: number) {
    this.#end = performance.now() + ms;
  }

  /** Whether the deadline has passed. */
  get expired(): boolean {
    return performance.now() >= this.#end;
  }

  /** Ms left, never below 0. */
  get remaining(): number {
    return Math.max(0, this.#end - performance.now());
  }
}

/** Everything a lab opened, ended in reverse order by {@link Scope.close}. */
export class Scope {
  readonly #cleanups: (() => unknown)[] = [];
  #closed = false;

  /** Run `cleanup` when the scope closes (after everything registered later). */
  defer(cleanup: () => unknown): void {
    if (this.#closed) {
      void Promise.resolve().then(cleanup).catch(() => undefined);
      return;
    }
    this.#cleanups.push(cleanup);
  }

  /** Destroy `socket` when the scope closes (if it is still open). Returns it. */
  socket<S extends net.Socket>(socket: S): S {
    // A lab's sockets may be reset by design; an unhandled 'error' must not crash the process.
    socket.on('error', () => undefined);
    this.defer(() => socket.destroy());
    return socket;
  }

  /**
   * Close `server` when the scope closes, destroying every socket it accepted first (a lab's
   * peers are its own; nothing else connects to 127.0.0.1:port-0 servers). Returns it.
   */
  netServer(server: net.Server): net.Server {
    const accepted = new Set<net.Socket>();
    server.on('connection', (socket) => {
      socket.on('error', () => undefined);
      accepted.add(socket);
      socket.once('close', () => accepted.delete(socket));
    });
    this.defer(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of accepted) socket.destroy();
          if (!server.listening) resolve();
          else server.close(() => resolve());
        }),
    );
    return server;
  }

  /** Close a tether `server` when the scope closes (busy connections destroyed after 200 ms). Returns it. */
  server(server: TetherServer): TetherServer {
    this.defer(() => server.close({ timeout: SERVER_CLOSE_TIMEOUT_MS }));
    return server;
  }

  /**
   * Destroy `pool` when the scope closes. A lab that measures a graceful close awaits
   * `pool.close()` itself; at cleanup whatever is left is aborted. Returns it.
   */
  pool(pool: Pool): Pool {
    this.defer(() => pool.destroy());
    return pool;
  }

  /** End everything, newest first; each step bounded in time, failures ignored. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#cleanups.length > 0) {
      const cleanup = this.#cleanups.pop()!;
      try {
        await within(Promise.resolve().then(cleanup), CLEANUP_STEP_TIMEOUT_MS, undefined);
      } catch {
        // A cleanup that fails (a socket already gone) must not keep the others from running.
      }
    }
  }
}
