/**
 * Theory of operation: `@tether/server/fastify`, the one line that puts Fastify 5 on tether —
 * `Fastify({ serverFactory: fastifyServerFactory(options) })` — typed as Fastify wants, so a user
 * writes no cast.
 *
 * Fastify's `FastifyServerFactory` must return a node `http.Server` and is handed a handler of
 * node's `(IncomingMessage, ServerResponse)`. tether's server, request and response are not those
 * classes; they keep the parts of their contracts Fastify uses (`listen(options)` and
 * `'listening'`, `address()`, `close(cb)`, `closeIdleConnections()`; `req` as a Readable with
 * node's fields; `res` as a Writable with node's head methods), which the integration tests
 * (`test/fastify-*.test.ts`) hold to. The two casts that say so live here, once, instead of in
 * every user's code. What stays untrue is the static type of `app.server`: `http.Server`, while it
 * is a `TetherServer` — `app.server instanceof TetherServer` narrows it.
 *
 * Only types come from fastify (an optional peer dependency), and the main entry does not import
 * this module: a user of `@tether/server` without Fastify loads none of it.
 *
 * @module @tether/server/fastify
 */

import type { Server } from 'node:http';
import type { FastifyServerFactory } from 'fastify';
import type { ServerOptions } from './options.js';
import { createServer } from './server.js';
import type { Handler } from './server.js';

/**
 * A Fastify `serverFactory` that makes a tether server with `options`:
 * `Fastify({ serverFactory: fastifyServerFactory({ keepAliveTimeout: 5_000 }) })`.
 *
 * As with any `serverFactory`, Fastify's own server options (`keepAliveTimeout`,
 * `requestTimeout`, `connectionTimeout`, `maxRequestsPerSocket`, `http`) do not reach the server:
 * give tether's in `options`.
 */
export function fastifyServerFactory(options: ServerOptions = {}): FastifyServerFactory {
  return (handler) => createServer(options, handler as unknown as Handler) as unknown as Server;
}
