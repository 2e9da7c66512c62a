/**
 * Theory of operation: the keep-alive race behind a load balancer, with a real nginx.
 *
 *   client ──▶ nginx (upstream keepalive pool, keepalive_timeout 60 s) ──▶ netem (RTT 40 ms) ──▶ server
 *
 * nginx keeps idle upstream connections for 60 s (its default `keepalive_timeout`) and reuses
 * them; a server that closes an idle connection sooner closes some while nginx is sending a
 * request on them. The request crosses the server's FIN: the server never answers it, nginx gets
 * the connection closed (or reset) instead of a response and answers the client 502.
 *
 *   nginx                                  server (closes idle connections after C ms)
 *   POST ─────────────── (RTT/2) ─────────▶  … already closed at C: reset
 *         ◀──────── FIN (sent at C) ──────   "upstream prematurely closed connection"
 *   502 to the client
 *
 * The race window is as wide as the round trip between proxy and server (a reuse sent less than
 * RTT/2 before the FIN arrives, or less than RTT/2 after it left): on bare loopback that is
 * microseconds, so the lab puts a 40 ms round trip (@tether/netem) between nginx and the servers,
 * as a network between a load balancer and its backends would. Traffic comes in bursts of
 * concurrent POSTs; each gap (after a burst's last answer) is chosen near the server's idle
 * close, where a reuse crosses it — a gap well past the close finds connections nginx already
 * saw closed (it drops them and opens new ones), a gap well short of it finds them open. Real
 * traffic lands in that window now and then; the lab makes it land every time.
 *
 * Three servers behind the same nginx, the same bursts:
 *   node:http, defaults      keepAliveTimeout 5 s: closes an idle connection at 6 s (node adds a
 *                            fixed 1 s), far under nginx's 60 s. Here 200 ms (closes at 1.2 s),
 *                            so a gap is 1.2 s instead of 6: the same relation, a faster lab.
 *   node:http, the usual fix keepAliveTimeout 65 s, above nginx's keepalive_timeout: nginx always
 *                            closes an idle connection first, so no reuse can cross a server close.
 *   @tether/server           keepAliveTimeout 200 ms (closes at 1.2 s, its keepAliveTimeoutBuffer
 *                            being node's 1 s): it advertises `Keep-Alive: timeout=…` and closes
 *                            with a half-close and a lingering read — nginx reads no such hint.
 * And the defaults' server once more with GETs: nginx re-sends an idempotent request that failed
 * on a cached upstream connection (`proxy_next_upstream error timeout`, its default), but never a
 * POST it has sent (since nginx 1.9.13, unless `proxy_next_upstream non_idempotent`), so what the
 * count measures depends on that configuration: the races are counted in nginx's error log, the
 * 502s at the client.
 */

import http from 'node:http';

import { createLink } from '@tether/netem';
import { listenNodeUpstream } from '@tether/peers';
import { createServer } from '@tether/server';

import { LOOPBACK } from './http-wire.js';
import type { LabDefinition, LabOptions, LabResult, Measurement } from './lab.js';
import { noLog } from './lab.js';
import { nginxVersion, startNginx } from './nginx.js';
import { Deadline, Scope, sleep } from './scope.js';

/** The proxy-race lab's title. */
export const PROXY_RACE_TITLE = 'The keep-alive race behind a proxy: 502s from reused upstream connections';

/** The servers behind nginx. */
export type ProxyRaceBackend = 'node-default' | 'node-fixed' | 'tether';

/** One run of bursts to one backend. */
export interface ProxyRaceRun {
  readonly backend: ProxyRaceBackend;
  readonly method: 'POST' | 'GET';
  readonly requests: number;
  /** Answers by status. */
  readonly statuses: Readonly<Record<number, number>>;
  /** 502s the client got. */
  readonly badGateway: number;
  /** Requests with no answer at all (reset, timeout). */
  readonly unanswered: number;
  /** Upstream requests nginx lost to a closed or reset connection (its error log). */
  readonly raced: number;
  /** Connections the server accepted during the run (through netem, from nginx). */
  readonly upstreamConnections: number;
  /** The gaps left between bursts, ms. */
  readonly gapsMs: readonly number[];
}

/** The figures of the proxy-race lab. */
export interface ProxyRaceData {
  /** The nginx that ran (`nginx -v`), or null when it did not say. */
  readonly nginxVersion: string | null;
  /** nginx's upstream `keepalive_timeout`, s. */
  readonly proxyIdleS: number;
  /** Round trip between nginx and the servers, ms. */
  readonly rttMs: number;
  /** When each server closes an idle connection, ms after its last response. */
  readonly serverIdleCloseMs: Readonly<Record<ProxyRaceBackend, number>>;
  /** The `Keep-Alive` field each server sends (none: undefined). */
  readonly advertised: Readonly<Record<ProxyRaceBackend, string | null>>;
  readonly nodeDefault: ProxyRaceRun;
  readonly nodeFixed: ProxyRaceRun;
  readonly tether: ProxyRaceRun;
  /** The defaults' server with GETs: races nginx re-sent. */
  readonly nodeDefaultGet: ProxyRaceRun;
}

