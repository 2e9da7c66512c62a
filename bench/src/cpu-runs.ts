/**
 * Theory of operation: what the two benchmarks that judge a server by its CPU time per request
 * (`server-shapes.ts`, `frameworks.ts`) share. A run is one server child under `wrk -t1 -c50`,
 * keep-alive or pipelined: started, its route checked with one GET, an untimed warm-up, then
 * the measured run with the child's utime + stime read from `/proc` just before and just after
 * it and divided by the responses wrk read. A cell is every run of one combination; its figure
 * is its best run (the lowest CPU per request: interference only ever adds to it), its req/s
 * the median of its runs. `runRounds` goes round every cell in turn, N times, so background load
 * that drifts hits all of them alike; a cell whose run fails is not run again.
 *
 * Each benchmark keeps what its cells are (shape or route, which server) and its tables; this
 * module has the flags, the run, the per-cell figures and the lines they print alike.
 */

import { fmt, integerFlag, parseList } from './cli.js';
import type { Column } from './cli.js';
import { performance } from 'node:perf_hooks';

import { KEEP_ALIVE_TIMEOUT_MS, PIPELINE_DEPTH, WARMUP_SECONDS, WRK_CONNECTIONS, WRK_THREADS, checkGet, cpuTicks, firstLine, parseWrk, runWrk, startServer } from './server-load.js';
import type { ChildSpec, ServerChild } from './server-load.js';

// ---------------------------------------------------------------------------------------------
// Parameters and flags.

/** Seconds per measured run: long enough for ~300 clock ticks of a saturated server (CLK_TCK 100). */
export const DEFAULT_SECONDS = 3;
/** Runs per cell: the fewest of which the best means something on a shared machine. */
export const DEFAULT_RUNS = 3;
/** A pause after a run before deciding the server did not crash (its exit may still be on its way). */
const CRASH_SETTLE_MS = 100;

/** The loads: one request at a time per connection, or {@link PIPELINE_DEPTH} per write. */
export const LOAD_IDS = ['keep-alive', 'pipelined'] as const;
export type LoadId = (typeof LOAD_IDS)[number];
/** A load's name in the tables. */
export const LOAD_TITLE: Readonly<Record<LoadId, string>> = { 'keep-alive': 'keep-alive', pipelined: `pipelined ×${PIPELINE_DEPTH}` };

