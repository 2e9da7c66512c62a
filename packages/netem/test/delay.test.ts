import { afterEach, describe, expect, it } from 'vitest';

import { connect, echoServer, measureTimings, median, Reader, Resources, startServer, tolerance } from './helpers.js';

const res = new Resources();
afterEach(() => res.release());

describe('delay', () => {
  it('a new connection delivers its first byte to the server 1.5 RTT after connect', async () => {
    const rtt = 100;
    let onFirst: (t: number) => void = () => undefined;
    const serverPort = await startServer(res, (socket) => {
      socket.once('data', () => onFirst(performance.now()));
    });
    const link = await res.link({ rtt });
    const { port } = await link.forward({ port: serverPort });
    await measureTimings(async () => {
      const samples: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const first = new Promise<number>((resolve) => (onFirst = resolve));
        const start = performance.now();
        const client = connect(res, port);
        client.write('x');
        samples.push((await first) - start);
        client.destroy();
      }
      for (const s of samples) expect(s).toBeGreaterThanOrEqual(tolerance(1.5 * rtt).min);
      return [{ what: `first byte at the server (median of ${samples.map((s) => s.toFixed(1)).join(', ')})`, measured: median(samples), expected: 1.5 * rtt }];
    });
  });

  it('a request/response exchange takes 2 RTT on a new connection, then one RTT', async () => {
    const rtt = 60;
    const serverPort = await echoServer(res);
    const link = await res.link({ rtt });
    const { port } = await link.forward({ port: serverPort });
    await measureTimings(async () => {
      const client = connect(res, port);
      const reader = new Reader(client);
      const samples: number[] = [];
      let sent = 0;
      for (let i = 0; i < 6; i += 1) {
        const start = performance.now();
        client.write(`ping ${i}\n`);
        sent += `ping ${i}\n`.length;
        samples.push((await reader.bytes(sent)) - start);
      }
      client.destroy();
      const rest = samples.slice(1);
      for (const s of rest) expect(s).toBeGreaterThanOrEqual(tolerance(rtt).min);
      return [
        // The first exchange pays the handshake too: 1.5 RTT to the server, 0.5 RTT back.
        { what: 'first exchange', measured: samples[0] ?? Number.NaN, expected: 2 * rtt },
        { what: `later exchanges (median of ${rest.map((s) => s.toFixed(1)).join(', ')})`, measured: median(rest), expected: rtt },
      ];
    });
  });
});
