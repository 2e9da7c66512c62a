/**
 * Raw servers that break the rules a client must survive, over real TCP: closing after each
 * response without saying so, closing mid-pipeline, truncating a body, HTTP/1.0 bodies delimited
 * by close, answering one pipelined request and closing, a short Keep-Alive timeout, resets.
 * Each ends with every idempotent request answered exactly once, and every non-idempotent one
 * either answered or failed with "may have been processed" — and never sent twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE_AFTER_STREAK, ClientError, Pool } from '../src/index.js';
import type { PoolOptions } from '../src/index.js';
import { RawServer, ok } from './raw-server.js';
import type { Behaviour } from './raw-server.js';

const opened: { close(): Promise<void> }[] = [];
const pools: Pool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) void pool.destroy();
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function serve(behaviour: Behaviour): Promise<RawServer> {
  const server = await RawServer.start(behaviour);
  opened.push(server);
  return server;
}

function pool(server: RawServer, options: PoolOptions): Pool {
  const p = new Pool(server.origin, options);
  pools.push(p);
  return p;
}

/** The body each request is answered with. */
const bodyFor = (req: { path: string }): string => `body of ${req.path}`;

interface Outcome {
  readonly id: string;
  readonly method: string;
  readonly body?: string;
  readonly error?: unknown;
}

/** Send `gets` GETs and `posts` POSTs at once (POSTs spread among the GETs); collect every outcome. */
async function mix(p: Pool, gets: number, posts: number): Promise<Outcome[]> {
  const jobs: Promise<Outcome>[] = [];
  const total = gets + posts;
  const every = posts === 0 ? Infinity : Math.floor(total / posts);
  let g = 0;
  let q = 0;
  for (let i = 0; i < total; i++) {
    const post = q < posts && (i + 1) % every === 0;
    const id = post ? `p${q++}` : `g${g++}`;
    const method = post ? 'POST' : 'GET';
    jobs.push(
      p.request({ method, path: `/${id}`, headers: { 'x-id': id }, ...(post ? { body: `data ${id}` } : {}) })
        .then(async (res): Promise<Outcome> => ({ id, method, body: await res.text() }))
        .catch((error: unknown): Outcome => ({ id, method, error })),
    );
  }
  return Promise.all(jobs);
}

/** The rules every scenario must end with. */
function expectSafe(outcomes: Outcome[], server: RawServer): void {
  for (const o of outcomes) {
    if (o.method === 'GET') {
      expect(o.error, `GET ${o.id}`).toBeUndefined();
      expect(o.body).toBe(`body of /${o.id}`);
    } else {
      if (o.error !== undefined) {
        expect(o.error).toBeInstanceOf(ClientError);
        expect((o.error as ClientError).code).toBe('TETHER_CONNECTION_LOST');
        expect((o.error as ClientError).mayHaveBeenProcessed).toBe(true);
        expect((o.error as ClientError).message).toMatch(/may or may not have been processed/);
      } else {
        expect(o.body).toBe(`body of /${o.id}`);
      }
      expect(server.timesReceived(o.id), `POST ${o.id} reached the server`).toBeLessThanOrEqual(1);
    }
  }
}

