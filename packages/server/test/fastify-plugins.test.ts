/**
 * Fastify 5's plugins on tether, each scenario run the same way against Fastify on node:http:
 * `@fastify/static` (files, ETag → 304, ranges, HEAD, 404 — on one keep-alive connection),
 * `@fastify/compress` (gzip replies decoded once by the client, identity without
 * `accept-encoding`, a gzip request body inflated through `req`), `@fastify/cookie` (two cookies →
 * two `set-cookie` lines), and server-sent events written over time (a stream reply and a hijacked
 * `reply.raw`), read by the client event by event before the server writes the next.
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';

import fastifyCompress from '@fastify/compress';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FASTIFY_SERVERS, fastifyApps } from './fastify-apps.js';
import { EventStreamReader, Gate, Ticks, countConnections, fetchRaw } from './http-helpers.js';

let dir = '';
const big = Buffer.alloc(300 * 1024);
for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 8)) & 0xff;
const css = 'body { color: teal; }\n';
const text = Array.from({ length: 5_000 }, (_, i) => `line ${i} of a compressible text\n`).join('');

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-fastify-plugins-'));
  fs.writeFileSync(path.join(dir, 'style.css'), css);
  fs.writeFileSync(path.join(dir, 'big.bin'), big);
  fs.writeFileSync(path.join(dir, 'text.txt'), text);
  fs.writeFileSync(path.join(dir, 'index.html'), '<h1>home</h1>\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each(FASTIFY_SERVERS)('Fastify on $name', ({ options }) => {
  const { start } = fastifyApps(options);

  it('@fastify/static: files, ETag revalidation (304), a range (206), HEAD and a 404, all on one connection', async () => {
    const { app, port, agent } = await start((app) => app.register(fastifyStatic, { root: dir, prefix: '/static/' }));
    const connections = countConnections(app.server);

    const style = await fetchRaw(port, '/static/style.css', { agent });
    expect([style.status, style.headers['content-type'], style.text]).toEqual([200, 'text/css; charset=utf-8', css]);
    const etag = style.headers.etag;
    expect(etag).toMatch(/^(W\/)?"/);

    const file = await fetchRaw(port, '/static/big.bin', { agent });
    expect([file.status, file.headers['content-length']]).toEqual([200, String(big.length)]);
    expect(file.body.equals(big)).toBe(true);

    const notModified = await fetchRaw(port, '/static/style.css', { agent, headers: { 'if-none-match': etag } });
    expect([notModified.status, notModified.body.length]).toEqual([304, 0]);

    const range = await fetchRaw(port, '/static/big.bin', { agent, headers: { range: 'bytes=1000-1999' } });
    expect([range.status, range.headers['content-range'], range.headers['content-length']]).toEqual([206, `bytes 1000-1999/${big.length}`, '1000']);
    expect(range.body.equals(big.subarray(1000, 2000))).toBe(true);

    const head = await fetchRaw(port, '/static/big.bin', { agent, method: 'HEAD' });
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(big.length), 0]);

    const index = await fetchRaw(port, '/static/', { agent });
    expect([index.status, index.text]).toEqual([200, '<h1>home</h1>\n']);

    const missing = await fetchRaw(port, '/static/nope.txt', { agent });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toMatchObject({ statusCode: 404 });

    // After a 304 and a HEAD (bodyless) the connection still frames the next response right.
    const again = await fetchRaw(port, '/static/style.css', { agent });
    expect(again.text).toBe(css);
    expect(again.socket).toBe(style.socket);
    expect(connections.count).toBe(1);
  });

  it('@fastify/compress: gzip replies the client decodes once, identity without accept-encoding, a gzip request body', async () => {
    const rows = Array.from({ length: 400 }, (_, i) => ({ id: i, name: `row ${i}` }));
    const { port, agent } = await start(async (app) => {
      await app.register(fastifyCompress, { global: true, threshold: 1024, encodings: ['gzip'], requestEncodings: ['gzip'] });
      app.get('/json', () => ({ rows }));
      app.get('/stream', (_request, reply) => reply.type('text/plain').send(fs.createReadStream(path.join(dir, 'text.txt'))));
      app.get('/small', () => ({ small: true }));
      app.post('/echo-count', (request) => ({ count: (request.body as { rows: unknown[] }).rows.length }));
    });
    const gzip = { 'accept-encoding': 'gzip' };

    const json = await fetchRaw(port, '/json', { agent, headers: gzip });
    expect([json.status, json.headers['content-encoding'], json.headers.vary]).toEqual([200, 'gzip', 'accept-encoding']);
    // One gunzip gives the JSON itself: encoded exactly once.
    expect(JSON.parse(zlib.gunzipSync(json.body).toString('utf8'))).toEqual({ rows });
    expect(json.body.length).toBeLessThan(JSON.stringify({ rows }).length / 3);

    const streamed = await fetchRaw(port, '/stream', { agent, headers: gzip });
    expect([streamed.status, streamed.headers['content-encoding'], streamed.headers['content-length']]).toEqual([200, 'gzip', undefined]);
    expect(zlib.gunzipSync(streamed.body).toString('utf8') === text).toBe(true);

    const identity = await fetchRaw(port, '/stream', { agent });
    expect([identity.headers['content-encoding'], identity.text === text]).toEqual([undefined, true]);

    const small = await fetchRaw(port, '/small', { agent, headers: gzip });
    expect([small.headers['content-encoding'], small.text]).toEqual([undefined, '{"small":true}']);

    const upload = zlib.gzipSync(JSON.stringify({ rows }));
    const posted = await fetchRaw(port, '/echo-count', { agent, method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: upload });
    expect([posted.status, posted.text]).toEqual([200, '{"count":400}']);
    expect(posted.socket).toBe(json.socket);
  });

  it('@fastify/cookie: two cookies set arrive as two set-cookie lines, and cookies sent are parsed', async () => {
    const { port, agent } = await start(async (app) => {
      await app.register(fastifyCookie, { secret: 'a secret of at least 32 characters!!' });
      app.get('/login', (_request, reply) => reply.setCookie('session', 'abc 123', { path: '/', httpOnly: true }).setCookie('theme', 'dark', { path: '/', signed: true }).send({ ok: true }));
      app.get('/whoami', (request) => ({ cookies: request.cookies, theme: request.unsignCookie(request.cookies.theme ?? '').value }));
    });

    const login = await fetchRaw(port, '/login', { agent });
    expect(login.status).toBe(200);
    const lines = login.rawHeaders.filter((_, i) => i % 2 === 0 && login.rawHeaders[i]!.toLowerCase() === 'set-cookie').length;
    expect(lines).toBe(2);
    const setCookie = login.headers['set-cookie'] ?? [];
    expect(setCookie).toHaveLength(2);
    expect(setCookie[0]).toMatch(/^session=abc%20123; Path=\/; HttpOnly(;|$)/);
    expect(setCookie[1]).toMatch(/^theme=dark\.[^;]+; Path=\/(;|$)/);

    const cookie = setCookie.map((line) => line.split(';')[0]).join('; ');
    const whoami = await fetchRaw(port, '/whoami', { agent, headers: { cookie } });
    expect(JSON.parse(whoami.text)).toEqual({ cookies: { session: 'abc 123', theme: setCookie[1]!.split(';')[0]!.slice('theme='.length) }, theme: 'dark' });
  });

  it('server-sent events written over time reach the client event by event (a stream reply and reply.raw)', async () => {
    const ticks = new Ticks();
    const rawGates = [new Gate(), new Gate(), new Gate()];
    const { port } = await start((app) => {
      app.get('/events', (_request, reply) => {
        const stream = new PassThrough();
        ticks.writeTo(stream);
        return reply.header('content-type', 'text/event-stream').header('cache-control', 'no-cache').send(stream);
      });
      app.get('/raw-events', async (_request, reply) => {
        reply.hijack();
        reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (let i = 0; i < rawGates.length; i++) {
          reply.raw.write(`data: raw ${i}\n\n`);
          await rawGates[i]!.promise;
        }
        reply.raw.end();
      });
    });

    const events = await EventStreamReader.open(port, '/events');
    expect([events.response.statusCode, events.response.headers['content-type'], events.response.headers['transfer-encoding']]).toEqual([200, 'text/event-stream', 'chunked']);
    await ticks.readFrom(events);
    expect(await events.end()).toBe('');

    const raw = await EventStreamReader.open(port, '/raw-events');
    expect(raw.response.headers['content-type']).toBe('text/event-stream');
    for (let i = 0; i < rawGates.length; i++) {
      expect(await raw.next()).toBe(`data: raw ${i}`);
      rawGates[i]!.open();
    }
    expect(await raw.next()).toBeNull();
  });
});
