/**
 * Theory of operation: the server benchmark that `pnpm bench` runs after the protocol one. It
 * puts @tether/server, node:http, Fastify 5 and a "limit" server (raw node:net, one pre-built
 * response per request terminator: the most any Node server can do) under the same load from
 * wrk, and prints requests per second, latency, and tether's ratios against node:http and the
 * limit next to the issue's targets. `--servers` also takes `server-child.ts`'s framework kinds
 * (`fastify-tether`, `express`, `express-tether`: an idle Express connection on tether against one
 * on node:http, say); they are not run by default, and no target names them.
 *
 * Every server runs alone in its own child process (`server-child.ts`), a fresh one for every
 * run, so no run inherits another's heap, JIT state or connections; wrk (C, one thread) gets the
 * other core. `--runs N` measures each scenario N times per server, going round the servers in
 * turn (background load that drifts hits all of them alike), and reports the median run. Scenarios, each `wrk -t1 -c50 -d5s --latency` (`--quick`: -d2s), after
 * an untimed 1 s warm-up run against the same child:
 * 1. `keep-alive`: one request at a time per connection, connections kept open.
 * 2. `pipelined`: 10 requests per write per connection (wrk's pipeline.lua pattern, written to
 *    a temporary file at run time). wrk records one latency per batch of 10, not per request.
 * 3. `close`: `Connection: close` on every request, so every request pays a TCP handshake.
 * 4. `memory`: N idle keep-alive connections (10,000; `--quick`: 1,000) opened from this process
 *    in batches, each having sent one request and read its answer; the child reports its RSS
 *    (after two full collections) before and after; the difference over N is the cost of one
 *    idle connection. Servers run with a 10-minute keep-alive timeout here, so none closes an
 *    idle connection while the others are being opened.
 *
 * Fairness rules: every server answers GET / with the same 13-byte body "Hello, World!" (checked
 * before loading it) and `Content-Type: text/plain` (the limit: Content-Length only), keep-alive
 * timeout 5 s, otherwise its defaults — for tether that includes `keepAliveMax` 1000 (node:http
 * and Fastify set no limit), so wrk reconnects every 1,000 responses.
 *
 * Bounds: every wrk run is killed after its duration + 20 s, a child that does not listen within
 * 15 s is killed, the memory scenario gives up after 2 minutes, and every child process (servers
 * and wrk) is killed by PID when the benchmark ends, fails, or is interrupted. wrk missing is not
 * a failure: the benchmark says how to install it and exits 0 (CI does not run benchmarks). A
 * server that crashes or a run that fails is reported in the table and makes the exit status 1;
 * a target not met is a result, not a failure.
 */

import { errorText, failer, fmt, integerFlag, parseList, ratioText, readFlags, renderVerdicts, table, verdict } from './cli.js';
import type { Verdict } from './cli.js';
import { HELLO } from './limit-server.js';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

import type { ServerKind } from './server-child.js';
import {
  KEEP_ALIVE_TIMEOUT_MS,
  PIPELINE_DEPTH,
  WARMUP_SECONDS,
  WRK_CONNECTIONS,
  WRK_THREADS,
  checkGet,
  killAll,
  killAllOnExit,
  loadEnvironment,
  parseWrk,
  runWrk,
  skippedWithoutWrk,
  startServer,
  writePipelineLua,
} from './server-load.js';
import type { MemoryReport, ServerChild, WrkNumbers } from './server-load.js';

// ---------------------------------------------------------------------------------------------
// Parameters.

/** Seconds per measured wrk run: the issue's figure. */
const FULL_SECONDS = 5;
/** `--quick`: a smoke run. */
const QUICK_SECONDS = 2;
/** Idle connections in the memory scenario: the issue's figure. */
const FULL_IDLE = 10_000;
const QUICK_IDLE = 1_000;
/** In the memory scenario: longer than opening and measuring N connections can take. */
const MEMORY_KEEP_ALIVE_TIMEOUT_MS = 600_000;
/** Connections opened at once in the memory scenario: below node's default listen backlog (511). */
const CONNECT_BATCH = 500;
/** Descriptors each process needs beyond the idle connections (stdio, IPC, listeners, libuv). */
const FD_MARGIN = 256;
const MEMORY_DEADLINE_MS = 120_000;
/** One idle connection waits at most this for its answer. */
const IDLE_REQUEST_TIMEOUT_MS = 10_000;

