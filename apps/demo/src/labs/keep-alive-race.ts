/**
 * Theory of operation: the keep-alive race on an idle connection. A server closes a connection
 * that has been idle for its keep-alive timeout; a client that does not know that timeout sends
 * its next request on the same connection at that very moment. The request meets the server's
 * FIN on the wire: the server never reads it, the client gets the connection closed and no
 * response — and cannot tell whether the request was processed.
 *
 *   client                               server (idle timeout T, not advertised)
 *   GET /1 ──────────────────────────▶
 *          ◀────────────────────── 200   idle timer starts
 *   … T ms …                              … T ms …  timer fires: FIN
 *   GET /2 ──────────────────────────▶    (already closing: read and discarded)
 *          ◀────────────────────── FIN   no response
 *
 * Here the tether server and @tether/client share one event loop, and the client waits exactly
 * T ms after its response: both timers come due in the same turn, the server's (armed first)
 * runs first, and the client writes before it has processed the FIN — the race that real clients
 * hit now and then happens nearly every time. Per trial, a fresh pool:
 *
 *   GET    idempotent: the pool re-sends it on a new connection; the caller sees a normal response
 *   POST   not idempotent: the pool cannot re-send it; TETHER_CONNECTION_LOST, "may have been
 *          processed" — although the server, which counts what it handled, never saw it
 *   advertised   the server says `Keep-Alive: timeout=1`; the pool retires the connection before
 *          then (at 500 ms), so the same wait opens a new connection and nothing races
 */

import { ClientError, Pool } from '@tether/client';
import { createServer } from '@tether/server';

import { LOOPBACK } from './http-wire.js';
import type { LabDefinition, LabOptions, LabResult, Measurement } from './lab.js';
import { noLog } from './lab.js';
import { Scope, sleep } from './scope.js';

/** The keep-alive-race lab's title. */
export const KEEP_ALIVE_RACE_TITLE = 'The keep-alive race: a request sent as the idle connection closes';

/** Trials of one kind. */
export interface RaceTrials {
  readonly trials: number;
  /** Trials where the second request went out on the connection the server was closing. */
  readonly raced: number;
  /** Trials where the client saw the server's close before sending (a new connection, no race). */
  readonly noticed: number;
  /** Requests the pool re-sent on a new connection. */
  readonly retries: number;
  /** Second requests that failed, by code. */
  readonly failures: readonly string[];
  /** Failures the client flagged `mayHaveBeenProcessed`. */
  readonly flaggedMaybeProcessed: number;
  /** Raced requests the server actually handled. */
  readonly processedByServer: number;
}

/** The figures of the keep-alive-race lab. */
export interface KeepAliveRaceData {
  /** The racing server's idle timeout, not advertised. */
  readonly idleTimeoutMs: number;
  readonly get: RaceTrials;
  readonly post: RaceTrials;
  /** Against a server that advertises `Keep-Alive: timeout=1` (1 s idle), waiting 1 s. */
  readonly advertised: RaceTrials & { readonly retiredIdle: number };
}

/** The racing server's idle timeout: short, so a trial is quick, and far above timer granularity. */
const IDLE_TIMEOUT_MS = 50;
/** Trials per method. Each costs ~T ms. */
const TRIALS = 30;
/**
 * Quick mode runs at most 20 trials per method and stops after 4 races: the race is a matter of
 * timer alignment (~70% of trials here), so a fixed small count could miss it on a loaded machine.
 */
const QUICK_TRIALS = 20;
const QUICK_ENOUGH_RACES = 4;
/** The advertising server: `Keep-Alive: timeout=` is in whole seconds, so 1 s is the smallest. */
const ADVERTISED_TIMEOUT_MS = 1_000;
/** Trials against it (each waits 1 s); quick mode 1. */
const ADVERTISED_TRIALS = 3;
const QUICK_ADVERTISED_TRIALS = 1;
/** One exchange. */
const TIMEOUT_MS = 3_000;

/** How many times the server handled each `METHOD path`. */
type Handled = Map<string, number>;

