/**
 * Theory of operation: the server benchmark by handler shape and by CPU time — what the team
 * judges "no regression" and the per-shape targets with. Each shape (`shapes.ts`: a string body
 * after `setHeader`, `writeHead` with a Buffer body, a JSON body) runs on @tether/server and on
 * node:http with the same handler code, under `wrk -t1 -c50` keep-alive and pipelined ×10, and
 * optionally on a second tether build (`--baseline`: another commit's, from a git worktree) in
 * the same run.
 *
 * The headline is the server's CPU time per request, not req/s: on a shared 2-core machine wrk,
 * the kernel and other tenants decide how much of a core the server gets, while the CPU time it
 * spends per answer is its own. It is read from `/proc/<child pid>/stat` (utime + stime, fields
 * 14 and 15, in clock ticks: all the process's threads, V8's GC and compiler included, and the
 * kernel's work on its sockets) just before and just after the measured wrk run, and divided by
 * the responses wrk read in that run. Ticks are 10 ms (CLK_TCK 100): a 3 s run of a saturated
 * server is ~300 ticks, so one run resolves ±0.3%. req/s is printed too.
 *
 * Each run: a fresh child process (`server-child.ts`), one GET checked (status, body,
 * Content-Type), an untimed 1 s warm-up run, the measured run. `--runs N` goes round every
 * load × shape × server in turn N times (drifting background load hits all alike). A cell's
 * figure is its best run, the lowest CPU per request, with the median beside it: interference
 * from other processes only ever adds to it (shared caches and cores, and a server starved of
 * CPU wakes for fewer requests at a time, so each costs more syscalls), so the lowest of N
 * estimates what a build itself costs — as `server-harness.ts` takes its fastest round. req/s is
 * the median. Ratios, of best runs: node:http ÷ tether CPU per request (how many times cheaper
 * tether answers; the issue's targets, ≥ 1.2× keep-alive and ≥ 3× pipelined, stated per shape),
 * and tether ÷ baseline (≤ 1.03×: within 3%, no regression).
 *
 * The run, the cell figures and the flags are `cpu-runs.ts`'s, shared with `frameworks.ts`.
 *
 * Bounds: only 127.0.0.1; every wrk run is killed after its duration + 20 s, a child that does
 * not listen within 15 s is killed, and every child process is killed by PID when the benchmark
 * ends, fails or is interrupted. A run that fails is shown and makes the exit status 1; a target
 * not met is a result, not a failure. Without wrk the benchmark says how to install it and exits 0.
 */

import { failer, parseList, ratioText, readFlags, renderVerdicts, table, verdict } from './cli.js';
import type { Verdict } from './cli.js';
import {
  DEFAULT_RUNS,
  DEFAULT_SECONDS,
  FIGURE_COLUMNS,
  LOAD_IDS,
  LOAD_TITLE,
  RUN_FLAGS,
  bestCpu,
  figureCells,
  figuresNote,
  measureRun,
  medianCpu,
  medianRate,
  methodText,
  planText,
  runOptions,
  runParameters,
  runRounds,
} from './cpu-runs.js';
import type { LoadId, RunCell, RunFigures, RunOptions } from './cpu-runs.js';
import { performance } from 'node:perf_hooks';

import type { ServerKind } from './server-child.js';
import { WARMUP_SECONDS, clockTicksPerSecond, cpuTicks, killAll, killAllOnExit, loadEnvironment, serverEntry, skippedWithoutWrk, writePipelineLua } from './server-load.js';
import { SHAPES } from './shapes.js';
import type { ShapeId } from './shapes.js';

// ---------------------------------------------------------------------------------------------
// Parameters.

/** Roughly what a run costs beyond its warm-up and measured seconds (start, check, stop). */
const RUN_OVERHEAD_SECONDS = 0.4;

const SHAPE_CHOICES = ['text', 'buffer', 'json', 'hello'] as const satisfies readonly ShapeId[];
const DEFAULT_SHAPES: readonly ShapeId[] = ['text', 'buffer', 'json'];

