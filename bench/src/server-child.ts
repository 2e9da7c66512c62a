/**
 * Theory of operation: one server under test, alone in its own process, forked by `server.ts`,
 * `server-shapes.ts` and `frameworks.ts` (`fork(dist/server-child.js, [kind, keepAliveTimeoutMs,
 * shape, tetherEntry])`, the last two optional). It listens on 127.0.0.1, port 0, answers `GET /`
 * with the handler of `shape` (`shapes.ts`; default `hello`: the 13-byte body "Hello, World!";
 * `KIND_SHAPES` says which shapes each kind takes), and tells its parent the port twice:
 * as a `listening` IPC message and as a `PORT <n>` line on stdout (for a person running it by
 * hand). On a `memory` IPC message it collects garbage (the parent forks it with --expose-gc)
 * and answers with `process.memoryUsage()` and its count of open connections.
 *
 * Kinds:
 * - `tether`: @tether/server, default options but `keepAliveTimeout`; this workspace's build, or
 *   the one whose `index.js` is at the file URL `tetherEntry` (a baseline: another commit's build).
 * - `node`: `http.createServer` with `keepAliveTimeout` set.
 * - `fastify`: Fastify 5, logger off, `keepAliveTimeout` set: `GET /` answers "Hello, World!"
 *   as text/plain; with shape `json` the app also has `GET /json`, answering
 *   `{ hello: 'world', n: 42 }` through Fastify's serializer (a response schema, so
 *   fast-json-stringify; the body is shape `json`'s, as `application/json; charset=utf-8`).
 * - `fastify-tether`: the same app on @tether/server, through `serverFactory`
 *   (`fastifyServerFactory({ keepAliveTimeout })` from `@tether/server/fastify`: Fastify's own
 *   server options do not reach a factory's server).
 * - `express`: Express 5 on `http.createServer(app)`, `keepAliveTimeout` set; `GET /` is
 *   `res.send('Hello, World!')` (Express's defaults: text/html, an ETag, X-Powered-By).
 * - `express-tether`: the same app on `createServer({ keepAliveTimeout }, app)` from
 *   @tether/server, which sees that Express re-prototypes onto node's classes and gives it
 *   node's own IncomingMessage / ServerResponse over tether's connection.
 * - `limit`: raw node:net (`limit-server.ts`): counts `\r\n\r\n` request terminators in what
 *   arrives and writes one pre-built response per terminator, in one write per read. No parsing,
 *   no headers object, no timers: the most any Node server can do on the same socket layer.
 *
 * Each kind is imported only when it runs, so a child's baseline memory holds its own code only.
 * The child exits when its parent goes away (IPC disconnect), so it can never be left behind, and
 * exits normally on SIGINT / SIGTERM, so `node --cpu-prof dist/server-child.js tether 5000 buffer`
 * run by hand writes its profile when stopped.
 */

import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import type * as TetherServer from '@tether/server';
import type { FastifyInstance } from 'fastify';

import { HELLO, createLimitServer } from './limit-server.js';
import { FASTIFY_JSON_PATH, SHAPES, SHAPE_IDS } from './shapes.js';
import type { Shape, ShapeId, ShapeResponse } from './shapes.js';

/** The servers this file can run. */
export type ServerKind = 'tether' | 'node' | 'fastify' | 'limit' | 'fastify-tether' | 'express' | 'express-tether';

/** The shapes each kind answers (`hello` for all; Fastify's `json` adds the `GET /json` route). */
export const KIND_SHAPES: Readonly<Record<ServerKind, readonly ShapeId[]>> = {
  tether: SHAPE_IDS,
  node: SHAPE_IDS,
  fastify: ['hello', 'json'],
  'fastify-tether': ['hello', 'json'],
  express: ['hello'],
  'express-tether': ['hello'],
  limit: ['hello'],
};

/** What the child sends its parent. */
export type ChildMessage =
  | { readonly type: 'listening'; readonly port: number }
  | {
      readonly type: 'memory';
      readonly rss: number;
      readonly heapUsed: number;
      readonly external: number;
      readonly arrayBuffers: number;
      /** Connections the server counts as open. */
      readonly connections: number;
    };

/** What the parent sends the child. */
export interface ParentMessage {
  readonly type: 'memory';
}

interface Running {
  readonly port: number;
  connections(): Promise<number>;
}

function netConnections(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, count) => (err ? reject(err) : resolve(count))));
}