/** The servers run by default: the issue's four. */
const DEFAULT_SERVERS = ['tether', 'node', 'fastify', 'limit'] as const satisfies readonly ServerKind[];
/** Every server `--servers` takes: the frameworks on tether and Express too (`frameworks.ts` compares those under load). */
const SERVER_KINDS = ['tether', 'node', 'fastify', 'limit', 'fastify-tether', 'express', 'express-tether'] as const satisfies readonly ServerKind[];
const LABEL: Readonly<Record<ServerKind, string>> = {
  tether: 'tether',
  node: 'node:http',
  fastify: 'fastify',
  limit: 'limit',
  'fastify-tether': 'fastify-tether',
  express: 'express',
  'express-tether': 'express-tether',
};

const SCENARIO_IDS = ['keep-alive', 'pipelined', 'close', 'memory'] as const;
type ScenarioId = (typeof SCENARIO_IDS)[number];
type LoadScenarioId = Exclude<ScenarioId, 'memory'>;

const LOAD_SCENARIOS: Readonly<Record<LoadScenarioId, { readonly title: string; readonly wrkArgs: (luaScript: string) => readonly string[] }>> = {
  'keep-alive': { title: 'keep-alive', wrkArgs: () => [] },
  pipelined: { title: `pipelined ×${PIPELINE_DEPTH}`, wrkArgs: (lua) => ['-s', lua] },
  close: { title: 'Connection: close', wrkArgs: () => ['-H', 'Connection: close'] },
};

/** The issue's targets, all for tether. */
interface Target {
  readonly scenario: ScenarioId;
  /** Whom tether is compared with. */
  readonly versus: 'node' | 'limit';
  /** Throughput: tether ÷ versus must be ≥ this. Memory: tether ÷ versus (bytes per connection) must be ≤ this. */
  readonly ratio: number;
  readonly atMost: boolean;
}

const TARGETS: readonly Target[] = [
  { scenario: 'keep-alive', versus: 'node', ratio: 1.2, atMost: false },
  { scenario: 'keep-alive', versus: 'limit', ratio: 0.7, atMost: false },
  { scenario: 'pipelined', versus: 'node', ratio: 3, atMost: false },
  { scenario: 'pipelined', versus: 'limit', ratio: 0.3, atMost: false },
  { scenario: 'close', versus: 'node', ratio: 1, atMost: false },
  { scenario: 'memory', versus: 'node', ratio: 1, atMost: true },
];

const USAGE = `usage: node dist/server.js [options]

  --quick            ${QUICK_SECONDS} s per wrk run instead of ${FULL_SECONDS} s, ${QUICK_IDLE.toLocaleString('en-US')} idle connections instead of ${FULL_IDLE.toLocaleString('en-US')}
  --json             print one JSON document instead of the table
  --only LIST        scenarios to run, comma-separated: ${SCENARIO_IDS.join(', ')}
  --servers LIST     servers to run, comma-separated: ${SERVER_KINDS.join(', ')}
                     (default ${DEFAULT_SERVERS.join(',')}; ratios need tether, node, limit)
  --runs N           measured runs per scenario and server, median reported (default 1); rounds
                     go through every server in turn, so drifting background load hits all alike
  --help             this text

Needs wrk (apt-get install -y wrk). The memory scenario needs \`ulimit -n\` above the idle
connection count (both this process and the server child hold one descriptor per connection).`;

interface Options {
  readonly quick: boolean;
  readonly seconds: number;
  readonly idle: number;
  readonly json: boolean;
  readonly runs: number;
  readonly scenarios: readonly ScenarioId[];
  readonly servers: readonly ServerKind[];
}

const fail: (message: string) => never = failer('server');

