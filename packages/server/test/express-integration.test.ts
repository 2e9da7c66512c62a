/**
 * Express 5 on tether with `createServer(app)`, unchanged: Express re-prototypes `req`/`res` onto
 * node's classes, so tether gives it node:http's own objects (see node-exchange.ts) and still runs
 * the connection. Each scenario runs on node:http and on tether in the same test and must look the
 * same to the client: JSON bodies, streamed uploads and downloads, `res.sendFile` with ranges,
 * `express.static` with revalidation, two cookies, SSE, errors and 404s, middleware, keep-alive
 * with tether's Keep-Alive policy, pipelining, a client that leaves mid-upload, and a graceful
 * close that lets an in-flight request finish.
 */

import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import type { Express, NextFunction, Request, Response } from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import type { TetherServer } from '../src/index.js';
import { RawConnection, waitFor } from './tcp-helpers.js';

type Kind = 'node' | 'tether';
interface Listening { port: number; close: () => Promise<void>; tether: TetherServer | null }

let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-express-'));
  fs.writeFileSync(path.join(dir, 'page.html'), '<p>static page</p>\n');
  fs.writeFileSync(path.join(dir, 'data.bin'), Buffer.alloc(300_000, 7));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const open: Listening[] = [];
const agents: http.Agent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) a.destroy();
  await Promise.all(open.splice(0).map((l) => l.close()));
});

function serve(kind: Kind, app: Express, options: { keepAliveMax?: number } = {}): Promise<Listening> {
  return new Promise((resolve) => {
    const server: http.Server | TetherServer =
      kind === 'node' ? http.createServer(app) : createServer(options, app);
    if (kind === 'node' && options.keepAliveMax !== undefined) (server as http.Server).maxRequestsPerSocket = options.keepAliveMax;
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      const l: Listening = {
        port,
        tether: kind === 'tether' ? (server as TetherServer) : null,
        close: () =>
          new Promise<void>((done) => {
            (server as http.Server).closeAllConnections();
            (server as http.Server).close(() => done());
          }),
      };
      open.push(l);
      resolve(l);
    });
  });
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  raw: string[];
  body: Buffer;
  socket: net.Socket;
}

function keepAliveAgent(): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  return agent;
}

function call(port: number, method: string, target: string, options: { headers?: Record<string, string>; body?: string | Buffer | AsyncIterable<Buffer>; agent?: http.Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers: options.headers, agent: options.agent ?? false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, raw: res.rawHeaders, body: Buffer.concat(parts), socket: req.socket! }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const body = options.body;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else void (async () => {
      for await (const chunk of body) if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
      req.end();
    })();
  });
}

function buildApp(): Express {
  const app = express();
  const seen: string[] = [];
  app.use((req: Request, res: Response, next: NextFunction) => {
    seen.push(req.path);
    res.setHeader('X-Seen', String(seen.length));
    next();
  });
  app.use(express.json());
  app.post('/json', (req, res) => {
    res.status(201).json({ got: req.body as unknown, type: req.get('content-type') });
  });
  app.post('/upload', (req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.json({ bytes, complete: req.complete }));
  });
  app.get('/stream', (_req, res) => {
    res.type('text/plain');
    let n = 0;
    const tick = (): void => {
      if (n === 5) {
        res.end('done\n');
        return;
      }
      res.write(`part ${n++}\n`);
      setTimeout(tick, 5);
    };
    tick();
  });
  app.get('/file', (_req, res) => res.sendFile(path.join(dir, 'data.bin')));
  app.use('/static', express.static(dir));
  app.get('/cookies', (_req, res) => {
    res.cookie('a', '1', { httpOnly: true });
    res.cookie('b', '2');
    res.send('two cookies');
  });
  app.get('/events', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    let n = 0;
    const timer = setInterval(() => {
      res.write(`data: ${n}\n\n`);
      if (++n === 3) {
        clearInterval(timer);
        res.end();
      }
    }, 5);
  });
  app.get('/throw', () => {
    throw new Error('handler failed');
  });
  app.get('/bad', (_req, _res, next) => next(Object.assign(new Error('bad input'), { status: 400, expose: true })));
  app.get('/slow', (_req, res) => {
    setTimeout(() => res.send('slow done'), 150);
  });
  app.get('/hello', (req, res) => res.send(`hello ${req.query.name as string}`));
  // Errors are answered by Express's final handler; keep test output quiet.
  app.set('env', 'test');
  return app;
}

