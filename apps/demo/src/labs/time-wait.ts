/**
 * Theory of operation: TIME_WAIT accumulation, counted in the kernel's own socket table. The side
 * that sends the first FIN keeps the connection's address pair in TIME_WAIT for 2×MSL (60 s on
 * Linux) so that stray segments of the old connection cannot be taken for a new one. Three
 * phases, each against its own tether server (so its own port, and counts that cannot mix):
 *
 *   client-first   N connections, one request each; @tether/client closes its pool first
 *   server-first   N connections; the server answers `Connection: close` (keepAliveMax 1) and
 *                  closes first
 *   persistent     N requests on one connection, then the client closes it
 *
 * After each phase the lab waits until no close is in progress on that port, then reads
 * /proc/net/tcp(6) and counts TIME_WAIT sockets by side: local port = the server's port → the
 * server holds it; remote port = the server's port → the client does. Without /proc the lab says
 * so and reports the connection counts it can still measure.
 */

import { Pool } from '@tether/client';
import { createServer } from '@tether/server';

import { LOOPBACK } from './http-wire.js';
import type { LabDefinition, LabOptions, LabResult, Measurement } from './lab.js';
import { noLog } from './lab.js';
import { Deadline, Scope } from './scope.js';
import { formatMs } from './stats.js';
import { settledTimeWait } from './tcp-table.js';
import type { TimeWaitCount } from './tcp-table.js';

/** The time-wait lab's title. */
export const TIME_WAIT_TITLE = 'TIME_WAIT: short connections vs one persistent connection';

/** One phase of the lab. */
export interface TimeWaitPhase {
  /** Requests answered. */
  readonly requests: number;
  /** TCP connections the client opened. */
  readonly connections: number;
  /** TIME_WAIT sockets of this phase's server port by side; `null` without /proc/net/tcp. */
  readonly timeWait: TimeWaitCount | null;
  readonly ms: number;
}

/** The figures of the time-wait lab. */
export interface TimeWaitData {
  readonly clientFirst: TimeWaitPhase;
  readonly serverFirst: TimeWaitPhase;
  readonly persistent: TimeWaitPhase;
  /** Whether /proc/net/tcp could be read. */
  readonly procAvailable: boolean;
}

/** Connections per short-connection phase (the 2000); quick mode 200. */
const CONNECTIONS = 2_000;
const QUICK_CONNECTIONS = 200;
/** Each phase stops opening connections after this long (2000 loopback exchanges take ~1–2 s). */
const PHASE_DEADLINE_MS = 15_000;
/** Most ms to wait for the last closes of a phase to reach TIME_WAIT (loopback FINs take µs). */
const SETTLE_TIMEOUT_MS = 2_000;
/** One exchange; far above a loopback round trip. */
const REQUEST_TIMEOUT_MS = 5_000;

/** A server answering `ok`, closed with the scope. */
async function startServer(scope: Scope, closeAfterEachResponse: boolean): Promise<number> {
  const server = scope.server(
    createServer({ keepAliveMax: closeAfterEachResponse ? 1 : 1_000_000, keepAliveTimeout: 0 }, (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end('ok');
    }),
  );
  return (await server.listen({ port: 0, host: LOOPBACK })).port;
}

function poolOptions(): { connections: number; headersTimeout: number; bodyTimeout: number } {
  return { connections: 1, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS };
}

/** N connections, one request each; the client closes each first (pool.close(): FIN from us). */
async function clientFirst(scope: Scope, count: number): Promise<TimeWaitPhase> {
  const port = await startServer(scope, false);
  const deadline = new Deadline(PHASE_DEADLINE_MS);
  const start = performance.now();
  let requests = 0;
  let connections = 0;
  for (let i = 0; i < count && !deadline.expired; i++) {
    const pool = scope.pool(new Pool(`http://${LOOPBACK}:${port}`, poolOptions()));
    await (await pool.request({ path: `/short/${i}` })).text();
    requests++;
    await pool.close();
    connections += pool.stats().connections.opened;
  }
  const ms = performance.now() - start;
  return { requests, connections, ms, timeWait: await settledTimeWait(port, SETTLE_TIMEOUT_MS) };
}

