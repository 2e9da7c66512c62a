/**
 * Interop: the pool against real servers over TCP on 127.0.0.1 — node:http (reuse, pipelining),
 * nginx started by the test (`keepalive_requests 3`: its announced closes, and the requests
 * pipelined behind them re-sent), and @tether/server closing idle connections after 15 ms (on a
 * clock the test moves) without advertising it (requests racing the close are re-sent; none fails).
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { nginxConfig as nginxPeerConfig, startPeer } from '@tether/peers';
import type { PeerPlace, RunningPeer } from '@tether/peers';
import { ManualClock } from '@tether/protocol/testing';
import { createServer } from '@tether/server';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Pool } from '../src/index.js';
import type { PoolOptions, PoolStats } from '../src/index.js';
import { RawServer, ok } from './raw-server.js';
import type { RawConnection } from './raw-server.js';
import { runClock } from './turn-clock.js';

/** GETs per run: enough for hundreds of nginx connections and many pipelined batches. */
const RUN_REQUESTS = 1000;
/** Requests outstanding at once in a run: enough to fill every connection's pipeline. */
const RUN_CONCURRENCY = 100;
/** A run of 1000 GETs on loopback takes well under a second; past this something is stuck. */
const RUN_DEADLINE_MS = 20_000;
const RUN_TEST_TIMEOUT_MS = 30_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function pool(origin: string, options: PoolOptions): Pool {
  const p = new Pool(origin, options);
  cleanups.push(() => p.destroy());
  return p;
}

/** A request that did not end with the expected body. */
interface Failure {
  readonly path: string;
  readonly problem: string;
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${'code' in err ? String(err.code) : err.name}: ${err.message}`;
  return String(err);
}

/**
 * Send `total` GETs to `/r/<i>` with at most `concurrency` outstanding, reading each body, and
 * return every request whose status or body was not `expected(path)`.
 */
async function run(p: Pool, total: number, concurrency: number, expected: (path: string) => string): Promise<Failure[]> {
  const failures: Failure[] = [];
  const deadline = performance.now() + RUN_DEADLINE_MS;
  let next = 0;
  const worker = async (): Promise<void> => {
    // Bounded twice: `total` requests in all, and the deadline.
    while (next < total) {
      if (performance.now() > deadline) throw new Error(`run not done after ${RUN_DEADLINE_MS} ms (${next}/${total} sent)`);
      const reqPath = `/r/${next++}`;
      try {
        const res = await p.request({ method: 'GET', path: reqPath, headers: { 'x-id': reqPath } });
        const body = await res.text();
        if (res.statusCode !== 200 || body !== expected(reqPath)) failures.push({ path: reqPath, problem: `${res.statusCode} ${JSON.stringify(body)}` });
      } catch (err) {
        failures.push({ path: reqPath, problem: describeError(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failures;
}

/** Every request answered right (else: how many were not, and the first few). */
function expectNoFailures(failures: readonly Failure[]): void {
  expect(failures.length, `${failures.length} requests failed, first: ${JSON.stringify(failures.slice(0, 10))}`).toBe(0);
}

/** The stats worth printing when an assertion fails. */
function summary(stats: PoolStats): string {
  return JSON.stringify(stats);
}

// -------------------------------------------------------------------------------------------------
// node:http

async function nodeServer(): Promise<string> {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`node ${req.url ?? ''}`);
  });
  // node:http advertises it (`Keep-Alive: timeout=1`): the pool keeps idle connections 500 ms.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

describe('interop with node:http', () => {
  it('pooled (6 connections, no pipelining): 1000 GETs answered right, over at most 6 connections', { timeout: RUN_TEST_TIMEOUT_MS }, async () => {
    const p = pool(await nodeServer(), { connections: 6, pipelining: 1 });
    const failures = await run(p, RUN_REQUESTS, RUN_CONCURRENCY, (reqPath) => `node ${reqPath}`);
    expectNoFailures(failures);
    const stats = p.stats();
    expect(stats.requests, summary(stats)).toBe(RUN_REQUESTS);
    expect(stats.connections.opened, summary(stats)).toBeLessThanOrEqual(6);
    expect(stats.handshakesSaved, summary(stats)).toBeGreaterThanOrEqual(990);
  });

  it('pipelined (1 connection, pipelining 10): 1000 GETs answered right, over at most 2 connections', { timeout: RUN_TEST_TIMEOUT_MS }, async () => {
    const p = pool(await nodeServer(), { connections: 1, pipelining: 10 });
    const failures = await run(p, RUN_REQUESTS, RUN_CONCURRENCY, (reqPath) => `node ${reqPath}`);
    expectNoFailures(failures);
    const stats = p.stats();
    expect(stats.requests, summary(stats)).toBe(RUN_REQUESTS);
    expect(stats.connections.opened, summary(stats)).toBeLessThanOrEqual(2);
    expect(stats.handshakesSaved, summary(stats)).toBeGreaterThanOrEqual(990);
    expect(stats.pipelinedRequests, summary(stats)).toBeGreaterThan(0);
  });
});

// -------------------------------------------------------------------------------------------------
// nginx

function nginxConfig(place: PeerPlace): string {
  return nginxPeerConfig(
    place,
    `  # The third response on a connection says Connection: close; nginx then closes it.
  keepalive_requests 3;
  keepalive_timeout 1s;

