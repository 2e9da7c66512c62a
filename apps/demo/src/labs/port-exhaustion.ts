/**
 * Theory of operation: a client that opens a new connection per request from a small, fixed
 * range of local ports, against one that reuses one connection. A TCP connection is named by its
 * address pair (local address:port, remote address:port); with the server fixed, every connection
 * needs its own local port for as long as the pair is in use — open, or in TIME_WAIT after the
 * client closed first. The lab binds client sockets explicitly (`localPort`) to N ports it checked
 * are unused (outside the ephemeral range, absent from /proc/net/tcp), plus one reserved port:
 *
 *   short connections  rounds over the N ports: connect from the port, one request, the client
 *                      closes first (its port goes to TIME_WAIT); after the first round every port
 *                      of the range is in TIME_WAIT; the later rounds connect from those ports.
 *                      Stops at the first bind/connect failure (EADDRINUSE / EADDRNOTAVAIL).
 *   held open          connections from the range that stay open, until one fails: the range
 *                      carries at most N at a time.
 *   persistent         10,000 requests on one connection from the reserved port.
 *
 * Linux reuses a TIME_WAIT pair for a connection from an explicitly bound port when TCP timestamps
 * show the new connection is newer (tcp_twsk_unique; RFC 6191), so there the short connections do
 * not run out — only live connections exhaust the range. Kernels without that reuse (or with
 * timestamps off) fail on the first port still in TIME_WAIT. The lab reports what it observed and
 * the kernel settings behind it. Every loop is bounded in count and time.
 */

import { readFile } from 'node:fs/promises';

import { createServer } from '@tether/server';

import { LOOPBACK, WireClient } from './http-wire.js';
import type { SocketError } from './http-wire.js';
import type { LabDefinition, LabOptions, LabResult, Measurement } from './lab.js';
import { noLog } from './lab.js';
import { Deadline, Scope } from './scope.js';
import { formatMs } from './stats.js';
import { readTcpTable } from './tcp-table.js';

/** The port-exhaustion lab's title. */
export const PORT_EXHAUSTION_TITLE = 'Port exhaustion: a connection per request from a fixed port range';

/** Where a phase stopped, when it did. */
export interface PortFailure {
  /** The errno code: `EADDRINUSE` (bind), `EADDRNOTAVAIL` (connect: the pair is taken), or another. */
  readonly code: string;
  /** The 1-based connection attempt that failed. */
  readonly attempt: number;
  readonly port: number;
}

/** The figures of the port-exhaustion lab. */
export interface PortExhaustionData {
  /** The N ports of the range (`first`…`last`) and the one kept for the persistent connection. */
  readonly range: { readonly first: number; readonly last: number; readonly reserved: number };
  readonly short: {
    readonly attempted: number;
    readonly succeeded: number;
    /** Client-held TIME_WAIT sockets of the range after the first round (`null` without /proc). */
    readonly timeWaitAfterFirstRound: number | null;
    /** Connections that succeeded from a port that was in TIME_WAIT (rounds after the first). */
    readonly fromTimeWait: number;
    readonly failure: PortFailure | null;
  };
  readonly heldOpen: { readonly opened: number; readonly failure: PortFailure | null };
  readonly persistent: { readonly requests: number; readonly succeeded: number; readonly ms: number; readonly failure: string | null };
  /** `net.ipv4.tcp_timestamps` and `net.ipv4.tcp_tw_reuse`, when readable. */
  readonly kernel: { readonly tcpTimestamps: string | null; readonly tcpTwReuse: string | null };
}

