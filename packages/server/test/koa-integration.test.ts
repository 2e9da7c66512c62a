/**
 * Koa 3 on tether through `createServer(app.callback())` — Koa gets tether's own request and
 * response (it only reads and calls node's contracts) — each scenario run the same way against
 * `http.createServer(app.callback())`: @koa/router with @koa/bodyparser JSON (and a body over the
 * limit: 413, the connection still good), a chunked upload piped from `ctx.req` to a file, a file
 * download (`ctx.body = fs.createReadStream()`), koa-static, koa-compress (gzip decoded once by
 * the client), two `ctx.cookies.set` → two `set-cookie` lines, server-sent events from a
 * PassThrough written over time, errors (`ctx.throw(400)`, a throw → 500, 404), keep-alive, a
 * pipelining client, and `server.close(cb)` letting an in-flight request finish.
 */

import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import compress from 'koa-compress';
import serve from 'koa-static';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import { EventStreamReader, Gate, PIPELINED_JSON, Ticks, checkGracefulClose, countConnections, fetchRaw, keepAliveAgent, openedPerTest, sendPipelined } from './http-helpers.js';

type Listener = ReturnType<Koa['callback']>;

/** A server listening on 127.0.0.1 for a test. */
interface Started {
  readonly port: number;
  readonly server: EventEmitter;
  /** node's `close(cb)` form (graceful on both). */
  close(): Promise<void>;
}