/** The servers: tether (this workspace's build), node:http, and tether from another build. */
type ServerId = 'tether' | 'node' | 'baseline';
const LABEL: Readonly<Record<ServerId, string>> = { tether: 'tether', node: 'node:http', baseline: 'tether-baseline' };
const KIND: Readonly<Record<ServerId, ServerKind>> = { tether: 'tether', node: 'node', baseline: 'tether' };

/** The issue's throughput targets for tether ÷ node:http, here as node:http ÷ tether CPU per request. */
const NODE_TARGET: Readonly<Record<LoadId, number>> = { 'keep-alive': 1.2, pipelined: 3 };
/** tether ÷ baseline CPU per request: within 3% is no regression. */
const BASELINE_TARGET = 1.03;

const USAGE = `usage: node dist/server-shapes.js [options]

  --baseline PATH    also run tether from another build, as "tether-baseline": a git worktree or
                     repository root, its packages/server, or its packages/server/dist (built)
  --runs N           measured runs per shape, load and server; the best (lowest CPU/req) is
                     judged, the median shown beside it (default ${DEFAULT_RUNS}; 1 for a smoke run)
  --duration S       seconds per measured run (default ${DEFAULT_SECONDS}; each follows a ${WARMUP_SECONDS} s warm-up)
  --shapes LIST      comma-separated: ${SHAPE_CHOICES.join(', ')} (default ${DEFAULT_SHAPES.join(',')})
  --loads LIST       comma-separated: ${LOAD_IDS.join(', ')} (default both)
  --servers LIST     comma-separated: tether, node (default both; --baseline adds tether-baseline)
  --json             print one JSON document instead of the tables
  --help             this text

Shapes (the same handler on every server):
${SHAPE_CHOICES.map((id) => `  ${id.padEnd(8)} ${SHAPES[id].code}`).join('\n')}

A baseline build of an earlier commit:
  git worktree add /tmp/tether-base <commit> && cd /tmp/tether-base && pnpm install --frozen-lockfile && pnpm build
  node bench/dist/server-shapes.js --baseline /tmp/tether-base --runs 3
  git worktree remove --force /tmp/tether-base   # when done

Needs wrk (apt-get install -y wrk) and Linux (/proc).`;

interface Options extends RunOptions {
  readonly shapes: readonly ShapeId[];
  readonly servers: readonly ServerId[];
  /** The baseline build's `index.js`. */
  readonly baseline: string | undefined;
}

const fail: (message: string) => never = failer('server-shapes');

function parseOptions(argv: readonly string[]): Options {
  const v = readFlags(argv, USAGE, fail, {
    ...RUN_FLAGS,
    baseline: { type: 'string' },
    shapes: { type: 'string' },
    servers: { type: 'string' },
  });
  const baseline = v.baseline === undefined ? undefined : serverEntry(v.baseline, fail);
  const servers: ServerId[] = v.servers === undefined ? ['tether', 'node'] : parseList(fail, v.servers, ['tether', 'node'] as const, 'servers');
  if (baseline !== undefined) servers.push('baseline');
  return {
    ...runOptions(fail, v),
    shapes: v.shapes === undefined ? DEFAULT_SHAPES : parseList(fail, v.shapes, SHAPE_CHOICES, 'shapes'),
    servers,
    baseline,
  };
}

// ---------------------------------------------------------------------------------------------
// Results.

/** Every run of one shape × load × server. */
interface Cell extends RunCell {
  readonly shape: ShapeId;
  readonly load: LoadId;
  readonly server: ServerId;
}

const key = (shape: ShapeId, load: LoadId, server: ServerId): string => `${shape}|${load}|${server}`;

