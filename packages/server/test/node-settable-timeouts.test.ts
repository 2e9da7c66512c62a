/**
 * node's settable properties: `keepAliveTimeout`, `headersTimeout`, `requestTimeout`,
 * `maxRequestsPerSocket` (= keepAliveMax) and `setTimeout()` / `timeout`, read back in node's
 * units (0 = none) and governing the connections accepted after the change.
 */

import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import type { TetherServer } from '../src/index.js';
import { RawConnection } from './tcp-helpers.js';

const opened: TetherServer[] = [];
const conns: RawConnection[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) c.socket.destroy();
  await Promise.all(opened.splice(0).filter((s) => s.listening).map((s) => s.close({ timeout: 500 })));
});

async function start(): Promise<{ server: TetherServer; port: number }> {
  // `/hang` is never answered: a request in progress.
  const server = createServer({ lingerTimeout: 50 }, (req, res) => {
    if (req.url !== '/hang') res.end('ok');
  });
  opened.push(server);
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  return { server, port };
}

async function ask(port: number, n = 1): Promise<RawConnection> {
  const conn = await RawConnection.open(port);
  conns.push(conn);
  conn.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(n));
  await conn.until(() => conn.reader.responses.length === n, 2000);
  return conn;
}

describe('settable timeouts and limits', () => {
  it('read back in node units: defaults, and 0 for none', () => {
    const server = createServer({ keepAliveMax: Number.POSITIVE_INFINITY, requestTimeout: 0 }, () => undefined);
    expect(server.keepAliveTimeout).toBe(5000);
    expect(server.headersTimeout).toBe(60_000);
    expect(server.requestTimeout).toBe(0);
    expect(server.maxRequestsPerSocket).toBe(0);
    expect(server.timeout).toBe(0);
    server.maxRequestsPerSocket = 3;
    expect(server.options.keepAliveMax).toBe(3);
    server.maxRequestsPerSocket = 0;
    expect(server.options.keepAliveMax).toBe(Number.POSITIVE_INFINITY);
    expect(() => (server.headersTimeout = -1)).toThrow(RangeError);
  });

  it('keepAliveTimeout set after listen: advertised and enforced on new connections, not on open ones', async () => {
    const { server, port } = await start();
    const before = await ask(port);
    expect(before.reader.responses[0]?.headers['keep-alive']).toMatch(/^timeout=5\b/);
    server.keepAliveTimeout = 100;
    const after = await ask(port);
    expect(after.reader.responses[0]?.headers['keep-alive']).toMatch(/^timeout=0\b/);
    // 100 ms + the 1 s buffer.
    expect(await after.closed(3000)).toBe(true);
    expect(before.isClosed).toBe(false);
  });

  it('maxRequestsPerSocket set after listen: the Nth response on a new connection closes it', async () => {
    const { server, port } = await start();
    server.maxRequestsPerSocket = 2;
    const conn = await ask(port, 2);
    expect(conn.reader.responses[1]?.headers.connection).toBe('close');
    expect(await conn.closed(2000)).toBe(true);
  });

  it('headersTimeout set after listen cuts a slow head on a new connection', async () => {
    const { server, port } = await start();
    server.headersTimeout = 100;
    server.requestTimeout = 100;
    const conn = await RawConnection.open(port);
    conns.push(conn);
    conn.send('GET / HTTP/1.1\r\nHost');
    expect(await conn.closed(3000)).toBe(true);
  });

  async function hang(port: number): Promise<RawConnection> {
    const conn = await RawConnection.open(port);
    conns.push(conn);
    conn.send('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n');
    return conn;
  }

  it("setTimeout(ms, cb) returns the server; a socket inactive during a request goes to the 'timeout' listener", async () => {
    const { server, port } = await start();
    const timedOut: unknown[] = [];
    expect(server.setTimeout(100, (socket) => timedOut.push(socket))).toBe(server);
    expect(server.timeout).toBe(100);
    const conn = await hang(port);
    await conn.until(() => timedOut.length === 1, 2000);
    expect(timedOut).toHaveLength(1);
    // With a listener, the socket is the listener's to end.
    expect(conn.isClosed).toBe(false);
  });

  it('setTimeout(ms) without a listener destroys a connection inactive during a request', async () => {
    const { server, port } = await start();
    server.setTimeout(100);
    const conn = await hang(port);
    expect(await conn.closed(2000)).toBe(true);
  });

  it('between requests keepAliveTimeout governs, not setTimeout (as node:http)', async () => {
    const { server, port } = await start();
    const timedOut: unknown[] = [];
    server.setTimeout(100, (socket) => timedOut.push(socket));
    const socketTimeouts: unknown[] = [];
    server.on('connection', (socket: Socket) => socket.on('timeout', () => socketTimeouts.push(socket)));
    const conn = await ask(port);
    await conn.until(() => false, 400);
    expect(timedOut).toHaveLength(0);
    // The socket's own timer is off while idle, as node:http switches it to keepAliveTimeout.
    expect(socketTimeouts).toHaveLength(0);
    expect(conn.isClosed).toBe(false);
  });
});
