/**
 * Theory of operation: one comparison — start the origin, then for each repeat and each
 * strategy measure the machine's own work per exchange and per new connection (the model's only
 * measured inputs, taken just before the load so that both see the machine equally busy), put
 * a fresh emulated link in front of the origin (so every strategy starts with cold connections
 * and windows), load the page through it, line the client's connections up with the link's
 * emulated handshakes, and set the measurement beside the model's prediction.
 * Progress is reported as it goes; the result is plain data (the CLI prints it, the report and
 * the dashboard draw it).
 */

import { Pool } from '@tether/client';
import { createLink } from '@tether/netem';
import { predict, STRATEGY_NAMES, transfer } from './model.js';
import type { Prediction, Scenario, StrategyName } from './model.js';
import { startOrigin } from './origin.js';
import type { Origin, SlowObject } from './origin.js';
import { makePage } from './page.js';
import type { Page, PageSpec } from './page.js';
import { load, withHandshakes } from './strategies.js';
import type { Trace } from './strategies.js';

/** The parameters of a comparison. */
export interface RunParams {
  readonly rttMs: number;
  /** Bytes per second. */
  readonly bandwidth: number;
  /** Initial congestion window in bytes. */
  readonly initialWindow: number;
  readonly page: PageSpec;
  readonly strategies: readonly StrategyName[];
  readonly repeat: number;
  readonly connections: number;
  /** One object answered late (head-of-line blocking). */
  readonly slow?: SlowObject;
}

/** The defaults of `pnpm demo`: RTT 50 ms, 10 Mbit/s, IW 10 segments, 30 objects of 2–60 KB. */
export const DEFAULT_PARAMS: RunParams = {
  rttMs: 50,
  bandwidth: 10e6 / 8,
  initialWindow: 10 * 1460,
  page: { objects: 30, minBytes: 2000, maxBytes: 60_000, htmlBytes: 8000 },
  strategies: STRATEGY_NAMES,
  repeat: 1,
  connections: 6,
};

/** Gap between measurement and model above which an HTTP/1.1 strategy is flagged. */
export const MODEL_TOLERANCE = 0.15;

/** One strategy's outcome: the median run, every run, and the model. */
export interface StrategyResult {
  readonly strategy: StrategyName;
  /** The run with the median total time. */
  readonly trace: Trace;
  readonly runs: readonly Trace[];
  readonly model: Prediction;
  /** (measured − model) / model, of the total time. */
  readonly gap: number;
  /** Handshakes and bytes counted by the link for the median run. */
  readonly link: { readonly handshakes: number; readonly bytesUp: number; readonly bytesDown: number };
  /** The machine's work measured just before the median run's page load (in `model`). */
  readonly work: MachineWork;
}

/**
 * The machine's own work, measured on loopback: what the model cannot derive from the link.
 * `requestMs`: one request/response exchange on an open connection (client, relay and server
 * handling it); `connectMs`: what a new connection adds (connect, accept, the relay's own
 * connection to the server).
 */
export interface MachineWork {
  readonly requestMs: number;
  readonly connectMs: number;
}

/** A whole comparison. */
export interface RunResult {
  readonly params: RunParams;
  /** The model's scenario; each strategy's model adds the machine work measured before its load. */
  readonly scenario: Scenario;
  readonly results: readonly StrategyResult[];
}

/** Progress events. */
export type Progress =
  | { readonly type: 'start'; readonly total: number }
  | { readonly type: 'run'; readonly strategy: StrategyName; readonly repeat: number; readonly done: number; readonly total: number; readonly trace: Trace; readonly model: Prediction };

/** The model's scenario for `params` (without the machine's work, which a run measures). */
export function scenarioOf(params: RunParams): Scenario {
  const page = makePage(params.page);
  return {
    rttMs: params.rttMs,
    bandwidth: params.bandwidth,
    initialWindow: params.initialWindow,
    connections: params.connections,
    htmlBytes: page.html.length,
    objectBytes: page.objects.map((o) => o.size),
    ...(params.slow === undefined ? {} : { slow: params.slow }),
  };
}