async function startServer(scope: Scope, handled: Handled, idleMs: number, advertise: boolean): Promise<number> {
  const server = scope.server(
    // keepAliveTimeoutBuffer 0: the server closes exactly when it says it will, which is the race
    // this lab shows (by default it waits a second longer, so a client that honours the hint wins).
    createServer({ keepAliveTimeout: idleMs, keepAliveTimeoutBuffer: 0, advertiseKeepAlive: advertise, lingerTimeout: 200 }, async (req, res) => {
      await req.text();
      const key = `${req.method} ${req.url}`;
      handled.set(key, (handled.get(key) ?? 0) + 1);
      res.setHeader('content-type', 'text/plain');
      res.end('ok');
    }),
  );
  return (await server.listen({ port: 0, host: LOOPBACK })).port;
}

/** How one batch of trials is run. */
interface RacePlan {
  readonly method: 'GET' | 'POST';
  readonly trials: number;
  /** Ms between the first response and the second request. */
  readonly gapMs: number;
  /** The pool's own idle timeout, when set (else the default, lowered by an advertised timeout). */
  readonly poolIdleMs?: number;
  /** Stop once this many trials raced (quick mode). */
  readonly enoughRaces?: number;
}

/**
 * `plan.trials` times: a fresh pool sends a request, waits `plan.gapMs`, and sends a second one
 * on (it believes) the same connection; counts what became of the second.
 */
async function race(scope: Scope, port: number, handled: Handled, plan: RacePlan): Promise<RaceTrials & { readonly retiredIdle: number }> {
  const { method } = plan;
  let raced = 0;
  let noticed = 0;
  let retries = 0;
  let flaggedMaybeProcessed = 0;
  let processedByServer = 0;
  let retiredIdle = 0;
  const failures: string[] = [];
  const enough = plan.enoughRaces ?? Number.POSITIVE_INFINITY;
  let trials = 0;
  for (; trials < plan.trials && raced < enough; trials++) {
    const i = trials;
    const pool = scope.pool(
      new Pool(`http://${LOOPBACK}:${port}`, {
        connections: 1,
        headersTimeout: TIMEOUT_MS,
        bodyTimeout: TIMEOUT_MS,
        ...(plan.poolIdleMs === undefined ? {} : { keepAliveTimeout: plan.poolIdleMs }),
      }),
    );
    const body = method === 'POST' ? { body: `order ${i}` } : {};
    await (await pool.request({ method, path: `/${method}/${i}/first`, ...body })).text();
    await sleep(plan.gapMs);
    const second = `/${method}/${i}/second`;
    let failed = false;
    try {
      await (await pool.request({ method, path: second, ...body })).text();
    } catch (err) {
      failed = true;
      failures.push(err instanceof ClientError ? err.code : 'error');
      if (err instanceof ClientError && err.mayHaveBeenProcessed) flaggedMaybeProcessed++;
    }
    const stats = pool.stats();
    retries += stats.retries;
    retiredIdle += stats.closedBy['keep-alive-timeout'];
    if (stats.retries > 0 || failed) {
      raced++;
      // Handled more often than it succeeded: the raced copy was processed too.
      const succeeded = failed ? 0 : 1;
      if ((handled.get(`${method} ${second}`) ?? 0) > succeeded) processedByServer++;
    } else if (stats.connections.opened > 1) {
      noticed++; // a second connection without a retry: the pool saw the close before sending
    }
    await pool.close();
  }
  return { trials, raced, noticed, retries, failures, flaggedMaybeProcessed, processedByServer, retiredIdle };
}

function describe(label: string, t: RaceTrials, outcome: string): Measurement {
  const noticed = t.noticed === 0 ? '' : ` (${t.noticed} saw the close first)`;
  return { label, value: `${t.raced} of ${t.trials} trials raced${noticed} · ${outcome}`, raw: t.raced };
}