/** Ports in the range: "a small fixed range" (the 20–50); quick mode 16. */
const RANGE_SIZE = 32;
const QUICK_RANGE_SIZE = 16;
/** Rounds over the range for the short connections: the first fills it with TIME_WAIT, the rest reuse it. */
const ROUNDS = 3;
const QUICK_ROUNDS = 2;
/** Requests on the persistent connection (the 10k); quick mode 1k. */
const PERSISTENT_REQUESTS = 10_000;
const QUICK_PERSISTENT_REQUESTS = 1_000;
/** Where candidate ranges are drawn from when the ephemeral range starts above it: registered ports nobody here listens on. */
const CANDIDATE_LOW = 20_000;
/** Random ranges tried before giving up on finding an unused one. */
const RANGE_ATTEMPTS = 20;
/** Linux's default ephemeral range, when /proc/sys cannot be read. */
const DEFAULT_EPHEMERAL: readonly [number, number] = [32_768, 60_999];
/** Ms per phase; each handles ≤ 3 × 32 short exchanges or 10k persistent ones (~1.5 s). */
const PHASE_DEADLINE_MS = 15_000;
/** One connect or exchange on loopback. */
const STEP_TIMEOUT_MS = 3_000;
/** The errno codes that mean "no port / address pair available". */
const EXHAUSTED: ReadonlySet<string> = new Set(['EADDRINUSE', 'EADDRNOTAVAIL']);

async function sysctl(name: string): Promise<string | null> {
  try {
    return (await readFile(`/proc/sys/net/ipv4/${name}`, 'latin1')).trim();
  } catch {
    return null;
  }
}

async function ephemeralRange(): Promise<readonly [number, number]> {
  const text = await sysctl('ip_local_port_range');
  const [lo, hi] = (text ?? '').split(/\s+/).map(Number);
  return lo !== undefined && hi !== undefined && lo > 0 && hi >= lo ? [lo, hi] : DEFAULT_EPHEMERAL;
}

/**
 * `size + 1` consecutive ports outside the ephemeral range that no socket uses (in any state, on
 * any address), checked in /proc/net/tcp(6); without /proc, an unchecked random range (a port in
 * use then shows up as an early EADDRINUSE in the results).
 */
async function pickRange(size: number): Promise<number> {
  const [ephemeralLow, ephemeralHigh] = await ephemeralRange();
  const [low, high] = ephemeralLow - CANDIDATE_LOW > 4 * size ? [CANDIDATE_LOW, ephemeralLow - 1] : [ephemeralHigh + 1, 65_535];
  const span = high - low - size;
  let base = low + Math.floor(Math.random() * span);
  for (let attempt = 0; attempt < RANGE_ATTEMPTS; attempt++) {
    const table = await readTcpTable();
    if (table === null) return base;
    if (!table.some((e) => e.localPort >= base && e.localPort <= base + size)) return base;
    base = low + Math.floor(Math.random() * span);
  }
  throw new Error(`no unused range of ${size + 1} local ports found in ${low}–${high}`);
}

function failureOf(err: unknown, attempt: number, port: number): PortFailure {
  const code = (err as SocketError).code ?? (err instanceof Error ? err.message : String(err));
  return { code, attempt, port };
}

/** Client-held TIME_WAIT sockets from ports `first`…`last` to `serverPort`. */
async function timeWaitInRange(first: number, last: number, serverPort: number): Promise<number | null> {
  const table = await readTcpTable();
  if (table === null) return null;
  return table.filter((e) => e.state === 'TIME_WAIT' && e.localPort >= first && e.localPort <= last && e.remotePort === serverPort).length;
}

