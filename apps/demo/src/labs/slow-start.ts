/**
 * Theory of operation: slow start, cold and warm. One object (200 KB) is fetched over the
 * emulated link (@tether/netem: RTT 50 ms, initial window 10 × 1460 bytes, bandwidth unlimited so
 * that round trips alone decide the time) four times:
 *
 *   cold          a new connection: handshake, then the response in windows of W, 2W, 4W, 8W …
 *   warm          again on the same connection at once: its window has grown by every byte
 *                 acknowledged, so the whole object goes out in one round
 *   idle, restart again after an idle period longer than the RTO, on a link that restarts the
 *                 window after idle (RFC 5681 §4.1; Linux's default tcp_slow_start_after_idle=1):
 *                 back to W, as many rounds as cold without the handshake
 *   idle, kept    the same idle period on a link that does not (tcp_slow_start_after_idle=0):
 *                 the window is kept, one round, as warm
 *
 * Measured per fetch: the time from the request (from connect() for cold) to the response's
 * last byte, and the rounds — bursts of arriving bytes separated by more than half an RTT, which
 * is what a window's worth of segments looks like at the client when bandwidth is unlimited.
 * Beside each, the model: rounds from the slow-start rule here ({@link slowStartRounds}, pure),
 * time from the demo's closed-form `transfer()` (model.ts), window carried from fetch to fetch.
 */

import { createLink } from '@tether/netem';
import type { Link } from '@tether/netem';
import { createServer } from '@tether/server';

import { transfer } from '../model.js';
import { LOOPBACK, WireClient } from './http-wire.js';
import type { LabDefinition, LabOptions, LabResult, Measurement } from './lab.js';
import { noLog } from './lab.js';
import { Scope, sleep } from './scope.js';
import { formatBytes, formatMs } from './stats.js';

/** The slow-start lab's title. */
export const SLOW_START_TITLE = 'Slow start: the same object on a cold and on a warm connection';

/** The four fetches. */
export type FetchCase = 'cold' | 'warm' | 'idle-restart' | 'idle-kept';

/** One fetch of the object, measured and modelled. */
export interface SlowStartFetch {
  readonly case: FetchCase;
  /** Idle ms on the connection before this fetch. */
  readonly idleMs: number;
  /** Response bytes on the wire (head and body). */
  readonly bytes: number;
  /** Ms from the request (cold: from connect()) to the last byte. */
  readonly ms: number;
  /** Bursts of arriving bytes: the windows it took. */
  readonly rounds: number;
  /** The link's window restarts on this connection so far (netem's count). */
  readonly windowRestarts: number;
  readonly model: { readonly ms: number; readonly rounds: number; readonly windowBefore: number };
}

/** The figures of the slow-start lab. */
export interface SlowStartData {
  readonly rttMs: number;
  readonly initialWindow: number;
  readonly objectBytes: number;
  /** Idle time after which the restarting link restarts the window (netem's `rto`). */
  readonly rtoMs: number;
  readonly cold: SlowStartFetch;
  readonly warm: SlowStartFetch;
  readonly idleRestart: SlowStartFetch;
  readonly idleKept: SlowStartFetch;
}

/** The issue's link: RTT 50 ms, RFC 6928's initial window of 10 segments. */
const RTT_MS = 50;
const MSS = 1460;
const INITIAL_WINDOW = 10 * MSS;
/** 200 KB: 4 rounds from a fresh window (14.6 + 29.2 + 58.4 + 116.8 KB), 1 from a grown one. */
const OBJECT_BYTES = 200_000;
/** netem's default RTO with a constant RTT: RTT + Linux's TCP_RTO_MIN (200 ms). */
const RTO_MS = RTT_MS + 200;
/** Idle period of the idle cases: well past the RTO, so the restart is not a matter of timer jitter. */
const IDLE_MS = 2 * RTO_MS;
/** A fetch takes at most ~6 RTT here; past this something is stuck. */
const FETCH_TIMEOUT_MS = 5_000;

/**
 * Rounds a sender needs to deliver `bytes` from a window of `cwnd` bytes, under slow start
 * (RFC 5681 §3.1 with RFC 3465 byte counting: each acknowledged byte grows the window by one, so
 * round k sends what is left of a window that doubled each round before it). 0 bytes: 0 rounds.
 */
export function slowStartRounds(bytes: number, cwnd: number): number {
  if (bytes <= 0) return 0;
  if (!(cwnd > 0)) throw new RangeError(`cwnd must be positive, got ${cwnd}`);
  let remaining = bytes;
  let window = cwnd;
  let rounds = 0;
  while (remaining > 0) {
    const sent = Math.min(window, remaining);
    remaining -= sent;
    window += sent;
    rounds++;
  }
  return rounds;
}

