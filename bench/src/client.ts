/**
 * Theory of operation: the client benchmark that `pnpm bench` runs after the server one. It
 * puts @tether/client's Pool, undici's Pool, node:http with a keep-alive `http.Agent` and
 * node:http with `agent: false` (a new connection per request) against the same target, in
 * the same process, and prints requests per second and tether's ratios next to the issue's
 * targets.
 *
 * The target must never be the bottleneck, so it is not an HTTP server but the limit server
 * (`limit-server.ts`: raw node:net, one pre-built response with a 13-byte body per request
 * terminator, one write per read), alone in a child process (`client-target.ts`) on the other
 * core. A "limit" client — raw node:net, pre-built requests, responses counted by their fixed
 * length, no promises — runs with every scenario's shape, to show how far above the clients
 * the target is.
 *
 * Scenarios (the issue's), each client issuing N GETs (20,000; `--quick`: 5,000), a fixed
 * number of them outstanding, reading every body and checking it:
 * 1. `pipelined`: 1 connection, pipelining 10; 10 outstanding. tether and undici Pools with
 *    `{ connections: 1, pipelining: 10 }`.
 * 2. `connections`: 6 connections, no pipelining; 12 outstanding (two per connection, so a
 *    request is always waiting when a connection frees up and what is measured is the client,
 *    not this loop's turnaround). tether and undici Pools with `{ connections: 6, pipelining: 1 }`,
 *    `http.Agent({ keepAlive: true, maxSockets: 6 })`, and `agent: false` with 6 outstanding
 *    (every request in flight is a connection).
 *
 * Every client gets one untimed warm-up run, then `--runs N` (3) measured runs, going round the
 * clients in turn (tether, undici, agent, …, tether, undici, …) so drifting background load hits
 * them alike; the median run is reported. Every run uses a fresh pool or agent (its handshakes
 * are timed: one or six, against thousands of requests) and closes it untimed. The target's
 * counters are read before and after every measured run: the connections it accepted, the
 * requests it answered and how many arrived per read show what each client put on the wire,
 * and the CPU time the target and this process used show which of them was the bottleneck.
 *
 * Bounds: every run is a fixed count of requests and is abandoned (its client destroyed) after
 * {@link RUN_TIMEOUT_MS}; the target must listen within 15 s and answer a counter request within
 * 5 s; it is killed by PID when the benchmark ends, fails or is interrupted, and exits by itself
 * if this process goes away. Only 127.0.0.1. A run that fails (an error, a wrong body, a
 * timeout) is shown in the table and makes the exit status 1; a target not met is a result.
 */

import { errorText, failer, fmt, integerFlag, parseList, ratioText, readFlags, renderVerdicts, table, verdict, withTimeout } from './cli.js';
import type { Verdict } from './cli.js';
import { HELLO, RESPONSE } from './limit-server.js';
import { Pool as TetherPool } from '@tether/client';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import { arch, cpus, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Pool as UndiciPool } from 'undici';

import type { TargetRequest } from './client-target.js';
import type { LimitCounters } from './limit-server.js';
import { PeerChild } from './peer-child.js';

// ---------------------------------------------------------------------------------------------
// Parameters.

/** Requests per client and run: the issue's figure. */
const FULL_REQUESTS = 20_000;
/** `--quick`: still enough for a few hundred ms per run, so the figures mean something. */
const QUICK_REQUESTS = 5_000;
/** Measured runs per client and scenario; the median is reported. */
const DEFAULT_RUNS = 3;
/** A run is abandoned after this: 20,000 requests take 1–4 s on a 2-core machine. */
const RUN_TIMEOUT_MS = 60_000;
/** Closing a pool or agent after a run. */
const CLOSE_TIMEOUT_MS = 5_000;
const START_TIMEOUT_MS = 15_000;
const COUNTS_TIMEOUT_MS = 5_000;
const STOP_GRACE_MS = 2_000;
/** Loopback only: the benchmark never leaves the machine. */
const HOST = '127.0.0.1';

