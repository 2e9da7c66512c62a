/**
 * The server's node:http dialect, listening side: node's `listen` callback forms beside the
 * promise form, `address()` right after `listen` returns, `listening`, `ref`/`unref`, and the
 * events 'listening', 'connection', 'request' and 'error' (a listen failure).
 */

import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import type { TetherServer } from '../src/index.js';
import { RawConnection, waitFor } from './tcp-helpers.js';

const opened: TetherServer[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(opened.splice(0).filter((s) => s.listening).map((s) => s.close({ timeout: 500 })));
});

function track(server: TetherServer): TetherServer {
  opened.push(server);
  return server;
}

const hello = (): TetherServer => createServer((_req, res) => res.end('hi'));

/** One GET on a fresh connection; resolves with the raw response text once it is whole. */
async function get(port: number, path = '/'): Promise<string> {
  const conn = await RawConnection.open(port);
  sockets.push(conn.socket);
  conn.send(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await conn.until(() => conn.reader.responses.length === 1, 2000);
  return conn.reader.responses[0]?.body.toString() ?? '';
}

describe("node's listen forms", () => {
  it('address() right after listen returns is what node:http gives (bound without a host, after the lookup with one)', async () => {
    const pairs: [unknown[], boolean][] = [
      [[0], true],
      [[{ port: 0 }, () => undefined], true],
      [[0, '127.0.0.1'], false],
    ];
    for (const [args, bound] of pairs) {
      const node = http.createServer();
      const ours = track(hello());
      (node.listen as (...a: unknown[]) => unknown).apply(node, args);
      (ours.listen as (...a: unknown[]) => unknown).apply(ours, args);
      expect(node.address() !== null).toBe(bound);
      expect(ours.address() !== null).toBe(bound);
      await new Promise<void>((resolve) => (node.listening ? resolve() : node.once('listening', resolve)));
      node.close();
    }
  });

  it('listen(port, host, cb): returns the server; in cb, address() is the bound address', async () => {
    const server = track(hello());
    let inCallback: AddressInfo | null = null;
    const called = new Promise<void>((resolve) => {
      const returned = server.listen(0, '127.0.0.1', () => {
        inCallback = server.address();
        resolve();
      });
      expect(returned).toBe(server);
    });
    await called;
    expect(inCallback).not.toBeNull();
    expect(inCallback).toEqual(server.address());
    expect(server.listening).toBe(true);
    expect(await get(server.address()!.port)).toBe('hi');
  });

  it('listen(port, host, backlog, cb) and listen(port, cb)', async () => {
    const a = track(hello());
    const b = track(hello());
    await new Promise<void>((resolve) => a.listen(0, '127.0.0.1', 10, resolve));
    await new Promise<void>((resolve) => b.listen(0, resolve));
    expect(a.address()?.address).toBe('127.0.0.1');
    expect(b.address()?.port).toBeGreaterThan(0);
    expect(await get(a.address()!.port)).toBe('hi');
    expect(await get(b.address()!.port)).toBe('hi');
  });

  it('listen(options, cb) passes node ListenOptions through and returns the server', async () => {
    const server = track(hello());
    let returned: unknown;
    await new Promise<void>((resolve) => {
      returned = server.listen({ port: 0, host: '127.0.0.1', backlog: 5, exclusive: true }, resolve);
    });
    expect(returned).toBe(server);
    expect(server.address()?.address).toBe('127.0.0.1');
    expect(await get(server.address()!.port)).toBe('hi');
  });

  it('listen() with no argument binds port 0 and emits listening', async () => {
    const server = track(hello());
    const listening = new Promise<void>((resolve) => server.once('listening', resolve));
    expect(server.listen()).toBe(server);
    expect(server.address()?.port).toBeGreaterThan(0);
    await listening;
    expect(await get(server.address()!.port)).toBe('hi');
  });

  it('listen(options) alone is the promise form, and still emits listening', async () => {
    const server = track(hello());
    let events = 0;
    server.on('listening', () => events++);
    const result = server.listen({ port: 0, host: '127.0.0.1' });
    expect(result).toBeInstanceOf(Promise);
    const address = await result;
    expect(address).toEqual(server.address());
    expect(events).toBe(1);
  });

  it('a port in use: the promise rejects; node form emits error; an error listener marks the promise handled', async () => {
    const first = track(hello());
    const { port } = await first.listen({ port: 0, host: '127.0.0.1' });

    await expect(track(hello()).listen({ port, host: '127.0.0.1' })).rejects.toMatchObject({ code: 'EADDRINUSE' });

    const nodeStyle = track(hello());
    const emitted = new Promise<unknown>((resolve) => nodeStyle.once('error', resolve));
    nodeStyle.listen(port, '127.0.0.1', () => undefined);
    expect(await emitted).toMatchObject({ code: 'EADDRINUSE' });

    // Fastify's way: an 'error' listener and a promise it never looks at; no unhandled rejection.
    const frameworkStyle = track(hello());
    const seen = new Promise<unknown>((resolve) => frameworkStyle.once('error', resolve));
    void frameworkStyle.listen({ port, host: '127.0.0.1' });
    expect(await seen).toMatchObject({ code: 'EADDRINUSE' });
  });

  it('options node refuses throw at once in both forms, as node\'s listen throws them', () => {
    const bad = { port: 70_000, host: '127.0.0.1' };
    expect(() => http.createServer().listen(bad)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }) as Error);
    expect(() => track(hello()).listen(bad)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }) as Error);
    expect(() => track(hello()).listen(bad, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }) as Error);
  });

  it('_handle is set exactly while listening, as node\'s (supertest closes a server only when it has one)', async () => {
    const server = track(hello());
    expect(server._handle).toBeNull();
    await server.listen({ port: 0, host: '127.0.0.1' });
    expect(server._handle).not.toBeNull();
    await server.close();
    expect(server._handle).toBeNull();
  });

  it('ref() and unref() return the server', async () => {
    const server = track(hello());
    await server.listen({ port: 0, host: '127.0.0.1' });
    expect(server.unref()).toBe(server);
    expect(server.ref()).toBe(server);
  });
});