/**
 * Bursts in a series of arrival times (ms, ascending): a new burst starts after a gap longer
 * than `gapMs`. Empty: 0.
 */
export function countBursts(arrivals: readonly number[], gapMs: number): number {
  let bursts = 0;
  let last = Number.NEGATIVE_INFINITY;
  for (const t of arrivals) {
    if (t - last > gapMs) bursts++;
    last = t;
  }
  return bursts;
}

/** The window a sender starts a fetch with: restarted to min(W₀, cwnd) after an idle period > RTO when the link restarts (RFC 5681 §4.1). */
export function windowAfterIdle(cwnd: number, initialWindow: number, idleMs: number, rtoMs: number, restarts: boolean): number {
  return restarts && idleMs > rtoMs ? Math.min(initialWindow, cwnd) : cwnd;
}

/** What the model says of one fetch: `handshake` adds the new connection's round trip. */
export function modelFetch(bytes: number, cwnd: number, rttMs: number, handshake: boolean): { readonly ms: number; readonly rounds: number; readonly cwndAfter: number } {
  // The request reaches the server R/2 after it is written (1.5 R after connect() on a new
  // connection); transfer() is from the server's first byte out to the client's last byte in.
  const t = transfer(bytes, cwnd, Number.POSITIVE_INFINITY, rttMs);
  return { ms: (handshake ? rttMs : 0) + rttMs / 2 + t.ms, rounds: slowStartRounds(bytes, cwnd), cwndAfter: t.cwnd };
}

/** A persistent connection through a link, and how to fetch the object on it with arrival times. */
interface Fetcher {
  fetch(fetchCase: FetchCase, idleMs: number, cwnd: number): Promise<SlowStartFetch>;
}

async function connectThrough(scope: Scope, link: Link, serverPort: number): Promise<Fetcher> {
  const forward = await link.forward({ host: LOOPBACK, port: serverPort });
  let client: WireClient | null = null;
  return {
    async fetch(fetchCase, idleMs, cwnd) {
      const handshake = client === null;
      const start = performance.now();
      if (client === null) {
        client = await WireClient.connect({ port: forward.port, timeout: FETCH_TIMEOUT_MS });
        scope.socket(client.socket);
      }
      const arrivals: number[] = [];
      let bytes = 0;
      const onData = (chunk: Buffer): void => {
        arrivals.push(performance.now());
        bytes += chunk.length;
      };
      client.socket.on('data', onData);
      try {
        await client.request({ method: 'GET', target: '/object' }, { timeout: FETCH_TIMEOUT_MS });
      } finally {
        client.socket.off('data', onData);
      }
      const ms = performance.now() - start;
      const model = modelFetch(bytes, cwnd, RTT_MS, handshake);
      const stats = link.stats().perConnection.at(-1);
      return {
        case: fetchCase,
        idleMs,
        bytes,
        ms,
        rounds: countBursts(arrivals, RTT_MS / 2),
        windowRestarts: stats?.downstream.windowRestarts ?? 0,
        model: { ms: model.ms, rounds: model.rounds, windowBefore: cwnd },
      };
    },
  };
}

/** A window in segments: `10 segments`. */
function segments(bytes: number): string {
  return `${Math.round(bytes / MSS)} segments`;
}

/** `1 round`, `4 rounds`. */
function rounds(n: number): string {
  return `${n} round${n === 1 ? '' : 's'}`;
}

function describeFetch(label: string, f: SlowStartFetch): Measurement {
  const restarts = f.windowRestarts === 0 ? '' : ` · ${f.windowRestarts} window restart${f.windowRestarts === 1 ? '' : 's'}`;
  return {
    label,
    value: `${rounds(f.rounds)} in ${formatMs(f.ms)} · model ${f.model.rounds} in ${formatMs(f.model.ms)} (window ${segments(f.model.windowBefore)})${restarts}`,
    raw: f.ms,
  };
}