const CLIENT_KINDS = ['tether', 'undici', 'agent', 'no-agent', 'fetch-tether', 'fetch-undici', 'fetch-default', 'limit'] as const;
type ClientKind = (typeof CLIENT_KINDS)[number];
const LABEL: Readonly<Record<ClientKind, string>> = {
  tether: 'tether Pool',
  undici: 'undici Pool',
  agent: 'http.Agent',
  'no-agent': 'agent: false',
  'fetch-tether': 'fetch + tether',
  'fetch-undici': 'fetch + undici',
  'fetch-default': 'fetch (default)',
  limit: 'limit (raw net)',
};

const SCENARIO_IDS = ['pipelined', 'connections'] as const;
type ScenarioId = (typeof SCENARIO_IDS)[number];

interface Scenario {
  readonly title: string;
  /** Connections of the pools and the agent (and the limit client). */
  readonly connections: number;
  /** Requests in flight per connection; 1 = no pipelining. */
  readonly pipelining: number;
  /** Requests the benchmark keeps outstanding (issued, body not yet read). */
  readonly outstanding: number;
  readonly clients: readonly ClientKind[];
}

const SCENARIOS: Readonly<Record<ScenarioId, Scenario>> = {
  // The issue: "pipelining 10 on 1 connection"; ten outstanding fill the pipeline and no more.
  pipelined: { title: '1 conn, pipelining 10', connections: 1, pipelining: 10, outstanding: 10, clients: ['tether', 'undici', 'fetch-tether', 'fetch-undici', 'limit'] },
  // The issue: "6 connections, no pipelining"; two outstanding per connection keep one queued.
  connections: { title: '6 conns, no pipelining', connections: 6, pipelining: 1, outstanding: 12, clients: ['tether', 'undici', 'agent', 'no-agent', 'fetch-tether', 'fetch-undici', 'fetch-default', 'limit'] },
};

/** Requests outstanding for `kind`: `agent: false` opens a connection per request, so it is capped at the scenario's connections. */
function outstandingFor(scenario: Scenario, kind: ClientKind): number {
  return kind === 'no-agent' ? Math.min(scenario.outstanding, scenario.connections) : scenario.outstanding;
}

/** The issues' targets: a tether client's req/s over another client's. */
interface Target {
  readonly scenario: ScenarioId;
  /** The tether side: its Pool, or fetch with a tether Pool as dispatcher. */
  readonly client: ClientKind;
  readonly versus: ClientKind;
  readonly ratio: number;
}

const TARGETS: readonly Target[] = [
  { scenario: 'pipelined', client: 'tether', versus: 'undici', ratio: 3 },
  { scenario: 'connections', client: 'tether', versus: 'undici', ratio: 1.5 },
  { scenario: 'connections', client: 'tether', versus: 'agent', ratio: 1.5 },
  // fetch, the same global fetch every time: only the dispatcher differs.
  { scenario: 'pipelined', client: 'fetch-tether', versus: 'fetch-undici', ratio: 3 },
  { scenario: 'connections', client: 'fetch-tether', versus: 'fetch-undici', ratio: 1.5 },
  { scenario: 'connections', client: 'fetch-tether', versus: 'fetch-default', ratio: 1.5 },
];

const USAGE = `usage: node dist/client.js [options]

  --quick            ${fmt(QUICK_REQUESTS)} requests per run instead of ${fmt(FULL_REQUESTS)}
  --requests N       requests per run (overrides --quick)
  --runs N           measured runs per client and scenario, median reported (default ${DEFAULT_RUNS}); rounds
                     go through every client in turn, so drifting background load hits all alike
  --only LIST        scenarios to run, comma-separated: ${SCENARIO_IDS.join(', ')}
  --clients LIST     clients to run, comma-separated: ${CLIENT_KINDS.join(', ')} (ratios need tether, undici, agent)
  --json             print one JSON document instead of the tables
  --help             this text

Profile one side: node --cpu-prof --cpu-prof-dir=/tmp/prof dist/client.js --only pipelined --clients tether`;