/** The flags both benchmarks take (`--runs`, `--duration`, `--loads`, `--json`), for `readFlags`. */
export const RUN_FLAGS = {
  runs: { type: 'string' },
  duration: { type: 'string' },
  loads: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** What {@link RUN_FLAGS} set. */
export interface RunOptions {
  readonly seconds: number;
  readonly runs: number;
  readonly loads: readonly LoadId[];
  readonly json: boolean;
}

/** {@link RunOptions} from the values `readFlags` read for {@link RUN_FLAGS}; a bad value fails. */
export function runOptions(
  fail: (message: string) => never,
  v: { readonly runs?: string | undefined; readonly duration?: string | undefined; readonly loads?: string | undefined; readonly json?: boolean | undefined },
): RunOptions {
  return {
    seconds: integerFlag(fail, v.duration, DEFAULT_SECONDS, 'duration'),
    runs: integerFlag(fail, v.runs, DEFAULT_RUNS, 'runs'),
    loads: v.loads === undefined ? LOAD_IDS : parseList(fail, v.loads, LOAD_IDS, 'loads'),
    json: v.json === true,
  };
}

// ---------------------------------------------------------------------------------------------
// One run.

/** What one measured run gave. */
export interface RunFigures {
  /** Server CPU time (user + system) per response wrk read, µs. */
  readonly cpuUs: number;
  readonly userUs: number;
  readonly systemUs: number;
  readonly requestsPerSec: number;
  readonly requests: number;
  /** Server CPU time over the run's wall time: 1 = one core busy throughout. */
  readonly cpuShare: number;
  /** wrk's own CPU share while it ran (1 = its thread busy throughout: the load generator, not the server, set the pace); null if unread. */
  readonly wrkCpuShare: number | null;
  /** wrk's socket errors and non-2xx answers. */
  readonly errors: number;
}

/** The route a run loads, and the answer its check requires: 200, exactly `body`, `contentType`. */
export interface Route {
  readonly path: string;
  readonly body: string;
  readonly contentType: string;
}

/**
 * One run of a fresh child running `spec` (keep-alive timeout {@link KEEP_ALIVE_TIMEOUT_MS})
 * under `load` on `route` for `seconds`; `lua` is the route's pipelining script. The child is
 * stopped however the run ends; a crash, or a run in which wrk read nothing, fails it.
 */
export async function measureRun(
  spec: Omit<ChildSpec, 'keepAliveTimeout'>,
  route: Route,
  load: LoadId,
  seconds: number,
  lua: string,
  ticksPerSecond: number,
): Promise<RunFigures> {
  let server: ServerChild | undefined;
  try {
    server = await startServer({ ...spec, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
    await checkGet(server.port, route.body, route.contentType, route.path);
    const url = `http://127.0.0.1:${server.port}${route.path}`;
    const base = ['-t', String(WRK_THREADS), '-c', String(WRK_CONNECTIONS), ...(load === 'pipelined' ? ['-s', lua] : [])];
    await runWrk([...base, '-d', `${WARMUP_SECONDS}s`, url], WARMUP_SECONDS);
    if (server.crashed() !== null) throw new Error(`crashed during the warm-up: ${server.crashed()}`);
    const before = cpuTicks(server.pid);
    const started = performance.now();
    const { out, wrkCpuShare } = await runWrk([...base, '-d', `${seconds}s`, '--latency', url], seconds, ticksPerSecond);
    const after = cpuTicks(server.pid);
    const wall = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, CRASH_SETTLE_MS));
    if (server.crashed() !== null) throw new Error(`crashed under load: ${server.crashed()}`);
    const wrk = parseWrk(out);
    if (wrk.requests === 0) throw new Error('wrk read no responses');
    const usPerTick = 1e6 / ticksPerSecond;
    const user = ((after.user - before.user) * usPerTick) / wrk.requests;
    const system = ((after.system - before.system) * usPerTick) / wrk.requests;
    const e = wrk.socketErrors;
    return {
      cpuUs: user + system,
      userUs: user,
      systemUs: system,
      requestsPerSec: wrk.requestsPerSec,
      requests: wrk.requests,
      cpuShare: (after.user + after.system - before.user - before.system) / ticksPerSecond / wall,
      wrkCpuShare,
      errors: e.connect + e.read + e.write + e.timeout + wrk.non2xx,
    };
  } finally {
    await server?.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Cells.

/** Every run of one combination, or why it stopped. */
export interface RunCell {
  readonly runs: RunFigures[];
  failure: string | null;
}

/**
 * `rounds` times round `cells` in their order, measuring each with `measure` and printing a
 * line per run to `progress` (named `  <name>`, with the round when there are several); a run
 * that throws fails its cell, which is not run again.
 */
export async function runRounds<C extends RunCell>(
  cells: readonly C[],
  rounds: number,
  name: (cell: C) => string,
  measure: (cell: C) => Promise<RunFigures>,
  progress: (line: string) => void,
): Promise<void> {
  for (let round = 1; round <= rounds; round++) {
    for (const cell of cells) {
      if (cell.failure !== null) continue;
      const tag = `  ${name(cell)}${rounds > 1 ? ` (run ${round}/${rounds})` : ''}`;
      try {
        const r = await measure(cell);
        cell.runs.push(r);
        progress(`${tag}: ${r.cpuUs.toFixed(2)} µs CPU/req, ${fmt(r.requestsPerSec)} req/s, server CPU ${pct(r.cpuShare)}, wrk CPU ${r.wrkCpuShare === null ? '–' : pct(r.wrkCpuShare)}${r.errors > 0 ? `, errors ${r.errors}` : ''}`);
      } catch (err) {
        cell.failure = firstLine(err);
        progress(`${tag}: FAILED ${cell.failure}`);
      }
    }
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  return n % 2 === 1 ? sorted[n >> 1]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** The cell's runs, or null when it failed or has none. */
const runsOf = (cell: RunCell | undefined): readonly RunFigures[] | null => (cell?.failure !== null || cell.runs.length === 0 ? null : cell.runs);

/** The cell's run with the lowest CPU per request, or null. */
export function best(cell: RunCell | undefined): RunFigures | null {
  return runsOf(cell)?.reduce((a, b) => (b.cpuUs < a.cpuUs ? b : a)) ?? null;
}

/** The lowest CPU µs per request of a cell's runs, or null. */
export const bestCpu = (cell: RunCell | undefined): number | null => best(cell)?.cpuUs ?? null;

/** The median CPU µs per request of a cell's runs, or null. */
export function medianCpu(cell: RunCell | undefined): number | null {
  const runs = runsOf(cell);
  return runs === null ? null : median(runs.map((r) => r.cpuUs));
}

/** The median req/s of a cell's runs, or null. */
export function medianRate(cell: RunCell | undefined): number | null {
  const runs = runsOf(cell);
  return runs === null ? null : median(runs.map((r) => r.requestsPerSec));
}

// ---------------------------------------------------------------------------------------------
// Output.

/** µs with two decimals, or `–`. */
export const us = (n: number | null): string => (n === null ? '–' : n.toFixed(2));
/** A share as a whole percentage. */
export const pct = (n: number): string => `${Math.round(n * 100)}%`;

/** The columns of a cell's figures, between the columns naming it and the one listing its runs. */
export const FIGURE_COLUMNS: readonly Column[] = [
  { title: 'CPU µs/req', width: 10, right: true },
  { title: 'median', width: 6, right: true },
  { title: 'user / sys µs', width: 13, right: true },
  { title: 'req/s', width: 9, right: true },
  { title: 'server CPU', width: 10, right: true },
  { title: 'wrk CPU', width: 7, right: true },
  { title: 'errors', width: 6, right: true },
];

/** A cell's {@link FIGURE_COLUMNS}: best run, median, user / sys, server CPU and wrk CPU of the best, median req/s, errors of all runs. */
export function figureCells(cell: RunCell): string[] {
  const b = best(cell)!;
  return [
    us(b.cpuUs),
    us(medianCpu(cell)),
    `${us(b.userUs)} / ${us(b.systemUs)}`,
    fmt(medianRate(cell)!),
    pct(b.cpuShare),
    b.wrkCpuShare === null ? '–' : pct(b.wrkCpuShare),
    String(cell.runs.reduce((n, r) => n + r.errors, 0)),
  ];
}

/** How the runs are made, for the progress line before them: wrk's arguments and about how long `count` runs take. */
export function planText(count: number, opts: RunOptions, overheadSeconds: number): string {
  const minutes = Math.ceil((count * (opts.seconds + WARMUP_SECONDS + overheadSeconds)) / 60);
  return `wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS} -d${opts.seconds}s after a ${WARMUP_SECONDS} s warm-up each: about ${minutes} min…`;
}

/** How the figures were taken, for the report's header. */
export function methodText(opts: RunOptions): string {
  return `wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS} -d${opts.seconds}s after a ${WARMUP_SECONDS} s warm-up; ${opts.runs > 1 ? `best of ${opts.runs} runs by CPU/req (req/s: median); ` : ''}each server alone in a fresh child process per run`;
}

/** What the figures columns mean, under the table. */
export function figuresNote(ticksPerSecond: number): string {
  return `CPU µs/req: the server process's utime + stime (/proc/<pid>/stat, ${ticksPerSecond} ticks/s, all threads) over the responses wrk read, best run (median beside it); user / sys and server CPU (that time over the run's wall time, 100% = one core) of the best run; wrk CPU: wrk's own thread over the same run (near 100%, the load generator set the pace and req/s measures wrk, not the server).`;
}

/** The parameters every run had, for `--json`. */
export function runParameters(opts: RunOptions): Record<string, number> {
  return { seconds: opts.seconds, runs: opts.runs, warmupSeconds: WARMUP_SECONDS, wrkThreads: WRK_THREADS, wrkConnections: WRK_CONNECTIONS, pipelineDepth: PIPELINE_DEPTH };
}
