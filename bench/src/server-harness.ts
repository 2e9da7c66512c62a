/**
 * Theory of operation: the JavaScript cost of @tether/server per request, without sockets or a
 * load generator. `--connections` server connections (the package's internal `ServerConnection`,
 * reached by its path in the workspace: it is not part of the package's API; 50 by default, as
 * wrk opens) are driven through stand-in sockets: each event-loop turn hands every one of them
 * one "read" of `--depth` pipelined `GET /` requests, then lets the turn end, so the server
 * writes its output as it does under load — one write per connection per turn — into a buffer,
 * the way the socket would write it (latin1 or UTF-8 text, bytes). Only the server's public
 * behaviour is relied on (it answers within the turn and writes by the turn's end), so builds of
 * other commits run too. The handler is one of `shapes.ts` (`--shape`; default `hello`, the
 * server benchmark's). Nine rounds of `--requests` requests after a warm-up; prints the fastest
 * and the median, in ns per request, and the same of the process's CPU time (all threads: V8's
 * parallel and concurrent garbage collection runs beside the main thread, so a build that makes
 * more garbage can cost more CPU than its wall time shows).
 *
 * Use it to compare builds of @tether/protocol and @tether/server (`--server PATH` loads another
 * build, as `server-shapes.ts --baseline` does; with `--cpu-prof`, to see where their time goes);
 * the socket's own cost, the kernel's and wrk's are not in it: for throughput and CPU per request,
 * run `server.ts` and `server-shapes.ts`.
 */

import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

import type * as TetherServer from '@tether/server';
import type * as TetherServerConnection from '../../packages/server/dist/server-connection.js';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';

import { failer, integerFlag, parseList, readFlags } from './cli.js';
import { serverEntry } from './server-load.js';
import { SHAPES, SHAPE_IDS } from './shapes.js';

const USAGE = `usage: node dist/server-harness.js [options]

  --depth N          requests per read (1: keep-alive, 10: the pipelined benchmark; default 10)
  --requests N       requests per measured round (default 300,000)
  --connections N    connections, each given one read per event-loop turn (default 50)
  --shape NAME       the handler, one of ${SHAPE_IDS.join(', ')} (default hello; see server-shapes.js --help)
  --server PATH      the @tether/server build to load: a git worktree or repository root, its
                     packages/server, or its packages/server/dist (default: this workspace's)
  --no-keep-alive    advertiseKeepAlive: false (builds that write the Keep-Alive advertisement
                     differently then send the same bytes)
  --keep-alive-timeout MS
                     the server's keepAliveTimeout (default 5000, the server's own): under
                     valgrind a turn can outlast 5 s, and connections that time out stop answering
  --help             this text`;

const fail = failer('server-harness');
const ROUNDS = 9;

const ignore = (): undefined => undefined;

/** Where every stand-in socket writes: one reused buffer, and a count of what went in. */
const sink = { buffer: Buffer.allocUnsafe(1 << 20), written: 0 };

/** The socket surface a server connection uses, writing into {@link sink}. */
class StandInSocket extends EventEmitter {
  readonly writableLength = 0;
  readonly destroyed = false;
  // Flow control, closing: nothing to do without a peer.
  readonly setNoDelay = ignore;
  readonly pause = ignore;
  readonly resume = ignore;
  readonly isPaused = (): boolean => false;
  readonly cork = ignore;
  readonly uncork = ignore;
  readonly end = ignore;
  readonly destroy = ignore;
  write(data: Uint8Array | string, encoding?: BufferEncoding | (() => void)): boolean {
    sink.written += typeof data === 'string' ? sink.buffer.write(data, 0, typeof encoding === 'string' ? encoding : 'utf8') : data.length;
    return true;
  }
}

async function main(): Promise<void> {
  const v = readFlags(process.argv.slice(2), USAGE, fail, {
    depth: { type: 'string' },
    requests: { type: 'string' },
    connections: { type: 'string' },
    shape: { type: 'string' },
    server: { type: 'string' },
    'no-keep-alive': { type: 'boolean' },
    'keep-alive-timeout': { type: 'string' },
  });
  const depth = integerFlag(fail, v.depth, 10, 'depth');
  const requests = integerFlag(fail, v.requests, 300_000, 'requests');
  const connections = integerFlag(fail, v.connections, 50, 'connections');
  const keepAliveTimeout = integerFlag(fail, v['keep-alive-timeout'], 5000, 'keep-alive-timeout');
  const shape = v.shape === undefined ? 'hello' : parseList(fail, v.shape, SHAPE_IDS, 'shape')[0]!;
  // Another build has the same API: typed as this workspace's.
  const dist = v.server === undefined ? new URL('../../packages/server/dist/', import.meta.url) : pathToFileURL(`${dirname(serverEntry(v.server, fail))}/`);
  const { createServer } = (await import(new URL('index.js', dist).href)) as typeof TetherServer;
  const { ServerConnection } = (await import(new URL('server-connection.js', dist).href)) as typeof TetherServerConnection;
  const handle = SHAPES[shape].handle;
  // Without the advertisement, builds that write it differently send the same bytes.
  const server = createServer({ keepAliveMax: Number.POSITIVE_INFINITY, keepAliveTimeout, advertiseKeepAlive: v['no-keep-alive'] !== true }, (_req, res) => handle(res));
  const sockets = Array.from({ length: connections }, () => new StandInSocket());
  // The server's connection-facing members are @internal, so not in its public type.
  const host = server as unknown as ConstructorParameters<typeof ServerConnection>[1];
  for (const socket of sockets) new ServerConnection(socket as unknown as Socket, host);
  const read = 'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n'.repeat(depth);
  // The server writes its output at the end of the turn (setImmediate): this resolves after.
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const run = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i += depth * connections) {
      // A fresh array per read, as a socket's.
      for (const socket of sockets) socket.emit('data', Buffer.from(read, 'latin1'));
      await turn();
    }
  };
  await run(20_000);
  const before = sink.written;
  const times: number[] = [];
  // CPU time of every thread: V8's parallel and concurrent GC work is in it, not in the wall time.
  const cpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    const used = process.cpuUsage();
    await run(requests);
    const { user, system } = process.cpuUsage(used);
    times.push(Number(process.hrtime.bigint() - start) / requests);
    cpu.push(((user + system) * 1000) / requests);
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const perResponse = (sink.written - before) / (ROUNDS * requests);
  process.stdout.write(
    `${shape}, depth ${depth}, ${connections} connections: fastest ${times[0]!.toFixed(0)} ns/request, median ${times[ROUNDS >> 1]!.toFixed(0)}; ` +
      `CPU (all threads) least ${cpu[0]!.toFixed(0)}, median ${cpu[ROUNDS >> 1]!.toFixed(0)} (${perResponse.toFixed(0)} bytes per response)\n`,
  );
  // The stand-in socket never closes: end here rather than wait for the idle timer.
  process.exit(0);
}

await main();