interface Options {
  readonly requests: number;
  readonly runs: number;
  readonly json: boolean;
  readonly scenarios: readonly ScenarioId[];
  readonly clients: readonly ClientKind[];
}

const fail: (message: string) => never = failer('client');

function parseOptions(argv: readonly string[]): Options {
  const v = readFlags(argv, USAGE, fail, {
    quick: { type: 'boolean', default: false },
    requests: { type: 'string' },
    runs: { type: 'string' },
    only: { type: 'string' },
    clients: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  return {
    requests: integerFlag(fail, v.requests, v.quick === true ? QUICK_REQUESTS : FULL_REQUESTS, 'requests'),
    runs: integerFlag(fail, v.runs, DEFAULT_RUNS, 'runs'),
    json: v.json === true,
    scenarios: v.only === undefined ? SCENARIO_IDS : parseList(fail, v.only, SCENARIO_IDS, 'only'),
    clients: v.clients === undefined ? CLIENT_KINDS : parseList(fail, v.clients, CLIENT_KINDS, 'clients'),
  };
}

// ---------------------------------------------------------------------------------------------
// The target: one child process for the whole benchmark, killed by PID however it ends.

const TARGET_ENTRY = fileURLToPath(new URL('./client-target.js', import.meta.url));

/** The target's counters and the CPU time it has used (user + system, µs). */
type Counts = Readonly<LimitCounters> & { readonly cpuMicros: number };

class TargetChild extends PeerChild<Counts> {
  constructor() {
    super({ name: 'target', entry: TARGET_ENTRY, startTimeoutMs: START_TIMEOUT_MS, stopGraceMs: STOP_GRACE_MS });
  }

  /** The target's counters since it started. */
  async counts(): Promise<Counts> {
    const ask: TargetRequest = { type: 'counts' };
    const { connections, requests, answeringReads, maxPerRead, cpuMicros } = await this.ask(ask, COUNTS_TIMEOUT_MS, 'counters');
    return { connections, requests, answeringReads, maxPerRead, cpuMicros };
  }
}

let target: TargetChild | null = null;
const killTarget = (): void => target?.kill();

// ---------------------------------------------------------------------------------------------
// Clients. Each run makes a session: a fresh pool or agent, driven for one count of requests.

interface Session {
  /** Send `total` GETs, reading and checking every body; resolves when all are answered. */
  run(total: number): Promise<void>;
  /** Close gracefully after a run. */
  close(): Promise<void>;
  /** Tear down now, after a failure or a timeout: whatever is in flight fails. */
  destroy(): void;
}

/**
 * Keep `outstanding` calls of `one` going until `total` have been made (or one failed);
 * resolves when the last is done, rejects with the first failure.
 */
async function drive(total: number, outstanding: number, one: () => Promise<void>): Promise<void> {
  let issued = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (issued < total && !failed) {
      issued++;
      try {
        await one();
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(outstanding, total) }, worker));
}

/** What is wrong with a response, or null: every client must get 200 and the 13-byte body. */
function badResponse(status: number, body: string, who: string): Error | null {
  return status === 200 && body === HELLO ? null : new Error(`${who}: expected 200 ${JSON.stringify(HELLO)}, got ${status} ${JSON.stringify(body.slice(0, 80))}`);
}

function checkResponse(status: number, body: string, who: string): void {
  const err = badResponse(status, body, who);
  if (err !== null) throw err;
}

function tetherSession(port: number, scenario: Scenario, outstanding: number): Session {
  const pool = new TetherPool(`http://${HOST}:${port}`, { connections: scenario.connections, pipelining: scenario.pipelining });
  const one = async (): Promise<void> => {
    const res = await pool.request({ method: 'GET', path: '/' });
    checkResponse(res.statusCode, await res.text(), 'tether');
  };
  return { run: (total) => drive(total, outstanding, one), close: () => pool.close(), destroy: () => void pool.destroy() };
}

function undiciSession(port: number, scenario: Scenario, outstanding: number): Session {
  const pool = new UndiciPool(`http://${HOST}:${port}`, { connections: scenario.connections, pipelining: scenario.pipelining });
  const one = async (): Promise<void> => {
    const { statusCode, body } = await pool.request({ method: 'GET', path: '/' });
    checkResponse(statusCode, await body.text(), 'undici');
  };
  return {
    run: (total) => drive(total, outstanding, one),
    close: () => pool.close(),
    destroy: () => void pool.destroy().catch(() => undefined),
  };
}

/**
 * Node's global fetch with `dispatcher`: a tether Pool, an undici Pool (the same connections and
 * pipelining), or none (Node's default global dispatcher, whatever it opens).
 */
function fetchSession(port: number, scenario: Scenario, outstanding: number, kind: 'fetch-tether' | 'fetch-undici' | 'fetch-default'): Session {
  const origin = `http://${HOST}:${port}`;
  const options = { connections: scenario.connections, pipelining: scenario.pipelining };
  const dispatcher = kind === 'fetch-tether' ? new TetherPool(origin, options) : kind === 'fetch-undici' ? new UndiciPool(origin, options) : undefined;
  const init = (dispatcher === undefined ? {} : { dispatcher }) as RequestInit;
  const url = `${origin}/`;
  const one = async (): Promise<void> => {
    const res = await fetch(url, init);
    checkResponse(res.status, await res.text(), LABEL[kind]);
  };
  return {
    run: (total) => drive(total, outstanding, one),
    close: () => dispatcher?.close() ?? Promise.resolve(),
    destroy: () => void dispatcher?.destroy().catch(() => undefined),
  };
}

/** node:http, with a keep-alive agent of `scenario.connections` sockets or with `agent: false`. */
function nodeSession(port: number, scenario: Scenario, outstanding: number, keepAlive: boolean): Session {
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: scenario.connections }) : false;
  const who = keepAlive ? 'http.Agent' : 'agent: false';
  const live = new Set<http.ClientRequest>();
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: HOST, port, path: '/', agent }, (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          const err = badResponse(res.statusCode ?? 0, body, who);
          if (err === null) resolve();
          else reject(err);
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      // Only `agent: false` needs tracking for destroy(); the agent owns its sockets.
      if (!keepAlive) {
        live.add(req);
        req.once('close', () => live.delete(req));
      }
    });
  const destroy = (): void => {
    if (agent !== false) agent.destroy();
    for (const req of live) req.destroy();
  };
  return {
    run: (total) => drive(total, outstanding, one),
    close: () => {
      destroy();
      return Promise.resolve();
    },
    destroy,
  };
}