/** Run the keep-alive-race lab. */
export async function runKeepAliveRace(options: LabOptions = {}): Promise<LabResult<KeepAliveRaceData>> {
  const log = options.log ?? noLog;
  const quick = options.quick === true;
  const trials = quick ? QUICK_TRIALS : TRIALS;
  const scope = new Scope();
  try {
    const handled: Handled = new Map();
    const racing = await startServer(scope, handled, IDLE_TIMEOUT_MS, false);
    // The pool keeps idle connections longer than the server: it has not been told the server's timeout.
    const poolIdleMs = 60_000;
    log(`server idle timeout ${IDLE_TIMEOUT_MS} ms (not advertised); ${trials} trials per method`);
    const enough = quick ? { enoughRaces: QUICK_ENOUGH_RACES } : {};
    const get = await race(scope, racing, handled, { method: 'GET', trials, gapMs: IDLE_TIMEOUT_MS, poolIdleMs, ...enough });
    log(`GET: ${get.raced} raced, ${get.retries} re-sent, ${get.failures.length} failed`);
    const post = await race(scope, racing, handled, { method: 'POST', trials, gapMs: IDLE_TIMEOUT_MS, poolIdleMs, ...enough });
    log(`POST: ${post.raced} raced, ${post.failures.length} failed`);
    const advertising = await startServer(scope, handled, ADVERTISED_TIMEOUT_MS, true);
    const advertised = await race(scope, advertising, handled, {
      method: 'GET',
      trials: quick ? QUICK_ADVERTISED_TRIALS : ADVERTISED_TRIALS,
      gapMs: ADVERTISED_TIMEOUT_MS,
    });
    log(`advertised: ${advertised.raced} raced, ${advertised.retiredIdle} retired idle by the pool`);

    const failureCodes = (t: RaceTrials): string => (t.failures.length === 0 ? 'none' : [...new Set(t.failures)].join(', '));
    const ok =
      get.raced > 0 &&
      get.failures.length === 0 &&
      get.retries === get.raced &&
      post.raced > 0 &&
      post.failures.length === post.raced &&
      post.flaggedMaybeProcessed === post.failures.length &&
      advertised.raced === 0;
    return {
      name: 'keep-alive-race',
      title: KEEP_ALIVE_RACE_TITLE,
      measured: [
        describe(`GET after ${IDLE_TIMEOUT_MS} ms idle (server timeout ${IDLE_TIMEOUT_MS} ms)`, get, `${get.retries} re-sent on a new connection, ${get.failures.length} failed`),
        describe(
          `POST after ${IDLE_TIMEOUT_MS} ms idle`,
          post,
          `${post.failures.length} failed (${failureCodes(post)}; ${post.flaggedMaybeProcessed} "may have been processed"), the server handled ${post.processedByServer} of them`,
        ),
        describe(
          `GET after 1 s idle, Keep-Alive: timeout=1 advertised`,
          advertised,
          `${advertised.retiredIdle} connection${advertised.retiredIdle === 1 ? '' : 's'} retired by the pool before the server's timeout`,
        ),
      ],
      explanation: [
        'A request sent on an idle connection just as the server closes it gets no response: the pool re-sends an idempotent GET on a new connection, so the caller never sees it, but a POST fails "may have been processed" even when the server never read it.',
        'A server that advertises Keep-Alive: timeout lets the client retire the connection first; short of that, only idempotent requests may be retried safely (RFC 9112 §9.3.1).',
      ],
      ok,
      data: { idleTimeoutMs: IDLE_TIMEOUT_MS, get, post, advertised },
    };
  } finally {
    await scope.close();
  }
}

/** The keep-alive-race lab: a request crossing the server's idle close. */
export const keepAliveRaceLab: LabDefinition<KeepAliveRaceData> = {
  name: 'keep-alive-race',
  title: KEEP_ALIVE_RACE_TITLE,
  shows: 'a request crossing the idle close: GET re-sent, POST lost',
  run: runKeepAliveRace,
  headline: ({ get, post, advertised }) => ({
    measured: `GET ${get.failures.length} failed of ${get.raced} raced · POST ${post.failures.length} failed of ${post.raced} · advertised ${advertised.raced} raced`,
    expected: `GET 0 failed · POST every raced one failed (> 0) · advertised 0 raced`,
  }),
};
