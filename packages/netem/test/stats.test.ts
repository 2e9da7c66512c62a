import { afterEach, describe, expect, it } from 'vitest';

import { connect, echoServer, pattern, Reader, Resources, sleep } from './helpers.js';

const res = new Resources();
afterEach(() => res.release());

describe('stats', () => {
  it('counts connections, handshakes and bytes exactly, per link and per connection', async () => {
    const serverPort = await echoServer(res);
    const link = await res.link({ rtt: 10, bandwidth: 5e6 });
    const { port } = await link.forward({ port: serverPort });
    const sizes = [1000, 20_000, 1];
    for (const size of sizes) {
      const reader = new Reader(connect(res, port));
      reader.socket.end(pattern(size));
      await reader.closed();
    }
    await sleep(10);
    const stats = link.stats();
    expect(stats.connections).toEqual({ opened: 3, open: 0, closed: 3 });
    expect(stats.handshakes).toBe(3);
    expect(stats.bytes).toEqual({ upstream: 21_001, downstream: 21_001 });
    expect(stats.perConnection.map((c) => [c.id, c.state, c.end, c.upstream.received, c.upstream.delivered, c.downstream.delivered])).toEqual([
      [1, 'closed', 'fin', 1000, 1000, 1000],
      [2, 'closed', 'fin', 20_000, 20_000, 20_000],
      [3, 'closed', 'fin', 1, 1, 1],
    ]);
    const first = stats.perConnection[0];
    expect(first?.listenPort).toBe(port);
    expect(first?.target).toEqual({ host: '127.0.0.1', port: serverPort });
    expect(first?.establishedAt).toBe((first?.openedAt ?? 0) + 10);
    // First byte at the server: 1.5 RTT after the connection opened (model time).
    expect((first?.upstream.firstByteAt ?? 0) - (first?.openedAt ?? 0)).toBeGreaterThanOrEqual(15);
    expect((first?.closedAt ?? 0) > (first?.openedAt ?? 0)).toBe(true);
  });

  it("each connection's emulated handshake is in its stats, found by the client socket's port", async () => {
    const serverPort = await echoServer(res);
    const link = await res.link({ rtt: 40 });
    const { port } = await link.forward({ port: serverPort });
    const before = performance.now();
    const readers = [new Reader(connect(res, port)), new Reader(connect(res, port))];
    await Promise.all(readers.map((r) => new Promise((resolve) => r.socket.once('connect', resolve))));
    const ports = readers.map((r) => r.socket.localPort);
    for (const r of readers) r.socket.end(pattern(100));
    await Promise.all(readers.map((r) => r.closed()));
    const stats = link.stats().perConnection;
    for (const clientPort of ports) {
      const mine = stats.filter((c) => c.clientPort === clientPort);
      expect(mine).toHaveLength(1);
      const c = mine[0]!;
      // The handshake: one RTT from the accept, which came after the client's connect() call.
      expect(c.establishedAt - c.openedAt).toBe(40);
      expect(c.openedAt).toBeGreaterThanOrEqual(before);
      // The bytes written before it ended waited for it: first byte at the server rtt/2 later.
      expect(c.upstream.firstByteAt).toBeGreaterThanOrEqual(c.establishedAt + 20 - 1);
    }
  });

  it('40 parallel connections on a shared, slow link all complete, and every byte is counted', async () => {
    const serverPort = await echoServer(res);
    const link = await res.link({ rtt: 10, bandwidth: 4e6, initialWindow: 2920 });
    const { port } = await link.forward({ port: serverPort });
    const readers = Array.from({ length: 40 }, (_, i) => {
      const reader = new Reader(connect(res, port));
      reader.socket.end(pattern(1000 * (i + 1)));
      return reader;
    });
    await Promise.all(readers.map((r) => r.closed(4000)));
    readers.forEach((r, i) => {
      expect(r.error).toBeUndefined();
      expect(r.data().equals(pattern(1000 * (i + 1)))).toBe(true);
    });
    await sleep(10);
    const total = (40 * 41 * 1000) / 2;
    const stats = link.stats();
    expect(stats.bytes).toEqual({ upstream: total, downstream: total });
    expect(stats.connections).toEqual({ opened: 40, open: 0, closed: 40 });
    expect(stats.handshakes).toBe(40);
    expect(new Set(stats.perConnection.map((c) => c.end))).toEqual(new Set(['fin']));
  });

  it('shows open connections live', async () => {
    const serverPort = await echoServer(res);
    const link = await res.link({});
    const { port } = await link.forward({ port: serverPort });
    const reader = new Reader(connect(res, port));
    reader.socket.write('hello');
    await reader.bytes(5);
    const stats = link.stats();
    expect(stats.connections).toEqual({ opened: 1, open: 1, closed: 0 });
    expect(stats.perConnection[0]).toMatchObject({ state: 'open', end: undefined, closedAt: undefined });
    expect(stats.bytes).toEqual({ upstream: 5, downstream: 5 });
  });
});