/** N connections, one request each; the server says `Connection: close` and closes first. */
async function serverFirst(scope: Scope, count: number): Promise<TimeWaitPhase> {
  const port = await startServer(scope, true);
  const deadline = new Deadline(PHASE_DEADLINE_MS);
  const pool = scope.pool(new Pool(`http://${LOOPBACK}:${port}`, poolOptions()));
  const start = performance.now();
  let requests = 0;
  for (let i = 0; i < count && !deadline.expired; i++) {
    await (await pool.request({ path: `/short/${i}` })).text();
    requests++;
  }
  const ms = performance.now() - start;
  await pool.close();
  const connections = pool.stats().connections.opened;
  return { requests, connections, ms, timeWait: await settledTimeWait(port, SETTLE_TIMEOUT_MS) };
}

/** N requests on one persistent connection, closed by the client at the end. */
async function persistent(scope: Scope, count: number): Promise<TimeWaitPhase> {
  const port = await startServer(scope, false);
  const deadline = new Deadline(PHASE_DEADLINE_MS);
  const pool = scope.pool(new Pool(`http://${LOOPBACK}:${port}`, poolOptions()));
  const start = performance.now();
  let requests = 0;
  for (let i = 0; i < count && !deadline.expired; i++) {
    await (await pool.request({ path: `/persistent/${i}` })).text();
    requests++;
  }
  const ms = performance.now() - start;
  await pool.close();
  const connections = pool.stats().connections.opened;
  return { requests, connections, ms, timeWait: await settledTimeWait(port, SETTLE_TIMEOUT_MS) };
}

function describePhase(name: string, phase: TimeWaitPhase): Measurement[] {
  const shape = `${phase.requests} requests on ${phase.connections} connection${phase.connections === 1 ? '' : 's'} in ${formatMs(phase.ms)}`;
  if (phase.timeWait === null) return [{ label: name, value: `${shape}; TIME_WAIT not visible (no /proc/net/tcp)`, raw: phase.connections }];
  const { client, server } = phase.timeWait;
  return [{ label: name, value: `${shape} → TIME_WAIT: client ${client}, server ${server}`, raw: client + server }];
}

/** Run the time-wait lab. */
export async function runTimeWait(options: LabOptions = {}): Promise<LabResult<TimeWaitData>> {
  const log = options.log ?? noLog;
  const count = options.quick === true ? QUICK_CONNECTIONS : CONNECTIONS;
  const scope = new Scope();
  try {
    log(`${count} short connections, client closes first`);
    const a = await clientFirst(scope, count);
    log(`${count} short connections, server closes first`);
    const b = await serverFirst(scope, count);
    log(`${count} requests on one persistent connection`);
    const c = await persistent(scope, count);
    const procAvailable = a.timeWait !== null;
    const ok =
      a.timeWait !== null &&
      b.timeWait !== null &&
      c.timeWait !== null &&
      // Each short connection leaves one TIME_WAIT, on the side that closed first…
      a.timeWait.client >= a.connections * 0.95 &&
      a.timeWait.server === 0 &&
      b.timeWait.server >= b.connections * 0.95 &&
      b.timeWait.client === 0 &&
      // …and the persistent connection leaves one.
      c.connections === 1 &&
      c.timeWait.client + c.timeWait.server === 1;
    return {
      name: 'time-wait',
      title: TIME_WAIT_TITLE,
      measured: [
        ...describePhase('short, client closes first', a),
        ...describePhase('short, server closes first', b),
        ...describePhase('one persistent connection', c),
      ],
      explanation: [
        'TIME_WAIT (2×MSL, 60 s on Linux) stays with whichever side sent the first FIN: one per short connection, on the client when it closes first, on the server when it answers Connection: close.',
        `One persistent connection carried ${c.requests} requests and left one TIME_WAIT; a busy server that closes first pays for every connection, which is why HTTP/1.1 lets clients close.`,
      ],
      ok,
      data: { clientFirst: a, serverFirst: b, persistent: c, procAvailable },
    };
  } finally {
    await scope.close();
  }
}

/** The time-wait lab: who holds TIME_WAIT, and how many. */
export const timeWaitLab: LabDefinition<TimeWaitData> = {
  name: 'time-wait',
  title: TIME_WAIT_TITLE,
  shows: 'TIME_WAIT stays with the side that closes first',
  run: runTimeWait,
  headline: ({ clientFirst: a, serverFirst: b, persistent: c }) => {
    const expected = `client ≈ ${a.connections}, server ≈ ${b.connections}, persistent 1`;
    if (a.timeWait === null || b.timeWait === null || c.timeWait === null) return { measured: 'not visible (no /proc/net/tcp)', expected };
    return {
      measured: `client-first: ${a.timeWait.client} on the client · server-first: ${b.timeWait.server} on the server · persistent: ${c.timeWait.client + c.timeWait.server}`,
      expected,
    };
  },
};
