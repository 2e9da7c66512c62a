/**
 * Theory of operation: `request(url)` for one-off calls, without managing pools: one default
 * {@link Pool} per origin, created on first use with default options. Idle connections do not
 * keep the process alive; `closeDefaultPools()` closes them all.
 */

import { Pool } from './pool.js';
import type { RequestOptions } from './pool.js';
import type { ClientResponse } from './response.js';

/** Options of {@link request}: those of `pool.request()` without the path, which comes from the URL. */
export type RequestUrlOptions = Omit<RequestOptions, 'path'>;

const DEFAULT_POOLS = new Map<string, Pool>();

/** Send a request to `url` through the default pool of its origin. */
export function request(url: string | URL, options: RequestUrlOptions = {}): Promise<ClientResponse> {
  const target = new URL(url);
  let pool = DEFAULT_POOLS.get(target.origin);
  if (pool === undefined) {
    pool = new Pool(target.origin);
    DEFAULT_POOLS.set(target.origin, pool);
  }
  return pool.request({ ...options, path: `${target.pathname}${target.search}` });
}

/** Close every default pool gracefully (each finishes its queued requests first). */
export async function closeDefaultPools(): Promise<void> {
  const pools = [...DEFAULT_POOLS.values()];
  DEFAULT_POOLS.clear();
  await Promise.all(pools.map((pool) => pool.close()));
}