function renderCells(cells: ReadonlyMap<string, Cell>, opts: Options): string {
  const rows: string[][] = [];
  for (const shape of opts.shapes) {
    for (const load of opts.loads) {
      opts.servers.forEach((id, i) => {
        const c = cells.get(key(shape, load, id))!;
        const head = [i === 0 ? shape : '', i === 0 ? LOAD_TITLE[load] : '', LABEL[id]];
        if (c.failure !== null) {
          rows.push([...head, 'FAILED', '', '', '', '', c.failure]);
          return;
        }
        rows.push([...head, ...figureCells(c), c.runs.map((r) => r.cpuUs.toFixed(2)).join(', ')]);
      });
    }
  }
  return table(
    [
      { title: 'shape', width: 6, right: false },
      { title: 'load', width: 13, right: false },
      { title: 'server', width: 15, right: false },
      ...FIGURE_COLUMNS,
      { title: 'each run, CPU µs/req', width: 20, right: false },
    ],
    rows,
  );
}

/** A ratio of two cells' figures (`f`: a cell's best CPU, or its median req/s), or null. */
function ratio(cells: ReadonlyMap<string, Cell>, shape: ShapeId, load: LoadId, a: ServerId, b: ServerId, f: (cell: Cell | undefined) => number | null): number | null {
  const x = f(cells.get(key(shape, load, a)));
  const y = f(cells.get(key(shape, load, b)));
  return x === null || y === null || y <= 0 ? null : x / y;
}

function renderRatios(cells: ReadonlyMap<string, Cell>, opts: Options): string {
  const node = opts.servers.includes('tether') && opts.servers.includes('node');
  const base = opts.servers.includes('tether') && opts.servers.includes('baseline');
  const rows = opts.shapes.flatMap((shape) =>
    opts.loads.map((load, i) => [
      i === 0 ? shape : '',
      LOAD_TITLE[load],
      ...(node ? [ratioText(ratio(cells, shape, load, 'node', 'tether', bestCpu)), ratioText(ratio(cells, shape, load, 'tether', 'node', medianRate))] : []),
      ...(base ? [ratioText(ratio(cells, shape, load, 'tether', 'baseline', bestCpu)), ratioText(ratio(cells, shape, load, 'tether', 'baseline', medianRate))] : []),
    ]),
  );
  return table(
    [
      { title: 'shape', width: 6, right: false },
      { title: 'load', width: 13, right: false },
      ...(node
        ? [
            { title: 'CPU/req node:http ÷ tether', width: 26, right: true },
            { title: 'req/s tether ÷ node:http', width: 24, right: true },
          ]
        : []),
      ...(base
        ? [
            { title: 'CPU/req tether ÷ baseline', width: 25, right: true },
            { title: 'req/s tether ÷ baseline', width: 23, right: true },
          ]
        : []),
    ],
    rows,
  );
}

interface Target {
  readonly shape: ShapeId;
  readonly load: LoadId;
  readonly versus: 'node' | 'baseline';
  readonly ratio: number;
  readonly atMost: boolean;
}

