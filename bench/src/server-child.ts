/**
 * Theory of operation: one server under test, alone in its own process, forked by `server.ts` and
 * `server-shapes.ts` (`fork(dist/server-child.js, [kind, keepAliveTimeoutMs, shape, tetherEntry])`,
 * the last two optional). It listens on 127.0.0.1, port 0, answers `GET /` with the handler of
 * `shape` (`shapes.ts`; default `hello`: the 13-byte body "Hello, World!"; fastify and limit
 * answer `hello` only), and tells its parent the port twice:
 * as a `listening` IPC message and as a `PORT <n>` line on stdout (for a person running it by
 * hand). On a `memory` IPC message it collects garbage (the parent forks it with --expose-gc)
 * and answers with `process.memoryUsage()` and its count of open connections.
 *
 * Kinds:
 * - `tether`: @tether/server, default options but `keepAliveTimeout`; this workspace's build, or
 *   the one whose `index.js` is at the file URL `tetherEntry` (a baseline: another commit's build).
 * - `node`: `http.createServer` with `keepAliveTimeout` set.
 * - `fastify`: Fastify 5, logger off, `keepAliveTimeout` set.
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

import { HELLO, createLimitServer } from './limit-server.js';
import { SHAPES, SHAPE_IDS } from './shapes.js';
import type { Shape, ShapeId, ShapeResponse } from './shapes.js';

/** The servers this file can run. */
export type ServerKind = 'tether' | 'node' | 'fastify' | 'limit';

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

async function startFastify(keepAliveTimeout: number): Promise<Running> {
  const { fastify } = await import('fastify');
  const app = fastify({ logger: false, keepAliveTimeout });
  app.get('/', (_req, reply) => {
    void reply.header('Content-Type', 'text/plain').send(HELLO);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (app.server.address() as AddressInfo).port, connections: () => netConnections(app.server) };
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
  if (shapeId !== 'hello' && (kind === 'fastify' || kind === 'limit')) throw new Error(`${kind} answers the hello shape only`);
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
      running = await startFastify(keepAliveTimeout);
      break;
    case 'limit':
      running = await startLimit();
      break;
    default:
      throw new Error(`usage: node dist/server-child.js tether|node|fastify|limit [keepAliveTimeoutMs] [shape] [tetherEntryUrl]; got ${String(kind)}`);
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
