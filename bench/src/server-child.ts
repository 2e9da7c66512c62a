/**
 * Theory of operation: one server under test, alone in its own process, forked by `server.ts`
 * (`fork(dist/server-child.js, [kind, keepAliveTimeoutMs])`). It listens on 127.0.0.1, port 0,
 * answers `GET /` with the 13-byte body "Hello, World!", and tells its parent the port twice:
 * as a `listening` IPC message and as a `PORT <n>` line on stdout (for a person running it by
 * hand). On a `memory` IPC message it collects garbage (the parent forks it with --expose-gc)
 * and answers with `process.memoryUsage()` and its count of open connections.
 *
 * Kinds:
 * - `tether`: @tether/server, default options but `keepAliveTimeout`.
 * - `node`: `http.createServer` with `keepAliveTimeout` set.
 * - `fastify`: Fastify 5, logger off, `keepAliveTimeout` set.
 * - `limit`: raw node:net: counts `\r\n\r\n` request terminators in what arrives and writes one
 *   pre-built response per terminator, in one write per read. No parsing, no headers object, no
 *   timers: the most any Node server can do on the same socket layer.
 *
 * Each kind is imported only when it runs, so a child's baseline memory holds its own code only.
 * The child exits when its parent goes away (IPC disconnect), so it can never be left behind.
 */

import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

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

/** The response body every server sends: 13 bytes (server.ts checks it; only types are shared, since importing this file runs a server). */
const HELLO = 'Hello, World!';

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

async function startTether(keepAliveTimeout: number): Promise<Running> {
  const { createServer } = await import('@tether/server');
  const server = createServer({ keepAliveTimeout }, (_req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end(HELLO);
  });
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  return { port, connections: () => Promise.resolve(server.stats().connections.open) };
}

async function startNode(keepAliveTimeout: number): Promise<Running> {
  const server = http.createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end(HELLO);
  });
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

const CR = 0x0d;
const LF = 0x0a;
/** The end of a request head (RFC 9112 §2.1: the empty line after the field lines). */
const TERMINATOR = Buffer.from('\r\n\r\n', 'latin1');
/** Marks a request that asks to close; `onnection` so either case of the name matches. */
const CLOSE_MARK = Buffer.from('onnection: close', 'latin1');
const RESPONSE = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${HELLO.length}\r\n\r\n${HELLO}`, 'latin1');
const CLOSE_RESPONSE = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${HELLO.length}\r\nConnection: close\r\n\r\n${HELLO}`, 'latin1');
/** Pre-built runs of responses for pipelined reads, by count (wrk's pipeline is 10 deep). */
const RESPONSE_RUNS: Buffer[] = [Buffer.alloc(0), RESPONSE];
for (let n = 2; n <= 64; n++) RESPONSE_RUNS.push(Buffer.concat([RESPONSE_RUNS[n - 1]!, RESPONSE]));

/**
 * Count terminators in `chunk`, given `state` bytes of one already matched at the end of the
 * previous read (0–3); returns the count and the new state.
 */
function countTerminators(chunk: Buffer, state: number): { count: number; state: number } {
  let count = 0;
  let i = 0;
  // Finish a terminator split across reads, byte by byte.
  while (state > 0 && i < chunk.length) {
    const b = chunk[i++]!;
    if (b === TERMINATOR[state]) {
      if (++state === 4) {
        count++;
        state = 0;
      }
    } else {
      state = b === CR ? 1 : 0;
    }
  }
  if (state > 0) return { count, state };
  for (let at = chunk.indexOf(TERMINATOR, i); at !== -1; at = chunk.indexOf(TERMINATOR, i)) {
    count++;
    i = at + 4;
  }
  const n = chunk.length;
  if (n - i >= 3 && chunk[n - 3] === CR && chunk[n - 2] === LF && chunk[n - 1] === CR) state = 3;
  else if (n - i >= 2 && chunk[n - 2] === CR && chunk[n - 1] === LF) state = 2;
  else if (n - i >= 1 && chunk[n - 1] === CR) state = 1;
  return { count, state };
}

async function startLimit(): Promise<Running> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    let state = 0;
    socket.on('data', (chunk: Buffer) => {
      const found = countTerminators(chunk, state);
      state = found.state;
      if (found.count === 0) return;
      if (chunk.includes(CLOSE_MARK)) {
        // `Connection: close` (the close scenario): answer once and close, as a real server must.
        socket.end(CLOSE_RESPONSE);
        return;
      }
      socket.write(RESPONSE_RUNS[found.count] ?? Buffer.concat(Array.from({ length: found.count }, () => RESPONSE)));
    });
    socket.on('error', () => socket.destroy());
  });
  const port = await listenNet(server);
  return { port, connections: () => netConnections(server) };
}

const gc = (globalThis as { gc?: () => void }).gc;

async function main(): Promise<void> {
  const kind = process.argv[2] as ServerKind | undefined;
  const keepAliveTimeout = Number(process.argv[3] ?? 5000);
  let running: Running;
  switch (kind) {
    case 'tether':
      running = await startTether(keepAliveTimeout);
      break;
    case 'node':
      running = await startNode(keepAliveTimeout);
      break;
    case 'fastify':
      running = await startFastify(keepAliveTimeout);
      break;
    case 'limit':
      running = await startLimit();
      break;
    default:
      throw new Error(`usage: node dist/server-child.js tether|node|fastify|limit [keepAliveTimeoutMs]; got ${String(kind)}`);
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
}

main().catch((err: unknown) => {
  process.stderr.write(`server-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