/** nginx's default upstream `keepalive_timeout` (60 s, nginx ≥ 1.15.3). */
const PROXY_IDLE_S = 60;
/** node:http's default keepAliveTimeout (5 s): the relation the lab keeps, scaled down. */
const NODE_DEFAULT_KEEP_ALIVE_MS = 5_000;
/** The short server timeout standing in for node's 5 s, so that a gap is ~1 s. */
const SHORT_KEEP_ALIVE_MS = 200;
/** node:http closes an idle connection this long after keepAliveTimeout (a fixed 1 s before Node 24.6; `keepAliveTimeoutBuffer` since, same default). */
const NODE_BUFFER_MS = 1_000;
/** The usual fix: keepAliveTimeout above the proxy's (AWS's advice for a 60 s load balancer). */
const FIXED_KEEP_ALIVE_MS = 65_000;
/** Round trip between nginx and the servers: the race window's width. */
const RTT_MS = 40;
/**
 * Where each gap lands, ms from the server's idle close: centred on the window where a reuse
 * crosses the close (the request leaves nginx about RTT/2 after the last answer reached the
 * client, so a gap of close − RTT/2 meets the FIN mid-way), spread over it.
 */
const GAP_OFFSETS_MS = [-RTT_MS / 2, -RTT_MS / 2 - 8, -RTT_MS / 2 + 8, -RTT_MS / 2 - 4, -RTT_MS / 2 + 4] as const;
/** Concurrent requests per burst (nginx keeps as many idle upstream connections); quick 16. */
const BURST = 32;
const QUICK_BURST = 16;
/** Bursts per run: the first opens the connections, each later one reuses them after a gap; quick 3. */
const BURSTS = GAP_OFFSETS_MS.length + 1;
const QUICK_BURSTS = 3;
/** One request through nginx takes ~RTT; past this it counts as unanswered. */
const REQUEST_TIMEOUT_MS = 5_000;
/** A run takes ~6 s (5 gaps of 1.2 s); past this it stops. */
const RUN_DEADLINE_MS = 20_000;

/** nginx error-log lines of an upstream request lost to a closed or reset connection (pure). */
export function raceLines(log: string, method: string, route: string): number {
  const request = `request: "${method} /${route}/`;
  return log.split('\n').filter((line) => line.includes(request) && /prematurely closed|reset by peer|broken pipe|while reading response header/i.test(line)).length;
}

/** The gaps of a run: the server's idle close plus each offset; none reaches 0 (pure). */
export function gapsFor(idleCloseMs: number, bursts: number): number[] {
  return Array.from({ length: Math.max(0, bursts - 1) }, (_, i) => Math.max(1, idleCloseMs + GAP_OFFSETS_MS[i % GAP_OFFSETS_MS.length]!));
}

interface Backend {
  readonly port: number;
  connections(): number;
}

async function nodeBackend(scope: Scope, keepAliveTimeout: number): Promise<Backend> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'text/plain');
      res.end(`${req.method} ${req.url}`);
    });
  });
  server.keepAliveTimeout = keepAliveTimeout;
  const upstream = await listenNodeUpstream(server);
  scope.defer(() => upstream.close());
  return upstream;
}

async function tetherBackend(scope: Scope, keepAliveTimeout: number): Promise<Backend> {
  const server = scope.server(
    createServer({ keepAliveTimeout }, async (req, res) => {
      await req.text();
      res.setHeader('content-type', 'text/plain');
      res.end(`${req.method} ${req.url}`);
    }),
  );
  const { port } = await server.listen({ port: 0, host: LOOPBACK });
  return { port, connections: () => server.stats().connections.total };
}

/** One request through nginx: its status, or null when none came. Bounded by REQUEST_TIMEOUT_MS. */
function send(agent: http.Agent, port: number, method: 'POST' | 'GET', reqPath: string): Promise<number | null> {
  return new Promise((resolve) => {
    const body = method === 'POST' ? `order ${reqPath}` : '';
    const headers = method === 'POST' ? { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) } : {};
    const req = http.request({ host: LOOPBACK, port, method, path: reqPath, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        clearTimeout(timer);
        resolve(res.statusCode ?? null);
      });
      res.on('error', () => {
        clearTimeout(timer);
        resolve(null);
      });
    });
    const timer = setTimeout(() => req.destroy(new Error('timeout')), REQUEST_TIMEOUT_MS);
    req.on('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
    req.end(body);
  });
}