  server {
    listen 127.0.0.1:${place.port};
    location / {
      default_type text/plain;
      return 200 "hello $uri\\n";
    }
  }`,
  );
}

let nginx: Promise<RunningPeer> | null = null;

/** nginx, started on first use (and stopped in afterAll). Rejects, saying why, when it cannot run. */
function nginxServer(): Promise<RunningPeer> {
  // Not just "the port accepts": the answer must be nginx's (the port may have been taken).
  nginx ??= startPeer({ kind: 'nginx', config: nginxConfig, ready: { path: '/ready', body: 'hello /ready\n' } });
  return nginx;
}

afterAll(async () => {
  if (nginx === null) return;
  const started = await nginx.catch(() => null);
  nginx = null;
  await started?.stop();
});

/**
 * What every nginx run must show: reuse, announced closes, and no connection answering more than
 * 3 requests — so at least a third as many connections as requests.
 */
function expectNginxStats(stats: PoolStats): void {
  expect(stats.requests, summary(stats)).toBe(RUN_REQUESTS);
  expect(stats.handshakesSaved, summary(stats)).toBeGreaterThan(0);
  expect(stats.closedBy['server-close'], summary(stats)).toBeGreaterThan(0);
  expect(stats.connections.opened, summary(stats)).toBeGreaterThanOrEqual(Math.ceil(RUN_REQUESTS / 3));
  expect(stats.connections.opened, summary(stats)).toBeLessThan(RUN_REQUESTS);
}

function expectAtMostThreePerConnection(stats: PoolStats): void {
  for (const carried of Object.keys(stats.requestsPerConnection).map(Number)) {
    expect(carried, `a connection carried ${carried} requests: ${summary(stats)}`).toBeLessThanOrEqual(3);
  }
}

describe('interop with nginx (keepalive_requests 3)', () => {
  it('pooled (6 connections, no pipelining): 1000 GETs answered right, nginx closing every third', { timeout: RUN_TEST_TIMEOUT_MS }, async () => {
    const { origin } = await nginxServer();
    const p = pool(origin, { connections: 6, pipelining: 1 });
    const failures = await run(p, RUN_REQUESTS, RUN_CONCURRENCY, (reqPath) => `hello ${reqPath}\n`);
    expectNoFailures(failures);
    const stats = p.stats();
    expectNginxStats(stats);
    expectAtMostThreePerConnection(stats);
  });

  it('pipelined (2 connections, pipelining 10): 1000 GETs answered right, those pipelined behind a close re-sent', { timeout: RUN_TEST_TIMEOUT_MS }, async () => {
    const { origin } = await nginxServer();
    const p = pool(origin, { connections: 2, pipelining: 10 });
    const failures = await run(p, RUN_REQUESTS, RUN_CONCURRENCY, (reqPath) => `hello ${reqPath}\n`);
    expectNoFailures(failures);
    const stats = p.stats();
    expectNginxStats(stats);
    expect(stats.pipelinedRequests, summary(stats)).toBeGreaterThan(0);
    expect(stats.retries, summary(stats)).toBeGreaterThan(0);
    // Requests written behind nginx's announced close are not counted as carried by that
    // connection, and a handshake saved is a response on a reused connection.
    expectAtMostThreePerConnection(stats);
    expect(stats.handshakesSaved, summary(stats)).toBeLessThanOrEqual(stats.requests);
  });

});

// -------------------------------------------------------------------------------------------------
// The keep-alive race

/** Requests in the race test, and the workers sending them one at a time. */
const RACE_REQUESTS = 5000;
const RACE_WORKERS = 10;
/** Gaps between a worker's requests straddle the server's 15 ms idle timeout (server clock ms). */
const RACE_GAP_MIN_MS = 5;
const RACE_GAP_MAX_MS = 25;
const RACE_DEADLINE_MS = 20_000;
/**
 * The server's clock moves 1 ms per turn of the event loop, up to this many ms: the run needs
 * about 7,500 (500 requests per worker, 15 ms apart on average); the bound stops a stuck run.
 */
const RACE_CLOCK_MAX_MS = 200_000;

describe('the keep-alive race', () => {
  it('a server closing idle connections after 15 ms unannounced: 5000 GETs, none fails, idle closes seen', { timeout: 30_000 }, async () => {
    // The server's timers (its 15 ms idle close above all) run on a clock moved 1 ms per turn of
    // the event loop, and the workers' gaps are measured on it: the same race as in real time,
    // without sleeping through 7.5 s of gaps.
    const clock = new ManualClock();
    const stopClock = runClock(clock, RACE_CLOCK_MAX_MS);
    cleanups.push(stopClock);
    const server = createServer({ keepAliveTimeout: 15, keepAliveTimeoutBuffer: 0, advertiseKeepAlive: false, clock }, (req, res) => res.end(`race ${req.url}`));
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(async () => {
      await server.close({ timeout: 1000 });
    });
    const gap = (ms: number): Promise<void> => new Promise((resolve) => clock.setTimer(resolve, ms));
    // Our idle timeout far above the server's: the server always retires a connection first.
    const p = pool(`http://127.0.0.1:${port}`, { connections: 4, keepAliveTimeout: 60_000 });
    const failures: Failure[] = [];
    const deadline = performance.now() + RACE_DEADLINE_MS;
    const perWorker = RACE_REQUESTS / RACE_WORKERS;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: RACE_WORKERS }, async (_, w) => {
        for (let i = 0; i < perWorker; i++) {
          if (performance.now() > deadline) throw new Error(`race not done after ${RACE_DEADLINE_MS} ms`);
          if (i > 0) await gap(RACE_GAP_MIN_MS + Math.random() * (RACE_GAP_MAX_MS - RACE_GAP_MIN_MS));
          const reqPath = `/w${w}/${i}`;
          try {
            const res = await p.request({ method: 'GET', path: reqPath });
            const body = await res.text();
            if (res.statusCode !== 200 || body !== `race ${reqPath}`) failures.push({ path: reqPath, problem: `${res.statusCode} ${JSON.stringify(body)}` });
          } catch (err) {
            failures.push({ path: reqPath, problem: describeError(err) });
          }
        }
      }),
    );
    const stats = p.stats();
    console.log(
      `keep-alive race: ${RACE_REQUESTS} GETs in ${Math.round(performance.now() - started)} ms (${clock.now()} ms on the server's clock), retries ${stats.retries}, ` +
        `opened ${stats.connections.opened}, closedBy ${JSON.stringify(stats.closedBy)}, still reusing connections: ${String(p.reusingConnections)}`,
    );
    expectNoFailures(failures);
    expect(stats.requests, summary(stats)).toBe(RACE_REQUESTS);
    expect(stats.closedBy['server-idle-close'], `reusingConnections ${String(p.reusingConnections)}: ${summary(stats)}`).toBeGreaterThan(0);
    // Some requests crossed an idle close on the wire and were re-sent: the race was run.
    expect(stats.retries, summary(stats)).toBeGreaterThan(0);
  });

  // Regression: two reused connections dropped under a request, back to back, once read as "this
  // server closes after every response" and turned connection reuse off for good.
  it('two requests racing idle closes are re-sent, and connection reuse stays on', async () => {
    // Stands in for a server whose idle close crossed the request: a request arriving on a
    // connection idle for 20 ms or more is dropped unanswered.
    const idleSince = new Map<RawConnection, number>();
    const server = await RawServer.start((req, conn) => {
      const since = idleSince.get(conn);
      if (since !== undefined && performance.now() - since >= 20) {
        conn.socket.end();
        return;
      }
      conn.socket.write(ok(`race ${req.path}`));
      idleSince.set(conn, performance.now());
    });
    cleanups.push(() => server.close());
    const p = pool(server.origin, { connections: 2, keepAliveTimeout: 60_000 });
    const round = (n: number): Promise<string[]> => Promise.all(['a', 'b'].map(async (x) => (await p.request({ path: `/${n}${x}` })).text()));
    expect(await round(1)).toEqual(['race /1a', 'race /1b']);
    await sleep(50);
    // Both go out on the two idle connections, both are dropped, both are re-sent.
    expect(await round(2)).toEqual(['race /2a', 'race /2b']);
    expect(p.stats().retries).toBe(2);
    expect(p.reusingConnections).toBe(true);
  });
});
