/**
 * The keep-alive race behind a reverse proxy. nginx and HAProxy keep their upstream connections
 * for 60 s and reuse them; a server that says `Keep-Alive: timeout=1` and closes an idle
 * connection exactly 1 s after its last answer races the proxy's next request on it: when the
 * request crosses the FIN, the proxy does not re-send a POST it has written and answers 502
 * (nginx logs "upstream prematurely closed connection", HAProxy `SH--`; HAProxy now and then
 * closes the client's connection instead). node:http advertises keepAliveTimeout but closes
 * only keepAliveTimeoutBuffer (1 s) later, so the proxy's reuse always lands first; tether does
 * the same with its `keepAliveTimeoutBuffer`.
 *
 * - Without a proxy, over a raw socket: after one answer, the FIN arrives keepAliveTimeout +
 *   keepAliveTimeoutBuffer after it, while the answer advertises `timeout=1` (asserted).
 * - Behind each proxy: bursts of 32 concurrent POSTs with pauses of about 1 s (a little under to
 *   a little over keepAliveTimeout) to node:http, to tether and to tether with
 *   `keepAliveTimeoutBuffer: 0`, one after another. Asserted: the proxy reused its upstream
 *   connections to node:http, the control (else there is no race), and tether answered every POST (no 502), so no worse
 *   than node:http. tether without the buffer closes exactly when the proxy may reuse, and can get
 *   502s; how many depends on timing to the millisecond, so it is printed, never asserted.
 *
 * Bounded: 6 bursts per backend, each request 5 s at most, each run 20 s at most; about 35 s in
 * all. Everything listens on 127.0.0.1.
 */

import http from 'node:http';
import { listenNodeUpstream } from '@tether/peers';
import type { NodeUpstream } from '@tether/peers';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Handler } from '../src/index.js';
import { startProxy } from './proxies.js';
import type { ProxyKind, RunningProxy } from './proxies.js';
import { Resources, sleep } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

/** The servers' idle timeout: advertised as `Keep-Alive: timeout=1`. */
const KEEP_ALIVE_TIMEOUT_MS = 1000;
/** node:http's default keepAliveTimeoutBuffer, which tether's default matches. */
const DEFAULT_BUFFER_MS = 1000;
/**
 * How early a FIN may seem to come, measured from the answer's arrival: the server starts its idle
 * clock when the answer is queued, a few ms before it leaves (2–15 ms seen here; node:http starts
 * it once written), and a loaded CI machine can stall between the two. Still 900 ms clear of a
 * close at keepAliveTimeout.
 */
const TIMING_TOLERANCE_MS = 100;
/** Past keepAliveTimeout + buffer, how long to wait for the FIN before calling it missing (a loaded CI machine). */
const FIN_SLACK_MS = 1000;

/** Concurrent POSTs per burst: one per upstream connection the proxy keeps (`keepalive 32`). */
const BURST_SIZE = 32;
/**
 * Pause after each burst's last answer before the next burst. The upstream connections have
 * been idle about that long when the proxy reuses them: at or just under keepAliveTimeout
 * (1000 ms), where a close at keepAliveTimeout crosses the proxy's reuse, and over it (1100 ms),
 * where the connections are closed before the reuse. Each gap is far under keepAliveTimeout +
 * keepAliveTimeoutBuffer (2000 ms); a near-1000 gap always has a 1100 one beside it, so a
 * connection the proxy leaves unused for a burst is idle 2090 ms or more when it is next picked,
 * clear of the 2000 ms close too.
 */
const GAPS_MS = [990, 1100, 1000, 1100, 995] as const;
/** Bursts per backend: the first opens the connections, each later one reuses them after a gap. */
const BURSTS = GAPS_MS.length + 1;
/** One request through the proxy takes milliseconds; past this it counts as failed. */
const REQUEST_TIMEOUT_MS = 5000;
/** A run (6 bursts, 5 gaps) takes about 5 s; past this something is stuck. */
const RUN_DEADLINE_MS = 20_000;
/** Three runs, the proxy's start and stop. */
const PROXY_TEST_TIMEOUT_MS = 3 * RUN_DEADLINE_MS;

// -------------------------------------------------------------------------------------------------
// Backends

/** Both backends answer a POST with the route, the path and the body they read. */
function answer(url: string, body: string): string {
  return `${url} ${body}`;
}

const echo: Handler = async (req, res) => {
  const body = await req.text();
  res.setHeader('content-type', 'text/plain');
  res.end(answer(req.url, body));
};

/** node:http with keepAliveTimeout 1000, closed in `resources.release()`. */
async function nodeBackend(): Promise<NodeUpstream> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      res.setHeader('content-type', 'text/plain');
      res.end(answer(req.url ?? '', body));
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  const upstream = await listenNodeUpstream(server);
  resources.defer(() => upstream.close());
  return upstream;
}

// -------------------------------------------------------------------------------------------------
// Idle close timing without a proxy

