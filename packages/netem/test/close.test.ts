import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { NetemError } from '../src/index.js';
import { connect, measureTimings, Reader, Resources, sleep, startServer, tolerance } from './helpers.js';

const res = new Resources();
afterEach(() => res.release());

describe('half-close and close', () => {
  it("a client's FIN reaches the server after its data and the delay; the server can still answer", async () => {
    const rtt = 60;
    let onServerEnd: (body: string) => void = () => undefined;
    const serverPort = await startServer(res, (socket) => {
      let body = '';
      socket.on('data', (c: Buffer) => (body += c.toString()));
      socket.on('end', () => {
        onServerEnd(body);
        socket.end(`got ${body}`);
      });
    });
    const link = await res.link({ rtt });
    const { port } = await link.forward({ port: serverPort });
    await measureTimings(async () => {
      const serverEnd = new Promise<{ at: number; body: string }>((resolve) => (onServerEnd = (body) => resolve({ at: performance.now(), body })));
      const start = performance.now();
      const client = connect(res, port);
      const reader = new Reader(client);
      client.end('question');
      await reader.closed();
      const { at, body } = await serverEnd;
      expect(body).toBe('question');
      expect(reader.data().toString()).toBe('got question');
      expect(reader.error).toBeUndefined();
      return [
        // The FIN comes with the data, 1.5 RTT after connect; the answer and its FIN 0.5 RTT later.
        { what: "client's FIN at the server", measured: at - start, expected: 1.5 * rtt },
        { what: "server's answer and FIN at the client", measured: (reader.endedAt ?? Number.NaN) - start, expected: 2 * rtt },
      ];
    });
    await sleep(10);
    const stats = link.stats();
    expect(stats.perConnection.map((c) => c.end)).toEqual(stats.perConnection.map(() => 'fin'));
    expect(stats.connections.open).toBe(0);
  });

  it("a server's FIN after its data: the client reads everything, then 'end'", async () => {
    const serverPort = await startServer(res, (socket) => socket.end('bye'));
    const link = await res.link({ rtt: 20 });
    const { port } = await link.forward({ port: serverPort });
    const reader = new Reader(connect(res, port));
    await reader.closed();
    expect(reader.data().toString()).toBe('bye');
    expect(reader.endedAt).toBeDefined();
    expect(reader.error).toBeUndefined();
  });

  it('a server reset reaches the client as ECONNRESET after the delay', async () => {
    const rtt = 40;
    const serverPort = await startServer(res, (socket) => socket.on('data', () => socket.resetAndDestroy()));
    const link = await res.link({ rtt });
    const { port } = await link.forward({ port: serverPort });
    const start = performance.now();
    const reader = new Reader(connect(res, port));
    reader.socket.write('x');
    const closedAt = await reader.closed();
    expect(reader.error?.code).toBe('ECONNRESET');
    expect(closedAt - start).toBeGreaterThanOrEqual(tolerance(2 * rtt).min);
    expect(link.stats().perConnection[0]?.end).toBe('reset');
  });

  it('a client reset reaches the server as ECONNRESET', async () => {
    let serverError!: (code: string) => void;
    const errored = new Promise<string>((resolve) => (serverError = resolve));
    const serverPort = await startServer(res, (socket) => {
      socket.on('error', (err: Error & { code?: string }) => serverError(err.code ?? ''));
      socket.on('close', () => serverError('close'));
    });
    const link = await res.link({ rtt: 20 });
    const { port } = await link.forward({ port: serverPort });
    const client = connect(res, port);
    client.write('x');
    await sleep(50);
    client.resetAndDestroy();
    expect(await errored).toBe('ECONNRESET');
  });

  it('a refused target: the client is reset, no handshake is counted', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const deadPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const rtt = 40;
    const link = await res.link({ rtt });
    const { port } = await link.forward({ port: deadPort });
    const start = performance.now();
    const reader = new Reader(connect(res, port));
    const closedAt = await reader.closed();
    expect(reader.error?.code).toBe('ECONNRESET');
    expect(closedAt - start).toBeGreaterThanOrEqual(tolerance(rtt).min); // the RST answering the SYN
    const stats = link.stats();
    expect(stats.handshakes).toBe(0);
    expect(stats.connections.opened).toBe(1);
    expect(stats.perConnection[0]?.end).toBe('connect-failed');
  });

  it('link.close() stops listening and destroys relayed connections; it resolves when all are gone', async () => {
    const serverPort = await startServer(res, () => undefined);
    const link = await res.link({ rtt: 20 });
    const { port } = await link.forward({ port: serverPort });
    const readers = [new Reader(connect(res, port)), new Reader(connect(res, port))];
    await sleep(30);
    expect(link.stats().connections.open).toBe(2);
    await link.close();
    expect(link.stats().connections).toEqual({ opened: 2, open: 0, closed: 2 });
    expect(link.stats().perConnection.map((c) => c.end)).toEqual(['closed', 'closed']);
    await Promise.all(readers.map((r) => r.closed()));
    const refused = new Reader(connect(res, port));
    await refused.closed();
    expect(refused.error?.code).toBe('ECONNREFUSED');
    await expect(link.forward({ port: serverPort })).rejects.toThrow(NetemError);
    expect(() => link.addToxic({ kind: 'slice', size: 1 })).toThrow(NetemError);
    await link.close(); // idempotent
  });

  it('forward.close() closes one forward and its connections; the link carries on', async () => {
    const serverPort = await startServer(res, (socket) => socket.on('data', (c: Buffer) => socket.write(c)));
    const link = await res.link({});
    const one = await link.forward({ port: serverPort });
    const two = await link.forward({ port: serverPort });
    const a = new Reader(connect(res, one.port));
    const b = new Reader(connect(res, two.port));
    a.socket.write('a');
    b.socket.write('b');
    await Promise.all([a.bytes(1), b.bytes(1)]);
    await one.close();
    await a.closed();
    b.socket.write('b');
    await b.bytes(2);
    expect(b.data().toString()).toBe('bb');
    expect(one.connections).toBe(0);
    expect(two.connections).toBe(1);
  });
});

describe('backpressure', () => {
  it('a client that does not read makes the relay stop reading the server (bounded buffering)', async () => {
    let written = 0;
    const serverPort = await startServer(res, (socket) => {
      // Write 64 kB chunks while the socket accepts them, up to 32 MB.
      const pump = (): void => {
        while (written < 32 * 1024 * 1024) {
          written += 65_536;
          if (!socket.write(Buffer.alloc(65_536))) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    const highWaterMark = 64 * 1024;
    const maxWindow = 64 * 1024;
    const link = await res.link({ highWaterMark, maxWindow, initialWindow: Number.POSITIVE_INFINITY });
    const { port } = await link.forward({ port: serverPort });
    const client = connect(res, port);
    client.pause(); // never reads
    await sleep(300);
    const down = link.stats().perConnection[0]?.downstream;
    expect(down).toBeDefined();
    if (down === undefined) return;
    // Held by the relay: unsent + in flight (≤ maxWindow) + one 64 kB read + the client socket's
    // unflushed writes (counted against the mark). The kernel buffers hold the rest.
    console.log(`backpressure: server wrote ${written}, relay read ${down.received}, delivered ${down.delivered}`);
    expect(down.received - down.delivered).toBeLessThanOrEqual(highWaterMark + maxWindow + 65_536);
    expect(written).toBeLessThan(32 * 1024 * 1024);
  });
});
