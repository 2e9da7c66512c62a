/**
 * Theory of operation: a {@link Pool} of exactly one connection — requests to the origin queue
 * behind each other on it (pipelined when `pipelining` allows), and a new connection replaces it
 * when it closes.
 */

import type { PoolOptions } from './options.js';
import { Pool } from './pool.js';

/** One connection to an origin (a pool of one). */
export class Client extends Pool {
  constructor(origin: string | URL, options: Omit<PoolOptions, 'connections'> = {}) {
    super(origin, { ...options, connections: 1 });
  }
}
