/**
 * Theory of operation: what Express costs a request with no server under it — the floor under
 * both `express` and `express-tether` in `frameworks.ts`. The `frameworks` Express app
 * (`GET /` → `res.send('Hello, World!')`) is called with node's own `IncomingMessage` and
 * `ServerResponse`, made the way a server makes them (the request's head set, its body already
 * ended; the response given `shouldKeepAlive` and a socket), ten to an event-loop turn as the
 * pipelined ×10 load hands them over. The "socket" is a Duplex that discards what it is given:
 * no parsing, no system call, no connection bookkeeping. Node's own per-request work after the
 * handler (dumping the unread body, 'close' on both objects) is not done either, since it
 * belongs to a server. Nine rounds after a warm-up; prints the fastest and the median, in µs of
 * process CPU (all threads) per request.
 *
 * Use it to judge how far a server can go under Express: node:http's CPU per request (from
 * `frameworks.js`) ÷ this floor is the most any server could reach on the pipelined load.
 */

import http from 'node:http';
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

import { failer, integerFlag, readFlags } from './cli.js';
import { HELLO } from './limit-server.js';

const USAGE = `usage: node dist/express-floor.js [--requests N]

  --requests N   requests per measured round (default 100,000; rounded to tens)
  --help         this text`;

const fail = failer('express-floor');
const ROUNDS = 9;
const PER_TURN = 10;

/** A socket that takes every write and sends nothing back. */
class DiscardingSocket extends Duplex {
  readonly remoteAddress = '127.0.0.1';
  readonly encrypted = false;
  override _read(): void {
    // Nothing arrives.
  }
  override _write(_chunk: unknown, _encoding: BufferEncoding, callback: () => void): void {
    callback();
  }
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
}

async function main(): Promise<void> {
  const v = readFlags(process.argv.slice(2), USAGE, fail, { requests: { type: 'string' } });
  const requests = Math.max(PER_TURN, Math.round(integerFlag(fail, v.requests, 100_000, 'requests') / PER_TURN) * PER_TURN);
  const { default: express } = await import('express');
  const app = express();
  app.get('/', (_req, res) => {
    res.send(HELLO);
  });
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const one = (): void => {
    // A socket per request: node's objects listen on it, and a response's own ends with it.
    const socket = new DiscardingSocket() as unknown as Socket;
    const req = new http.IncomingMessage(socket);
    req.method = 'GET';
    req.url = '/';
    req.httpVersion = '1.1';
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 1;
    req.headers = { host: '127.0.0.1:8080' };
    req.rawHeaders = ['Host', '127.0.0.1:8080'];
    req.complete = true;
    req.push(null);
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = true;
    res.assignSocket(socket);
    app(req, res);
  };
  const round = async (n: number): Promise<number> => {
    const start = process.cpuUsage();
    for (let i = 0; i < n; i += PER_TURN) {
      for (let j = 0; j < PER_TURN; j++) one();
      await turn();
    }
    const used = process.cpuUsage(start);
    return (used.user + used.system) / n;
  };
  await round(requests);
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) times.push(await round(requests));
  times.sort((a, b) => a - b);
  process.stdout.write(`Express res.send on node's objects, no server, ${PER_TURN} a turn: fastest ${times[0]!.toFixed(2)} µs CPU/request, median ${times[ROUNDS >> 1]!.toFixed(2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`express-floor: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