interface IdleClose {
  /** The answer's `Keep-Alive` field. */
  readonly keepAlive: string | undefined;
  /** Ms from the answer's arrival to the server's FIN, or null when no FIN came in time. */
  readonly finAfterMs: number | null;
  /** How the connection ended: 'fin' for a graceful close. */
  readonly ending: string;
}

/** One POST on a raw keep-alive connection, then wait (bounded) for the server to close it. */
async function idleClose(port: number, waitMs: number): Promise<IdleClose> {
  const conn = await resources.connect(port);
  let lastDataAt = 0;
  let finAt: number | null = null;
  conn.socket.on('data', () => (lastDataAt = performance.now()));
  conn.socket.once('end', () => (finAt = performance.now()));
  conn.send('POST /idle HTTP/1.1\r\nHost: idle\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello');
  if (!(await conn.until(() => conn.reader.responses.length > 0, 2000))) throw new Error(`no answer to the POST (${conn.ending})`);
  const res = conn.reader.responses[0];
  if (res?.status !== 200) throw new Error(`the POST was answered ${String(res?.status)}`);
  await conn.closed(waitMs);
  const fin: number | null = finAt;
  return { keepAlive: res.headers['keep-alive'], finAfterMs: fin === null ? null : Math.round(fin - lastDataAt), ending: conn.ending };
}

describe('idle close timing without a proxy (raw socket, keepAliveTimeout 1000)', () => {
  it(
    'tether advertises timeout=1 but sends its FIN only keepAliveTimeout + keepAliveTimeoutBuffer (2000 ms) after the answer, as node:http does',
    { timeout: 10_000 },
    async () => {
      const tether = await resources.server(echo, { keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
      const node = await nodeBackend();
      const waitMs = KEEP_ALIVE_TIMEOUT_MS + DEFAULT_BUFFER_MS + FIN_SLACK_MS;
      // Side by side: a few sockets on an idle machine, no contention for the timers.
      const [fromTether, fromNode] = await Promise.all([idleClose(tether.port, waitMs), idleClose(node.port, waitMs)]);
      const seen = `tether ${JSON.stringify(fromTether)}, node:http ${JSON.stringify(fromNode)}`;
      console.log(`idle close after one answer (keepAliveTimeout ${KEEP_ALIVE_TIMEOUT_MS}): ${seen}`);
      expect(fromTether.keepAlive, seen).toMatch(/^timeout=1\b/);
      expect(fromTether.finAfterMs, `no FIN within ${waitMs} ms: ${seen}`).not.toBeNull();
      expect(fromTether.finAfterMs, seen).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS + DEFAULT_BUFFER_MS - TIMING_TOLERANCE_MS);
      expect(fromTether.ending, seen).toBe('fin');
    },
  );

  it('with keepAliveTimeoutBuffer 0, tether sends its FIN at keepAliveTimeout (1000 ms)', { timeout: 10_000 }, async () => {
    const tether = await resources.server(echo, { keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, keepAliveTimeoutBuffer: 0 });
    const fromTether = await idleClose(tether.port, KEEP_ALIVE_TIMEOUT_MS + FIN_SLACK_MS);
    const seen = JSON.stringify(fromTether);
    expect(fromTether.keepAlive, seen).toMatch(/^timeout=1\b/);
    expect(fromTether.finAfterMs, `no FIN within ${KEEP_ALIVE_TIMEOUT_MS + FIN_SLACK_MS} ms: ${seen}`).not.toBeNull();
    expect(fromTether.finAfterMs, seen).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - TIMING_TOLERANCE_MS);
    expect(fromTether.finAfterMs, seen).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + DEFAULT_BUFFER_MS - TIMING_TOLERANCE_MS);
    expect(fromTether.ending, seen).toBe('fin');
  });
});

// -------------------------------------------------------------------------------------------------
// Bursts through a proxy

/** What one backend's run of bursts got back through the proxy. */
interface RunResult {
  readonly route: string;
  readonly requests: number;
  /** Answers by status code (a 200 with the wrong body counts under `wrongBodies` too). */
  readonly statuses: Readonly<Record<number, number>>;
  /** Requests that got no answer at all (reset, timeout), and 200s with the wrong body. */
  readonly failures: readonly string[];
  readonly wrongBodies: readonly string[];
  /** The pauses actually left between bursts, in ms. */
  readonly gapsMs: readonly number[];
}

function count502(run: RunResult): number {
  return run.statuses[502] ?? 0;
}

/** Requests not answered 200 with the right body. */
function notOk(run: RunResult): number {
  const ok = run.statuses[200] ?? 0;
  return run.requests - ok + run.wrongBodies.length;
}

function summary(run: RunResult): string {
  return `${run.route}: ${run.requests} POSTs, statuses ${JSON.stringify(run.statuses)}, ${run.failures.length} unanswered, ${run.wrongBodies.length} wrong bodies, gaps ${run.gapsMs.join('/')} ms${
    run.failures.length > 0 ? `; first failures ${JSON.stringify(run.failures.slice(0, 5))}` : ''
  }`;
}

