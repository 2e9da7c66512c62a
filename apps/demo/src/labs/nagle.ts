/**
 * Theory of operation: the Nagle + delayed-ACK stall on real loopback sockets. A tether server
 * answers small POSTs on one keep-alive connection. A bare client (http-wire.ts) writes each
 * request as a head and then a 16-byte body in a second write:
 *
 *   client                         server
 *   head ─────────────────────────▶            (sent: nothing unacknowledged before it)
 *   body … held by Nagle: a small segment waits while data is unacknowledged
 *                                  ◀── ACK     delayed (~40 ms on Linux): nothing to piggyback on
 *   body ─────────────────────────▶
 *                                  ◀── response
 *
 * The same exchange runs with Nagle on, with TCP_NODELAY, and through @tether/client with Nagle on
 * (it writes head and body in one write, so Nagle never holds anything back). Requests are
 * sequential: each latency is one whole exchange. Counts and a deadline bound the lab.
 */

import { Pool } from '@tether/client';
import { createServer } from '@tether/server';

import { LOOPBACK, WireClient } from './http-wire.js';
import type { LabDefinition, LabOptions, LabResult } from './lab.js';
import { noLog } from './lab.js';
import { Deadline, Scope } from './scope.js';
import { formatMs, summarize } from './stats.js';
import type { Summary } from './stats.js';

/** The nagle lab's title. */
export const NAGLE_TITLE = 'Nagle + delayed ACK vs TCP_NODELAY';

/** The figures of the nagle lab. */
export interface NagleData {
  /** Nagle on, head and body in two writes. */
  readonly nagle: Summary;
  /** TCP_NODELAY, head and body in two writes. */
  readonly noDelay: Summary;
  /** Nagle on, head and body in one write (@tether/client with `noDelay: false`). */
  readonly oneWrite: Summary;
  /** Median with Nagle on over median with TCP_NODELAY. */
  readonly slowdown: number;
}

/** Requests per variant (the 200); quick mode takes 20, enough for a stable median. */
const REQUESTS = 200;
const QUICK_REQUESTS = 20;
/** The whole lab stops sending after this long: 3 × 200 requests, one stalled set at ~40 ms each ≈ 9 s. */
const LAB_DEADLINE_MS = 18_000;
/** One exchange: far above a 40 ms stall, low enough that a lost response does not hang the lab. */
const REQUEST_TIMEOUT_MS = 2_000;
/** A body smaller than any MSS: exactly the "small segment" Nagle holds back. */
const BODY = new TextEncoder().encode('tether nagle lab');
/** Medians that tell a stall (≥ half the 40 ms delayed-ACK timer) from none (< 10 ms). */
const STALL_MS = 20;
const NO_STALL_MS = 10;

/** Time `count` sequential POSTs over one bare connection, head and body in two writes. */
async function twoWrites(port: number, noDelay: boolean, count: number, deadline: Deadline, scope: Scope): Promise<number[]> {
  const client = await WireClient.connect({ port, noDelay, timeout: REQUEST_TIMEOUT_MS });
  scope.socket(client.socket);
  // Node applies `noDelay` at connect; set it again so the variant never depends on defaults.
  client.socket.setNoDelay(noDelay);
  const headers = { host: `${LOOPBACK}:${port}`, 'content-type': 'text/plain' };
  const times: number[] = [];
  for (let i = 0; i < count && !deadline.expired; i++) {
    const start = performance.now();
    await client.request({ method: 'POST', target: '/echo', headers, body: BODY }, { split: true, timeout: REQUEST_TIMEOUT_MS });
    times.push(performance.now() - start);
  }
  client.destroy();
  return times;
}

/** Time `count` sequential POSTs through @tether/client with Nagle on (one write per request). */
async function oneWrite(port: number, count: number, deadline: Deadline, scope: Scope): Promise<number[]> {
  const pool = scope.pool(new Pool(`http://${LOOPBACK}:${port}`, { connections: 1, noDelay: false, headersTimeout: REQUEST_TIMEOUT_MS }));
  const times: number[] = [];
  for (let i = 0; i < count && !deadline.expired; i++) {
    const start = performance.now();
    const res = await pool.request({ method: 'POST', path: '/echo', headers: { 'content-type': 'text/plain' }, body: BODY });
    await res.text();
    times.push(performance.now() - start);
  }
  await pool.close();
  return times;
}

function line(s: Summary): string {
  return `median ${formatMs(s.median)} · p90 ${formatMs(s.p90)} (${s.count} requests)`;
}

/** Run the nagle lab. */
export async function runNagle(options: LabOptions = {}): Promise<LabResult<NagleData>> {
  const log = options.log ?? noLog;
  const count = options.quick === true ? QUICK_REQUESTS : REQUESTS;
  const deadline = new Deadline(LAB_DEADLINE_MS);
  const scope = new Scope();
  try {
    const server = scope.server(
      createServer({ keepAliveTimeout: 0 }, async (req, res) => {
        const body = await req.text();
        res.setHeader('content-type', 'text/plain');
        res.end(`got ${body.length} bytes`);
      }),
    );
    const { port } = await server.listen({ port: 0, host: LOOPBACK });
    log(`server on ${LOOPBACK}:${port}; ${count} requests per variant`);
    const nagle = summarize(await twoWrites(port, false, count, deadline, scope));
    log(`Nagle on: median ${formatMs(nagle.median)}`);
    const noDelay = summarize(await twoWrites(port, true, count, deadline, scope));
    log(`TCP_NODELAY: median ${formatMs(noDelay.median)}`);
    const single = summarize(await oneWrite(port, count, deadline, scope));
    log(`one write: median ${formatMs(single.median)}`);
    const slowdown = nagle.median / noDelay.median;
    return {
      name: 'nagle',
      title: NAGLE_TITLE,
      measured: [
        { label: 'Nagle on, head + body in 2 writes', value: line(nagle), raw: nagle.median },
        { label: 'TCP_NODELAY, head + body in 2 writes', value: line(noDelay), raw: noDelay.median },
        { label: 'Nagle on, one write (@tether/client)', value: line(single), raw: single.median },
        { label: 'slowdown from the stall', value: `${slowdown.toFixed(0)}× (median Nagle on / TCP_NODELAY)`, raw: slowdown },
      ],
      explanation: [
        'With Nagle on, the small body write waits for the ACK of the head, and the server delays that ACK (~40 ms on Linux) because it has nothing to send before the body arrives.',
        'TCP_NODELAY sends the body at once, and so does one write for head and body (as tether\'s client does): Nagle only hurts write-write-read exchanges.',
      ],
      ok: nagle.median >= STALL_MS && noDelay.median < NO_STALL_MS,
      data: { nagle, noDelay, oneWrite: single, slowdown },
    };
  } finally {
    await scope.close();
  }
}

/** The nagle lab: Nagle's algorithm meets delayed ACK on a request written in two pieces. */
export const nagleLab: LabDefinition<NagleData> = {
  name: 'nagle',
  title: NAGLE_TITLE,
  shows: 'a request written in two pieces stalls on delayed ACK',
  run: runNagle,
  headline: (d) => ({
    measured: `median ${formatMs(d.nagle.median)} Nagle on, ${formatMs(d.noDelay.median)} TCP_NODELAY`,
    expected: `≥ ${STALL_MS} ms Nagle on (~40 ms ACK delay), < ${NO_STALL_MS} ms TCP_NODELAY`,
  }),
};
