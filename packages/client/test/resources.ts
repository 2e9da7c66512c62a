/**
 * What a client test opened — raw servers, @tether/server servers, pools, anything with a
 * close — released after each test, last opened first.
 */
import { createServer } from '@tether/server';
import type { Handler, ServerOptions } from '@tether/server';
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

  /** A @tether/server on 127.0.0.1, port 0, closed in `release()` (0.5 s to drain). Resolves with its origin. */
  async tether(handler: Handler, options: ServerOptions = {}): Promise<string> {
    const server = createServer(options, handler);
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    this.defer(() => server.close({ timeout: 500 }));
    return `http://127.0.0.1:${port}`;
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
