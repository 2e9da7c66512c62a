/**
 * Regressions, each over real TCP on 127.0.0.1: every test here failed before the fix it
 * names in src/ (see the comment on each), unless marked COVERAGE.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '@tether/protocol/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientError } from '../src/index.js';
import type { PoolOptions , Pool } from '../src/index.js';
import { turn, watch } from './outcome.js';
import { ok } from './raw-server.js';
import type { Behaviour , RawServer} from './raw-server.js';
import { Resources } from './resources.js';

const resources = new Resources();
afterEach(() => resources.release());

const raw = (behaviour: Behaviour): Promise<RawServer> => resources.raw(behaviour);
const pool = (origin: string, options: PoolOptions = {}): Pool => resources.pool(origin, options);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('review: timeouts after backpressure', () => {
  // Bug: client-connection.ts flow(true) set #bodySince without arming the watchdog. While the
  // body is paused no deadline is pending, so the watchdog fired, found nothing and was not
  // re-armed; after the caller resumed reading, a stalled server was never timed out (hang).
  // (On a manual clock: the pause lasts 400 ms of its time; a real-time bodyTimeout test is in
  // pool.test.ts.)
  it('bodyTimeout still fires when the server stalls after the caller paused longer than bodyTimeout', async () => {
    const server = await raw((_req, conn) => {
      // Announce 200 000 bytes, send 50 000, then stall forever.
      conn.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n${'x'.repeat(50_000)}`);
    });
    const clock = new ManualClock();
    const p = pool(server.origin, { clock, bodyTimeout: 150, bodyHighWaterMark: 1024 });
    const res = await p.request({ path: '/slow' });
    clock.advance(400); // the body is paused (over its high-water mark) longer than bodyTimeout
    await turn();
    const text = watch(res.text()); // reading resumes at 400: the body is due by 550
    await turn();
    clock.advance(149);
    await turn();
    expect(text.settled()).toBe(false);
    clock.advance(1);
    expect(await text.outcome).toMatchObject({ error: { code: 'TETHER_BODY_TIMEOUT' } });
  });

  // Same root cause: the response behind a paused body gets its headersTimeout measured from a
  // watchdog that died while the body was paused.
  it('headersTimeout still fires for a pipelined request behind a body the caller paused', async () => {
    let n = 0;
    const server = await raw((req, conn) => {
      n++;
      if (req.path === '/warm') conn.socket.write(ok('warm'));
      else if (req.path === '/big') conn.socket.write(ok('y'.repeat(50_000)));
      // '/never' is never answered.
    });
    const clock = new ManualClock();
    const p = pool(server.origin, { clock, connections: 1, pipelining: 2, headersTimeout: 150, bodyTimeout: 0, bodyHighWaterMark: 1024 });
    await (await p.request({ path: '/warm' })).text();
    const big = p.request({ path: '/big' });
    const never = watch(p.request({ path: '/never' }));
    const res = await big;
    clock.advance(400);
    await turn();
    await res.text(); // /big completes at 400: /never's head is due by 550
    expect(n).toBe(3);
    clock.advance(149);
    await turn();
    expect(never.settled()).toBe(false);
    clock.advance(1);
    expect(await never.outcome).toMatchObject({ error: { code: 'TETHER_HEADERS_TIMEOUT' } });
  });
});

describe('review: streamed request bodies', () => {
  // Bug: client-connection.ts #stream awaited only 'drain'. When the connection is destroyed
  // (an abort, destroy(), a reset) while it waits, 'drain' never comes: the caller's body
  // iterator is never closed (its finally never runs: file handles and the like leak).
  it("the body's iterator is closed when its request is aborted while the socket is backed up", async () => {
    // A server that accepts and never reads: the client's writes back up.
    const sockets: net.Socket[] = [];
    const srv = net.createServer((s) => {
      sockets.push(s);
      s.pause();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    resources.defer(() => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      srv.close(() => r());
    }));
    const origin = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    let finished = false;
    let produced = 0;
    async function* body(): AsyncGenerator<Uint8Array> {
      try {
        for (let i = 0; i < 2000; i++) {
          produced++;
          await Promise.resolve();
          yield new Uint8Array(64 * 1024);
        }
      } finally {
        finished = true;
      }
    }
    const p = pool(origin);
    const ac = new AbortController();
    const sent = p.request({ method: 'PUT', path: '/upload', body: body(), signal: ac.signal });
    // Wait until the writes back up.
    for (let i = 0; i < 100 && produced < 3; i++) await sleep(10);
    await sleep(200);
    expect(produced).toBeLessThan(2000);
    ac.abort();
    await expect(sent).rejects.toMatchObject({ code: 'TETHER_ABORTED' });
    for (let i = 0; i < 100 && !finished; i++) await sleep(10);
    expect(finished).toBe(true);
  });
});

describe('review: mayHaveBeenProcessed', () => {
  // Bug: a request re-sent after a drop carries errors of its later stages as they are. Its
  // new connection's connect failure says mayHaveBeenProcessed: false, although the request
  // was written (and here received) on the connection that dropped.
  it('a re-sent request that then fails to connect still says it may have been processed', async () => {
    const holder: { server?: RawServer } = {};
    const server = await raw((req, conn) => {
      if (req.path === '/first') conn.socket.write(ok('first'));
      // The second request arrives: the server goes away (stops listening, drops the connection).
      else void holder.server?.close();
    });
    holder.server = server;
    const p = pool(server.origin, { connections: 1 });
    await (await p.request({ path: '/first' })).text();
    const err = (await p.request({ path: '/second', headers: { 'x-id': 'second' } }).catch((e: unknown) => e)) as ClientError;
    expect(server.timesReceived('second')).toBe(1);
    expect(err).toBeInstanceOf(ClientError);
    expect(err.code).toBe('TETHER_CONNECT_FAILED');
    expect(err.mayHaveBeenProcessed).toBe(true);
  });

  // Same root cause, through the queue: a re-sent request waiting in the queue, then aborted,
  // said mayHaveBeenProcessed: false (pool.ts #abort / destroy()).
  it('a re-sent request aborted while queued again still says it may have been processed', async () => {
    const server = await raw((req, conn) => {
      if (req.path === '/hold') return; // conn 1: kept busy
      if (req.path === '/warm') conn.socket.write(ok('warm'));
      else if (req.path === '/x' && conn.number === 2) conn.socket.destroy(); // conn 2 drops /x and /y unanswered
      else setTimeout(() => conn.socket.destroyed || conn.socket.write(ok('later')), 300); // re-sent /x: slowly
    });
    const p = pool(server.origin, { connections: 2, pipelining: 2, retry: { attempts: 3 } });
    const hold = p.request({ path: '/hold' });
    hold.catch(() => undefined);
    await sleep(50);
    await (await p.request({ path: '/warm' })).text();
    const ac = new AbortController();
    const x = p.request({ path: '/x', headers: { 'x-id': 'x' } });
    const y = p.request({ path: '/y', headers: { 'x-id': 'y' }, signal: ac.signal });
    x.catch(() => undefined);
    // /x and /y went out pipelined on conn 2, which dropped; /x is re-sent on a new connection,
    // /y waits in the queue (no connection free that is newer than the drop).
    for (let i = 0; i < 100 && server.timesReceived('x') < 2; i++) await sleep(10);
    expect(server.timesReceived('x')).toBe(2);
    expect(server.timesReceived('y')).toBe(1);
    ac.abort();
    const err = (await y.catch((e: unknown) => e)) as ClientError;
    expect(err.code).toBe('TETHER_ABORTED');
    expect(err.mayHaveBeenProcessed).toBe(true);
  });
});

describe('review: idempotent: false', () => {
  // Bug: `idempotent: false` on a GET was ignored by pipelining: canTake asked the protocol about
  // the method only, so the request was pipelined (README: never pipeline a non-idempotent
  // request, nor anything behind it before its response head).
  it('a GET marked idempotent: false is never pipelined, nor anything behind it', async () => {
    const arrivals: { path: string; unanswered: number }[] = [];
    let unanswered = 0;
    const server = await raw((req, conn) => {
      arrivals.push({ path: req.path, unanswered });
      unanswered++;
      setTimeout(() => {
        unanswered--;
        if (!conn.socket.destroyed) conn.socket.write(ok(`body of ${req.path}`));
      }, 50 * unanswered);
    });
    const p = pool(server.origin, { connections: 1, pipelining: 4 });
    await (await p.request({ path: '/warm' })).text();
    const results = await Promise.all([
      p.request({ path: '/a', idempotent: false }).then((r) => r.text()),
      p.request({ path: '/b' }).then((r) => r.text()),
      p.request({ path: '/c', idempotent: false }).then((r) => r.text()),
    ]);
    expect(results).toEqual(['body of /a', 'body of /b', 'body of /c']);
    expect(arrivals.find((a) => a.path === '/a')?.unanswered).toBe(0);
    expect(arrivals.find((a) => a.path === '/b')?.unanswered).toBe(0);
    expect(arrivals.find((a) => a.path === '/c')?.unanswered).toBe(0);
  });
});

describe('review: stats', () => {
  // Bug: pool.ts counted a retry when a dropped request was put back in the queue, so one
  // aborted before it went out again still counted as "written again after its connection
  // dropped". Now it counts when the request is written again.
  it('stats().retries counts re-sent requests, not one aborted while waiting to be re-sent', async () => {
    const ac = new AbortController();
    const server = await raw((req, conn) => {
      if (conn.number === 1) {
        if (req.index === 1) conn.socket.write(ok('warm'));
        else if (conn.received === 3) {
          // Both pipelined requests in, neither answered: drop them.
          conn.socket.destroy();
          setTimeout(() => ac.abort(), 30);
        }
        return;
      }
      // The newer connection answers late, so the second re-sent request waits in the queue.
      setTimeout(() => conn.socket.write(ok(`again ${req.path}`)), 100);
    });
    const p = pool(server.origin, { connections: 1, pipelining: 2 });
    await (await p.request({ path: '/warm' })).text();
    const first = p.request({ path: '/one' });
    const second = p.request({ path: '/two', signal: ac.signal });
    const [one, two] = await Promise.allSettled([first.then((r) => r.text()), second]);
    expect(one).toEqual({ status: 'fulfilled', value: 'again /one' });
    expect(two.status).toBe('rejected');
    expect(server.received.map((r) => `${r.connection}${r.path}`)).toEqual(['1/warm', '1/one', '1/two', '2/one']);
    expect(p.stats().retries).toBe(1);
  });
});
