import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { slowStartRounds } from '../src/congestion-window.js';
import { connect, measureTimings, pattern, Reader, Resources, sleep, startServer } from './helpers.js';
import type { Read } from './helpers.js';

const res = new Resources();
afterEach(() => res.release());

const RTT = 100;
const IW = 10 * 1460;
const SIZE = 200_000;

/** A server that answers every line with SIZE bytes. */
function bulkServer(): Promise<number> {
  return startServer(res, (socket: net.Socket) => {
    socket.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 0x0a) socket.write(pattern(SIZE));
    });
    socket.on('end', () => socket.end());
  });
}

/** Group reads into bursts separated by gaps of more than `gap` ms; [start time, bytes] each. */
function bursts(reads: readonly Read[], gap: number): [number, number][] {
  const out: [number, number][] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (const r of reads) {
    const current = out.at(-1);
    if (current !== undefined && r.at - last <= gap) current[1] += r.bytes;
    else out.push([r.at, r.bytes]);
    last = r.at;
  }
  return out;
}

// Each attempt opens its own link; a late attempt (loaded machine) is repeated up to 3 times.
describe('slow start', { timeout: 10_000 }, () => {
  it('a fresh connection delivers 200 kB in IW, 2·IW, 4·IW, … per RTT', async () => {
    expect(slowStartRounds(SIZE, IW)).toBe(4); // 14 600 + 29 200 + 58 400 + 116 800 ≥ 200 000
    const rounds = [IW, 2 * IW, 4 * IW, SIZE - 7 * IW];
    let groups: [number, number][] = [];
    let cwnd = 0;
    await measureTimings(
      async () => {
        const link = await res.link({ rtt: RTT, initialWindow: IW });
        const { port } = await link.forward({ port: await bulkServer() });
        const start = performance.now();
        const client = connect(res, port);
        const reader = new Reader(client);
        client.write('\n');
        await reader.bytes(SIZE, 4000);
        // The last round's acks return rtt/2 after its delivery; then the window is IW + every byte acked.
        await sleep(RTT / 2 + 20);
        cwnd = link.stats().perConnection[0]?.downstream.cwnd ?? 0;
        groups = bursts(reader.reads, RTT / 3);
        console.log(`  bursts: ${groups.map(([t, n]) => `${n} B @ ${(t - start).toFixed(1)} ms`).join(', ')}`);
        // The request reaches the server at 1.5 RTT; round k arrives at (1.5 + (k − 1) + 0.5) RTT = (k + 1) RTT.
        return groups.map(([t], k) => ({ what: `round ${k + 1}`, measured: t - start, expected: (k + 2) * RTT }));
      },
      () => groups.length === rounds.length,
    );
    expect(groups.map(([, n]) => n)).toEqual(rounds);
    expect(cwnd).toBe(IW + SIZE);
  });

  it('a warm connection keeps its window: the second 200 kB takes one RTT', async () => {
    await measureTimings(async () => {
      const link = await res.link({ rtt: RTT, initialWindow: IW });
      const { port } = await link.forward({ port: await bulkServer() });
      const client = connect(res, port);
      const reader = new Reader(client);
      client.write('\n');
      await reader.bytes(SIZE, 4000);
      const start = performance.now();
      client.write('\n');
      const end = await reader.bytes(2 * SIZE, 4000);
      return [{ what: '200 kB again on the warm connection', measured: end - start, expected: RTT }];
    });
  });

  it('with slowStartAfterIdle, the window restarts after an idle period longer than the RTO', async () => {
    let restarts = 0;
    await measureTimings(async () => {
      const link = await res.link({ rtt: RTT, initialWindow: IW, slowStartAfterIdle: true });
      expect(link.options.rto).toBe(RTT + 200);
      const { port } = await link.forward({ port: await bulkServer() });
      const client = connect(res, port);
      const reader = new Reader(client);
      client.write('\n');
      await reader.bytes(SIZE, 4000);
      await sleep(link.options.rto + 50); // idle longer than one RTO since the server's last send
      const start = performance.now();
      client.write('\n');
      const end = await reader.bytes(2 * SIZE, 4000);
      restarts = link.stats().perConnection[0]?.downstream.windowRestarts ?? 0;
      // Half an RTT up, four rounds (three RTTs between them), half an RTT down.
      return [{ what: '200 kB after 350 ms idle', measured: end - start, expected: 4 * RTT }];
    });
    expect(restarts).toBe(1);
  });

  it('initialWindow Infinity: no slow start, 200 kB in one round', async () => {
    await measureTimings(async () => {
      const link = await res.link({ rtt: RTT, initialWindow: Number.POSITIVE_INFINITY });
      const { port } = await link.forward({ port: await bulkServer() });
      const start = performance.now();
      const client = connect(res, port);
      const reader = new Reader(client);
      client.write('\n');
      const end = await reader.bytes(SIZE, 4000);
      return [{ what: '200 kB, new connection, no slow start', measured: end - start, expected: 2 * RTT }];
    });
  });
});