const SERVERS: readonly { readonly name: string; readonly start: (listener: Listener) => Promise<Started> }[] = [
  {
    name: 'tether',
    start: async (listener) => {
      const server = createServer(listener);
      const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
      return { port, server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    },
  },
  {
    name: 'node:http',
    start: async (listener) => {
      const server = http.createServer((req, res) => void listener(req, res));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
      return { port: address.port, server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    },
  },
];

let dir = '';
const big = Buffer.alloc(512 * 1024);
for (let i = 0; i < big.length; i++) big[i] = (i * 13 + (i >> 10)) & 0xff;
const text = Array.from({ length: 5_000 }, (_, i) => `line ${i} of a compressible text\n`).join('');

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-koa-'));
  fs.mkdirSync(path.join(dir, 'public'));
  fs.writeFileSync(path.join(dir, 'public', 'index.html'), '<h1>koa</h1>\n');
  fs.writeFileSync(path.join(dir, 'public', 'style.css'), 'p { margin: 0 }\n');
  fs.writeFileSync(path.join(dir, 'public', 'big.bin'), big);
  fs.writeFileSync(path.join(dir, 'text.txt'), text);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

describe.each(SERVERS)('Koa on $name', ({ name, start }) => {
  const { servers: running, agents, sockets } = openedPerTest((server: Started) => server.close());

  /** A Koa app whose errors are collected (Koa would log them), on a started server. */
  async function run(setup: (app: Koa, router: Router) => void): Promise<Started & { agent: http.Agent; errors: Error[] }> {
    const app = new Koa();
    const errors: Error[] = [];
    app.on('error', (err: Error) => errors.push(err));
    const router = new Router();
    setup(app, router);
    app.use(router.routes()).use(router.allowedMethods());
    const started = await start(app.callback());
    running.push(started);
    return { ...started, agent: keepAliveAgent(agents), errors };
  }

  it('@koa/router with @koa/bodyparser: JSON in and out, 413 over the limit, then the connection still serves', async () => {
    const { port, agent } = await run((app, router) => {
      app.use(bodyParser({ jsonLimit: '1kb' }));
      router.post('/items/:id', (ctx) => {
        ctx.status = 201;
        ctx.body = { id: ctx.params.id, got: ctx.request.body };
      });
      router.get('/items/:id', (ctx) => {
        ctx.body = { id: ctx.params.id };
      });
    });
    const json = { headers: { 'content-type': 'application/json' }, method: 'POST' } as const;

    const created = await fetchRaw(port, '/items/7', { ...json, agent, body: JSON.stringify({ a: [1, 'two'], b: { c: true } }) });
    expect([created.status, created.headers['content-type'], JSON.parse(created.text)]).toEqual([201, 'application/json; charset=utf-8', { id: '7', got: { a: [1, 'two'], b: { c: true } } }]);

    const tooBig = await fetchRaw(port, '/items/8', { ...json, agent, body: JSON.stringify({ pad: 'x'.repeat(4096) }) });
    expect(tooBig.status).toBe(413);
    const got = await fetchRaw(port, '/items/9', { agent });
    expect([got.status, got.text]).toEqual([200, '{"id":"9"}']);
    expect(got.socket).toBe(created.socket);
  });

  it('a chunked upload piped from ctx.req to a file, and a file streamed back with ctx.body = a ReadStream', async () => {
    const upload = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < upload.length; i++) upload[i] = (i * 7 + (i >> 12)) & 0xff;
    const stored = path.join(dir, `upload-${name.replace(/\W/g, '')}.bin`);
    const { port, agent } = await run((_app, router) => {
      router.put('/files/upload', async (ctx) => {
        await pipeline(ctx.req, fs.createWriteStream(stored));
        ctx.body = { bytes: fs.statSync(stored).size, sha256: sha256(fs.readFileSync(stored)) };
      });
      router.get('/files/upload', (ctx) => {
        ctx.type = 'application/octet-stream';
        ctx.body = fs.createReadStream(stored);
      });
    });

    const put = await fetchRaw(port, '/files/upload', { agent, method: 'PUT', headers: { 'transfer-encoding': 'chunked', 'content-type': 'application/octet-stream' }, body: upload });
    expect([put.status, JSON.parse(put.text)]).toEqual([200, { bytes: upload.length, sha256: sha256(upload) }]);

    const download = await fetchRaw(port, '/files/upload', { agent });
    expect([download.status, download.headers['content-type'], download.body.length]).toEqual([200, 'application/octet-stream', upload.length]);
    expect(download.body.equals(upload)).toBe(true);
    expect(download.socket).toBe(put.socket);
  });

  it('koa-static: files, an index, HEAD and a 404, on one connection', async () => {
    const { server, port, agent } = await run((app) => {
      app.use(serve(path.join(dir, 'public')));
    });
    const connections = countConnections(server);

    const index = await fetchRaw(port, '/', { agent });
    expect([index.status, index.headers['content-type'], index.text]).toEqual([200, 'text/html; charset=utf-8', '<h1>koa</h1>\n']);
    const style = await fetchRaw(port, '/style.css', { agent });
    expect([style.status, style.headers['content-type'], style.text]).toEqual([200, 'text/css; charset=utf-8', 'p { margin: 0 }\n']);
    const file = await fetchRaw(port, '/big.bin', { agent });
    expect([file.status, file.headers['content-length']]).toEqual([200, String(big.length)]);
    expect(file.body.equals(big)).toBe(true);
    const head = await fetchRaw(port, '/big.bin', { agent, method: 'HEAD' });
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(big.length), 0]);
    const missing = await fetchRaw(port, '/nope.css', { agent });
    expect([missing.status, missing.text]).toEqual([404, 'Not Found']);
    const again = await fetchRaw(port, '/style.css', { agent });
    expect(again.socket).toBe(index.socket);
    expect(connections.count).toBe(1);
  });

  it('koa-compress: gzip the client decodes once (a JSON body and a stream), identity without accept-encoding', async () => {
    const rows = Array.from({ length: 400 }, (_, i) => ({ id: i, name: `row ${i}` }));
    const { port, agent } = await run((app, router) => {
      app.use(compress({ threshold: 1024 }));
      router.get('/json', (ctx) => {
        ctx.body = { rows };
      });
      router.get('/stream', (ctx) => {
        ctx.type = 'text/plain';
        ctx.body = fs.createReadStream(path.join(dir, 'text.txt'));
      });
    });
    const gzip = { 'accept-encoding': 'gzip' };

    const json = await fetchRaw(port, '/json', { agent, headers: gzip });
    expect([json.status, json.headers['content-encoding'], json.headers.vary]).toEqual([200, 'gzip', 'Accept-Encoding']);
    expect(JSON.parse(zlib.gunzipSync(json.body).toString('utf8'))).toEqual({ rows });
    const streamed = await fetchRaw(port, '/stream', { agent, headers: gzip });
    expect([streamed.headers['content-encoding'], zlib.gunzipSync(streamed.body).toString('utf8') === text]).toEqual(['gzip', true]);
    const identity = await fetchRaw(port, '/stream', { agent, headers: { 'accept-encoding': 'identity' } });
    expect([identity.headers['content-encoding'], identity.text === text]).toEqual([undefined, true]);
    expect(identity.socket).toBe(json.socket);
  });

  it('ctx.cookies.set twice: two set-cookie lines, and the cookies come back', async () => {
    const { port, agent } = await run((app, router) => {
      app.keys = ['a key for signing cookies'];
      router.get('/login', (ctx) => {
        ctx.cookies.set('session', 'abc123', { httpOnly: true, signed: false });
        ctx.cookies.set('theme', 'dark', { signed: true, httpOnly: false });
        ctx.body = 'ok';
      });
      router.get('/whoami', (ctx) => {
        ctx.body = { session: ctx.cookies.get('session'), theme: ctx.cookies.get('theme', { signed: true }) };
      });
    });
    const login = await fetchRaw(port, '/login', { agent });
    const names = login.rawHeaders.filter((_, i) => i % 2 === 0);
    // theme and its signature theme.sig: three set-cookie lines in all, each its own line.
    expect(names.filter((n) => n.toLowerCase() === 'set-cookie')).toHaveLength(3);
    const setCookie = login.headers['set-cookie'] ?? [];
    expect(setCookie.map((line) => line.split('=')[0])).toEqual(['session', 'theme', 'theme.sig']);
    expect(setCookie[0]).toBe('session=abc123; path=/; httponly');
    const cookie = setCookie.map((line) => line.split(';')[0]).join('; ');
    const whoami = await fetchRaw(port, '/whoami', { agent, headers: { cookie } });
    expect(JSON.parse(whoami.text)).toEqual({ session: 'abc123', theme: 'dark' });
  });

  it('server-sent events: ctx.body = a PassThrough written over time reaches the client event by event', async () => {
    const ticks = new Ticks();
    const { port } = await run((_app, router) => {
      router.get('/events', (ctx) => {
        const stream = new PassThrough();
        ctx.type = 'text/event-stream';
        ctx.set('cache-control', 'no-cache');
        ctx.body = stream;
        ticks.writeTo(stream);
      });
    });
    const events = await EventStreamReader.open(port, '/events');
    expect([events.response.statusCode, events.response.headers['content-type']]).toEqual([200, 'text/event-stream; charset=utf-8']);
    await ticks.readFrom(events);
  });

  it('errors: ctx.throw(400) exposes its message, a throw is a 500, an unknown route a 404, and the app hears them', async () => {
    const { port, agent, errors } = await run((_app, router) => {
      router.get('/bad', (ctx) => ctx.throw(400, 'bad input'));
      router.get('/boom', async () => {
        await Promise.resolve();
        throw new Error('boom');
      });
    });
    const bad = await fetchRaw(port, '/bad', { agent });
    expect([bad.status, bad.headers['content-type'], bad.text]).toEqual([400, 'text/plain; charset=utf-8', 'bad input']);
    const boom = await fetchRaw(port, '/boom', { agent });
    expect([boom.status, boom.text]).toEqual([500, 'Internal Server Error']);
    const missing = await fetchRaw(port, '/missing', { agent });
    expect([missing.status, missing.text]).toEqual([404, 'Not Found']);
    expect(missing.socket).toBe(bad.socket);
    // Koa emits every error on the app ('error'), and logs none since there is a listener.
    expect(errors.map((err) => err.message)).toEqual(['bad input', 'boom']);
  });

  it('keeps one connection for several requests, and answers a pipelining client in order', async () => {
    const bigText = 'y'.repeat(100_000);
    const { server, port, agent } = await run((app, router) => {
      app.use(bodyParser());
      router.get('/slow/:n', async (ctx) => {
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        ctx.body = { slow: ctx.params.n };
      });
      router.post('/echo', (ctx) => {
        ctx.body = ctx.request.body;
      });
      router.get('/big', (ctx) => {
        ctx.body = bigText;
      });
      router.get('/throw', () => {
        throw new Error('pipelined boom');
      });
    });
    const connections = countConnections(server);

    const seen = new Set<net.Socket>();
    for (let n = 0; n < 4; n++) {
      const got = await fetchRaw(port, `/slow/${n}`, { agent });
      expect(got.text).toBe(`{"slow":"${n}"}`);
      seen.add(got.socket);
    }
    expect(seen.size).toBe(1);
    expect(connections.count).toBe(1);

    const conn = await sendPipelined(port, ['GET /slow/6 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'], (socket) => sockets.push(socket));
    const responses = conn.reader.responses;
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 404, 500, 200]);
    expect(responses.map((r) => (r.body.length > 100 ? `${r.body.length} bytes` : r.body.toString()))).toEqual(['{"slow":"0"}', PIPELINED_JSON, '100000 bytes', '', 'Not Found', 'Internal Server Error', '{"slow":"6"}']);
    expect(responses[3]!.headers['content-length']).toBe('100000');
    expect(responses[6]!.headers.connection).toBe('close');
    expect(conn.ending).toBe('fin');
    expect(connections.count).toBe(2);
  });

  it('server.close(cb): an idle connection closes at once, an in-flight request finishes', async () => {
    const entered = new Gate();
    const release = new Gate();
    const started = await run((_app, router) => {
      router.get('/slow', async (ctx) => {
        entered.open();
        await release.promise;
        ctx.body = { finished: true };
      });
      router.get('/quick', (ctx) => {
        ctx.body = 'quick';
      });
    });
    running.length = 0;
    await checkGracefulClose({ name, port: started.port, agent: started.agent, agents, entered, release, close: () => started.close() });
  });
});