/** One POST through the proxy on `agent`: its status and body, or a thrown error. Bounded by REQUEST_TIMEOUT_MS. */
function post(agent: http.Agent, port: number, reqPath: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: reqPath, agent, headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: text });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

/**
 * BURSTS bursts of BURST_SIZE concurrent POSTs to `/<route>/<burst>/<i>` through the proxy,
 * pausing GAPS_MS[b] after burst b's last answer. The client keeps its own connections to the
 * proxy (one per request of a burst, idle far less than the proxy's 60 s), so every failure
 * counted is between the proxy and the backend.
 */
async function runBursts(proxy: RunningProxy, route: string): Promise<RunResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: BURST_SIZE });
  const statuses: Record<number, number> = {};
  const failures: string[] = [];
  const wrongBodies: string[] = [];
  const gapsMs: number[] = [];
  const deadline = performance.now() + RUN_DEADLINE_MS;
  try {
    for (let b = 0; b < BURSTS; b++) {
      if (performance.now() > deadline) throw new Error(`run to ${route} not done after ${RUN_DEADLINE_MS} ms (burst ${b} of ${BURSTS})`);
      await Promise.all(
        Array.from({ length: BURST_SIZE }, async (_, i) => {
          const reqPath = `/${route}/${b}/${i}`;
          const body = `burst ${b} request ${i}`;
          try {
            const res = await post(agent, proxy.port, reqPath, body);
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
            if (res.status === 200 && res.body !== answer(reqPath, body)) wrongBodies.push(`${reqPath}: ${JSON.stringify(res.body)}`);
          } catch (err) {
            failures.push(`${reqPath}: ${err instanceof Error ? `${'code' in err ? String(err.code) : err.name} ${err.message}` : String(err)}`);
          }
        }),
      );
      const gap = GAPS_MS[b];
      if (gap === undefined) break;
      const pausedAt = performance.now();
      await sleep(gap);
      gapsMs.push(Math.round(performance.now() - pausedAt));
    }
  } finally {
    agent.destroy();
  }
  return { route, requests: BURSTS * BURST_SIZE, statuses, failures, wrongBodies, gapsMs };
}

/** The proxy's log lines that name a 502 or an upstream that closed early, to explain a count. */
function raceLines(log: string): string[] {
  return log.split('\n').filter((line) => /prematurely closed|\b502\b|SH--|SD--/.test(line));
}

const started: RunningProxy[] = [];
afterAll(async () => {
  await Promise.all(started.splice(0).map((proxy) => proxy.stop()));
});

describe.each<ProxyKind>(['nginx', 'haproxy'])('behind %s (upstream keep-alive 60 s), bursts of 32 POSTs about 1 s apart', (kind) => {
  it(
    'tether (keepAliveTimeout 1000, default keepAliveTimeoutBuffer) answers every POST: no 502, no worse than node:http',
    { timeout: PROXY_TEST_TIMEOUT_MS },
    async () => {
      const tether = await resources.server(echo, { keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
      const tetherNoBuffer = await resources.server(echo, { keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, keepAliveTimeoutBuffer: 0 });
      const node = await nodeBackend();
      const proxy = await startProxy(kind, { node: node.port, tether: tether.port, 'tether-no-buffer': tetherNoBuffer.port });
      started.push(proxy);
      try {
        // One after another, so no run's timers wait on another's work. node:http first: the control.
        const nodeRun = await runBursts(proxy, 'node');
        const tetherRun = await runBursts(proxy, 'tether');
        const noBufferRun = await runBursts(proxy, 'tether-no-buffer');
        const lines = raceLines(await proxy.log());
        const tetherConnections = tether.server.stats().connections.total;
        const report = [
          `behind ${kind}: 502s node:http ${count502(nodeRun)}, tether ${count502(tetherRun)}, ` +
            `tether keepAliveTimeoutBuffer 0 ${count502(noBufferRun)} (the mechanism; not asserted) of ${BURSTS * BURST_SIZE} POSTs each; ` +
            `upstream connections node:http ${node.connections()}, tether ${tetherConnections}, tether buffer 0 ${tetherNoBuffer.server.stats().connections.total}; ` +
            `${lines.length} race lines in the ${kind} log`,
          `  ${summary(nodeRun)}`,
          `  ${summary(tetherRun)}`,
          `  ${summary(noBufferRun)}`,
          ...lines.slice(0, 5).map((line) => `  ${kind}: ${line}`),
        ].join('\n');
        console.log(report);

        // The premise: the proxy reuses its upstream connections (node:http keeps them 2000 ms,
        // as tether should), so a close can race a reuse.
        expect(node.connections(), `${kind} did not reuse its upstream connections to node:http:\n${report}`).toBeLessThanOrEqual(nodeRun.requests / 2);
        // tether keeps an idle connection 2000 ms, twice the longest gap: no reuse crosses its close.
        expect(count502(tetherRun), report).toBe(0);
        expect(notOk(tetherRun), report).toBe(0);
        expect(count502(tetherRun), report).toBeLessThanOrEqual(count502(nodeRun));
      } finally {
        await proxy.stop();
      }
    },
  );
});