describe("node's events", () => {
  it("'connection' gets the accepted net.Socket, once per connection", async () => {
    const server = track(hello());
    const seen: unknown[] = [];
    server.on('connection', (socket) => seen.push(socket));
    await server.listen({ port: 0, host: '127.0.0.1' });
    const port = server.address()!.port;
    await get(port);
    await get(port);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBeInstanceOf(net.Socket);
  });

  it("without a handler, 'request' listeners answer", async () => {
    const server = track(createServer());
    server.on('request', (req: { url: string }, res: { end(s: string): void }) => res.end(`req ${req.url}`));
    await server.listen({ port: 0, host: '127.0.0.1' });
    expect(await get(server.address()!.port, '/x')).toBe('req /x');
  });

  it("with a handler, 'request' is emitted for each request after the handler ran", async () => {
    const order: string[] = [];
    const server = track(
      createServer({ keepAliveTimeout: 1000 }, (req, res) => {
        order.push(`handler ${req.url}`);
        res.end('ok');
      }),
    );
    server.on('request', (req: { url: string }) => order.push(`event ${req.url}`));
    await server.listen({ port: 0, host: '127.0.0.1' });
    const conn = await RawConnection.open(server.address()!.port);
    sockets.push(conn.socket);
    conn.send('GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await conn.until(() => conn.reader.responses.length === 2, 2000)).toBe(true);
    expect(order).toEqual(['handler /1', 'event /1', 'handler /2', 'event /2']);
  });

  it("a 'request' listener that throws is charged to its response (500)", async () => {
    const server = track(createServer());
    server.on('error', () => undefined);
    server.on('request', () => {
      throw new Error('boom');
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    const conn = await RawConnection.open(server.address()!.port);
    sockets.push(conn.socket);
    conn.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await conn.until(() => conn.reader.responses.length === 1, 2000)).toBe(true);
    expect(conn.reader.responses[0]?.status).toBe(500);
  });

  it("'listening' and 'close' come from listen and close, in order", async () => {
    const server = track(hello());
    const events: string[] = [];
    server.on('listening', () => events.push('listening'));
    server.on('close', () => events.push('close'));
    await server.listen({ port: 0, host: '127.0.0.1' });
    await server.close();
    expect(events).toEqual(['listening', 'close']);
    expect(server.listening).toBe(false);
    expect(await waitFor(() => server.address() === null, 100)).toBe(true);
  });
});
