/**
 * Theory of operation: an undici-compatible `Agent` — one {@link Pool} per origin, made on first
 * use with the agent's shared options, so a single dispatcher serves every origin fetch reaches:
 *
 *   dispatch({ origin, … }) ──▶ #pools: Map<origin, Pool>  (oldest use first)
 *                                 └▶ pool.dispatch(…)
 *
 * The map is kept in order of last use (a used pool moves to the end). Pools are retired two ways:
 * a pool left with no connection and nothing to do is dropped (its next request makes a fresh
 * one, so an agent that once talked to thousands of origins holds nothing for them); and when a
 * new origin would exceed `maxOrigins`, the least recently used pool is closed gracefully (it
 * finishes what it has). Pool events are re-emitted with the agent first in the targets, as
 * undici's Agent does: `(origin, [agent, pool], err?)`.
 */

import { EventEmitter } from 'node:events';
import type { DispatchHandler } from './dispatcher.js';
import { failDispatch } from './dispatcher.js';
import type { DispatchOptions } from './dispatch-options.js';
import { ClientError } from './errors.js';
import { resolvePoolOptions } from './options.js';
import type { PoolOptions } from './options.js';
import { Pool } from './pool.js';
import { destroyArguments, promiseOrCallback } from './close-forms.js';
import type { CloseCallback } from './close-forms.js';

/** Options of {@link Agent}: those of every pool it makes, and the bound on pools kept. */
export interface AgentOptions extends PoolOptions {
  /** Most origins whose pools are kept; the least recently used is closed to make room. Default Infinity. */
  readonly maxOrigins?: number;
  /** Make the pool of an origin (default `new Pool(origin, options)`). */
  readonly factory?: (origin: string, options: PoolOptions) => Pool;
}

const EVENTS = ['connect', 'disconnect', 'connectionError', 'drain'] as const;

/** Pools for many origins behind one undici `Dispatcher`: `fetch(url, { dispatcher: agent })`. */
export class Agent extends EventEmitter {
  readonly #options: PoolOptions;
  readonly #maxOrigins: number;
  readonly #factory: (origin: string, options: PoolOptions) => Pool;
  readonly #pools = new Map<string, Pool>();
  #closing: Promise<void> | null = null;
  #destroyed = false;

  constructor(options: AgentOptions = {}) {
    super();
    const { maxOrigins, factory, ...poolOptions } = options;
    if (maxOrigins !== undefined && !(maxOrigins === Number.POSITIVE_INFINITY || (Number.isSafeInteger(maxOrigins) && maxOrigins >= 1))) {
      throw new RangeError(`maxOrigins must be an integer ≥ 1 or Infinity, got ${String(maxOrigins)}`);
    }
    this.#maxOrigins = maxOrigins ?? Number.POSITIVE_INFINITY;
    this.#options = poolOptions;
    this.#factory = factory ?? ((origin, o) => new Pool(origin, o));
    // Fail fast on bad shared options (each pool would throw the same error later).
    resolvePoolOptions(poolOptions);
  }

  /** `close()` or `destroy()` was called. */
  get closed(): boolean {
    return this.#closing !== null;
  }

  /** `destroy()` was called. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Origins with a pool now, least recently used first. */
  get origins(): readonly string[] {
    return [...this.#pools.keys()];
  }

  /** The pool of `origin` (made now if there is none). */
  pool(origin: string | URL): Pool {
    if (this.#closing !== null) throw new ClientError('TETHER_CLOSED', `${String(origin)}: the agent is ${this.#destroyed ? 'destroyed' : 'closing'}`, { mayHaveBeenProcessed: false });
    // A key is a serialized origin, which serializes to itself: a string equal to one (what
    // fetch passes) needs no URL parsed.
    const key = typeof origin === 'string' && this.#pools.has(origin) ? origin : new URL(origin).origin;
    let pool = this.#pools.get(key);
    if (pool !== undefined) {
      // Most recently used last.
      this.#pools.delete(key);
      this.#pools.set(key, pool);
      return pool;
    }
    pool = this.#factory(key, this.#options);
    this.#adopt(key, pool);
    if (this.#pools.size > this.#maxOrigins) this.#evict();
    return pool;
  }

  /**
   * undici's `Dispatcher.dispatch`: send the request to the pool of `options.origin`. Errors
   * (no origin, an origin tether cannot reach, a closed agent) reach the handler.
   */
  dispatch(options: DispatchOptions, handler: DispatchHandler): boolean {
    let pool: Pool;
    try {
      if (options === null || typeof options !== 'object' || options.origin === undefined || options.origin === null) {
        throw new ClientError('TETHER_INVALID_REQUEST', 'dispatch options must name an origin', { mayHaveBeenProcessed: false });
      }
      pool = this.pool(options.origin);
    } catch (err) {
      failDispatch(handler, err instanceof ClientError ? err : new ClientError('TETHER_INVALID_REQUEST', (err as Error).message, { mayHaveBeenProcessed: false, cause: err }));
      return false;
    }
    return pool.dispatch(options, handler);
  }

  #adopt(origin: string, pool: Pool): void {
    this.#pools.set(origin, pool);
    for (const event of EVENTS) {
      pool.on(event, (from: string, targets: unknown[], err?: Error) => {
        if (this.listenerCount(event) > 0) this.emit(event, from, [this, ...targets], err);
        if (event === 'disconnect' || event === 'connectionError') this.#maybeRetire(origin, pool);
      });
    }
  }

  /** Drop a pool left with no connection and nothing to do (checked once the pool has re-dispatched). */
  #maybeRetire(origin: string, pool: Pool): void {
    setImmediate(() => {
      if (this.#pools.get(origin) !== pool) return;
      const load = pool.load;
      if (load.requests > 0 || load.connections > 0) return;
      this.#pools.delete(origin);
      void pool.close();
    });
  }

  /** Over `maxOrigins`: close the least recently used pool, preferring one with nothing to do. */
  #evict(): void {
    let victim: [string, Pool] | undefined;
    for (const entry of this.#pools) {
      if (entry[1].load.requests === 0) {
        victim = entry;
        break;
      }
      victim ??= entry;
    }
    if (victim === undefined) return;
    this.#pools.delete(victim[0]);
    void victim[1].close();
  }

  /** Close every pool gracefully (each finishes its requests). */
  close(): Promise<void>;
  close(callback: CloseCallback): void;
  close(callback?: CloseCallback): Promise<void> | void {
    this.#closing ??= Promise.all([...this.#pools.values()].map((p) => p.close())).then(() => undefined);
    return promiseOrCallback(this.#closing, callback);
  }

  /** Abort every pool's requests now (they fail with `err`, default TETHER_CLOSED). */
  destroy(err?: Error | null): Promise<void>;
  destroy(callback: CloseCallback): void;
  destroy(err: Error | null | undefined, callback: CloseCallback): void;
  destroy(errOrCallback?: Error | null | CloseCallback, callback?: CloseCallback): Promise<void> | void {
    const { err, callback: cb } = destroyArguments(errOrCallback, callback);
    this.#destroyed = true;
    const done = Promise.all([...this.#pools.values()].map((p) => p.destroy(err))).then(() => undefined);
    this.#closing ??= done;
    return promiseOrCallback(done, cb);
  }

  /** Close gracefully (`await using agent = new Agent(…)`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
