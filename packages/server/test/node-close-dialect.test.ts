/**
 * The server's node:http dialect, closing side: `close(cb)` after the connections drain, the
 * `ERR_SERVER_NOT_RUNNING` case, 'close', `closeIdleConnections()` and `closeAllConnections()`.
 */

import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import type { ServerResponse, TetherServer } from '../src/index.js';
import { RawConnection, waitFor } from './tcp-helpers.js';

const opened: TetherServer[] = [];
const conns: RawConnection[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) c.socket.destroy();
  await Promise.all(opened.splice(0).filter((s) => s.listening).map((s) => s.close({ timeout: 500 })));
});

/** A server whose `/slow` requests wait until `release()`; others are answered at once. */
async function start(): Promise<{ server: TetherServer; port: number; release: () => void }> {
  const held: ServerResponse[] = [];
  const server = createServer({ lingerTimeout: 50 }, (req, res) => {
    if (req.url === '/slow') held.push(res);
    else res.end('fast');
  });
  opened.push(server);
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  return { server, port, release: () => held.splice(0).forEach((res) => res.end('slow')) };
}

async function open(port: number, path: string): Promise<RawConnection> {
  const conn = await RawConnection.open(port);
  conns.push(conn);
  conn.send(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  return conn;
}

describe('close(cb)', () => {
  it('returns the server, lets a busy connection finish, then calls cb with no error after close', async () => {
    const { server, port, release } = await start();
    const idle = await open(port, '/');
    await idle.until(() => idle.reader.responses.length === 1, 2000);
    const busy = await open(port, '/slow');
    await waitFor(() => server.stats().connections.active === 1, 2000);

    const events: string[] = [];
    server.on('close', () => events.push('close'));
    let cbArgs: unknown[] | null = null;
    expect(server.close((...args: unknown[]) => (cbArgs = args))).toBe(server);
    expect(server.listening).toBe(false);
    // The idle one is closed at once, gracefully.
    expect(await idle.closed(2000)).toBe(true);
    expect(idle.ending).toBe('fin');
    expect(cbArgs).toBeNull();

    release();
    expect(await busy.until(() => busy.reader.responses.length === 1, 2000)).toBe(true);
    expect(busy.reader.responses[0]?.headers.connection).toBe('close');
    expect(await waitFor(() => cbArgs !== null, 2000)).toBe(true);
    expect(cbArgs).toEqual([]);
    expect(events).toEqual(['close']);
  });

  it('on a server that is not listening: cb gets ERR_SERVER_NOT_RUNNING, and close is emitted (as node)', async () => {
    const server = createServer(() => undefined);
    let closed = false;
    server.on('close', () => (closed = true));
    const err = await new Promise<unknown>((resolve) => server.close(resolve));
    expect(err).toMatchObject({ code: 'ERR_SERVER_NOT_RUNNING' });
    expect(closed).toBe(true);
  });

  it('a second close(cb) during a shutdown gets ERR_SERVER_NOT_RUNNING and the first one still completes', async () => {
    const { server, port, release } = await start();
    const busy = await open(port, '/slow');
    await waitFor(() => server.stats().connections.active === 1, 2000);
    const first = server.close({ timeout: 2000 });
    const second = new Promise<unknown>((resolve) => server.close(resolve));
    release();
    expect(await second).toMatchObject({ code: 'ERR_SERVER_NOT_RUNNING' });
    expect(await first).toMatchObject({ drained: 1, forced: 0 });
    expect(busy.reader.responses).toHaveLength(1);
  });

  it('the promise form still resolves with a report', async () => {
    const { server, port } = await start();
    const conn = await open(port, '/');
    await conn.until(() => conn.reader.responses.length === 1, 2000);
    const report = await server.close({ timeout: 1000 });
    expect(report).toMatchObject({ closedIdle: 1, drained: 0, forced: 0 });
  });
});

describe('closeIdleConnections() and closeAllConnections()', () => {
  it('closeIdleConnections closes only connections with no request in progress; listening goes on', async () => {
    const { server, port, release } = await start();
    const idle = await open(port, '/');
    await idle.until(() => idle.reader.responses.length === 1, 2000);
    const busy = await open(port, '/slow');
    await waitFor(() => server.stats().connections.active === 1, 2000);

    server.closeIdleConnections();
    expect(await idle.closed(2000)).toBe(true);
    expect(idle.ending).toBe('fin');
    expect(busy.isClosed).toBe(false);
    expect(server.listening).toBe(true);

    release();
    expect(await busy.until(() => busy.reader.responses.length === 1, 2000)).toBe(true);
    expect(busy.isClosed).toBe(false);
    const again = await open(port, '/');
    expect(await again.until(() => again.reader.responses.length === 1, 2000)).toBe(true);
  });

  it('closeAllConnections destroys busy and idle connections; listening goes on', async () => {
    const { server, port } = await start();
    const idle = await open(port, '/');
    await idle.until(() => idle.reader.responses.length === 1, 2000);
    const busy = await open(port, '/slow');
    await waitFor(() => server.stats().connections.active === 1, 2000);

    server.closeAllConnections();
    expect(await idle.closed(2000)).toBe(true);
    expect(await busy.closed(2000)).toBe(true);
    expect(busy.reader.responses).toHaveLength(0);
    expect(await waitFor(() => server.stats().connections.open === 0, 2000)).toBe(true);
    expect(server.listening).toBe(true);
  });

  it('Fastify-style shutdown: closeIdleConnections() then close(cb)', async () => {
    const { server, port } = await start();
    const conn = await open(port, '/');
    await conn.until(() => conn.reader.responses.length === 1, 2000);
    server.closeIdleConnections();
    const err = await new Promise<unknown>((resolve) => server.close(resolve));
    expect(err).toBeUndefined();
    expect(server.stats().connections.open).toBe(0);
  });

  it('close() calls the instance\'s own closeIdleConnections() once, as node:http\'s does; what it leaves is closed anyway', async () => {
    for (const form of ['callback', 'promise'] as const) {
      const node = http.createServer((_req, res) => res.end('ok'));
      const { server, port } = await start();
      const counts = { node: 0, tether: 0 };
      node.closeIdleConnections = () => void counts.node++;
      server.closeIdleConnections = () => void counts.tether++;
      const idle = await open(port, '/');
      await idle.until(() => idle.reader.responses.length === 1, 2000);
      await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
      await new Promise((resolve) => node.close(resolve));
      if (form === 'callback') await new Promise((resolve) => server.close(resolve));
      else await server.close();
      expect(counts, form).toEqual({ node: 1, tether: 1 });
      expect(await idle.closed(2000), form).toBe(true);
    }
  });

  it('a closeIdleConnections() that throws becomes the server\'s \'error\'; the shutdown completes', async () => {
    const { server } = await start();
    const errors: unknown[] = [];
    server.on('error', (err) => errors.push(err));
    const boom = new Error('boom');
    server.closeIdleConnections = () => {
      throw boom;
    };
    await server.close();
    expect(errors).toEqual([boom]);
    expect(server.listening).toBe(false);
  });
});