/** Run the slow-start lab. `quick` changes nothing: the whole lab takes about 1.5 s. */
export async function runSlowStart(options: LabOptions = {}): Promise<LabResult<SlowStartData>> {
  const log = options.log ?? noLog;
  const scope = new Scope();
  try {
    const body = new Uint8Array(OBJECT_BYTES).fill(115);
    const server = scope.server(
      createServer({ keepAliveTimeout: 10_000 }, (_req, res) => {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(body);
      }),
    );
    const { port } = await server.listen({ port: 0, host: LOOPBACK });
    const base = { rtt: RTT_MS, initialWindow: INITIAL_WINDOW, mss: MSS, rto: RTO_MS };
    const restarting = await createLink({ ...base, slowStartAfterIdle: true });
    scope.defer(() => restarting.close());
    const keeping = await createLink({ ...base, slowStartAfterIdle: false });
    scope.defer(() => keeping.close());
    log(`link: RTT ${RTT_MS} ms, initial window ${segments(INITIAL_WINDOW)}, unlimited bandwidth; object ${OBJECT_BYTES / 1000} KB`);

    // One connection through the restarting link: cold, warm, then idle.
    const a = await connectThrough(scope, restarting, port);
    const cold = await a.fetch('cold', 0, INITIAL_WINDOW);
    log(`cold: ${rounds(cold.rounds)}, ${formatMs(cold.ms)}`);
    let cwnd = modelFetch(cold.bytes, INITIAL_WINDOW, RTT_MS, true).cwndAfter;
    const warm = await a.fetch('warm', 0, cwnd);
    log(`warm: ${rounds(warm.rounds)}, ${formatMs(warm.ms)}`);
    cwnd = modelFetch(warm.bytes, cwnd, RTT_MS, false).cwndAfter;
    await sleep(IDLE_MS);
    const idleRestart = await a.fetch('idle-restart', IDLE_MS, windowAfterIdle(cwnd, INITIAL_WINDOW, IDLE_MS, RTO_MS, true));
    log(`after ${IDLE_MS} ms idle, window restarted: ${rounds(idleRestart.rounds)}, ${formatMs(idleRestart.ms)}`);

    // The keeping link: warm it with one fetch, then the same idle period.
    const b = await connectThrough(scope, keeping, port);
    const first = await b.fetch('cold', 0, INITIAL_WINDOW);
    const kept = modelFetch(first.bytes, INITIAL_WINDOW, RTT_MS, true).cwndAfter;
    await sleep(IDLE_MS);
    const idleKept = await b.fetch('idle-kept', IDLE_MS, windowAfterIdle(kept, INITIAL_WINDOW, IDLE_MS, RTO_MS, false));
    log(`after ${IDLE_MS} ms idle, window kept: ${rounds(idleKept.rounds)}, ${formatMs(idleKept.ms)}`);

    const all = [cold, warm, idleRestart, idleKept];
    const ok = all.every((f) => f.rounds === f.model.rounds) && cold.rounds > warm.rounds && idleRestart.rounds > idleKept.rounds && idleRestart.windowRestarts > 0 && idleKept.windowRestarts === 0;
    return {
      name: 'slow-start',
      title: SLOW_START_TITLE,
      measured: [
        describeFetch('cold: new connection', cold),
        describeFetch('warm: same connection, at once', warm),
        describeFetch(`after ${IDLE_MS} ms idle (> RTO ${RTO_MS} ms), restart on`, idleRestart),
        describeFetch(`after ${IDLE_MS} ms idle, restart off`, idleKept),
      ],
      explanation: [
        `A new connection sends ${segments(INITIAL_WINDOW)} (${formatBytes(INITIAL_WINDOW)}) and doubles them per round trip, so ${OBJECT_BYTES / 1000} KB takes ${cold.model.rounds} rounds plus the handshake; a warm connection has grown its window and sends it in one.`,
        'After an idle period longer than the RTO, TCP restarts the window (RFC 5681 §4.1, Linux tcp_slow_start_after_idle=1): a connection kept alive saves the handshake but not slow start, unless the idle restart is turned off.',
      ],
      ok,
      data: { rttMs: RTT_MS, initialWindow: INITIAL_WINDOW, objectBytes: OBJECT_BYTES, rtoMs: RTO_MS, cold, warm, idleRestart, idleKept },
    };
  } finally {
    await scope.close();
  }
}

/** The slow-start lab: cold, warm, and idle connections over the emulated link. */
export const slowStartLab: LabDefinition<SlowStartData> = {
  name: 'slow-start',
  title: SLOW_START_TITLE,
  shows: 'a warm connection skips slow start; idle > RTO restarts it',
  run: runSlowStart,
  headline: ({ cold, warm, idleRestart, idleKept }) => {
    const f = (x: SlowStartFetch, n: number): string => `${n}/${Math.round(x.ms)}`;
    const m = (x: SlowStartFetch, n: number): string => `${n}/${Math.round(x.model.ms)}`;
    return {
      measured: `rounds/ms: cold ${f(cold, cold.rounds)}, warm ${f(warm, warm.rounds)}, idle ${f(idleRestart, idleRestart.rounds)} (kept ${f(idleKept, idleKept.rounds)})`,
      expected: `cold ${m(cold, cold.model.rounds)}, warm ${m(warm, warm.model.rounds)}, idle ${m(idleRestart, idleRestart.model.rounds)} (kept ${m(idleKept, idleKept.model.rounds)})`,
    };
  },
};
