/**
 * Preload for running a framework's own test suite on @tether/server instead of node:http.
 *
 * Loaded with `NODE_OPTIONS=--import=<this file>` into every process of a suite run (mocha's,
 * node:test's file subprocesses, anything they spawn). What it does depends on one variable:
 *
 * - `TETHER_SUITE_SERVER=node` (or unset): nothing; the baseline run.
 * - `TETHER_SUITE_SERVER=tether`: `http.createServer` — on the `node:http` module object that
 *   `require('http')`, `require('node:http')` and `import … from 'node:http'` all share — is
 *   replaced by @tether/server's `createServer`, in both of node's forms:
 *   `createServer(handler?)` and `createServer(options?, handler?)`. Options pass through
 *   unchanged (Fastify hands over its `http` option, usually undefined). `http.Server`,
 *   `https` and `http2` are left alone: no suite here (Express, Fastify, Koa) constructs
 *   `http.Server` directly, and a test that checks `instanceof http.Server` is meant to fail.
 *
 * `TETHER_SERVER_ENTRY` overrides where @tether/server is loaded from (default: this
 * repository's packages/server/dist/index.js). When `TETHER_SUITE_LOG` names a file, each
 * server created through the swap appends one line to it, so the runner can show the swap took
 * effect.
 */
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import { pathToFileURL } from 'node:url';

const mode = process.env.TETHER_SUITE_SERVER ?? 'node';

if (mode === 'tether') {
  const entry = process.env.TETHER_SERVER_ENTRY
    ? pathToFileURL(process.env.TETHER_SERVER_ENTRY).href
    : new URL('../../packages/server/dist/index.js', import.meta.url).href;
  const tether = await import(entry);
  const log = process.env.TETHER_SUITE_LOG;

  /**
   * node:http's `createServer([options][, requestListener])`, answered by @tether/server.
   * @param {...unknown} args
   */
  function createServer(...args) {
    const server = tether.createServer(...args);
    if (log) appendFileSync(log, `${process.pid}\n`);
    return server;
  }

  http.createServer = createServer;
  // Named imports of builtins (`import { createServer } from 'node:http'`) are separate
  // bindings: bring them in line with the module object.
  syncBuiltinESMExports();
} else if (mode !== 'node') {
  throw new Error(`TETHER_SUITE_SERVER must be "node" or "tether", got ${JSON.stringify(mode)}`);
}