/**
 * The most a Node client can ask with the scenario's shape: `connections` raw sockets, each
 * keeping `pipelining` pre-built requests in flight, responses counted by their fixed length,
 * the next requests written as soon as responses arrive. No parsing, no promises.
 */
function limitSession(port: number, scenario: Scenario): Session {
  const request = `GET / HTTP/1.1\r\nHost: ${HOST}:${port}\r\n\r\n`;
  const runs = Array.from({ length: scenario.pipelining + 1 }, (_, n) => Buffer.from(request.repeat(n), 'latin1'));
  const sockets: net.Socket[] = [];
  const destroy = (): void => {
    for (const socket of sockets.splice(0)) socket.destroy();
  };
  const run = (total: number): Promise<void> =>
    new Promise((resolve, reject) => {
      let issued = 0;
      let answered = 0;
      const open = Math.min(scenario.connections, total);
      for (let c = 0; c < open; c++) {
        const socket = net.connect({ port, host: HOST, noDelay: true });
        sockets.push(socket);
        let inFlight = 0;
        let pending = 0;
        let checked = false;
        const send = (): void => {
          const n = Math.min(scenario.pipelining - inFlight, total - issued);
          if (n <= 0) return;
          issued += n;
          inFlight += n;
          socket.write(runs[n]!);
        };
        socket.once('connect', send);
        socket.on('data', (chunk: Buffer) => {
          if (!checked) {
            // The first response, whole, checked once: after that, only lengths are counted.
            checked = true;
            if (chunk.length < RESPONSE.length || !chunk.subarray(0, RESPONSE.length).equals(RESPONSE)) {
              reject(new Error(`limit: unexpected response ${JSON.stringify(chunk.toString('latin1').slice(0, 80))}`));
              return;
            }
          }
          pending += chunk.length;
          const done = Math.floor(pending / RESPONSE.length);
          if (done === 0) return;
          pending -= done * RESPONSE.length;
          inFlight -= done;
          answered += done;
          if (answered >= total) resolve();
          else send();
        });
        socket.on('error', reject);
      }
    });
  return {
    run,
    close: () => {
      destroy();
      return Promise.resolve();
    },
    destroy,
  };
}

