/**
 * Fastify 5 on tether through `serverFactory`: Fastify calls node's `server.listen(options)` and
 * waits for 'listening', answers GET routes over keep-alive, and closes with
 * `closeIdleConnections()` then `close(cb)`; request bodies reach Fastify's parsers through `req`
 * as a Readable (a JSON POST, a streamed upload read by a custom parser); replies stream into
 * `res` as a Writable (a file through `reply.send(stream)`, `reply.hijack()` writing `reply.raw`).
 * `fastifyServerFactory()` from `@tether/server/fastify` types all of it without a cast; the
 * package's main entry never loads fastify.
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import http from 'node:http';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { TetherServer as PublishedTetherServer } from '@tether/server';
import { fastifyServerFactory as publishedFactory } from '@tether/server/fastify';
import { afterEach, expect, it } from 'vitest';
import { fastifyServerFactory } from '../src/fastify.js';
import { TetherServer } from '../src/index.js';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
afterEach(() => agent.destroy());

function send(port: number, method: string, path: string, type: string, body: string | Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent, headers: { 'content-type': type } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The tether server under `app` (`app.server` is typed as node's, and narrows by instanceof). */
function tetherOf(app: FastifyInstance): TetherServer {
  if (!(app.server instanceof TetherServer)) throw new Error('app.server is not a TetherServer');
  return app.server;
}

function get(port: number, path: string): Promise<{ status: number; body: string; socket: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket: req.socket }));
    });
    req.on('error', reject);
  });
}

it('serves GET routes over keep-alive, and listen/close settle', async () => {
  const app = Fastify({ serverFactory: fastifyServerFactory() });
  const server = tetherOf(app);
  app.get('/hello/:name', (request) => ({ hello: (request.params as { name: string }).name }));

  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const port = server.address()!.port;
  expect(address).toBe(`http://127.0.0.1:${port}`);

  const a = await get(port, '/hello/a');
  const b = await get(port, '/hello/b');
  expect([a.status, a.body]).toEqual([200, '{"hello":"a"}']);
  expect([b.status, b.body]).toEqual([200, '{"hello":"b"}']);
  expect(b.socket).toBe(a.socket);
  expect(server.stats().connections.total).toBe(1);

  const missing = await get(port, '/nope');
  expect(missing.status).toBe(404);

  // The agent's idle keep-alive socket is still open: Fastify closes it via closeIdleConnections().
  await app.close();
  expect(server.listening).toBe(false);
  expect(server.stats().connections.open).toBe(0);
});

it('gives a JSON POST route its parsed body, and a custom parser a streamed upload', async () => {
  const app = Fastify({ serverFactory: fastifyServerFactory() });
  const server = tetherOf(app);
  app.post('/json', (request) => ({ got: request.body }));
  app.addContentTypeParser('application/octet-stream', async (_request: unknown, payload: NodeJS.ReadableStream) => {
    let bytes = 0;
    let sum = 0;
    for await (const chunk of payload as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (const byte of chunk) sum = (sum + byte) % 65_521;
    }
    return { bytes, sum };
  });
  app.post('/upload', (request) => request.body);

  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = server.address()!.port;

  const json = await send(port, 'POST', '/json', 'application/json', JSON.stringify({ a: [1, 'two'], b: { c: true } }));
  expect([json.status, JSON.parse(json.body)]).toEqual([200, { got: { a: [1, 'two'], b: { c: true } } }]);

  const bad = await send(port, 'POST', '/json', 'application/json', '{"broken');
  expect(bad.status).toBe(400);

  const upload = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < upload.length; i++) upload[i] = (i * 7) & 0xff;
  let sum = 0;
  for (const byte of upload) sum = (sum + byte) % 65_521;
  const streamed = await send(port, 'POST', '/upload', 'application/octet-stream', upload);
  expect([streamed.status, JSON.parse(streamed.body)]).toEqual([200, { bytes: upload.length, sum }]);

  await app.close();
  expect(server.stats().connections.open).toBe(0);
});

it('streams a file with reply.send(fs.createReadStream()), and a hijacked reply writes reply.raw', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-fastify-'));
  const file = path.join(dir, 'big.txt');
  const content = Array.from({ length: 40_000 }, (_, i) => `line ${i}\n`).join('');
  fs.writeFileSync(file, content);
  const app = Fastify({ serverFactory: fastifyServerFactory() });
  const server = tetherOf(app);
  app.get('/file', (_request, reply) => reply.type('text/plain').send(fs.createReadStream(file)));
  app.get('/hijack', (_request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/plain' });
    reply.raw.write('one ', 'utf8', () => {
      reply.raw.end('two');
    });
  });
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = server.address()!.port;
    const streamed = await get(port, '/file');
    expect(streamed.status).toBe(200);
    expect(streamed.body.length).toBe(content.length);
    expect(streamed.body === content).toBe(true);
    const hijacked = await get(port, '/hijack');
    expect([hijacked.status, hijacked.body]).toEqual([200, 'one two']);
    const again = await get(port, '/file');
    expect(again.body === content).toBe(true);
    expect(again.socket).toBe(streamed.socket);
    await app.close();
    expect(server.stats().connections.open).toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('is typed without a cast through the @tether/server/fastify export, options reaching the server', async () => {
  // This file compiles under `pnpm typecheck`: the factory is a FastifyServerFactory as published.
  const app = Fastify({ serverFactory: publishedFactory({ keepAliveTimeout: 3_000, keepAliveMax: 7 }) });
  app.get('/', () => 'ok');
  expect(app.server).toBeInstanceOf(PublishedTetherServer);
  if (!(app.server instanceof PublishedTetherServer)) return;
  // Narrowed, app.server is `http.Server & TetherServer`; as a TetherServer its methods are tether's.
  const server: PublishedTetherServer = app.server;
  await app.listen({ port: 0, host: '127.0.0.1' });
  const headers = await new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: server.address()!.port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers));
    }).on('error', reject);
  });
  expect(headers['keep-alive']).toBe('timeout=3, max=6');
  await app.close();
  expect(server.stats().connections.open).toBe(0);
});

it('keeps fastify out of the main entry: dist/index.js and index.d.ts reach no module of it', () => {
  const dist = new URL('../dist/', import.meta.url);
  /** The files reached from `entry` through relative imports, and the bare specifiers they name. */
  const graph = (entry: string, ext: '.js' | '.d.ts'): { files: Set<string>; bare: Set<string> } => {
    const files = new Set<string>();
    const bare = new Set<string>();
    const visit = (file: string): void => {
      if (files.has(file)) return;
      files.add(file);
      const source = fs.readFileSync(new URL(file, dist), 'utf8');
      for (const [, specifier = ''] of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)'([^']+)'/g)) {
        if (specifier.startsWith('./')) visit(specifier.slice(2).replace(/\.js$/, ext));
        else bare.add(specifier);
      }
    };
    visit(entry);
    return { files, bare };
  };
  for (const [entry, ext] of [['index.js', '.js'], ['index.d.ts', '.d.ts']] as const) {
    const { files, bare } = graph(entry, ext);
    expect(files.has(`server${ext}`)).toBe(true);
    expect(files.has(`fastify${ext}`)).toBe(false);
    expect([...bare].filter((s) => s.includes('fastify'))).toEqual([]);
  }
  // The subpath itself does name fastify, for types only.
  expect(graph('fastify.d.ts', '.d.ts').bare.has('fastify')).toBe(true);
  expect(graph('fastify.js', '.js').bare.has('fastify')).toBe(false);
});
