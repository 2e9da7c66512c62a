import { afterEach, describe, expect, it } from 'vitest';

import { connect, echoServer, measureTimings, pattern, Reader, Resources, sleep, startServer } from './helpers.js';

const res = new Resources();
afterEach(() => res.release());

/** A server that writes `n` bytes as soon as a client connects, and records how its socket ends. */
async function pushServer(n: number): Promise<{ port: number; ends: string[] }> {
  const ends: string[] = [];
  const port = await startServer(res, (socket) => {
    socket.write(pattern(n));
    socket.on('end', () => ends.push('end'));
    socket.on('error', (err: Error & { code?: string }) => ends.push(err.code ?? 'error'));
  });
  return { port, ends };
}

describe('toxics', () => {
  it('reset-after N: the client gets N bytes, then ECONNRESET; the server is reset too', async () => {
    const { port: serverPort, ends } = await pushServer(100_000);
    const link = await res.link({ rtt: 20, toxics: [{ kind: 'reset-after', bytes: 10_000 }] });
    const { port } = await link.forward({ port: serverPort });
    const reader = new Reader(connect(res, port));
    await reader.closed();
    console.log(`reset-after 10000: client read ${reader.total} bytes, then ${reader.error?.code}`);
    expect(reader.error?.code).toBe('ECONNRESET');
    expect(reader.total).toBe(10_000);
    expect(reader.data().equals(pattern(10_000))).toBe(true);
    await sleep(20);
    expect(ends).toContain('ECONNRESET');
    expect(link.stats().perConnection[0]?.end).toBe('toxic-reset');
    expect(link.stats().perConnection[0]?.downstream.delivered).toBe(10_000);
  });

  it('close-after N: the client gets exactly N bytes, then a FIN; so does the server', async () => {
    const { port: serverPort, ends } = await pushServer(100_000);
    const link = await res.link({ rtt: 20 });
    const { port } = await link.forward({ port: serverPort }, { toxics: [{ kind: 'close-after', bytes: 12_345 }] });
    const reader = new Reader(connect(res, port));
    await reader.closed();
    expect(reader.error).toBeUndefined();
    expect(reader.endedAt).toBeDefined();
    expect(reader.total).toBe(12_345);
    expect(reader.data().equals(pattern(12_345))).toBe(true);
    await sleep(20);
    expect(ends).toEqual(['end']);
    expect(link.stats().perConnection[0]?.end).toBe('toxic-close');
  });

  it('close-after upstream: the server gets exactly N bytes of the request, then a FIN', async () => {
    const received: Buffer[] = [];
    let serverEnded!: () => void;
    const ended = new Promise<void>((resolve) => (serverEnded = resolve));
    const serverPort = await startServer(res, (socket) => {
      socket.on('data', (c: Buffer) => received.push(c));
      socket.on('end', () => serverEnded());
    });
    const link = await res.link({ toxics: [{ kind: 'close-after', bytes: 7, direction: 'upstream' }] });
    const { port } = await link.forward({ port: serverPort });
    const reader = new Reader(connect(res, port));
    reader.socket.write('GET / HTTP/1.1\r\n\r\n');
    await ended;
    expect(Buffer.concat(received).toString()).toBe('GET / H');
    await reader.closed();
    expect(reader.error).toBeUndefined();
  });

  it('slice: the receiver sees many small reads, and every byte in order', async () => {
    const serverPort = await echoServer(res);
    const link = await res.link({ toxics: [{ kind: 'slice', size: 10, delayMs: 2 }] });
    const { port } = await link.forward({ port: serverPort });
    const reader = new Reader(connect(res, port));
    reader.socket.write(pattern(200));
    await reader.bytes(200);
    console.log(`slice 10 bytes / 2 ms: 200 bytes in ${reader.reads.length} reads`);
    expect(Math.max(...reader.reads.map((r) => r.bytes))).toBeLessThanOrEqual(10);
    expect(reader.reads.length).toBeGreaterThanOrEqual(10); // 20 writes; a late timer may merge a few
    expect(reader.data().equals(pattern(200))).toBe(true);
  });

  it('stall: no bytes for the stall period after afterBytes', async () => {
    const rtt = 10;
    const { port: serverPort } = await pushServer(3000);
    const link = await res.link({ rtt, toxics: [{ kind: 'stall', afterBytes: 1000, ms: 300 }] });
    const { port } = await link.forward({ port: serverPort });
    await measureTimings(async () => {
      const start = performance.now();
      const reader = new Reader(connect(res, port));
      const first = await reader.bytes(1000);
      expect(reader.total).toBe(1000);
      const rest = await reader.bytes(3000);
      reader.socket.destroy();
      // The server writes on accept: its bytes may leave at 1.5 RTT and arrive at 2 RTT; the
      // stall holds the rest for 300 ms of model time from then.
      return [
        { what: 'first 1000 bytes', measured: first - start, expected: 2 * rtt },
        { what: `the rest (observed gap ${(rest - first).toFixed(1)} ms)`, measured: rest - start, expected: 2 * rtt + 300 },
      ];
    });
  });

  it('an endless stall delivers nothing until the link closes', async () => {
    const { port: serverPort } = await pushServer(1000);
    const link = await res.link({ toxics: [{ kind: 'stall' }] });
    const { port } = await link.forward({ port: serverPort });
    const reader = new Reader(connect(res, port));
    await sleep(150);
    expect(reader.total).toBe(0);
    await link.close();
    await reader.closed();
    expect(reader.total).toBe(0);
  });

  it('times: a toxic applies to the next N connections only; addToxic returns a remover', async () => {
    const serverPort = await echoServer(res);
    const link = await res.link({});
    const forward = await link.forward({ port: serverPort });
    forward.addToxic({ kind: 'reset-after', bytes: 0, times: 1 });
    const remove = link.addToxic({ kind: 'close-after', bytes: 2 });
    const results: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      if (i === 2) remove();
      const reader = new Reader(connect(res, forward.port));
      reader.socket.write('abc');
      await reader.until('3 bytes or close', () => reader.total >= 3 || reader.closedAt !== undefined);
      results.push(`${reader.data().toString()}:${reader.error?.code ?? (reader.endedAt === undefined ? 'open' : 'fin')}`);
      reader.socket.destroy();
    }
    expect(results).toEqual([':ECONNRESET', 'ab:fin', 'abc:open']);
    expect(link.toxics).toEqual([]);
  });
});