describe('misbehaving servers', () => {
  it('closes after each response without saying so: requests are re-sent, then connections are no longer reused', async () => {
    const server = await serve((req, conn) => {
      conn.socket.end(ok(bodyFor(req)));
    });
    const p = pool(server, { connections: 2, pipelining: 4 });
    const outcomes = await mix(p, 60, 10);
    expectSafe(outcomes, server);
    // Once seen, the client stops reusing: each request says Connection: close.
    expect(p.reusingConnections).toBe(false);
    const last = server.received.at(-1)!;
    expect(last.headers.connection).toBe('close');
    for (const o of outcomes.filter((x) => x.method === 'GET')) expect(server.timesReceived(o.id)).toBeGreaterThanOrEqual(1);
  });

  it('closes mid-pipeline after 3 responses without saying so', async () => {
    const server = await serve((req, conn) => {
      if (conn.received <= 3) conn.socket.write(ok(bodyFor(req)));
      if (conn.received === 3) conn.socket.end();
    });
    const p = pool(server, { connections: 1, pipelining: 8 });
    const outcomes = await mix(p, 40, 5);
    expectSafe(outcomes, server);
    expect(p.stats().retries).toBeGreaterThan(0);
  });

  it('truncates a body: that response fails naming the cause, the others are answered', async () => {
    const server = await serve((req, conn) => {
      if (req.path === '/g3' && conn.number === 1) {
        conn.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part');
        return;
      }
      conn.socket.write(ok(bodyFor(req)));
    });
    const p = pool(server, { connections: 1, pipelining: 4 });
    const outcomes = await mix(p, 10, 0);
    const truncated = outcomes.find((o) => o.id === 'g3')!;
    expect(truncated.error).toBeInstanceOf(ClientError);
    expect((truncated.error as ClientError).code).toBe('TETHER_TRUNCATED_BODY');
    expect((truncated.error as ClientError).message).toMatch(/9 of 100 body bytes|before the body was complete/);
    // It is not re-sent: part of its response was handed over.
    expect(server.timesReceived('g3')).toBe(1);
    expectSafe(outcomes.filter((o) => o.id !== 'g3'), server);
  });

  it('HTTP/1.0 without Content-Length: the body is read until close, nothing is pipelined there', async () => {
    const server = await serve((req, conn) => {
      conn.socket.end(`HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n${bodyFor(req)}`);
    });
    const p = pool(server, { connections: 2, pipelining: 8 });
    const outcomes = await mix(p, 20, 4);
    expectSafe(outcomes, server);
    expect(outcomes.every((o) => o.error === undefined)).toBe(true);
    expect(p.stats()).toMatchObject({ pipelinedRequests: 0, retries: 0 });
    // The last connection closes just after its body completes.
    for (let i = 0; i < 100 && p.stats().connections.open > 0; i++) await new Promise((r) => setTimeout(r, 10));
    // Each response closes its connection: the first closes teach the pool a limit of 1.
    expect(p.stats().closedBy).toMatchObject({ 'server-close': CLOSE_AFTER_STREAK, 'learned-limit': 24 - CLOSE_AFTER_STREAK, error: 0 });
  });

  it('answers one pipelined request and closes: the origin is marked unsafe for pipelining, the rest are re-sent without it', async () => {
    const server = await serve((req, conn) => {
      if (conn.received === 1) {
        conn.socket.write(ok(bodyFor(req)));
        // Close once the pipelined requests have had time to arrive.
        setTimeout(() => conn.socket.end(), 20);
      }
    });
    const p = pool(server, { connections: 1, pipelining: 10 });
    const first = await p.request({ path: '/g-first', headers: { 'x-id': 'g-first' } });
    expect(await first.text()).toBe('body of /g-first');
    const outcomes = await mix(p, 12, 3);
    expectSafe(outcomes, server);
    expect(p.pipeliningSafe).toBe(false);
    // After the verdict nothing was pipelined: each later connection got its answered request
    // and at most one more, sent after that answer (the server then closed under it).
    expect(p.stats().pipelinedRequests).toBeLessThanOrEqual(9);
    expect(server.connections.slice(1).every((c) => c.received <= 2)).toBe(true);
  });

  it('Keep-Alive: timeout=1: the client retires idle connections before the server closes them', async () => {
    const server = await serve((req, conn) => {
      conn.socket.write(ok(bodyFor(req), ['Keep-Alive: timeout=1']));
      // The server closes idle connections after 1 s, as it said.
      clearTimeout((conn as { idle?: NodeJS.Timeout }).idle);
      (conn as { idle?: NodeJS.Timeout }).idle = setTimeout(() => conn.socket.end(), 1000);
    });
    const p = pool(server, { connections: 1 });
    for (const id of ['g0', 'g1', 'g2']) {
      const res = await p.request({ path: `/${id}`, headers: { 'x-id': id } });
      expect(await res.text()).toBe(`body of /${id}`);
      await new Promise((r) => setTimeout(r, id === 'g2' ? 0 : 1100));
    }
    const stats = p.stats();
    expect(stats.retries).toBe(0);
    expect(stats.closedBy['keep-alive-timeout']).toBe(2);
    expect(stats.closedBy['server-idle-close']).toBe(0);
  });

  it('resets the connection: idempotent requests are re-sent, a POST fails as maybe processed, none twice', async () => {
    const server = await serve((req, conn) => {
      if (conn.number <= 2 && conn.received === 3) {
        conn.socket.resetAndDestroy();
        return;
      }
      if (conn.number > 2 || conn.received < 3) conn.socket.write(ok(bodyFor(req)));
    });
    const p = pool(server, { connections: 1, pipelining: 1 });
    const outcomes = await mix(p, 12, 4);
    expectSafe(outcomes, server);
    expect(p.stats().closedBy.error).toBeGreaterThanOrEqual(1);
  });

  it('a POST lost with its connection fails with "may have been processed" and is never re-sent', async () => {
    const server = await serve((req, conn) => {
      if (req.method === 'POST') conn.socket.destroy();
      else conn.socket.write(ok(bodyFor(req)));
    });
    const p = pool(server, { connections: 1, pipelining: 4 });
    const outcomes = await mix(p, 6, 2);
    expectSafe(outcomes, server);
    const posts = outcomes.filter((o) => o.method === 'POST');
    expect(posts.every((o) => (o.error as ClientError | undefined)?.code === 'TETHER_CONNECTION_LOST')).toBe(true);
    expect(posts.map((o) => server.timesReceived(o.id))).toEqual([1, 1]);
  });
});
