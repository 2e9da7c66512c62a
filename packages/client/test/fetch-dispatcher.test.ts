/**
 * `fetch(url, { dispatcher: pool })` over real sockets: Node 20's global fetch (its bundled
 * undici 6) and undici 7's fetch, against @tether/server and node:http. Methods and bodies
 * (string, Buffer, stream, FormData), aborts at each stage, redirects and gzip staying fetch's
 * job, a slow reader holding the server back, a thousand pipelined fetches, a server closing after
 * N requests, and a truncated body surfacing as fetch's `TypeError: terminated`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ManualClock } from '@tether/protocol/testing';
import type { Handler, ServerOptions } from '@tether/server';
import { FormData as UndiciFormData, fetch as undiciFetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientError } from '../src/index.js';
import type { PoolOptions , Pool } from '../src/index.js';
import { ok } from './raw-server.js';
import { Resources } from './resources.js';
import { runClock } from './turn-clock.js';

const resources = new Resources();
afterEach(() => resources.release());

type Fetch = (url: string, init: Record<string, unknown>) => Promise<Response>;

/** Both fetches a user may hold: Node's global one and undici 7's. */
const FETCHES: readonly [string, Fetch][] = [
  ['Node global fetch', (url, init) => fetch(url, init)],
  ['undici 7 fetch', (url, init) => undiciFetch(url, init)],
];

/** A FormData of the same undici as the fetch that sends it. */
function formData(which: string): FormData {
  const fd = which === 'undici 7 fetch' ? (new UndiciFormData() as unknown as FormData) : new FormData();
  fd.append('name', 'tether');
  fd.append('file', new Blob(['file body']), 'a.txt');
  return fd;
}

const tether = (handler: Handler, options?: ServerOptions): Promise<string> => resources.tether(handler, options);

async function nodeHttp(handler: http.RequestListener): Promise<{ origin: string; server: http.Server }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  resources.defer(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const pool = (origin: string, options: PoolOptions = {}): Pool => resources.pool(origin, options);

/** Echo: `METHOD url content-type? body`. */
const echo: http.RequestListener = (req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    const body = Buffer.concat(parts).toString();
    res.setHeader('x-method', req.method ?? '');
    res.end(`${req.method} ${req.url} ${body}`);
  });
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Fetches in the keep-alive race test, and the workers sending them one at a time. About 1 in 100
 * fetches crosses an idle close on the wire (14–27 of 2000 when measured), so a run of 2000
 * without one is all but impossible; they take 1–2 s on an idle machine.
 */
const RACE_WORKERS = 10;
const RACE_PER_WORKER = 200;
/** Gaps between a worker's fetches straddle the server's 15 ms idle timeout (server clock ms). */
const RACE_GAP_MIN_MS = 5;
const RACE_GAP_MAX_MS = 25;
/** Room for a machine 20 times slower than an idle one; past this something is stuck. */
const RACE_DEADLINE_MS = 40_000;
const RACE_TEST_TIMEOUT_MS = 60_000;
/**
 * The server's clock moves 1 ms per turn of the event loop, up to this many ms: the run needs
 * about 3,500 (200 fetches per worker, 15 ms apart on average); the bound stops a stuck run.
 */
const RACE_CLOCK_MAX_MS = 20_000;

