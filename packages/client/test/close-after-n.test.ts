/**
 * Servers that close every connection after the same number of requests without announcing it
 * in advance (no `Keep-Alive: max`): the pool learns the number and sends no more than that on a
 * connection, so little is pipelined behind the close and sent again. Against Debian's nginx,
 * Apache and lighttpd (started from a temp config, stopped by PID), and a raw server for the
 * mechanism: holding at the learned number, and forgetting it when the server goes past it.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE_AFTER_STREAK } from '../src/index.js';
import type { Pool, PoolStats } from '../src/index.js';
import { eventually } from './outcome.js';
import { startOriginServer } from './origin-servers.js';
import type { OriginKind } from './origin-servers.js';
import { ok } from './raw-server.js';
import type { RawConnection } from './raw-server.js';
import { Resources } from './resources.js';

const resources = new Resources();
afterEach(() => resources.release());

/** GETs per run, and outstanding at once: enough for ~200 connections, each pipeline filled. */
const RUN_REQUESTS = 1000;
const RUN_CONCURRENCY = 100;
/** Re-sent requests allowed in a run: under 5% of them (the pool learns after a few connections). */
const MAX_RETRIES = RUN_REQUESTS * 0.05;
/** A run takes well under a second on loopback; past this something is stuck. */
const RUN_DEADLINE_MS = 20_000;
const TEST_TIMEOUT_MS = 40_000;

/**
 * Send `total` GETs to `/r/<i>` with at most `concurrency` outstanding, reading each body; return
 * how many came back as `hello /r/<i>\n` and the first few that did not.
 */