function verdicts(cells: ReadonlyMap<string, Cell>, opts: Options): Verdict<Target>[] {
  const out: Verdict<Target>[] = [];
  if (!opts.servers.includes('tether')) return out;
  for (const shape of opts.shapes) {
    for (const load of opts.loads) {
      const tether = bestCpu(cells.get(key(shape, load, 'tether')));
      const where = `${shape}, ${LOAD_TITLE[load]}`;
      if (opts.servers.includes('node')) {
        const target: Target = { shape, load, versus: 'node', ratio: NODE_TARGET[load], atMost: false };
        out.push(verdict(target, `${where}: CPU/req node:http ÷ tether`, bestCpu(cells.get(key(shape, load, 'node'))), tether));
      }
      if (opts.servers.includes('baseline')) {
        const target: Target = { shape, load, versus: 'baseline', ratio: BASELINE_TARGET, atMost: true };
        out.push(verdict(target, `${where}: CPU/req tether ÷ baseline`, tether, bestCpu(cells.get(key(shape, load, 'baseline')))));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (skippedWithoutWrk('server-shapes', 'the server benchmark', opts.json)) return;
  const ticksPerSecond = clockTicksPerSecond();
  cpuTicks(process.pid); // fails early where there is no /proc
  const progress = opts.json ? (): void => undefined : (s: string): void => void process.stderr.write(`${s}\n`);
  const started = performance.now();
  const cells = new Map<string, Cell>();
  for (const shape of opts.shapes) for (const load of opts.loads) for (const server of opts.servers) cells.set(key(shape, load, server), { shape, load, server, runs: [], failure: null });
  const count = cells.size * opts.runs;
  progress(`@tether/bench server-shapes: ${opts.shapes.length} shape(s) × ${opts.loads.length} load(s) × ${opts.servers.length} server(s) × ${opts.runs} run(s), ${planText(count, opts, RUN_OVERHEAD_SECONDS)}`);
  if (opts.baseline !== undefined) progress(`  tether-baseline: ${opts.baseline}`);
  const script = writePipelineLua();
  // Round the loads, then the shapes, then the servers.
  const order = opts.loads.flatMap((load) => opts.shapes.flatMap((shape) => opts.servers.map((server) => cells.get(key(shape, load, server))!)));
  const measure = ({ shape, load, server }: Cell): Promise<RunFigures> => {
    const spec = { kind: KIND[server], label: LABEL[server], shape };
    const route = { path: '/', body: SHAPES[shape].body, contentType: SHAPES[shape].contentType };
    return measureRun(server === 'baseline' ? { ...spec, tetherEntry: opts.baseline! } : spec, route, load, opts.seconds, script.path, ticksPerSecond);
  };
  try {
    await runRounds(order, opts.runs, (c) => `${c.shape} ${c.load} ${LABEL[c.server]}`, measure, progress);
  } finally {
    script.remove();
    killAll();
  }

  if ([...cells.values()].some((c) => c.failure !== null)) process.exitCode = 1;
  const list = verdicts(cells, opts);
  const env = { ...loadEnvironment(), clockTicksPerSecond: ticksPerSecond };
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({
      environment: env,
      parameters: { ...runParameters(opts), baseline: opts.baseline ?? null },
      shapes: Object.fromEntries(opts.shapes.map((id) => [id, SHAPES[id].code])),
      results: [...cells.values()].map((c) => ({
        shape: c.shape,
        load: c.load,
        server: LABEL[c.server],
        ok: c.failure === null,
        ...(c.failure === null ? { cpuUsPerRequest: bestCpu(c), cpuUsPerRequestMedian: medianCpu(c), requestsPerSec: medianRate(c), runs: c.runs } : { failure: c.failure }),
      })),
      targets: list.map((v) => ({ shape: v.target.shape, load: v.target.load, versus: v.target.versus, required: v.target.ratio, atMost: v.target.atMost, measured: v.measured, met: v.met })),
      elapsedMs: Math.round(performance.now() - started),
    }, null, 2)}\n`);
    return;
  }
  const lines = [
    '',
    `@tether/server vs node:http by handler shape, server CPU time per request — Node ${env.node}, ${env.platform}, ${env.cores} × ${env.cpu}, ${env.wrk}`,
    methodText(opts),
    ...opts.shapes.map((id) => `  ${id.padEnd(6)} ${SHAPES[id].code}`),
    ...(opts.baseline === undefined ? [] : [`  tether-baseline: ${opts.baseline}`]),
    '',
    renderCells(cells, opts),
    '',
    figuresNote(ticksPerSecond),
  ];
  if (opts.servers.length > 1) lines.push('', renderRatios(cells, opts));
  if (list.length > 0) lines.push('', renderVerdicts(list));
  lines.push(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

killAllOnExit();

main().catch((err: unknown) => {
  killAll();
  fail(err instanceof Error ? (err.stack ?? err.message) : String(err));
});
