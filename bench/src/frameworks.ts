/**
 * Theory of operation: Fastify and Express on @tether/server beside the same app on node:http —
 * the issue's framework targets. Each route (Fastify's "Hello, World!" text route, Fastify's JSON
 * route, Express's `res.send('Hello, World!')`) runs on node:http and on tether, under
 * `wrk -t1 -c50` keep-alive and pipelined ×10, in the same run; the apps are `server-child.ts`'s
 * framework kinds (`fastify` / `fastify-tether`, `express` / `express-tether`), identical but
 * for the server under them.
 *
 * Two figures per cell, measured as `server-shapes.ts` does (both through `cpu-runs.ts`): the
 * server's CPU time per request (utime + stime from `/proc/<pid>/stat` around the measured run,
 * over the responses wrk read: what the server spends on each answer, which other tenants of a
 * shared machine can only add to) and req/s (what the issue states its targets in, but on a shared 2-core machine wrk, the
 * kernel and the neighbours decide how much of a core the server gets). Both ratios — node:http
 * ÷ tether CPU per request (how many times cheaper), tether ÷ node:http req/s — are judged
 * against the route's target.
 *
 * Each run: a fresh child process, one GET of the route checked (status, body, Content-Type), an
 * untimed 1 s warm-up, the measured run. `--runs N` goes round every load × route × server N
 * times; a cell's CPU figure is its best run (lowest CPU per request, median beside it), its
 * req/s the median of its runs (as `server-shapes.ts`, whose header says why).
 *
 * Bounds: only 127.0.0.1; every wrk run is killed after its duration + 20 s, a child that does
 * not listen within 15 s is killed, and every child is killed by PID when the benchmark ends,
 * fails or is interrupted (`server-load.ts`). A run that fails is shown and makes the exit status
 * 1; a target not met is a result. Without wrk the benchmark says how to install it and exits 0.
 */

import { errorText, failer, fmt, parseList, ratioText, readFlags, renderVerdicts, table, verdict } from './cli.js';
import type { RatioTarget, Verdict } from './cli.js';
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
  us,
} from './cpu-runs.js';
import type { LoadId, Route, RunCell, RunFigures, RunOptions } from './cpu-runs.js';
import { HELLO } from './limit-server.js';
import { performance } from 'node:perf_hooks';

import type { ServerKind } from './server-child.js';
import { KEEP_ALIVE_TIMEOUT_MS, WARMUP_SECONDS, clockTicksPerSecond, cpuTicks, killAll, killAllOnExit, loadEnvironment, skippedWithoutWrk, writePipelineLua } from './server-load.js';
import type { LuaScript } from './server-load.js';
import { FASTIFY_JSON_PATH, SHAPES } from './shapes.js';
import type { ShapeId } from './shapes.js';

// ---------------------------------------------------------------------------------------------
// Parameters.

/** Roughly what a run costs beyond its warm-up and measured seconds (start, check, stop). */
const RUN_OVERHEAD_SECONDS = 0.6;

/** Which server is under the framework. */
type Side = 'node' | 'tether';
const SIDES = ['node', 'tether'] as const satisfies readonly Side[];

/** A framework route, on both servers, with the issue's targets for tether ÷ node:http. */
interface FrameworkRoute extends Route {
  readonly title: string;
  /** The child kinds: the app on node:http, and on tether. */
  readonly kinds: Readonly<Record<Side, ServerKind>>;
  /** The child's shape argument (Fastify's `json` adds the JSON route). */
  readonly shape: ShapeId;
  /** What the handler is, for the table's header. */
  readonly code: string;
  readonly target: Readonly<Record<LoadId, number>>;
}

const ROUTE_IDS = ['fastify-hello', 'fastify-json', 'express-hello'] as const;
type RouteId = (typeof ROUTE_IDS)[number];