describe.each<Kind>(['node', 'tether'])('Express 5 on %s', (kind) => {
  it('parses a JSON body and answers JSON', async () => {
    const l = await serve(kind, buildApp());
    const r = await call(l.port, 'POST', '/json', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ x: [1, 2] }) });
    expect(r.status).toBe(201);
    expect(JSON.parse(r.body.toString())).toEqual({ got: { x: [1, 2] }, type: 'application/json' });
    expect(r.headers['x-seen']).toBe('1');
  });

  it('reads a streamed (chunked) upload to its end', async () => {
    const l = await serve(kind, buildApp());
    async function* chunks(): AsyncIterable<Buffer> {
      for (let i = 0; i < 64; i++) {
        // Written over time, so the server reads the body in several pieces.
        if (i % 16 === 0) await new Promise((r) => setImmediate(r));
        yield Buffer.alloc(16 * 1024, i);
      }
    }
    const r = await call(l.port, 'POST', '/upload', { body: chunks() });
    expect(JSON.parse(r.body.toString())).toEqual({ bytes: 64 * 16 * 1024, complete: true });
  });

  it('streams a download written over time', async () => {
    const l = await serve(kind, buildApp());
    const r = await call(l.port, 'GET', '/stream');
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(r.body.toString()).toBe('part 0\npart 1\npart 2\npart 3\npart 4\ndone\n');
  });

  it('sends a file whole, by range, and as HEAD', async () => {
    const l = await serve(kind, buildApp());
    const whole = await call(l.port, 'GET', '/file');
    expect(whole.status).toBe(200);
    expect(whole.body.length).toBe(300_000);
    expect(whole.headers['content-length']).toBe('300000');
    const range = await call(l.port, 'GET', '/file', { headers: { range: 'bytes=10-19' } });
    expect(range.status).toBe(206);
    expect(range.headers['content-range']).toBe('bytes 10-19/300000');
    expect(range.body).toEqual(Buffer.alloc(10, 7));
    const head = await call(l.port, 'HEAD', '/file');
    expect(head.headers['content-length']).toBe('300000');
    expect(head.body.length).toBe(0);
  });

  it('serves static files and revalidates them with 304', async () => {
    const l = await serve(kind, buildApp());
    const first = await call(l.port, 'GET', '/static/page.html');
    expect(first.status).toBe(200);
    expect(first.body.toString()).toBe('<p>static page</p>\n');
    const etag = first.headers.etag!;
    const again = await call(l.port, 'GET', '/static/page.html', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect((await call(l.port, 'GET', '/static/missing.html')).status).toBe(404);
  });

  it('sends two cookies as two Set-Cookie lines', async () => {
    const l = await serve(kind, buildApp());
    const r = await call(l.port, 'GET', '/cookies');
    const lines = r.raw.filter((_, i) => i % 2 === 0 && r.raw[i]!.toLowerCase() === 'set-cookie').length;
    expect(lines).toBe(2);
    expect(r.headers['set-cookie']).toEqual(['a=1; Path=/; HttpOnly', 'b=2; Path=/']);
  });

  it('streams server-sent events as they are written', async () => {
    const l = await serve(kind, buildApp());
    const events: string[] = [];
    await new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: l.port, path: '/events', agent: false }, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        res.setEncoding('utf8');
        res.on('data', (text: string) => events.push(text));
        res.on('end', resolve);
      }).on('error', reject);
    });
    expect(events.join('')).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\n');
    // Written over time: more than one piece reached the client.
    expect(events.length).toBeGreaterThan(1);
  });

  it('answers a thrown error with 500, next(err) with its status, and an unknown route with 404', async () => {
    const l = await serve(kind, buildApp());
    const agent = keepAliveAgent();
    const thrown = await call(l.port, 'GET', '/throw', { agent });
    expect(thrown.status).toBe(500);
    const bad = await call(l.port, 'GET', '/bad', { agent });
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).toContain('bad input');
    const missing = await call(l.port, 'GET', '/nowhere', { agent });
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toContain('Cannot GET /nowhere');
    // Errors answered by Express do not cost the connection.
    expect(missing.socket).toBe(thrown.socket);
  });

  it('keeps the connection alive and closes it after keepAliveMax requests', async () => {
    const l = await serve(kind, buildApp(), { keepAliveMax: 3 });
    const agent = keepAliveAgent();
    const replies: Reply[] = [];
    for (let i = 0; i < 3; i++) replies.push(await call(l.port, 'GET', `/hello?name=${i}`, { agent }));
    expect(replies.map((r) => r.body.toString())).toEqual(['hello 0', 'hello 1', 'hello 2']);
    expect(new Set(replies.map((r) => r.socket)).size).toBe(1);
    expect(replies[0]!.headers.connection).toBe('keep-alive');
    expect(replies[2]!.headers.connection).toBe('close');
    if (kind === 'tether') {
      // tether's Keep-Alive says how many requests the connection has left.
      expect(replies.map((r) => r.headers['keep-alive'])).toEqual(['timeout=5, max=2', 'timeout=5, max=1', undefined]);
    }
    const after = await call(l.port, 'GET', '/hello?name=x', { agent });
    expect(after.socket).not.toBe(replies[0]!.socket);
  });

  it('answers pipelined requests in order', async () => {
    const l = await serve(kind, buildApp());
    const conn = await RawConnection.open(l.port);
    const n = 10;
    conn.send(Array.from({ length: n }, (_, i) => `GET /hello?name=${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
    expect(await conn.until(() => conn.reader.responses.length === n, 5000)).toBe(true);
    expect(conn.reader.responses.map((r) => r.body.toString())).toEqual(Array.from({ length: n }, (_, i) => `hello ${i}`));
    conn.socket.destroy();
  });

  it('survives a client that leaves in the middle of an upload', async () => {
    const app = buildApp();
    let aborted = 0;
    app.post('/partial', (req, res) => {
      req.on('aborted', () => aborted++);
      req.on('error', () => undefined);
      req.resume();
      req.on('end', () => res.end('unexpected'));
    });
    const l = await serve(kind, app);
    const conn = await RawConnection.open(l.port);
    conn.send('POST /partial HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(1000));
    await waitFor(() => false, 50);
    conn.socket.destroy();
    expect(await waitFor(() => aborted === 1, 2000)).toBe(true);
    // The server goes on serving.
    const r = await call(l.port, 'GET', '/hello?name=next');
    expect(r.body.toString()).toBe('hello next');
  });
});

describe('Express 5 on tether: graceful close', () => {
  it('lets an in-flight request finish with Connection: close, then closes', async () => {
    const server = createServer(buildApp());
    await server.listen({ port: 0, host: '127.0.0.1' });
    const port = server.address()!.port;
    const conn = await RawConnection.open(port);
    conn.send('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => false, 30);
    const report = await server.close({ timeout: 5000 });
    expect(conn.reader.responses).toHaveLength(1);
    const r = conn.reader.responses[0]!;
    expect(r.body.toString()).toBe('slow done');
    expect(r.headers.connection).toBe('close');
    expect(await conn.closed(2000)).toBe(true);
    expect(conn.ending).toBe('fin');
    expect(report.drained).toBe(1);
    expect(report.forced).toBe(0);
  });

  it('gives Express node:http\'s own objects, and plain handlers tether\'s', async () => {
    let seen: unknown[] = [];
    const app = express();
    app.get('/', (req, res) => {
      seen = [req instanceof http.IncomingMessage, res instanceof http.ServerResponse];
      res.end();
    });
    const server = createServer(app);
    await server.listen({ port: 0, host: '127.0.0.1' });
    await call(server.address()!.port, 'GET', '/');
    expect(seen).toEqual([true, true]);
    await server.close();

    const plain = createServer((req, res) => {
      seen = [req instanceof http.IncomingMessage, res instanceof http.ServerResponse];
      res.end();
    });
    await plain.listen({ port: 0, host: '127.0.0.1' });
    await call(plain.address()!.port, 'GET', '/');
    expect(seen).toEqual([false, false]);
    await plain.close();
  });
});