function listenNet(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

async function startTether(keepAliveTimeout: number, shape: Shape, entry: string | undefined): Promise<Running> {
  // Another build has the same API: typed as this workspace's.
  const { createServer } = (entry === undefined ? await import('@tether/server') : await import(entry)) as typeof TetherServer;
  const handle = shape.handle;
  const server = createServer({ keepAliveTimeout }, (_req, res) => handle(res));
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  return { port, connections: () => Promise.resolve(server.stats().connections.open) };
}

async function startNode(keepAliveTimeout: number, shape: Shape): Promise<Running> {
  const handle = shape.handle;
  const server = http.createServer((_req, res) => handle(res as ShapeResponse));
  server.keepAliveTimeout = keepAliveTimeout;
  const port = await listenNet(server);
  return { port, connections: () => netConnections(server) };
}

/** The response schema of the JSON route: Fastify serializes with fast-json-stringify from it. */
const JSON_ROUTE_SCHEMA = {
  response: { 200: { type: 'object', properties: { hello: { type: 'string' }, n: { type: 'integer' } } } },
} as const;

/**
 * The Fastify app of both Fastify kinds: `GET /` (hello), and `GET /json` with shape `json`.
 * On tether through the `serverFactory` when `onTether`.
 */
async function startFastify(keepAliveTimeout: number, shapeId: ShapeId, onTether: boolean): Promise<Running> {
  const { fastify } = await import('fastify');
  let app: FastifyInstance;
  if (onTether) {
    const { fastifyServerFactory } = await import('@tether/server/fastify');
    app = fastify({ logger: false, keepAliveTimeout, serverFactory: fastifyServerFactory({ keepAliveTimeout }) });
  } else {
    app = fastify({ logger: false, keepAliveTimeout });
  }
  app.get('/', (_req, reply) => {
    void reply.header('Content-Type', 'text/plain').send(HELLO);
  });
  if (shapeId === 'json') {
    app.get(FASTIFY_JSON_PATH, { schema: JSON_ROUTE_SCHEMA }, (_req, reply) => {
      void reply.send({ hello: 'world', n: 42 });
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  if (!onTether) return { port, connections: () => netConnections(app.server) };
  // `app.server` is typed as node's Server; on tether it is a TetherServer (see @tether/server/fastify).
  const { TetherServer: TetherServerClass } = await import('@tether/server');
  const server = app.server as unknown;
  if (!(server instanceof TetherServerClass)) throw new Error('fastify-tether: app.server is not a TetherServer');
  return { port, connections: () => Promise.resolve(server.stats().connections.open) };
}

/** The Express app of both Express kinds: `GET /` is `res.send('Hello, World!')`. */
async function startExpress(keepAliveTimeout: number, onTether: boolean): Promise<Running> {
  const { default: express } = await import('express');
  const app = express();
  app.get('/', (_req, res) => {
    res.send(HELLO);
  });
  if (onTether) {
    const { createServer } = await import('@tether/server');
    // An Express app is a node:http handler; tether gives it node's objects (it re-prototypes them).
    const server = createServer({ keepAliveTimeout }, app);
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    return { port, connections: () => Promise.resolve(server.stats().connections.open) };
  }
  const server = http.createServer(app);
  server.keepAliveTimeout = keepAliveTimeout;
  const port = await listenNet(server);
  return { port, connections: () => netConnections(server) };
}

async function startLimit(): Promise<Running> {
  const server = createLimitServer();
  const port = await listenNet(server);
  return { port, connections: () => netConnections(server) };
}

const gc = (globalThis as { gc?: () => void }).gc;

async function main(): Promise<void> {
  const kind = process.argv[2] as ServerKind | undefined;
  const keepAliveTimeout = Number(process.argv[3] ?? 5000);
  const shapeId = (process.argv[4] ?? 'hello') as ShapeId;
  if (!SHAPE_IDS.includes(shapeId)) throw new Error(`unknown shape ${JSON.stringify(shapeId)} (expected one of ${SHAPE_IDS.join(', ')})`);
  if (kind !== undefined && Object.hasOwn(KIND_SHAPES, kind) && !KIND_SHAPES[kind].includes(shapeId)) throw new Error(`${kind} answers shapes ${KIND_SHAPES[kind].join(', ')} only`);
  const shape = SHAPES[shapeId];
  let running: Running;
  switch (kind) {
    case 'tether':
      running = await startTether(keepAliveTimeout, shape, process.argv[5]);
      break;
    case 'node':
      running = await startNode(keepAliveTimeout, shape);
      break;
    case 'fastify':
    case 'fastify-tether':
      running = await startFastify(keepAliveTimeout, shapeId, kind === 'fastify-tether');
      break;
    case 'express':
    case 'express-tether':
      running = await startExpress(keepAliveTimeout, kind === 'express-tether');
      break;
    case 'limit':
      running = await startLimit();
      break;
    default:
      throw new Error(`usage: node dist/server-child.js ${Object.keys(KIND_SHAPES).join('|')} [keepAliveTimeoutMs] [shape] [tetherEntryUrl]; got ${String(kind)}`);
  }
  process.stdout.write(`PORT ${running.port}\n`);
  const send = (message: ChildMessage): void => void process.send?.(message);
  send({ type: 'listening', port: running.port });
  process.on('message', (message: ParentMessage) => {
    if (message.type !== 'memory') return;
    // Twice: the first full collection can leave finalizer-reachable garbage for the second.
    gc?.();
    gc?.();
    void running.connections().then((connections) => {
      const m = process.memoryUsage();
      send({ type: 'memory', rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, connections });
    });
  });
  process.on('disconnect', () => process.exit(0));
  // Exit normally on a signal, so a profile asked for with --cpu-prof is written (run by hand: Ctrl-C).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`server-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