/** Run the port-exhaustion lab. */
export async function runPortExhaustion(options: LabOptions = {}): Promise<LabResult<PortExhaustionData>> {
  const log = options.log ?? noLog;
  const quick = options.quick === true;
  const size = quick ? QUICK_RANGE_SIZE : RANGE_SIZE;
  const rounds = quick ? QUICK_ROUNDS : ROUNDS;
  const persistentRequests = quick ? QUICK_PERSISTENT_REQUESTS : PERSISTENT_REQUESTS;
  const scope = new Scope();
  try {
    const server = scope.server(createServer({ keepAliveTimeout: 0, keepAliveMax: 1_000_000 }, (_req, res) => res.end('ok')));
    const { port: serverPort } = await server.listen({ port: 0, host: LOOPBACK });
    const headers = { host: `${LOOPBACK}:${serverPort}` };
    const first = await pickRange(size);
    const last = first + size - 1;
    const reserved = last + 1;
    log(`server on ${LOOPBACK}:${serverPort}; client ports ${first}–${last}, ${reserved} reserved`);

    const exchange = { method: 'GET', target: '/', headers };
    const step = { timeout: STEP_TIMEOUT_MS };

    // Phase 1: a new connection per request, client closes first, round after round.
    let attempted = 0;
    let succeeded = 0;
    let fromTimeWait = 0;
    let timeWaitAfterFirstRound: number | null = null;
    let shortFailure: PortFailure | null = null;
    let deadline = new Deadline(PHASE_DEADLINE_MS);
    rounds: for (let round = 0; round < rounds; round++) {
      for (let port = first; port <= last; port++) {
        if (deadline.expired) break rounds;
        attempted++;
        try {
          const client = await WireClient.connect({ port: serverPort, localPort: port, timeout: STEP_TIMEOUT_MS });
          scope.socket(client.socket);
          await client.request(exchange, step);
          await client.end(STEP_TIMEOUT_MS);
          succeeded++;
          if (round > 0) fromTimeWait++;
        } catch (err) {
          shortFailure = failureOf(err, attempted, port);
          break rounds;
        }
      }
      if (round === 0) {
        timeWaitAfterFirstRound = await timeWaitInRange(first, last, serverPort);
        log(`after one round: ${timeWaitAfterFirstRound ?? '?'} of ${size} ports in TIME_WAIT`);
      }
    }

    // Phase 2: connections that stay open, one more than the range has ports.
    deadline = new Deadline(PHASE_DEADLINE_MS);
    const held: WireClient[] = [];
    let heldFailure: PortFailure | null = null;
    for (let attempt = 1; attempt <= size + 1 && !deadline.expired; attempt++) {
      const port = first + ((attempt - 1) % size);
      try {
        const client = await WireClient.connect({ port: serverPort, localPort: port, timeout: STEP_TIMEOUT_MS });
        scope.socket(client.socket);
        await client.request(exchange, step);
        held.push(client);
      } catch (err) {
        heldFailure = failureOf(err, attempt, port);
        break;
      }
    }
    log(`held open: ${held.length}; then ${heldFailure?.code ?? 'no failure'}`);
    await Promise.all(held.map((c) => c.end(STEP_TIMEOUT_MS)));

    // Phase 3: one persistent connection from the reserved port.
    deadline = new Deadline(PHASE_DEADLINE_MS);
    let done = 0;
    let persistentFailure: string | null = null;
    const start = performance.now();
    try {
      const client = await WireClient.connect({ port: serverPort, localPort: reserved, timeout: STEP_TIMEOUT_MS });
      scope.socket(client.socket);
      for (let i = 0; i < persistentRequests && !deadline.expired; i++) {
        await client.request({ method: 'GET', target: `/${i}`, headers }, step);
        done++;
      }
      await client.end(STEP_TIMEOUT_MS);
    } catch (err) {
      persistentFailure = failureOf(err, done + 1, reserved).code;
    }
    const ms = performance.now() - start;
    log(`persistent: ${done} requests in ${formatMs(ms)}`);

    const kernel = { tcpTimestamps: await sysctl('tcp_timestamps'), tcpTwReuse: await sysctl('tcp_tw_reuse') };
    const data: PortExhaustionData = {
      range: { first, last, reserved },
      short: { attempted, succeeded, timeWaitAfterFirstRound, fromTimeWait, failure: shortFailure },
      heldOpen: { opened: held.length, failure: heldFailure },
      persistent: { requests: persistentRequests, succeeded: done, ms, failure: persistentFailure },
      kernel,
    };
    return {
      name: 'port-exhaustion',
      title: PORT_EXHAUSTION_TITLE,
      measured: measurements(data, size),
      explanation: explain(data, size),
      ok: observed(data, size),
      data,
    };
  } finally {
    await scope.close();
  }
}