interface RunPlan {
  readonly backend: ProxyRaceBackend;
  readonly method: 'POST' | 'GET';
  readonly proxyPort: number;
  readonly server: Backend;
  readonly burst: number;
  readonly gaps: readonly number[];
  readonly log: () => Promise<string>;
}

/** Bursts of concurrent requests to `/<backend>/<burst>/<i>` through nginx, a gap after each but the last. */
async function runBursts(plan: RunPlan): Promise<ProxyRaceRun> {
  // The client keeps its own connections to nginx (idle far less than nginx's 60 s): every
  // failure counted is between nginx and the server.
  const agent = new http.Agent({ keepAlive: true, maxSockets: plan.burst });
  const statuses: Record<number, number> = {};
  let unanswered = 0;
  const gapsMs: number[] = [];
  const before = plan.server.connections();
  const deadline = new Deadline(RUN_DEADLINE_MS);
  try {
    for (let b = 0; b <= plan.gaps.length && !deadline.expired; b++) {
      const answers = await Promise.all(Array.from({ length: plan.burst }, (_, i) => send(agent, plan.proxyPort, plan.method, `/${plan.backend}/${b}/${i}`)));
      for (const status of answers) {
        if (status === null) unanswered++;
        else statuses[status] = (statuses[status] ?? 0) + 1;
      }
      const gap = plan.gaps[b];
      if (gap === undefined) break;
      const pausedAt = performance.now();
      await sleep(gap);
      gapsMs.push(Math.round(performance.now() - pausedAt));
    }
  } finally {
    agent.destroy();
  }
  const requests = Object.values(statuses).reduce((a, n) => a + n, 0) + unanswered;
  return {
    backend: plan.backend,
    method: plan.method,
    requests,
    statuses,
    badGateway: statuses[502] ?? 0,
    unanswered,
    raced: raceLines(await plan.log(), plan.method, plan.backend),
    upstreamConnections: plan.server.connections() - before,
    gapsMs,
  };
}