async function run(p: Pool, total: number, concurrency: number): Promise<{ correct: number; wrong: string[] }> {
  const wrong: string[] = [];
  let correct = 0;
  let next = 0;
  const deadline = performance.now() + RUN_DEADLINE_MS;
  const worker = async (): Promise<void> => {
    while (next < total) {
      if (performance.now() > deadline) throw new Error(`run not done after ${RUN_DEADLINE_MS} ms (${next}/${total} sent)`);
      const path = `/r/${next++}`;
      try {
        const res = await p.request({ path });
        const body = await res.text();
        if (res.statusCode === 200 && body === `hello ${path}\n`) correct++;
        else if (wrong.length < 10) wrong.push(`${path}: ${res.statusCode} ${JSON.stringify(body)}`);
      } catch (err) {
        if (wrong.length < 10) wrong.push(`${path}: ${String(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { correct, wrong };
}

const summary = (stats: PoolStats): string => JSON.stringify(stats);

/** Each server's setting, and the responses it then gives a connection before closing it. */
const PEERS: [kind: OriginKind, setting: string, closesAfter: number][] = [
  ['nginx', 'keepalive_requests 5', 5],
  // Apache and lighttpd count the requests after the first: a setting of 5 closes after 6.
  ['apache', 'MaxKeepAliveRequests 5', 6],
  ['lighttpd', 'server.max-keep-alive-requests = 5', 6],
];

describe.each(PEERS)('%s (%s): a server that closes after the same number of responses', (kind, _setting, closesAfter) => {
  it(`1000 GETs, 2 connections, pipelining 10: all correct, fewer than 5% re-sent, at most ${closesAfter} per connection`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await startOriginServer(kind, { keepAliveRequests: 5, files: RUN_REQUESTS });
    resources.defer(() => server.stop());
    const p = resources.pool(server.origin, { connections: 2, pipelining: 10 });
    const { correct, wrong } = await run(p, RUN_REQUESTS, RUN_CONCURRENCY);
    const stats = p.stats();
    console.log(`${kind}: ${correct}/${RUN_REQUESTS} correct, ${stats.retries} re-sent, ${stats.connections.opened} connections, learned limit ${p.originProfile.limitPerConnection}`);
    expect(wrong, summary(stats)).toEqual([]);
    expect(correct).toBe(RUN_REQUESTS);
    expect(p.originProfile.limitPerConnection, summary(stats)).toBe(closesAfter);
    expect(stats.retries, summary(stats)).toBeLessThan(MAX_RETRIES);
    for (const carried of Object.keys(stats.requestsPerConnection).map(Number)) expect(carried, summary(stats)).toBeLessThanOrEqual(closesAfter);
  });
});

describe('the learned limit, against a raw server', () => {
  /** Answers each request 10 ms after it arrived (so pipelined requests pile up), in order. */
  function delayedServer(closesAfter: (conn: RawConnection) => number | null): Promise<{ origin: string; arrivals: Map<number, number[]> }> {
    // For each connection, the responses written before each of its requests arrived.
    const arrivals = new Map<number, number[]>();
    const written = new Map<number, number>();
    return resources
      .raw((req, conn) => {
        const list = arrivals.get(conn.number) ?? [];
        list.push(written.get(conn.number) ?? 0);
        arrivals.set(conn.number, list);
        const last = closesAfter(conn) === req.index;
        setTimeout(() => {
          if (conn.socket.destroyed || !conn.socket.writable) return;
          conn.socket.write(ok(`hello ${req.path}\n`, last ? ['Connection: close'] : []));
          written.set(conn.number, (written.get(conn.number) ?? 0) + 1);
          if (last) conn.socket.end();
        }, 10);
      })
      .then((server) => ({ origin: server.origin, arrivals }));
  }

  it(`after ${CLOSE_AFTER_STREAK} connections closed on their 3rd response, later ones send no more than 3 requests`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const { origin, arrivals } = await delayedServer(() => 3);
    const p = resources.pool(origin, { connections: 1, pipelining: 10 });
    const { correct, wrong } = await run(p, 60, 20);
    expect(wrong).toEqual([]);
    expect(correct).toBe(60);
    expect(p.originProfile.limitPerConnection).toBe(3);
    // The first connections pipelined past the close (up to 10 in flight); the learned ones hold.
    const learnedAfter = [...arrivals.keys()].sort((a, b) => a - b).slice(CLOSE_AFTER_STREAK + 1);
    expect(learnedAfter.length).toBeGreaterThan(5);
    for (const conn of learnedAfter) expect(arrivals.get(conn)!.length, `connection ${conn}`).toBeLessThanOrEqual(3);
  });

  it('a server that keeps a connection open past the learned limit: the limit is forgotten, connections carry more', { timeout: TEST_TIMEOUT_MS }, async () => {
    // Closes after 3 on its first connections, then never (its limit was raised).
    const { origin, arrivals } = await delayedServer((conn) => (conn.number <= CLOSE_AFTER_STREAK + 1 ? 3 : null));
    const p = resources.pool(origin, { connections: 1, pipelining: 10 });
    await run(p, 12, 12);
    expect(p.originProfile.limitPerConnection).toBe(3);
    const { correct, wrong } = await run(p, 40, 20);
    expect(wrong).toEqual([]);
    expect(correct).toBe(40);
    expect(p.originProfile.limitPerConnection).toBe(Number.POSITIVE_INFINITY);
    const last = Math.max(...arrivals.keys());
    const seen = arrivals.get(last)!;
    // It held at 3 (the 4th request went out after the 3rd response), then carried on past it.
    expect(seen.length).toBeGreaterThan(3);
    expect(seen[3]).toBeGreaterThanOrEqual(3);
    await eventually(() => p.stats().connections.open <= 1);
  });
});

describe('closes the client asked for', () => {
  it('a request of its own that says Connection: close, answered by a close, teaches the pool no limit', { timeout: TEST_TIMEOUT_MS }, async () => {
    // The server answers a request that asks to close with a close, and keeps every other
    // connection open: the closes are ours, not a limit of the server's.
    const server = await resources.raw((req, conn) => {
      const closing = req.headers.connection === 'close';
      conn.socket.write(ok(`hello ${req.path}\n`, closing ? ['Connection: close'] : []));
      if (closing) conn.socket.end();
    });
    const p = resources.pool(server.origin, { connections: 1, pipelining: 10 });
    for (let i = 0; i < CLOSE_AFTER_STREAK + 2; i++) {
      const res = await p.request({ path: `/asked/${i}`, headers: { connection: 'close' } });
      expect(await res.text()).toBe(`hello /asked/${i}\n`);
    }
    await eventually(() => p.stats().connections.open === 0);
    expect(p.originProfile.limitPerConnection).toBe(Number.POSITIVE_INFINITY);
    // A connection asked to close takes nothing behind that request.
    expect(p.stats().requestsPerConnection).toEqual({ 1: CLOSE_AFTER_STREAK + 2 });
    // Later requests are not held to one per connection.
    const { correct, wrong } = await run(p, 20, 10);
    expect(wrong).toEqual([]);
    expect(correct).toBe(20);
    expect(p.stats().pipelinedRequests).toBeGreaterThan(0);
  });
});
