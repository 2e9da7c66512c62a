import http from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { measureTimings, Resources } from './helpers.js';

const res = new Resources();
afterEach(() => res.release());

/** A node:http server answering every request with `size` bytes. */
async function httpServer(size: number): Promise<number> {
  const server = http.createServer((_req, reply) => {
    reply.setHeader('content-length', size);
    reply.end(Buffer.alloc(size, 0x61));
  });
  server.keepAliveTimeout = 5000;
  res.server(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** GET `/` and resolve with the ms it took and the bytes of the body. */
function get(port: number, agent: http.Agent | false): Promise<{ ms: number; bytes: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () => resolve({ ms: performance.now() - start, bytes }));
    });
    req.on('error', reject);
  });
}

/** One request straight to the server, so that the measured ones do not pay node:http's one-time warm-up. */
async function warmUp(serverPort: number): Promise<void> {
  await get(serverPort, false);
}

describe('node:http through a link', { timeout: 10_000 }, () => {
  it('keep-alive: the first request pays the handshake (2 RTT), the second does not (1 RTT)', async () => {
    const rtt = 50;
    const serverPort = await httpServer(1000);
    await warmUp(serverPort);
    const link = await res.link({ rtt });
    const { port } = await link.forward({ port: serverPort });
    await measureTimings(async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const before = link.stats();
      try {
        const first = await get(port, agent);
        const second = await get(port, agent);
        expect([first.bytes, second.bytes]).toEqual([1000, 1000]);
        const after = link.stats();
        expect(after.connections.opened - before.connections.opened).toBe(1);
        expect(after.handshakes - before.handshakes).toBe(1);
        return [
          { what: 'first request (new connection)', measured: first.ms, expected: 2 * rtt },
          { what: 'second request (reused)', measured: second.ms, expected: rtt },
        ];
      } finally {
        agent.destroy();
      }
    });
  });

  it('a new connection per request: every request pays the handshake', async () => {
    const rtt = 50;
    const serverPort = await httpServer(1000);
    await warmUp(serverPort);
    const link = await res.link({ rtt });
    const { port } = await link.forward({ port: serverPort });
    await measureTimings(async () => {
      const before = link.stats();
      const timings = [
        { what: 'request 1', measured: (await get(port, false)).ms, expected: 2 * rtt },
        { what: 'request 2', measured: (await get(port, false)).ms, expected: 2 * rtt },
      ];
      const after = link.stats();
      expect(after.connections.opened - before.connections.opened).toBe(2);
      expect(after.handshakes - before.handshakes).toBe(2);
      return timings;
    });
  });
});