/** The `Keep-Alive` field a server sends with a response (no proxy, no netem). */
async function keepAliveField(port: number): Promise<string | null> {
  const agent = new http.Agent({ keepAlive: true });
  try {
    return await new Promise<string | null>((resolve) => {
      const req = http.get({ host: LOOPBACK, port, path: '/probe', agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        res.resume();
        resolve(typeof res.headers['keep-alive'] === 'string' ? res.headers['keep-alive'] : null);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(null));
    });
  } finally {
    agent.destroy();
  }
}

function describe(label: string, run: ProxyRaceRun): Measurement {
  const other = Object.entries(run.statuses)
    .filter(([status]) => status !== '200' && status !== '502')
    .map(([status, n]) => `${n}× ${status}`);
  const extra = [...other, ...(run.unanswered > 0 ? [`${run.unanswered} unanswered`] : [])].join(', ');
  return {
    label,
    value: `${run.badGateway} × 502 of ${run.requests} ${run.method}s · ${run.raced} lost upstream (nginx log) · ${run.upstreamConnections} upstream connections${extra === '' ? '' : ` · ${extra}`}`,
    raw: run.badGateway,
  };
}

/** Run the proxy-race lab (needs nginx: TETHER_NGINX or /usr/sbin/nginx). */
export async function runProxyRace(options: LabOptions = {}): Promise<LabResult<ProxyRaceData>> {
  const log = options.log ?? noLog;
  const quick = options.quick === true;
  const burst = quick ? QUICK_BURST : BURST;
  const bursts = quick ? QUICK_BURSTS : BURSTS;
  const scope = new Scope();
  try {
    const nodeDefault = await nodeBackend(scope, SHORT_KEEP_ALIVE_MS);
    const nodeFixed = await nodeBackend(scope, FIXED_KEEP_ALIVE_MS);
    const tether = await tetherBackend(scope, SHORT_KEEP_ALIVE_MS);
    const advertised = {
      'node-default': await keepAliveField(nodeDefault.port),
      'node-fixed': await keepAliveField(nodeFixed.port),
      tether: await keepAliveField(tether.port),
    };
    const link = await createLink({ rtt: RTT_MS });
    scope.defer(() => link.close());
    const through = async (b: Backend): Promise<number> => (await link.forward({ host: LOOPBACK, port: b.port })).port;
    const upstream = (port: number): { port: number; keepalive: number; keepaliveTimeoutS: number } => ({ port, keepalive: BURST, keepaliveTimeoutS: PROXY_IDLE_S });
    const nginx = await startNginx({
      'node-default': upstream(await through(nodeDefault)),
      'node-fixed': upstream(await through(nodeFixed)),
      tether: upstream(await through(tether)),
    });
    scope.defer(() => nginx.stop());
    const version = await nginxVersion();
    log(`nginx ${version ?? '(version unknown)'} pid ${nginx.pid} on ${LOOPBACK}:${nginx.port}; upstream keepalive ${BURST}, keepalive_timeout ${PROXY_IDLE_S}s; RTT ${RTT_MS} ms to the servers`);

    const closeMs: Record<ProxyRaceBackend, number> = {
      'node-default': SHORT_KEEP_ALIVE_MS + NODE_BUFFER_MS,
      'node-fixed': FIXED_KEEP_ALIVE_MS + NODE_BUFFER_MS,
      // @tether/server's default keepAliveTimeoutBuffer is node's 1 s.
      tether: SHORT_KEEP_ALIVE_MS + NODE_BUFFER_MS,
    };
    // Every run has the same traffic: gaps around the short servers' close.
    const gaps = gapsFor(closeMs['node-default'], bursts);
    const plan = { proxyPort: nginx.port, burst, gaps, log: () => nginx.log() };
    log(`${bursts} bursts of ${burst} requests, gaps ${gaps.join('/')} ms`);
    const defaultRun = await runBursts({ ...plan, backend: 'node-default', method: 'POST', server: nodeDefault });
    log(`node:http defaults: ${defaultRun.badGateway} × 502`);
    const fixedRun = await runBursts({ ...plan, backend: 'node-fixed', method: 'POST', server: nodeFixed });
    log(`node:http fixed: ${fixedRun.badGateway} × 502`);
    const tetherRun = await runBursts({ ...plan, backend: 'tether', method: 'POST', server: tether });
    log(`@tether/server: ${tetherRun.badGateway} × 502`);
    const getRun = await runBursts({ ...plan, backend: 'node-default', method: 'GET', server: nodeDefault });
    log(`node:http defaults, GET: ${getRun.badGateway} × 502, ${getRun.raced} lost upstream`);

    const ok = defaultRun.badGateway > 0 && fixedRun.badGateway === 0 && fixedRun.raced === 0 && fixedRun.unanswered === 0;
    const short = `${SHORT_KEEP_ALIVE_MS} ms (for ${NODE_DEFAULT_KEEP_ALIVE_MS / 1000} s)`;
    return {
      name: 'proxy-race',
      title: PROXY_RACE_TITLE,
      measured: [
        describe(`node:http defaults: keepAliveTimeout ${short}, closes at ${closeMs['node-default']} ms`, defaultRun),
        describe(`node:http, keepAliveTimeout ${FIXED_KEEP_ALIVE_MS / 1000} s > nginx's ${PROXY_IDLE_S} s`, fixedRun),
        describe(`@tether/server: keepAliveTimeout ${short}, closes at ${closeMs.tether} ms`, tetherRun),
        describe('node:http defaults, GET (idempotent)', getRun),
        {
          label: 'Keep-Alive advertised',
          value: `node:http defaults ${advertised['node-default'] ?? 'none'} · node:http fixed ${advertised['node-fixed'] ?? 'none'} · @tether/server ${advertised.tether ?? 'none'} (nginx reads none of them)`,
        },
      ],
      explanation: [
        `nginx keeps idle upstream connections ${PROXY_IDLE_S} s; a server that closes them sooner closes some just as nginx reuses them, and a POST nginx has sent is answered 502 (a GET is re-sent: proxy_next_upstream error, its default; add non_idempotent and POSTs would be re-sent too, at the risk of running them twice).`,
        `The rule: a server's idle timeout must be longer than every proxy's in front of it (keepAliveTimeout ${FIXED_KEEP_ALIVE_MS / 1000} s behind nginx's ${PROXY_IDLE_S} s or a load balancer's 60 s), so the proxy always closes first; an advertised Keep-Alive: timeout protects only clients that read it, as @tether/client does.`,
      ],
      ok,
      data: {
        nginxVersion: version,
        proxyIdleS: PROXY_IDLE_S,
        rttMs: RTT_MS,
        serverIdleCloseMs: closeMs,
        advertised,
        nodeDefault: defaultRun,
        nodeFixed: fixedRun,
        tether: tetherRun,
        nodeDefaultGet: getRun,
      },
    };
  } finally {
    await scope.close();
  }
}

/** The proxy-race lab: nginx's upstream keep-alive pool against servers that close sooner. */
export const proxyRaceLab: LabDefinition<ProxyRaceData> = {
  name: 'proxy-race',
  title: PROXY_RACE_TITLE,
  shows: 'behind nginx, a server that closes idle connections first gets 502s',
  run: runProxyRace,
  headline: (d) => ({
    measured: `502s: node:http defaults ${d.nodeDefault.badGateway}, fixed ${d.nodeFixed.badGateway}, tether ${d.tether.badGateway} · GET ${d.nodeDefaultGet.badGateway}`,
    expected: `defaults > 0, fixed 0 (server idle > proxy idle)`,
  }),
};
