/**
 * Theory of operation: a fixed, repeatable Express load, for counting instructions rather than
 * timing them (`valgrind --tool=cachegrind`, whose count does not move when the machine is
 * busy). The `frameworks` Express app (`GET /` → `res.send('Hello, World!')`) runs in this
 * process on tether's server (node's objects over tether's connection) or, with `--node`, on
 * node:http; `--connections` clients on real loopback sockets each write a batch of ten pipelined
 * GETs and wait for all ten answers before the next, `--rounds` times. Every read then holds
 * one batch, so two runs of the same build do the same work, and two runs with different
 * `--rounds` differ by exactly `connections × 10 × Δrounds` requests: the difference of their
 * instruction counts over that is the instructions per request, start-up and warm-up cancelled.
 *
 *   valgrind --tool=cachegrind --cache-sim=no --smc-check=all-non-file --cachegrind-out-file=/dev/null \
 *     node --predictable dist/express-count.js --rounds 30     (then --rounds 130; Δ = 10,000 requests)
 *
 * Each answer's length is fixed (the `Date` field keeps its length), so answers are counted by
 * bytes; a run that gets anything else, or takes longer than `--timeout` seconds, fails.
 */

import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

import { failer, integerFlag, readFlags } from './cli.js';
import { HELLO } from './limit-server.js';

const USAGE = `usage: node dist/express-count.js [options]

  --rounds N        batches of ten pipelined GETs per connection (default 100)
  --connections N   client connections (default 10)
  --node            serve on node:http instead of @tether/server
  --timeout S       give up after S seconds (default 600: valgrind runs ~50× slower)
  --help            this text`;

const fail = failer('express-count');
const DEPTH = 10;
/** Keep-alive long enough for a run under valgrind, and no request limit per connection. */
const IDLE_MS = 3_600_000;

async function main(): Promise<void> {
  const v = readFlags(process.argv.slice(2), USAGE, fail, {
    rounds: { type: 'string' },
    connections: { type: 'string' },
    node: { type: 'boolean' },
    timeout: { type: 'string' },
  });
  const rounds = integerFlag(fail, v.rounds, 100, 'rounds');
  const connections = integerFlag(fail, v.connections, 10, 'connections');
  const timeoutS = integerFlag(fail, v.timeout, 600, 'timeout');
  const { default: express } = await import('express');
  const app = express();
  app.get('/', (_req, res) => {
    res.send(HELLO);
  });
  let port: number;
  let close: () => void;
  if (v.node === true) {
    const server = http.createServer(app);
    server.keepAliveTimeout = IDLE_MS;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    close = () => server.close();
  } else {
    const { createServer } = await import('@tether/server');
    const server = createServer({ keepAliveTimeout: IDLE_MS, headersTimeout: IDLE_MS, keepAliveMax: Number.POSITIVE_INFINITY }, app);
    ({ port } = await server.listen({ port: 0, host: '127.0.0.1' }));
    close = () => void server.close({ timeout: 0 });
  }
  const timer = setTimeout(() => fail(`not done after ${timeoutS} s`), timeoutS * 1000);
  const batch = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(DEPTH);
  // The first answer tells the length of all (one client, one request, before the load).
  const answerBytes = await firstAnswerLength(port);
  await Promise.all(Array.from({ length: connections }, () => client(port, batch, rounds, answerBytes * DEPTH)));
  clearTimeout(timer);
  close();
  process.stdout.write(`express-count: ${v.node === true ? 'node:http' : 'tether'}, ${connections} connections × ${rounds} rounds × ${DEPTH} requests, ${answerBytes} bytes per answer\n`);
  process.exit(0);
}

/** The length of one answer to `GET /`, from a connection of its own. */
function firstAnswerLength(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      text += chunk;
      const head = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text);
      if (head < 0 || length === null) return;
      const total = head + 4 + Number(length[1]);
      if (text.length < total) return;
      socket.destroy();
      resolve(total);
    });
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  });
}

/** One client: `rounds` batches, each written once all answers to the one before are in. */
function client(port: number, batch: string, rounds: number, batchBytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = 0;
    let sent = 0;
    socket.on('error', reject);
    socket.on('close', () => {
      if (sent < rounds || got !== sent * batchBytes) reject(new Error(`connection closed after ${got} bytes of ${rounds * batchBytes}`));
    });
    socket.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got > sent * batchBytes) return reject(new Error(`more bytes than ${sent} batches of answers`));
      if (got < sent * batchBytes) return;
      if (sent === rounds) {
        socket.destroy();
        resolve();
        return;
      }
      sent++;
      socket.write(batch);
    });
    socket.once('connect', () => {
      sent++;
      socket.write(batch);
    });
  });
}

await main();