/** The issue's targets: Fastify ≥ 1.15× keep-alive and ≥ 2.5× pipelined; Express ≥ 1.0× (never slower) and ≥ 1.3×. */
const FASTIFY_TARGET = { 'keep-alive': 1.15, pipelined: 2.5 } as const;
const EXPRESS_TARGET = { 'keep-alive': 1.0, pipelined: 1.3 } as const;

const ROUTES: Readonly<Record<RouteId, FrameworkRoute>> = {
  'fastify-hello': {
    title: 'Fastify hello',
    kinds: { node: 'fastify', tether: 'fastify-tether' },
    shape: 'hello',
    path: '/',
    code: "GET /: reply.header('Content-Type', 'text/plain').send('Hello, World!')",
    body: HELLO,
    contentType: 'text/plain',
    target: FASTIFY_TARGET,
  },
  'fastify-json': {
    title: 'Fastify JSON',
    kinds: { node: 'fastify', tether: 'fastify-tether' },
    shape: 'json',
    path: FASTIFY_JSON_PATH,
    code: `GET ${FASTIFY_JSON_PATH}: reply.send({ hello: 'world', n: 42 }), response schema (fast-json-stringify)`,
    body: SHAPES.json.body,
    contentType: 'application/json; charset=utf-8',
    target: FASTIFY_TARGET,
  },
  'express-hello': {
    title: 'Express hello',
    kinds: { node: 'express', tether: 'express-tether' },
    shape: 'hello',
    path: '/',
    code: "GET /: res.send('Hello, World!') (Express defaults: text/html, ETag, X-Powered-By)",
    body: HELLO,
    contentType: 'text/html; charset=utf-8',
    target: EXPRESS_TARGET,
  },
};

/** `--only` also takes a framework's name for all its routes. */
const ROUTE_ALIASES: Readonly<Record<string, readonly RouteId[]>> = {
  fastify: ['fastify-hello', 'fastify-json'],
  express: ['express-hello'],
};

const USAGE = `usage: node dist/frameworks.js [options]

  --runs N           measured runs per route, load and server; the best (lowest CPU/req) is
                     judged, the median shown beside it (default ${DEFAULT_RUNS}; 1 for a smoke run)
  --duration S       seconds per measured run (default ${DEFAULT_SECONDS}; each follows a ${WARMUP_SECONDS} s warm-up)
  --only LIST        comma-separated routes: ${ROUTE_IDS.join(', ')}, or fastify, express (default all)
  --loads LIST       comma-separated: ${LOAD_IDS.join(', ')} (default both)
  --json             print one JSON document instead of the tables
  --help             this text

Routes, each on node:http and on tether (server-child.js kinds):
${ROUTE_IDS.map((id) => `  ${id.padEnd(14)} ${ROUTES[id].kinds.node} / ${ROUTES[id].kinds.tether}: ${ROUTES[id].code}`).join('\n')}

Profile one side by hand (Ctrl-C writes the profile):
  node --cpu-prof --cpu-prof-dir=/tmp/prof bench/dist/server-child.js express-tether 5000 hello
  wrk -t1 -c50 -d10s http://127.0.0.1:<PORT>/

Needs wrk (apt-get install -y wrk) and Linux (/proc).`;

interface Options extends RunOptions {
  readonly routes: readonly RouteId[];
}

const fail: (message: string) => never = failer('frameworks');

function parseOptions(argv: readonly string[]): Options {
  const v = readFlags(argv, USAGE, fail, { ...RUN_FLAGS, only: { type: 'string' } });
  return {
    ...runOptions(fail, v),
    routes: v.only === undefined ? ROUTE_IDS : parseList(fail, v.only, ROUTE_IDS, 'only', ROUTE_ALIASES),
  };
}

// ---------------------------------------------------------------------------------------------
// Results.

/** Every run of one route × load × side. */
interface Cell extends RunCell {
  readonly route: RouteId;
  readonly load: LoadId;
  readonly side: Side;
}

const key = (route: RouteId, load: LoadId, side: Side): string => `${route}|${load}|${side}`;