function session(kind: ClientKind, port: number, scenario: Scenario): Session {
  const outstanding = outstandingFor(scenario, kind);
  switch (kind) {
    case 'tether':
      return tetherSession(port, scenario, outstanding);
    case 'undici':
      return undiciSession(port, scenario, outstanding);
    case 'agent':
      return nodeSession(port, scenario, outstanding, true);
    case 'no-agent':
      return nodeSession(port, scenario, outstanding, false);
    case 'fetch-tether':
    case 'fetch-undici':
    case 'fetch-default':
      return fetchSession(port, scenario, outstanding, kind);
    case 'limit':
      return limitSession(port, scenario);
  }
}

// ---------------------------------------------------------------------------------------------
// Runs.

/** A timed run: wall time and this process's CPU time (user + system) over it. */
interface Timed {
  readonly ms: number;
  readonly cpuMs: number;
}

interface RunNumbers extends Timed {
  readonly requestsPerSec: number;
  /** What the target saw during the run (the CPU time it used included). */
  readonly target: Counts;
}

type ClientResult =
  | { readonly scenario: ScenarioId; readonly client: ClientKind; readonly ok: true; readonly outstanding: number; readonly runsPerSec: readonly number[] } & RunNumbers
  | { readonly scenario: ScenarioId; readonly client: ClientKind; readonly ok: false; readonly failure: string };

/** One run of `kind`: a fresh session, `total` requests timed, then closed untimed. */
async function runOnce(kind: ClientKind, scenario: Scenario, port: number, total: number): Promise<Timed> {
  const s = session(kind, port, scenario);
  let closed = false;
  try {
    const cpu = process.cpuUsage();
    const started = performance.now();
    await withTimeout(s.run(total), RUN_TIMEOUT_MS, `${LABEL[kind]}: ${fmt(total)} requests`);
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    await withTimeout(s.close(), CLOSE_TIMEOUT_MS, `${LABEL[kind]}: close`);
    closed = true;
    return { ms, cpuMs: (used.user + used.system) / 1000 };
  } finally {
    if (!closed) s.destroy();
  }
}

function diff(after: Counts, before: Counts): Counts {
  return {
    connections: after.connections - before.connections,
    requests: after.requests - before.requests,
    answeringReads: after.answeringReads - before.answeringReads,
    // The target restarts its maximum at every snapshot: this is the run's own.
    maxPerRead: after.maxPerRead,
    cpuMicros: after.cpuMicros - before.cpuMicros,
  };
}

/** A measured run: the target's counters around it. */
async function measure(t: TargetChild, kind: ClientKind, scenario: Scenario, port: number, total: number): Promise<RunNumbers> {
  const before = await t.counts();
  const { ms, cpuMs } = await runOnce(kind, scenario, port, total);
  const after = await t.counts();
  return { requestsPerSec: (total * 1000) / ms, ms, cpuMs, target: diff(after, before) };
}