for (const [which, doFetch] of FETCHES) {
  describe(`${which} with a tether Pool as dispatcher`, () => {
    for (const [server, start] of [
      ['@tether/server', () => tether(echo as unknown as Handler)],
      ['node:http', async () => (await nodeHttp(echo)).origin],
    ] as const) {
      it(`GET, HEAD, POST and PUT with string, Buffer, stream and FormData bodies against ${server}`, async () => {
        const origin = await start();
        const dispatcher = pool(origin, { connections: 2, pipelining: 4 });
        const get = await doFetch(`${origin}/get?q=1`, { dispatcher });
        expect(get.status).toBe(200);
        expect(await get.text()).toBe('GET /get?q=1 ');
        const head = await doFetch(`${origin}/head`, { method: 'HEAD', dispatcher });
        expect(head.status).toBe(200);
        expect(head.headers.get('x-method')).toBe('HEAD');
        expect(await head.text()).toBe('');
        const post = await doFetch(`${origin}/post`, { method: 'POST', body: 'text body', dispatcher });
        expect(await post.text()).toBe('POST /post text body');
        const put = await doFetch(`${origin}/put`, { method: 'PUT', body: Buffer.from('buffer body'), dispatcher });
        expect(await put.text()).toBe('PUT /put buffer body');
        const stream = await doFetch(`${origin}/stream`, { method: 'POST', body: Readable.toWeb(Readable.from([Buffer.from('str'), Buffer.from('eamed')])), duplex: 'half', dispatcher });
        expect(await stream.text()).toBe('POST /stream streamed');
        const form = await doFetch(`${origin}/form`, { method: 'POST', body: formData(which), dispatcher });
        const sent = await form.text();
        expect(sent).toMatch(/^POST \/form -+/);
        expect(sent).toContain('name="name"\r\n\r\ntether\r\n');
        expect(sent).toContain('filename="a.txt"');
        expect(sent).toContain('file body');
        expect(dispatcher.stats().requests).toBe(6);
      });
    }

    it('an AbortSignal aborted before the call rejects it and sends nothing', async () => {
      let received = 0;
      const origin = await tether((_req, res) => {
        received++;
        res.end('x');
      });
      const dispatcher = pool(origin);
      const ac = new AbortController();
      ac.abort();
      await expect(doFetch(`${origin}/`, { dispatcher, signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
      // The pool still works, and the aborted request never reached the server.
      expect(await (await doFetch(`${origin}/next`, { dispatcher })).text()).toBe('x');
      expect(received).toBe(1);
    });

    it('an AbortSignal aborted while waiting for the head, then during the body, rejects fetch and the stream', async () => {
      const origin = await tether(async (req, res) => {
        if (req.url === '/slow-head') {
          await sleep(5000);
          res.end('late');
          return;
        }
        if (req.url === '/slow-body') {
          res.write('first part;');
          await sleep(5000);
          res.end('rest');
          return;
        }
        res.end('fine');
      });
      const dispatcher = pool(origin);
      const duringHead = new AbortController();
      const headPromise = doFetch(`${origin}/slow-head`, { dispatcher, signal: duringHead.signal });
      await sleep(50);
      duringHead.abort();
      await expect(headPromise).rejects.toMatchObject({ name: 'AbortError' });
      const duringBody = new AbortController();
      const res = await doFetch(`${origin}/slow-body`, { dispatcher, signal: duringBody.signal });
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(Buffer.from(first.value).toString()).toBe('first part;');
      duringBody.abort();
      await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
      expect(await (await doFetch(`${origin}/after`, { dispatcher })).text()).toBe('fine');
    });

    it('follows a redirect chain itself (each hop a separate dispatch)', async () => {
      const origin = await tether((req, res) => {
        const n = Number(req.url.slice(1));
        if (n < 3) {
          res.writeHead(302, { location: `/${n + 1}` });
          res.end();
        } else res.end(`landed on ${req.url}`);
      });
      const dispatcher = pool(origin, { pipelining: 4 });
      const res = await doFetch(`${origin}/0`, { dispatcher });
      expect(res.redirected).toBe(true);
      expect(res.url).toBe(`${origin}/3`);
      expect(await res.text()).toBe('landed on /3');
      expect(dispatcher.stats().requests).toBe(4);
    });

    it('decodes a gzip response once: fetch decompresses, the pool passes bytes through', async () => {
      const text = 'compressed '.repeat(1000);
      const zipped = gzipSync(text);
      const origin = await tether((_req, res) => {
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' });
        res.end(zipped);
      });
      const res = await doFetch(`${origin}/`, { dispatcher: pool(origin) });
      expect(res.headers.get('content-encoding')).toBe('gzip');
      expect(await res.text()).toBe(text);
    });

    it('a slow reader holds the server back: its writes block while the body is unread', async () => {
      const CHUNK = Buffer.alloc(64 * 1024, 'x');
      const TOTAL_CHUNKS = 512; // 32 MiB: far more than socket buffers hold
      let written = 0;
      const origin = await tether(async (_req, res) => {
        res.writeHead(200, { 'content-length': String(CHUNK.length * TOTAL_CHUNKS) });
        for (let i = 0; i < TOTAL_CHUNKS; i++) {
          written += CHUNK.length;
          if (!res.write(CHUNK)) await new Promise<void>((resolve) => res.once('drain', resolve));
        }
        res.end();
      });
      const res = await doFetch(`${origin}/big`, { dispatcher: pool(origin) });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let read = (await reader.read()).value?.length ?? 0;
      // Give an unbounded client every chance to swallow the whole body.
      await sleep(300);
      const writtenWhilePaused = written;
      expect(writtenWhilePaused).toBeLessThan(CHUNK.length * TOTAL_CHUNKS / 2);
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        read += value.length;
      }
      expect(read).toBe(CHUNK.length * TOTAL_CHUNKS);
    });

    it('1,000 concurrent fetches over 6 connections pipelining 10: every body right', { timeout: 30_000 }, async () => {
      const origin = await tether((req, res) => res.end(`body of ${req.url}`));
      const dispatcher = pool(origin, { connections: 6, pipelining: 10 });
      const bodies = await Promise.all(Array.from({ length: 1000 }, async (_, i) => (await doFetch(`${origin}/r/${i}`, { dispatcher })).text()));
      bodies.forEach((body, i) => expect(body).toBe(`body of /r/${i}`));
      const stats = dispatcher.stats();
      expect(stats.requests).toBe(1000);
      expect(stats.connections.opened).toBeLessThanOrEqual(6);
      expect(stats.pipelinedRequests).toBeGreaterThan(0);
    });

    it('a server closing after every 5 requests: no error reaches fetch', { timeout: 30_000 }, async () => {
      const origin = await tether((req, res) => res.end(`body of ${req.url}`), { keepAliveMax: 5 });
      const dispatcher = pool(origin, { connections: 2, pipelining: 10 });
      const bodies = await Promise.all(Array.from({ length: 200 }, async (_, i) => (await doFetch(`${origin}/r/${i}`, { dispatcher })).text()));
      bodies.forEach((body, i) => expect(body).toBe(`body of /r/${i}`));
      expect(dispatcher.stats().requestsPerConnection[6]).toBeUndefined();
    });

    it(`the keep-alive race: a server closing idle connections unannounced after 15 ms, ${RACE_WORKERS * RACE_PER_WORKER} fetches, none fails, those crossing a close re-sent`, { timeout: RACE_TEST_TIMEOUT_MS }, async () => {
      // The server's timers (its 15 ms idle close above all) run on a clock moved 1 ms per turn of
      // the event loop, and the workers' gaps are measured on it (as in interop.test.ts): the same
      // race as in real time, but a loop stalled by a loaded machine no longer counts as idle time,
      // so the server never closes a connection whose request is already waiting to be read.
      const clock = new ManualClock();
      // Deferred first, so it stops last: the server's close runs on this clock.
      resources.defer(runClock(clock, RACE_CLOCK_MAX_MS));
      const origin = await tether((req, res) => res.end(`race ${req.url}`), { keepAliveTimeout: 15, keepAliveTimeoutBuffer: 0, advertiseKeepAlive: false, clock });
      const gap = (ms: number): Promise<void> => new Promise((resolve) => clock.setTimer(resolve, ms));
      // Our idle timeout far above the server's: the server always retires a connection first.
      const dispatcher = pool(origin, { connections: 4, keepAliveTimeout: 60_000 });
      const deadline = performance.now() + RACE_DEADLINE_MS;
      const failures: string[] = [];
      await Promise.all(
        Array.from({ length: RACE_WORKERS }, async (_, w) => {
          for (let i = 0; i < RACE_PER_WORKER; i++) {
            if (performance.now() > deadline) throw new Error(`race not done after ${RACE_DEADLINE_MS} ms`);
            if (i > 0) await gap(RACE_GAP_MIN_MS + Math.random() * (RACE_GAP_MAX_MS - RACE_GAP_MIN_MS));
            const path = `/w${w}/${i}`;
            try {
              const body = await (await doFetch(`${origin}${path}`, { dispatcher })).text();
              if (body !== `race ${path}`) failures.push(`${path}: ${body}`);
            } catch (err) {
              failures.push(`${path}: ${String(err)} ${String((err as Error).cause)}`);
            }
          }
        }),
      );
      const stats = dispatcher.stats();
      const summary = `retries ${stats.retries}, opened ${stats.connections.opened}, closedBy ${JSON.stringify(stats.closedBy)}`;
      expect(failures, summary).toEqual([]);
      expect(stats.requests, summary).toBe(RACE_WORKERS * RACE_PER_WORKER);
      // The race was run: the server closed idle connections, and fetches that crossed such a
      // close on the wire went out again.
      expect(stats.closedBy['server-idle-close'], summary).toBeGreaterThan(0);
      expect(stats.retries, summary).toBeGreaterThan(0);
    });

    it('a POST is never pipelined nor re-sent: a dropped POST fails fetch, saying it may have been processed', async () => {
      const server = await resources.raw((req, conn) => {
        if (req.method === 'POST') conn.socket.destroy();
        else conn.socket.write(ok(`got ${req.path}`));
      });
      const dispatcher = pool(server.origin, { connections: 1, pipelining: 10 });
      const gets = Array.from({ length: 5 }, (_, i) => doFetch(`${server.origin}/g${i}`, { dispatcher }).then((r) => r.text()));
      const post = doFetch(`${server.origin}/post`, { method: 'POST', body: 'once', dispatcher, headers: { 'x-id': 'post' } });
      const err: unknown = await post.then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(TypeError);
      const cause = (err as TypeError).cause;
      expect(cause).toBeInstanceOf(ClientError);
      expect(cause).toMatchObject({ mayHaveBeenProcessed: true });
      expect(await Promise.all(gets)).toEqual(['got /g0', 'got /g1', 'got /g2', 'got /g3', 'got /g4']);
      expect(server.timesReceived('post')).toBe(1);
      // The POST went out alone: nothing was in flight with it on its connection.
      const postArrival = server.received.find((r) => r.method === 'POST')!;
      const sameConnection = server.received.filter((r) => r.connection === postArrival.connection);
      expect(sameConnection.at(-1)).toBe(postArrival);
    });

    it('a truncated body is `TypeError: terminated` with the ClientError as cause', async () => {
      const server = await resources.raw((_req, conn) => {
        conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part of it');
        conn.socket.end();
      });
      const res = await doFetch(`${server.origin}/`, { dispatcher: pool(server.origin) });
      const err: unknown = await res.text().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(TypeError);
      expect((err as TypeError).message).toBe('terminated');
      expect((err as TypeError).cause).toBeInstanceOf(ClientError);
      expect((err as TypeError).cause).toMatchObject({ code: 'TETHER_TRUNCATED_BODY' });
    });
  });
}