function renderCells(cells: ReadonlyMap<string, Cell>, opts: Options): string {
  const rows: string[][] = [];
  for (const route of opts.routes) {
    for (const load of opts.loads) {
      SIDES.forEach((side, i) => {
        const c = cells.get(key(route, load, side))!;
        const head = [i === 0 ? ROUTES[route].title : '', i === 0 ? LOAD_TITLE[load] : '', ROUTES[route].kinds[side]];
        if (c.failure !== null) {
          rows.push([...head, 'FAILED', '', '', '', '', '', c.failure]);
          return;
        }
        rows.push([...head, ...figureCells(c), c.runs.map((r) => `${r.cpuUs.toFixed(2)} (${fmt(r.requestsPerSec / 1000, 1)}k)`).join(', ')]);
      });
    }
  }
  return table(
    [
      { title: 'route', width: 13, right: false },
      { title: 'load', width: 13, right: false },
      { title: 'server', width: 14, right: false },
      ...FIGURE_COLUMNS,
      { title: 'each run, CPU µs/req (req/s)', width: 28, right: false },
    ],
    rows,
  );
}

/** A route's target for one load and one figure. */
interface Target extends RatioTarget {
  readonly route: RouteId;
  readonly load: LoadId;
  /** `cpu`: node:http ÷ tether CPU per request (best runs); `rate`: tether ÷ node:http req/s (medians). */
  readonly figure: 'cpu' | 'rate';
}

/** Both verdicts of one route and load: CPU per request, then req/s. */
function judge(cells: ReadonlyMap<string, Cell>, route: RouteId, load: LoadId): [Verdict<Target>, Verdict<Target>] {
  const node = cells.get(key(route, load, 'node'));
  const tether = cells.get(key(route, load, 'tether'));
  const ratio = ROUTES[route].target[load];
  const where = `${ROUTES[route].title}, ${LOAD_TITLE[load]}`;
  return [
    verdict<Target>({ route, load, figure: 'cpu', ratio }, `${where}: CPU/req node:http ÷ tether`, bestCpu(node), bestCpu(tether)),
    verdict<Target>({ route, load, figure: 'rate', ratio }, `${where}: req/s tether ÷ node:http`, medianRate(tether), medianRate(node)),
  ];
}

const metText = (v: Verdict<RatioTarget>): string => (v.met === null ? 'NOT MEASURED' : v.met ? 'MET' : 'NOT MET');

