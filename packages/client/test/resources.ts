/**
 * What a client test opened — raw servers, pools, anything with a close — released after each
 * test, last opened first.
 */
import { Pool } from '../src/index.js';
import type { PoolOptions } from '../src/index.js';
import { RawServer } from './raw-server.js';
import type { Behaviour } from './raw-server.js';

/** Everything a test opened; `release()` in `afterEach`. */
export class Resources {
  readonly #closers: (() => unknown)[] = [];

  /** Run `close` in `release()`. */
  defer(close: () => unknown): void {
    this.#closers.push(close);
  }

  /** A raw server, closed in `release()`. */
  async raw(behaviour: Behaviour): Promise<RawServer> {
    const server = await RawServer.start(behaviour);
    this.defer(() => server.close());
    return server;
  }

  /** A pool, destroyed in `release()`. */
  pool(origin: string, options: PoolOptions = {}): Pool {
    const p = new Pool(origin, options);
    this.defer(() => p.destroy());
    return p;
  }

  /** Close everything, last opened first. */
  async release(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) await close();
  }
}
