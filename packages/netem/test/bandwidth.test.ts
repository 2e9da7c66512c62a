import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { connect, measureTimings, pattern, Reader, Resources, startServer } from './helpers.js';

const res = new Resources();
afterEach(() => res.release());

/** A server that answers a line `N\n` with N bytes. */
function sizedServer(): Promise<number> {
  return startServer(res, (socket: net.Socket) => {
    let line = '';
    socket.on('data', (chunk: Buffer) => {
      line += chunk.toString('latin1');
      const nl = line.indexOf('\n');
      if (nl < 0) return;
      const n = Number(line.slice(0, nl));
      line = line.slice(nl + 1);
      socket.write(pattern(n));
    });
    socket.on('end', () => socket.end());
  });
}

/** Open a connection and pay its handshake (one 1-byte exchange), so that it is ready to time. */
async function warmConnection(port: number): Promise<{ client: net.Socket; reader: Reader }> {
  const client = connect(res, port);
  const reader = new Reader(client);
  client.write('1\n');
  await reader.bytes(1);
  return { client, reader };
}

describe('bandwidth', () => {
  it('1 MB at 2 MB/s takes 0.5 s plus one RTT', async () => {
    const rtt = 20;
    const link = await res.link({ rtt, bandwidth: 2e6, initialWindow: Number.POSITIVE_INFINITY });
    const { port } = await link.forward({ port: await sizedServer() });
    await measureTimings(async () => {
      const { client, reader } = await warmConnection(port);
      const start = performance.now();
      client.write('1000000\n');
      const end = await reader.bytes(1 + 1e6, 4000);
      expect(reader.data().subarray(1).equals(pattern(1e6))).toBe(true);
      client.destroy();
      return [{ what: '1 MB at 2 MB/s', measured: end - start, expected: 500 + rtt }];
    });
  });

  it('two parallel connections share the link: each gets half, together the whole', async () => {
    const rtt = 20;
    const link = await res.link({ rtt, bandwidth: 2e6, initialWindow: Number.POSITIVE_INFINITY });
    const { port } = await link.forward({ port: await sizedServer() });
    await measureTimings(async () => {
      const a = await warmConnection(port);
      const b = await warmConnection(port);
      const start = performance.now();
      a.client.write('500000\n');
      b.client.write('500000\n');
      const [endA, endB] = await Promise.all([a.reader.bytes(500_001, 4000), b.reader.bytes(500_001, 4000)]);
      a.client.destroy();
      b.client.destroy();
      // Together 1 MB at 2 MB/s: 500 ms (+ rtt). Shared fairly, both finish then (FIFO would finish one at 250 ms).
      return [
        { what: 'connection A, 500 kB of 2 × 500 kB', measured: endA - start, expected: 500 + rtt },
        { what: 'connection B', measured: endB - start, expected: 500 + rtt },
      ];
    });
  });

  it('connections of different forwards share the same link', async () => {
    const rtt = 20;
    const link = await res.link({ rtt, bandwidth: 2e6, initialWindow: Number.POSITIVE_INFINITY });
    const one = await link.forward({ port: await sizedServer() });
    const two = await link.forward({ port: await sizedServer() });
    await measureTimings(async () => {
      const a = await warmConnection(one.port);
      const b = await warmConnection(two.port);
      const start = performance.now();
      a.client.write('300000\n');
      b.client.write('300000\n');
      const [endA, endB] = await Promise.all([a.reader.bytes(300_001, 4000), b.reader.bytes(300_001, 4000)]);
      a.client.destroy();
      b.client.destroy();
      return [
        { what: 'forward 1, 300 kB of 2 × 300 kB', measured: endA - start, expected: 300 + rtt },
        { what: 'forward 2', measured: endB - start, expected: 300 + rtt },
      ];
    });
  });

  it('each direction has its own bandwidth (asymmetric link)', async () => {
    const rtt = 10;
    const link = await res.link({ rtt, bandwidth: { upstream: 1e6, downstream: Number.POSITIVE_INFINITY }, initialWindow: Number.POSITIVE_INFINITY });
    // The server answers with one byte once it has the whole 200 kB upload.
    const serverPort = await startServer(res, (socket) => {
      let got = 0;
      socket.on('data', (chunk: Buffer) => {
        got += chunk.length;
        if (got === 200_000) socket.write('k');
      });
    });
    const { port } = await link.forward({ port: serverPort });
    await measureTimings(async () => {
      const client = connect(res, port);
      const reader = new Reader(client);
      const start = performance.now();
      client.write(pattern(200_000));
      const end = await reader.bytes(1, 4000);
      client.destroy();
      // Handshake, 200 kB at 1 MB/s, then half an RTT to the server and half back.
      return [{ what: '200 kB upload at 1 MB/s, new connection', measured: end - start, expected: rtt + 200 + rtt }];
    });
  });
});