/** The headline: per route and load, both servers' figures, both ratios, each against the target. */
function renderSummary(cells: ReadonlyMap<string, Cell>, opts: Options): string {
  const rows = opts.routes.flatMap((route) =>
    opts.loads.map((load, i) => {
      const node = cells.get(key(route, load, 'node'));
      const tether = cells.get(key(route, load, 'tether'));
      const [cpu, rate] = judge(cells, route, load);
      const rateOf = (c: Cell | undefined): string => {
        const r = medianRate(c);
        return r === null ? '–' : fmt(r);
      };
      return [
        i === 0 ? ROUTES[route].title : '',
        LOAD_TITLE[load],
        us(bestCpu(node)),
        us(bestCpu(tether)),
        ratioText(cpu.measured),
        rateOf(node),
        rateOf(tether),
        ratioText(rate.measured),
        `≥ ${ROUTES[route].target[load].toFixed(2)}×`,
        `${metText(cpu)} / ${metText(rate)}`,
      ];
    }),
  );
  return table(
    [
      { title: 'route', width: 13, right: false },
      { title: 'load', width: 13, right: false },
      { title: 'node:http µs/req', width: 16, right: true },
      { title: 'tether µs/req', width: 13, right: true },
      { title: 'node ÷ tether', width: 13, right: true },
      { title: 'node:http req/s', width: 15, right: true },
      { title: 'tether req/s', width: 12, right: true },
      { title: 'tether ÷ node', width: 13, right: true },
      { title: 'target', width: 7, right: true },
      { title: 'CPU / req/s', width: 17, right: false },
    ],
    rows,
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (skippedWithoutWrk('frameworks', 'the framework benchmark', opts.json)) return;
  const ticksPerSecond = clockTicksPerSecond();
  cpuTicks(process.pid); // fails early where there is no /proc
  const progress = opts.json ? (): void => undefined : (s: string): void => void process.stderr.write(`${s}\n`);
  const started = performance.now();
  const cells = new Map<string, Cell>();
  for (const route of opts.routes) for (const load of opts.loads) for (const side of SIDES) cells.set(key(route, load, side), { route, load, side, runs: [], failure: null });
  const count = cells.size * opts.runs;
  progress(`@tether/bench frameworks: ${opts.routes.length} route(s) × ${opts.loads.length} load(s) × ${SIDES.length} servers × ${opts.runs} run(s), ${planText(count, opts, RUN_OVERHEAD_SECONDS)}`);
  // One pipelining script per route path.
  const scripts = new Map<string, LuaScript>();
  for (const id of opts.routes) if (!scripts.has(ROUTES[id].path)) scripts.set(ROUTES[id].path, writePipelineLua(ROUTES[id].path));
  // Round the loads, then the routes, then the sides.
  const order = opts.loads.flatMap((load) => opts.routes.flatMap((route) => SIDES.map((side) => cells.get(key(route, load, side))!)));
  const measure = ({ route, load, side }: Cell): Promise<RunFigures> => {
    const r = ROUTES[route];
    return measureRun({ kind: r.kinds[side], label: r.kinds[side], shape: r.shape }, r, load, opts.seconds, scripts.get(r.path)!.path, ticksPerSecond);
  };
  try {
    await runRounds(order, opts.runs, (c) => `${c.route} ${c.load} ${ROUTES[c.route].kinds[c.side]}`, measure, progress);
  } finally {
    for (const script of scripts.values()) script.remove();
    killAll();
  }

  if ([...cells.values()].some((c) => c.failure !== null)) process.exitCode = 1;
  const list = opts.routes.flatMap((route) => opts.loads.flatMap((load) => judge(cells, route, load)));
  const env = { ...loadEnvironment(), clockTicksPerSecond: ticksPerSecond };
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({
      environment: env,
      parameters: { ...runParameters(opts), keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS },
      routes: Object.fromEntries(opts.routes.map((id) => [id, { kinds: ROUTES[id].kinds, path: ROUTES[id].path, code: ROUTES[id].code, target: ROUTES[id].target }])),
      results: [...cells.values()].map((c) => ({
        route: c.route,
        load: c.load,
        server: ROUTES[c.route].kinds[c.side],
        ok: c.failure === null,
        ...(c.failure === null ? { cpuUsPerRequest: bestCpu(c), cpuUsPerRequestMedian: medianCpu(c), requestsPerSec: medianRate(c), runs: c.runs } : { failure: c.failure }),
      })),
      targets: list.map((v) => ({ route: v.target.route, load: v.target.load, figure: v.target.figure, required: v.target.ratio, measured: v.measured, met: v.met })),
      elapsedMs: Math.round(performance.now() - started),
    }, null, 2)}\n`);
    return;
  }
  const lines = [
    '',
    `Fastify and Express on @tether/server beside node:http, server CPU time per request — Node ${env.node}, ${env.platform}, ${env.cores} × ${env.cpu}, ${env.wrk}`,
    `${methodText(opts)}; keepAliveTimeout ${KEEP_ALIVE_TIMEOUT_MS} ms`,
    ...opts.routes.map((id) => `  ${ROUTES[id].title.padEnd(13)} ${ROUTES[id].code}`),
    '',
    renderCells(cells, opts),
    '',
    figuresNote(ticksPerSecond),
    '',
    renderSummary(cells, opts),
    '',
    renderVerdicts(list),
    `(${((performance.now() - started) / 1000).toFixed(1)} s)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

killAllOnExit();

main().catch((err: unknown) => {
  killAll();
  fail(errorText(err));
});