/** The run with the median req/s (the lower middle one for an even count). */
function median(scenario: ScenarioId, kind: ClientKind, outstanding: number, runs: readonly RunNumbers[]): ClientResult {
  const sorted = [...runs].sort((a, b) => a.requestsPerSec - b.requestsPerSec);
  const mid = sorted[(sorted.length - 1) >> 1]!;
  return { scenario, client: kind, ok: true, outstanding, ...mid, runsPerSec: runs.map((r) => r.requestsPerSec) };
}

// ---------------------------------------------------------------------------------------------
// Verdicts and output.

function throughput(results: readonly ClientResult[], scenario: ScenarioId, kind: ClientKind): number | null {
  const r = results.find((x) => x.scenario === scenario && x.client === kind);
  return r?.ok === true ? r.requestsPerSec : null;
}

function verdicts(results: readonly ClientResult[], opts: Options): Verdict<Target>[] {
  return TARGETS.filter((t) => opts.scenarios.includes(t.scenario)).map((target) =>
    verdict(
      target,
      `${SCENARIOS[target.scenario].title}: req/s ${LABEL[target.client]} ÷ ${LABEL[target.versus]}`,
      throughput(results, target.scenario, target.client),
      throughput(results, target.scenario, target.versus),
    ),
  );
}

const percent = (share: number): string => `${Math.round(share * 100)}%`;

function renderResults(results: readonly ClientResult[], opts: Options): string {
  const rows: string[][] = [];
  for (const id of opts.scenarios) {
    const undici = throughput(results, id, 'undici');
    const agent = throughput(results, id, 'agent');
    let first = true;
    for (const r of results.filter((x) => x.scenario === id)) {
      const title = first ? SCENARIOS[id].title : '';
      first = false;
      if (!r.ok) {
        rows.push([title, LABEL[r.client], 'FAILED', '', '', '', '', '', '', r.failure.split('\n')[0]!.slice(0, 100)]);
        continue;
      }
      rows.push([
        title,
        LABEL[r.client],
        String(r.outstanding),
        fmt(r.requestsPerSec),
        undici === null ? '–' : ratioText(r.requestsPerSec / undici),
        agent === null ? '–' : ratioText(r.requestsPerSec / agent),
        `${percent(r.cpuMs / r.ms)} / ${percent(r.target.cpuMicros / 1000 / r.ms)}`,
        fmt(r.target.connections),
        r.target.answeringReads === 0 ? '–' : `${fmt(r.target.requests / r.target.answeringReads, 1)} / ${r.target.maxPerRead}`,
        ...(opts.runs > 1 ? [r.runsPerSec.map((x) => fmt(x / 1000, 1)).join(', ')] : []),
      ]);
    }
  }
  return table(
    [
      { title: 'scenario', width: 22, right: false },
      { title: 'client', width: 15, right: false },
      { title: 'in flight', width: 9, right: true },
      { title: 'req/s', width: 8, right: true },
      { title: '÷ undici', width: 8, right: true },
      { title: '÷ http.Agent', width: 12, right: true },
      { title: 'CPU client / target', width: 19, right: true },
      { title: 'conns', width: 6, right: true },
      { title: 'req/read avg / max', width: 18, right: true },
      ...(opts.runs > 1 ? [{ title: 'each run, k req/s', width: 17, right: false }] : []),
    ],
    rows,
  );
}

