/**
 * Theory of operation: `request(url)` for one-off calls, without managing pools: the default
 * {@link Agent} (one pool per origin, made on first use with default options, dropped once idle
 * with no connection). Idle connections do not keep the process alive; `closeDefaultPools()`
 * closes them all (the next `request()` starts a new default agent).
 */

import { Agent } from './agent.js';
import type { RequestOptions } from './pool.js';
import type { ClientResponse } from './response.js';

/** Options of {@link request}: those of `pool.request()` without the path, which comes from the URL. */
export type RequestUrlOptions = Omit<RequestOptions, 'path'>;

let defaultAgent: Agent | null = null;

/** The agent behind {@link request} (made on first use). */
export function getDefaultAgent(): Agent {
  return (defaultAgent ??= new Agent());
}

/** Send a request to `url` through the default agent's pool for its origin. */
export function request(url: string | URL, options: RequestUrlOptions = {}): Promise<ClientResponse> {
  const target = new URL(url);
  let pool;
  try {
    pool = getDefaultAgent().pool(target.origin);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  return pool.request({ ...options, path: `${target.pathname}${target.search}` });
}

/** Close the default agent gracefully (each of its pools finishes its queued requests first). */
export async function closeDefaultPools(): Promise<void> {
  const agent = defaultAgent;
  defaultAgent = null;
  await agent?.close();
}