function parseOptions(argv: readonly string[]): Options {
  const v = readFlags(argv, USAGE, fail, {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    servers: { type: 'string' },
    runs: { type: 'string' },
  });
  const quick = v.quick === true;
  const runs = integerFlag(fail, v.runs, 1, 'runs');
  return {
    quick,
    seconds: quick ? QUICK_SECONDS : FULL_SECONDS,
    idle: quick ? QUICK_IDLE : FULL_IDLE,
    json: v.json === true,
    runs,
    scenarios: v.only === undefined ? SCENARIO_IDS : parseList(fail, v.only, SCENARIO_IDS, 'only'),
    servers: v.servers === undefined ? DEFAULT_SERVERS : parseList(fail, v.servers, SERVER_KINDS, 'servers'),
  };
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

/**
 * One scenario on one server: the run with the median req/s (its latencies with it), wrk's
 * error counts summed over all runs, and every run's req/s.
 */
type LoadResult =
  | ({ readonly scenario: LoadScenarioId; readonly server: ServerKind; readonly ok: true; readonly runsPerSec: readonly number[] } & WrkNumbers)
  | { readonly scenario: LoadScenarioId; readonly server: ServerKind; readonly ok: false; readonly failure: string };

type MemoryResult =
  | {
      readonly scenario: 'memory';
      readonly server: ServerKind;
      readonly ok: true;
      readonly connections: number;
      /** Connections the server counted as open when measured. */
      readonly serverOpen: number;
      /** Our sockets still open when measured (a server that closed some shows here). */
      readonly clientOpen: number;
      readonly before: MemoryReport;
      readonly after: MemoryReport;
      readonly rssPerConnection: number;
      /** JS heap + external (Buffers) per connection. */
      readonly heapPerConnection: number;
    }
  | { readonly scenario: 'memory'; readonly server: ServerKind; readonly ok: false; readonly failure: string };


/** The run with the median req/s (the lower middle one for an even count), errors summed over all. */
function combineRuns(scenario: LoadScenarioId, kind: ServerKind, runs: readonly WrkNumbers[]): LoadResult {
  const sorted = [...runs].sort((a, b) => a.requestsPerSec - b.requestsPerSec);
  const mid = sorted[(sorted.length - 1) >> 1]!;
  const sum = (f: (r: WrkNumbers) => number): number => runs.reduce((acc, r) => acc + f(r), 0);
  return {
    scenario,
    server: kind,
    ok: true,
    ...mid,
    socketErrors: {
      connect: sum((r) => r.socketErrors.connect),
      read: sum((r) => r.socketErrors.read),
      write: sum((r) => r.socketErrors.write),
      timeout: sum((r) => r.socketErrors.timeout),
    },
    non2xx: sum((r) => r.non2xx),
    runsPerSec: runs.map((r) => r.requestsPerSec),
  };
}

async function runLoad(scenario: LoadScenarioId, kind: ServerKind, opts: Options, lua: string): Promise<WrkNumbers | { failure: string }> {
  let server: ServerChild | undefined;
  try {
    server = await startServer({ kind, label: LABEL[kind], keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
    await checkGet(server.port, HELLO);
    const url = `http://127.0.0.1:${server.port}/`;
    const base = ['-t', String(WRK_THREADS), '-c', String(WRK_CONNECTIONS), ...LOAD_SCENARIOS[scenario].wrkArgs(lua)];
    await runWrk([...base, '-d', `${WARMUP_SECONDS}s`, url], WARMUP_SECONDS);
    if (server.crashed() !== null) throw new Error(`${LABEL[kind]} server crashed during the warm-up: ${server.crashed()}`);
    const { out } = await runWrk([...base, '-d', `${opts.seconds}s`, '--latency', url], opts.seconds);
    // Let an exit caused by the run's last bytes arrive before deciding it did not crash.
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (server.crashed() !== null) throw new Error(`${LABEL[kind]} server crashed under load: ${server.crashed()}`);
    return parseWrk(out);
  } catch (err) {
    return { failure: errorText(err) };
  } finally {
    await server?.stop();
  }
}

const IDLE_REQUEST = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

/** Open one connection, send one request, resolve once its answer is read; the socket stays open. */
function openIdle(port: number, sockets: net.Socket[], closed: { count: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    sockets.push(socket);
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no answer to an idle connection's request in ${IDLE_REQUEST_TIMEOUT_MS} ms`)), IDLE_REQUEST_TIMEOUT_MS);
    socket.setEncoding('latin1');
    socket.once('connect', () => socket.write(IDLE_REQUEST));
    const onData = (chunk: string): void => {
      got += chunk;
      if (!got.endsWith(HELLO)) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve();
    };
    socket.on('data', onData);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('close', () => closed.count++);
  });
}

async function runMemory(kind: ServerKind, count: number): Promise<MemoryResult> {
  let server: ServerChild | undefined;
  const sockets: net.Socket[] = [];
  const closed = { count: 0 };
  try {
    server = await startServer({ kind, label: LABEL[kind], keepAliveTimeout: MEMORY_KEEP_ALIVE_TIMEOUT_MS });
    await checkGet(server.port, HELLO);
    const before = await server.memory();
    const deadline = performance.now() + MEMORY_DEADLINE_MS;
    for (let opened = 0; opened < count; opened += CONNECT_BATCH) {
      const n = Math.min(CONNECT_BATCH, count - opened);
      const port = server.port;
      await Promise.all(Array.from({ length: n }, () => openIdle(port, sockets, closed)));
      if (performance.now() > deadline) throw new Error(`opening ${count} connections took over ${MEMORY_DEADLINE_MS} ms`);
      if (server.crashed() !== null) break;
    }
    // Let the server finish whatever follows a response (timers, bookkeeping) before measuring.
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (server.crashed() !== null) throw new Error(`${LABEL[kind]} server crashed while connections were opened: ${server.crashed()}`);
    const after = await server.memory();
    return {
      scenario: 'memory',
      server: kind,
      ok: true,
      connections: count,
      serverOpen: after.connections,
      clientOpen: count - closed.count,
      before,
      after,
      rssPerConnection: (after.rss - before.rss) / count,
      heapPerConnection: (after.heapUsed + after.external - before.heapUsed - before.external) / count,
    };
  } catch (err) {
    return { scenario: 'memory', server: kind, ok: false, failure: errorText(err) };
  } finally {
    for (const socket of sockets) socket.destroy();
    await server?.stop();
  }
}

/** The soft limit on open descriptors (`ulimit -n`), which the children inherit. */
function openFileLimit(): number {
  try {
    const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
  } catch {
    return Number.NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// Verdicts and output.

function throughput(results: readonly LoadResult[], scenario: ScenarioId, kind: ServerKind): number | null {
  const r = results.find((x) => x.scenario === scenario && x.server === kind);
  return r?.ok === true ? r.requestsPerSec : null;
}

function perConnection(results: readonly MemoryResult[], kind: ServerKind): number | null {
  const r = results.find((x) => x.server === kind);
  return r?.ok === true ? r.rssPerConnection : null;
}

function verdicts(load: readonly LoadResult[], memory: readonly MemoryResult[], opts: Options): Verdict<Target>[] {
  return TARGETS.filter((t) => opts.scenarios.includes(t.scenario)).map((target) => {
    const memoryTarget = target.scenario === 'memory';
    const title = memoryTarget ? 'memory per idle connection' : LOAD_SCENARIOS[target.scenario].title;
    const label = `${title}: ${memoryTarget ? 'RSS/conn' : 'req/s'} tether ÷ ${LABEL[target.versus]}`;
    return target.scenario === 'memory'
      ? verdict(target, label, perConnection(memory, 'tether'), perConnection(memory, target.versus))
      : verdict(target, label, throughput(load, target.scenario, 'tether'), throughput(load, target.scenario, target.versus));
  });
}

const ms = (n: number): string => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : fmt(n));
/** wrk's p99, or `?` when wrk printed one below its p90 (see {@link WrkNumbers.raw}). */
const p99Text = (r: WrkNumbers): string => (r.raw === undefined ? ms(r.latencyMs.p99) : '?');
const kib = (bytes: number): string => `${fmt(bytes / 1024, 2)} KiB`;
const mib = (bytes: number): string => `${fmt(bytes / 1024 / 1024, 1)} MiB`;

function errorsText(r: WrkNumbers): string {
  const parts = Object.entries(r.socketErrors).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${fmt(n)}`);
  if (r.non2xx > 0) parts.push(`non-2xx ${fmt(r.non2xx)}`);
  return parts.length === 0 ? '0' : parts.join(', ');
}

/** The server column: as wide as the longest label run. */
const serverWidth = (opts: Options): number => Math.max(9, ...opts.servers.map((kind) => LABEL[kind].length));

function renderLoad(results: readonly LoadResult[], opts: Options): string {
  const rows: string[][] = [];
  for (const scenario of opts.scenarios) {
    if (scenario === 'memory') continue;
    const node = throughput(results, scenario, 'node');
    const limit = throughput(results, scenario, 'limit');
    opts.servers.forEach((kind, i) => {
      const r = results.find((x) => x.scenario === scenario && x.server === kind);
      const title = i === 0 ? LOAD_SCENARIOS[scenario].title : '';
      if (r === undefined) return;
      if (!r.ok) {
        rows.push([title, LABEL[kind], 'FAILED', '', '', '', '', r.failure.split('\n')[0]!.slice(0, 100)]);
        return;
      }
      rows.push([
        title,
        LABEL[kind],
        fmt(r.requestsPerSec),
        ms(r.latencyMs.p50),
        p99Text(r),
        node === null ? '–' : ratioText(r.requestsPerSec / node),
        limit === null ? '–' : ratioText(r.requestsPerSec / limit),
        errorsText(r),
        ...(opts.runs > 1 ? [r.runsPerSec.map((x) => fmt(x / 1000, 1)).join(', ')] : []),
      ]);
    });
  }
  return table(
    [
      { title: 'scenario', width: 17, right: false },
      { title: 'server', width: serverWidth(opts), right: false },
      { title: 'req/s', width: 9, right: true },
      { title: 'p50 ms', width: 7, right: true },
      { title: 'p99 ms', width: 7, right: true },
      { title: '÷ node:http', width: 11, right: true },
      { title: '÷ limit', width: 7, right: true },
      { title: 'wrk errors', width: 10, right: false },
      ...(opts.runs > 1 ? [{ title: 'each run, k req/s', width: 17, right: false }] : []),
    ],
    rows,
  );
}

function renderMemory(results: readonly MemoryResult[], opts: Options): string {
  const node = perConnection(results, 'node');
  const rows = opts.servers.map((kind) => {
    const r = results.find((x) => x.server === kind);
    if (r === undefined) return [LABEL[kind], '–'];
    if (!r.ok) return [LABEL[kind], 'FAILED', '', '', '', '', '', r.failure.split('\n')[0]!.slice(0, 100)];
    return [
      LABEL[kind],
      mib(r.before.rss),
      mib(r.after.rss),
      kib(r.rssPerConnection),
      node === null ? '–' : ratioText(r.rssPerConnection / node),
      kib(r.heapPerConnection),
      `${fmt(r.serverOpen)} / ${fmt(r.clientOpen)}`,
    ];
  });
  return table(
    [
      { title: 'server', width: serverWidth(opts), right: false },
      { title: 'RSS before', width: 10, right: true },
      { title: 'RSS after', width: 10, right: true },
      { title: 'RSS/conn', width: 10, right: true },
      { title: '÷ node:http', width: 11, right: true },
      { title: 'heap+ext/conn', width: 13, right: true },
      { title: 'open server/client', width: 18, right: true },
    ],
    rows,
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (skippedWithoutWrk('server', 'the server benchmark', opts.json)) return;
  const progress = opts.json ? (): void => undefined : (s: string): void => void process.stderr.write(`${s}\n`);
  const started = performance.now();
  const script = writePipelineLua();
  const lua = script.path;
  const load: LoadResult[] = [];
  const memory: MemoryResult[] = [];
  const notes: string[] = [];
  let idle = opts.idle;
  try {
    const loadScenarios = opts.scenarios.filter((s): s is LoadScenarioId => s !== 'memory');
    progress(
      `@tether/bench server: ${loadScenarios.length} load scenario(s) × ${opts.servers.length} server(s), wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS} -d${opts.seconds}s after a ${WARMUP_SECONDS} s warm-up each…`,
    );
    for (const scenario of loadScenarios) {
      const runs = new Map<ServerKind, WrkNumbers[]>(opts.servers.map((kind) => [kind, []]));
      const failures = new Map<ServerKind, string>();
      for (let round = 1; round <= opts.runs; round++) {
        for (const kind of opts.servers) {
          if (failures.has(kind)) continue;
          const r = await runLoad(scenario, kind, opts, lua);
          const tag = `  ${scenario} ${LABEL[kind]}${opts.runs > 1 ? ` (run ${round}/${opts.runs})` : ''}`;
          if ('failure' in r) {
            failures.set(kind, r.failure);
            progress(`${tag}: FAILED ${r.failure}`);
          } else {
            runs.get(kind)!.push(r);
            progress(`${tag}: ${fmt(r.requestsPerSec)} req/s, p99 ${p99Text(r)} ms, errors ${errorsText(r)}`);
          }
        }
      }
      for (const kind of opts.servers) {
        const failure = failures.get(kind);
        load.push(failure === undefined ? combineRuns(scenario, kind, runs.get(kind)!) : { scenario, server: kind, ok: false, failure });
      }
    }
    if (opts.scenarios.includes('memory')) {
      const limit = openFileLimit();
      if (!(limit >= idle + FD_MARGIN)) {
        const fits = Number.isFinite(limit) ? Math.floor((limit - FD_MARGIN) / 1000) * 1000 : 0;
        notes.push(
          `ulimit -n is ${String(limit)}: too low for ${fmt(idle)} idle connections; ${fits >= 1000 ? `measured ${fmt(fits)} instead` : 'memory scenario skipped'}. Raise it (ulimit -n 65536) for the full figure.`,
        );
        idle = fits;
      }
      if (idle >= 1000) {
        progress(`  memory: ${fmt(idle)} idle keep-alive connections per server…`);
        for (const kind of opts.servers) {
          const r = await runMemory(kind, idle);
          memory.push(r);
          progress(r.ok ? `  memory ${LABEL[kind]}: ${kib(r.rssPerConnection)} RSS per connection` : `  memory ${LABEL[kind]}: FAILED ${r.failure}`);
        }
      }
    }
  } finally {
    script.remove();
    killAll();
  }

  const list = verdicts(load, memory, opts);
  const env = loadEnvironment();
  // A server that crashed or a run that failed is a failure of the benchmark; a target not met is a result.
  if ([...load, ...memory].some((r) => !r.ok)) process.exitCode = 1;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({
      environment: env,
      parameters: {
        seconds: opts.seconds,
        runs: opts.runs,
        warmupSeconds: WARMUP_SECONDS,
        wrkThreads: WRK_THREADS,
        wrkConnections: WRK_CONNECTIONS,
        pipelineDepth: PIPELINE_DEPTH,
        idleConnections: idle,
        keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
        memoryKeepAliveTimeoutMs: MEMORY_KEEP_ALIVE_TIMEOUT_MS,
      },
      load,
      memory,
      targets: list.map((v) => ({ scenario: v.target.scenario, versus: v.target.versus, required: v.target.ratio, atMost: v.target.atMost, measured: v.measured, met: v.met })),
      notes,
      elapsedMs: Math.round(performance.now() - started),
    }, null, 2)}\n`);
    return;
  }
  const lines = [
    '',
    `@tether/server vs node:http, Fastify and a raw node:net limit — Node ${env.node}, ${env.platform}, ${env.cores} × ${env.cpu}, ${env.wrk}`,
    `wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS} -d${opts.seconds}s --latency, after a ${WARMUP_SECONDS} s warm-up; ${opts.runs > 1 ? `median of ${opts.runs} runs (the median run's latencies, errors summed); ` : ''}each server alone in a fresh child process per run; GET / → 13-byte "Hello, World!"`,
  ];
  if (load.length > 0) {
    lines.push('', renderLoad(load, opts), '');
    lines.push(`÷ columns: that server's req/s over node:http's and over the limit's. Pipelined p50/p99 are per batch of ${PIPELINE_DEPTH} (wrk times a batch).`);
    if (load.some((r) => r.ok && r.raw !== undefined)) lines.push('p99 ?: wrk printed a 99th percentile below its 90th (a wrk histogram quirk); its output is in --json.');
    lines.push('tether runs with its defaults (keepAliveMax 1000: wrk reconnects every 1,000 responses); the others have no per-connection limit.');
  }
  if (memory.length > 0) {
    lines.push('', `memory: ${fmt(idle)} idle keep-alive connections, each after one request; RSS of the server process after two full gcs, before and after`, '');
    lines.push(renderMemory(memory, opts));
  }
  if (list.length > 0) lines.push('', renderVerdicts(list));
  for (const note of notes) lines.push('', `note: ${note}`);
  lines.push(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

killAllOnExit();

main().catch((err: unknown) => {
  killAll();
  fail(err instanceof Error ? (err.stack ?? err.message) : String(err));
});
