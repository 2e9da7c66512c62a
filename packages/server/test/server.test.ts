import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import type { Handler, ServerOptions, TetherServer } from '../src/index.js';

const servers: TetherServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 1000 })));
});

async function start(handler: Handler, options: ServerOptions = {}): Promise<{ server: TetherServer; port: number }> {
  const server = createServer(options, handler);
  servers.push(server);
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  return { server, port };
}

/** Send raw bytes, collect everything until the server closes (or `ms` passes). */
function raw(port: number, payload: string, ms = 3000): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closedByServer: false });
    }, ms);
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('end', () => {
      clearTimeout(timer);
      socket.end();
      resolve({ text, closedByServer: true });
    });
    socket.on('error', reject);
    socket.write(payload);
  });
}

const hello: Handler = (req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`hello ${req.url}`);
};

describe('@tether/server over TCP', () => {
  it('keeps HTTP/1.1 connections alive: node:http keep-alive agent reuses one socket for 20 requests', async () => {
    const { server, port } = await start(hello);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: `/${i}`, agent }, (res) => {
            ports.add(res.socket.localPort ?? -1);
            let b = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (b += c));
            res.on('end', () => resolve(b));
          })
          .on('error', reject);
      });
      expect(body).toBe(`hello /${i}`);
    }
    agent.destroy();
    expect(ports.size).toBe(1);
    expect(server.stats().requests).toBe(20);
    expect(server.stats().connections.total).toBe(1);
  });

  it('answers pipelined requests in order, then honours Connection: close', async () => {
    const { server, port } = await start(async (req, res) => {
      // The first request is slow: responses must still come back in request order.
      if (req.url === '/slow') await new Promise((r) => setTimeout(r, 50));
      res.end(req.url);
    });
    const { text, closedByServer } = await raw(port, 'GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: a\r\n\r\n');
    const bodies = [...text.matchAll(/\r\n\r\n(\/[a-z]+)/g)].map((m) => m[1]);
    expect(bodies).toEqual(['/slow', '/b', '/c']);
    expect(text).toMatch(/\/b[\s\S]*Connection: close[\s\S]*\/c$/);
    expect(closedByServer).toBe(true);
    expect(server.stats().pipelinedRequests).toBeGreaterThanOrEqual(2);
  });

  it('keeps an HTTP/1.0 connection only on keep-alive, and says so', async () => {
    const { port } = await start(hello);
    const plain = await raw(port, 'GET /a HTTP/1.0\r\n\r\n');
    expect(plain.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(plain.text).toMatch(/\r\nConnection: close\r\n/);
    expect(plain.closedByServer).toBe(true);
    const kept = await raw(port, 'GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 300);
    expect(kept.text).toMatch(/\r\nConnection: keep-alive\r\n/);
    expect(kept.text).toMatch(/\r\nKeep-Alive: timeout=5, max=999\r\n/);
    expect(kept.closedByServer).toBe(false);
  });

  it('answers the keepAliveMax-th request with Connection: close and closes', async () => {
    const { server, port } = await start(hello, { keepAliveMax: 2 });
    const { text, closedByServer } = await raw(port, 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(text.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(text).toMatch(/Keep-Alive: timeout=5, max=1\r\n[\s\S]*Connection: close\r\n/);
    expect(closedByServer).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(server.stats().closedBy['keep-alive-max']).toBe(1);
  });

  it('closes an idle connection after keepAliveTimeout (and its buffer)', async () => {
    const { server, port } = await start(hello, { keepAliveTimeout: 100, keepAliveTimeoutBuffer: 50 });
    const started = Date.now();
    const { text, closedByServer } = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(text).toMatch(/Keep-Alive: timeout=0, max=999/);
    expect(closedByServer).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await new Promise((r) => setTimeout(r, 20));
    expect(server.stats().closedBy['keep-alive-timeout']).toBe(1);
  });

  it('answers bad requests with the protocol status and Connection: close, and keeps serving others', async () => {
    const { port } = await start(hello);
    for (const [input, status] of [
      ['GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n', 400],
      ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
      [`GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
      [`GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(20000)}\r\n\r\n`, 431],
      ['GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ] as const) {
      const { text, closedByServer } = await raw(port, input);
      expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(text).toMatch(/\r\nConnection: close\r\n/);
      expect(closedByServer).toBe(true);
    }
    const ok = await raw(port, 'GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(ok.text).toMatch(/hello \/ok$/);
  });

  it('answers 500 when a handler throws before writing, and reports the error', async () => {
    const errors: unknown[] = [];
    const { server, port } = await start(() => {
      throw new Error('boom');
    });
    server.on('error', (err: unknown) => errors.push(err));
    const { text } = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
    expect(errors).toHaveLength(1);
  });

  it('streams a response chunked to HTTP/1.1, and reads a request body', async () => {
    const { port } = await start(async (req, res) => {
      const body = await req.text();
      res.write('got ');
      res.end(body);
    });
    const { text } = await raw(port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    expect(text).toMatch(/Transfer-Encoding: chunked\r\n/);
    expect(text).toMatch(/\r\n\r\n4\r\ngot \r\n5\r\nhello\r\n0\r\n\r\n$/);
  });

  it('shuts down gracefully: idle connections close at once, busy ones finish with Connection: close', async () => {
    const { server, port } = await start(async (req, res) => {
      if (req.url === '/slow') await new Promise((r) => setTimeout(r, 100));
      res.end('done');
    });
    servers.splice(servers.indexOf(server), 1);
    const idle = net.connect(port, '127.0.0.1');
    await new Promise((r) => idle.once('connect', r));
    const busy = raw(port, 'GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((r) => setTimeout(r, 30));
    const report = await server.close({ timeout: 2000 });
    const { text, closedByServer } = await busy;
    expect(text).toMatch(/Connection: close\r\n[\s\S]*done$/);
    expect(closedByServer).toBe(true);
    expect(report).toMatchObject({ closedIdle: 1, drained: 1, forced: 0, requestsCompleted: 1 });
    idle.destroy();
  });
});