function median<T>(items: readonly T[], key: (t: T) => number): T {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Exchanges timed for each half of {@link measureMachineWork} (the median is kept). */
export const WORK_SAMPLES = 9;

/**
 * Measure the machine's work per exchange and per new connection: the page's smallest response
 * fetched one at a time through a link like the run's but with no delay (RTT 0, so a sample
 * takes milliseconds), first on one keep-alive connection, then on a new connection each time.
 * What the model expects of such an exchange (the response's bytes at the link's bandwidth) is
 * taken off; the rest is the work: the client's, the relay's (its timer included) and the
 * server's.
 */
export async function measureMachineWork(origin: Origin, page: Page, bandwidth: number): Promise<MachineWork> {
  const smallest = [...page.objects].sort((a, b) => a.size - b.size)[0] ?? { path: page.htmlPath, size: page.html.length };
  const modelled = transfer(smallest.size, Number.POSITIVE_INFINITY, bandwidth / 1000, 0).ms;
  const link = await createLink({ rtt: 0, bandwidth });
  const kept = new Pool(`http://127.0.0.1:${(await link.forward({ host: '127.0.0.1', port: origin.port })).port}`, { connections: 1 });
  const fresh = new Pool(`http://127.0.0.1:${(await link.forward({ host: '127.0.0.1', port: origin.port })).port}`, { connections: 1, keepAlive: false });
  const time = async (pool: Pool): Promise<number> => {
    const t = performance.now();
    const res = await pool.request({ path: smallest.path });
    await res.bytes();
    return performance.now() - t;
  };
  const medianOf = async (pool: Pool): Promise<number> => {
    const samples: number[] = [];
    for (let i = 0; i < WORK_SAMPLES; i++) samples.push(await time(pool));
    return median(samples, (x) => x);
  };
  try {
    await time(kept); // opens the connection (and warms up the code on the way)
    await time(fresh);
    const exchange = await medianOf(kept);
    const withConnect = await medianOf(fresh);
    return { requestMs: Math.max(0, exchange - modelled), connectMs: Math.max(0, withConnect - exchange) };
  } finally {
    await Promise.all([kept.close(), fresh.close()]);
    await link.close();
  }
}

/** The machine work measured in a run, one per strategy (for its median load). */
export function runWork(run: RunResult): MachineWork[] {
  return run.results.map((r) => r.work);
}

/** Run the comparison. */
export async function runComparison(params: RunParams, onProgress: (p: Progress) => void = () => undefined): Promise<RunResult> {
  const page = makePage(params.page);
  const origin = await startOrigin(page, params.slow);
  const scenario = scenarioOf(params);
  const total = params.repeat * params.strategies.length;
  onProgress({ type: 'start', total });
  const runs = new Map<StrategyName, { trace: Trace; link: StrategyResult['link']; work: MachineWork; model: Prediction }[]>();
  let done = 0;
  try {
    for (let r = 0; r < params.repeat; r++) {
      for (const strategy of params.strategies) {
        // Measured just before the load, so both see the machine in the same state (a shared
        // machine's load changes from second to second).
        const work = await measureMachineWork(origin, page, params.bandwidth);
        const model = predict(strategy, { ...scenario, ...work });
        const link = await createLink({ rtt: params.rttMs, bandwidth: params.bandwidth, initialWindow: params.initialWindow });
        try {
          const h1 = await link.forward({ host: '127.0.0.1', port: origin.port });
          const h2 = await link.forward({ host: '127.0.0.1', port: origin.h2Port });
          const loaded = await load(strategy, { host: '127.0.0.1', port: h1.port, h2Port: h2.port }, page, { connections: params.connections });
          const stats = link.stats();
          const used = strategy === 'multiplexed' ? h2.port : h1.port;
          const trace = withHandshakes(loaded, stats.perConnection.filter((c) => c.listenPort === used));
          const entry = { trace, link: { handshakes: stats.handshakes, bytesUp: stats.bytes.upstream, bytesDown: stats.bytes.downstream }, work, model };
          runs.set(strategy, [...(runs.get(strategy) ?? []), entry]);
          onProgress({ type: 'run', strategy, repeat: r, done: ++done, total, trace, model });
        } finally {
          await link.close();
        }
      }
    }
  } finally {
    await origin.close();
  }
  const results = params.strategies.map((strategy): StrategyResult => {
    const all = runs.get(strategy)!;
    const mid = median(all, (e) => e.trace.totalMs);
    const { model } = mid;
    return { strategy, trace: mid.trace, runs: all.map((e) => e.trace), model, gap: (mid.trace.totalMs - model.totalMs) / model.totalMs, link: mid.link, work: mid.work };
  });
  return { params, scenario, results };
}