function measurements(d: PortExhaustionData, size: number): Measurement[] {
  const { short, heldOpen, persistent, kernel } = d;
  const tw = short.timeWaitAfterFirstRound === null ? 'not visible (no /proc/net/tcp)' : `${short.timeWaitAfterFirstRound} of ${size}`;
  const shortEnd =
    short.failure === null
      ? `all ${short.succeeded} succeeded (${short.fromTimeWait} from ports in TIME_WAIT)`
      : `${short.succeeded} succeeded, then ${short.failure.code} at connection ${short.failure.attempt} (port ${short.failure.port})`;
  const heldEnd = heldOpen.failure === null ? `${heldOpen.opened} open, no failure` : `${heldOpen.opened} open, then ${heldOpen.failure.code} at connection ${heldOpen.failure.attempt}`;
  const persistentEnd =
    persistent.failure === null ? `${persistent.succeeded} of ${persistent.requests} in ${formatMs(persistent.ms)}` : `${persistent.succeeded} of ${persistent.requests}, then ${persistent.failure}`;
  return [
    { label: 'client ports', value: `${d.range.first}–${d.range.last} (${size}), ${d.range.reserved} for the persistent run`, raw: size },
    { label: 'kernel', value: `tcp_timestamps=${kernel.tcpTimestamps ?? '?'}, tcp_tw_reuse=${kernel.tcpTwReuse ?? '?'}` },
    { label: 'ports in TIME_WAIT after one round', value: tw, ...(short.timeWaitAfterFirstRound === null ? {} : { raw: short.timeWaitAfterFirstRound }) },
    { label: 'new connection per request', value: shortEnd, raw: short.succeeded },
    { label: 'connections held open', value: heldEnd, raw: heldOpen.opened },
    { label: 'one persistent connection', value: persistentEnd, raw: persistent.succeeded },
  ];
}

function explain(d: PortExhaustionData, size: number): [string, string] {
  const { short, heldOpen, persistent } = d;
  const second = `Reuse is the cure: one persistent connection carried ${persistent.succeeded} requests on one port, where a connection per request needs a port per request for 60 s.`;
  if (short.failure !== null && EXHAUSTED.has(short.failure.code)) {
    return [`Each closed connection held its port in TIME_WAIT: after ${short.succeeded} connections from ${size} ports, the next failed with ${short.failure.code} — the range was exhausted.`, second];
  }
  const live = heldOpen.failure === null ? 'held connections did not exhaust it here' : `what ran out was live connections: connection ${heldOpen.failure.attempt} failed with ${heldOpen.failure.code}`;
  return [
    `All ${size} ports went to TIME_WAIT, yet Linux let ${short.fromTimeWait} new connections reuse them (a bound port's TIME_WAIT is recycled when TCP timestamps prove the new one newer); ${live}.`,
    second,
  ];
}

function observed(d: PortExhaustionData, size: number): boolean {
  const { short, heldOpen, persistent } = d;
  const shortConsistent = short.failure === null ? short.succeeded === short.attempted : EXHAUSTED.has(short.failure.code) && short.failure.attempt > size;
  const rangeExhausted = heldOpen.failure !== null && EXHAUSTED.has(heldOpen.failure.code) && heldOpen.opened === size;
  return shortConsistent && rangeExhausted && persistent.failure === null && persistent.succeeded === persistent.requests;
}

/** The port-exhaustion lab: a fixed port range against a connection per request. */
export const portExhaustionLab: LabDefinition<PortExhaustionData> = {
  name: 'port-exhaustion',
  title: PORT_EXHAUSTION_TITLE,
  shows: 'a port range carries only so many connections at once',
  run: runPortExhaustion,
  headline: ({ range, heldOpen, persistent }) => {
    const size = range.last - range.first + 1;
    const failed = heldOpen.failure === null ? 'no failure' : `${heldOpen.failure.code} at ${heldOpen.failure.attempt}`;
    return {
      measured: `${heldOpen.opened} held open, then ${failed} · persistent ${persistent.succeeded}/${persistent.requests}`,
      expected: `${size} held open, then EADDRNOTAVAIL at ${size + 1} · persistent ${persistent.requests}/${persistent.requests}`,
    };
  },
};
