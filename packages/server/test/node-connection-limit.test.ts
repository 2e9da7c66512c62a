/**
 * node's `maxConnections` (settable at any time), `getConnections(cb)` and the 'drop' event,
 * each played on node:http beside tether: past the limit a connection is closed at once and
 * reported; the count is what the limit compares.
 */

import type http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import type { TetherServer } from '../src/index.js';
import { twins } from './node-twin.js';
import { Resources, sleep } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

type AnyServer = TetherServer | http.Server;

function count(server: AnyServer): Promise<number> {
  return new Promise((resolve, reject) => (server as net.Server).getConnections((err, n) => (err === null ? resolve(n) : reject(err))));
}

/** Connect and report whether the server closed the socket within `ms` without a word. */
async function refused(port: number, ms = 300): Promise<{ socket: net.Socket; localPort: number; closed: boolean }> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  resources.defer(() => socket.destroy());
  let localPort = 0;
  socket.once('connect', () => (localPort = socket.localPort ?? 0));
  const closed = await new Promise<boolean>((resolve) => {
    socket.once('close', () => resolve(true));
    setTimeout(() => resolve(false), ms);
  });
  return { socket, localPort, closed };
}

describe('maxConnections', () => {
  it('set after listen: connections past it are closed at once and reported as drop, with their addresses', async () => {
    const drops = new Map<string, Record<string, unknown>[]>();
    const setup = (server: AnyServer, name: string): void => {
      drops.set(name, []);
      server.on('drop', (data: Record<string, unknown>) => drops.get(name)!.push(data));
    };
    for (const twin of await twins(resources, (_req, res) => res.end('ok'), {}, setup)) {
      (twin.server as { maxConnections: number }).maxConnections = 1;
      const first = await refused(twin.port, 100);
      expect(first.closed, twin.name).toBe(false);
      const second = await refused(twin.port);
      expect(second.closed, twin.name).toBe(true);
      expect(await count(twin.server), twin.name).toBe(1);
      expect(drops.get(twin.name), twin.name).toEqual([
        expect.objectContaining({ localAddress: '127.0.0.1', localPort: twin.port, remoteAddress: '127.0.0.1', remotePort: second.localPort, remoteFamily: 'IPv4' }),
      ]);
      // Raised again: accepted.
      (twin.server as { maxConnections: number }).maxConnections = 5;
      expect((await refused(twin.port, 100)).closed, twin.name).toBe(false);
      expect(await count(twin.server), twin.name).toBe(2);
    }
  });

  it('reads back the option; Infinity when none is set (node: undefined)', () => {
    expect(createServer(() => undefined).maxConnections).toBe(Number.POSITIVE_INFINITY);
    const server = createServer({ maxConnections: 3 }, () => undefined);
    expect(server.maxConnections).toBe(3);
    server.maxConnections = 7;
    expect(server.options.maxConnections).toBe(7);
    expect(() => (server.maxConnections = -1)).toThrow(RangeError);
  });
});

describe('getConnections', () => {
  it('counts open connections, asynchronously, as node does', async () => {
    for (const twin of await twins(resources, (_req, res) => res.end('ok'))) {
      const sockets = await Promise.all([1, 2, 3].map(async () => (await refused(twin.port, 50)).socket));
      let sync = true;
      const seen = new Promise<number>((resolve) => (twin.server as net.Server).getConnections((_err, n) => resolve(sync ? -1 : n)));
      sync = false;
      expect(await seen, twin.name).toBe(3);
      sockets[0]!.destroy();
      let n = await count(twin.server);
      for (let i = 0; i < 50 && n !== 2; i++) {
        await sleep(20);
        n = await count(twin.server);
      }
      expect(n, twin.name).toBe(2);
    }
  });
});