function environment(): Record<string, string | number> {
  const require = createRequire(import.meta.url);
  return {
    node: process.version,
    platform: `${platform()} ${arch()}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    undici: (require('undici/package.json') as { version: string }).version,
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const progress = opts.json ? (): void => undefined : (s: string): void => void process.stderr.write(`${s}\n`);
  const started = performance.now();
  const results: ClientResult[] = [];
  const notes: string[] = [];
  const t = new TargetChild();
  target = t;
  try {
    const port = await t.ready();
    progress(
      `@tether/bench client: ${opts.scenarios.length} scenario(s), ${fmt(opts.requests)} GETs per run, ${opts.runs} measured run(s) per client after one warm-up, target on port ${port}…`,
    );
    for (const id of opts.scenarios) {
      const scenario = SCENARIOS[id];
      const kinds = scenario.clients.filter((k) => opts.clients.includes(k));
      const runs = new Map<ClientKind, RunNumbers[]>(kinds.map((k) => [k, []]));
      const failures = new Map<ClientKind, string>();
      const attempt = async <T>(kind: ClientKind, tag: string, what: () => Promise<T>): Promise<T | null> => {
        try {
          const value = await what();
          if (t.crashed() !== null) throw new Error(`the target crashed: ${t.crashed()}`);
          return value;
        } catch (err) {
          failures.set(kind, errorText(err));
          progress(`${tag}: FAILED ${errorText(err)}`);
          return null;
        }
      };
      for (const kind of kinds) {
        await attempt(kind, `  ${id} ${LABEL[kind]} (warm-up)`, () => runOnce(kind, scenario, port, opts.requests));
      }
      for (let round = 1; round <= opts.runs; round++) {
        for (const kind of kinds) {
          if (failures.has(kind)) continue;
          const tag = `  ${id} ${LABEL[kind]}${opts.runs > 1 ? ` (run ${round}/${opts.runs})` : ''}`;
          const r = await attempt(kind, tag, () => measure(t, kind, scenario, port, opts.requests));
          if (r === null) continue;
          runs.get(kind)!.push(r);
          progress(`${tag}: ${fmt(r.requestsPerSec)} req/s, ${fmt(r.target.connections)} connection(s), ${fmt(r.target.requests)} answered`);
          if (r.target.requests !== opts.requests) {
            notes.push(`${id} ${LABEL[kind]} run ${round}: the target answered ${fmt(r.target.requests)} requests for ${fmt(opts.requests)} asked (re-sent after a dropped connection?).`);
          }
        }
      }
      for (const kind of kinds) {
        const failure = failures.get(kind);
        results.push(failure === undefined ? median(id, kind, outstandingFor(scenario, kind), runs.get(kind)!) : { scenario: id, client: kind, ok: false, failure });
      }
    }
  } finally {
    await t.stop();
  }

  const list = verdicts(results, opts);
  const env = environment();
  // A run that failed is a failure of the benchmark; a target not met is a result.
  if (results.some((r) => !r.ok)) process.exitCode = 1;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({
      environment: env,
      parameters: {
        requests: opts.requests,
        runs: opts.runs,
        warmupRuns: 1,
        scenarios: Object.fromEntries(opts.scenarios.map((id) => [id, SCENARIOS[id]])),
      },
      results,
      targets: list.map((v) => ({ scenario: v.target.scenario, client: v.target.client, versus: v.target.versus, required: v.target.ratio, measured: v.measured, met: v.met })),
      notes,
      elapsedMs: Math.round(performance.now() - started),
    }, null, 2)}\n`);
    return;
  }
  const lines = [
    '',
    `@tether/client vs undici ${String(env.undici)} and node:http — Node ${String(env.node)}, ${String(env.platform)}, ${String(env.cores)} × ${String(env.cpu)}`,
    `${fmt(opts.requests)} GETs per run, every body read and checked; ${opts.runs > 1 ? `median of ${opts.runs} interleaved runs` : 'one run'} after one warm-up each; target: raw node:net in a child process (one pre-built response per request, 13-byte body, one write per read)`,
    '',
    renderResults(results, opts),
    '',
    '÷ columns: that client\'s req/s over undici Pool\'s and over http.Agent\'s (keep-alive). in flight: requests outstanding at once.',
    'The rest is the median run: CPU time of this process and of the target over the run\'s wall time (100% = one core busy throughout),',
    'and what the target saw — connections accepted, requests per read that answered (average / most: how the client batches its writes).',
  ];
  if (list.length > 0) lines.push('', renderVerdicts(list));
  for (const note of notes) lines.push('', `note: ${note}`);
  lines.push(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

process.on('exit', killTarget);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killTarget();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

main().catch((err: unknown) => {
  killTarget();
  fail(err instanceof Error ? (err.stack ?? err.message) : String(err));
});
