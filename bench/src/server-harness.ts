/**
 * Theory of operation: the JavaScript cost of @tether/server per request, without sockets or a
 * load generator. One server connection (the package's internal `ServerConnection`, reached by
 * its path in the workspace: it is not part of the package's API) is driven through a stand-in
 * socket: each round hands it one "read" of `--depth` pipelined `GET /` requests, then flushes
 * its output as the end of an event-loop turn would, into a buffer written the way the socket
 * would write it (latin1 or UTF-8 text, bytes). The handler is the server benchmark's. Nine
 * rounds of `--requests` requests after a warm-up; prints the fastest and the median, in ns per
 * request.
 *
 * Use it to compare builds of @tether/protocol and @tether/server (and with `--cpu-prof` to see
 * where their time goes); the socket's own cost, the kernel's and wrk's are not in it: for
 * throughput, run `server.ts`.
 */

import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

import { createServer } from '@tether/server';
import { ServerConnection } from '../../packages/server/dist/server-connection.js';

import { failer, integerFlag, readFlags } from './cli.js';
import { HELLO } from './limit-server.js';

const USAGE = `usage: node dist/server-harness.js [options]

  --depth N          requests per read (1: keep-alive, 10: the pipelined benchmark; default 10)
  --requests N       requests per measured round (default 300,000)
  --help             this text`;

const fail = failer('server-harness');
const ROUNDS = 9;

const ignore = (): undefined => undefined;

/** The socket surface a server connection uses, writing into one reused buffer. */
class StandInSocket extends EventEmitter {
  readonly writableLength = 0;
  readonly destroyed = false;
  written = 0;
  readonly #sink = Buffer.allocUnsafe(1 << 20);
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
    this.written += typeof data === 'string' ? this.#sink.write(data, 0, typeof encoding === 'string' ? encoding : 'utf8') : data.length;
    return true;
  }
}

async function main(): Promise<void> {
  const v = readFlags(process.argv.slice(2), USAGE, fail, { depth: { type: 'string' }, requests: { type: 'string' } });
  const depth = integerFlag(fail, v.depth, 10, 'depth');
  const requests = integerFlag(fail, v.requests, 300_000, 'requests');
  const server = createServer({ keepAliveMax: Number.POSITIVE_INFINITY }, (_req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end(HELLO);
  });
  const socket = new StandInSocket();
  const conn = new ServerConnection(socket as unknown as Socket, server);
  const read = 'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n'.repeat(depth);
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const run = async (n: number): Promise<void> => {
    for (let i = 0, reads = 0; i < n; i += depth) {
      socket.emit('data', Buffer.from(read, 'latin1'));
      conn.flushOutput();
      // Let the loop turn now and then, as a server's does: the server's end-of-turn work runs.
      if (++reads % 1000 === 0) await turn();
    }
  };
  await run(20_000);
  const before = socket.written;
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    await run(requests);
    times.push(Number(process.hrtime.bigint() - start) / requests);
  }
  times.sort((a, b) => a - b);
  const perResponse = (socket.written - before) / (ROUNDS * requests);
  process.stdout.write(`depth ${depth}: fastest ${times[0]!.toFixed(0)} ns/request, median ${times[ROUNDS >> 1]!.toFixed(0)} (${perResponse.toFixed(0)} bytes per response)\n`);
  // The stand-in socket never closes: end here rather than wait for the idle timer.
  process.exit(0);
}

await main();
