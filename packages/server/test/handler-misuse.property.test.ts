/**
 * Property: nothing a handler does can crash the process or wedge a connection.
 *
 * Each case starts a server on 127.0.0.1 port 0 with random policy options (keepAliveMax 1–5,
 * pipelineConcurrency 1–8, a tiny to default writeHighWaterMark, timeouts of a few hundred ms),
 * whose handler runs a generated program per request (handler-programs.ts): misuse — headers
 * that steer framing and persistence, right and wrong; bad statuses and reasons; writeHead twice,
 * write after end, end twice; throws and rejections at any step; awaits; streamed bodies; reading
 * the body or not; never answering; from inside the handler or from a timer after it returned —
 * or a polite program that does nothing wrong. One or two clients talk to it over real sockets:
 * a raw socket that writes all its requests (1–6 GET/HEAD/POST, the last one sometimes with
 * `Connection: close`) at once, or one that sends each after the previous answer. Responses are
 * parsed by a client-role @tether/protocol Connection, which knows which request each answers
 * (HEAD) and refuses a malformed response stream.
 *
 * A case has two phases. First the clients run until every request is answered, or the
 * connection closed, or nothing has moved for a while (no handler step, no byte). Then
 * `server.close({ timeout })` ends what is left — the connections held by handlers that never
 * answer. Invariants (each failure names the one it breaks):
 *
 * - crash: no uncaught exception and no unhandled rejection in the process during the case;
 * - order: responses come in request order (`X-Seq`), each request's handler runs at most once;
 * - wedge: when the first unanswered request's handler has answered, failed or is waiting on the
 *   server (its body, 'drain'), the answer arrives or the connection closes — without shutdown;
 * - close-explained: a connection that closes with requests outstanding closes after a response
 *   saying `Connection: close`, or right after a response its handler broke midway (with the head
 *   out, a call on `res` threw or the handler failed); a response is cut short only then, or at
 *   shutdown when its handler never finished it;
 * - failed-midway: after a response broken midway and never ended, nothing more is answered;
 * - connection-close: a response saying `Connection: close` is the last, and the server closes
 *   the connection after it (unless its handler never ended it: then shutdown does);
 * - close-and-keep-alive: no response says `Connection: close` and carries `Keep-Alive`;
 * - keep-alive-max: an advertised `max` is a non-negative integer no greater than what
 *   keepAliveMax still allows; no connection carries more than keepAliveMax responses; with one
 *   connection, a close by the keepAliveMax policy comes no earlier than an advertised `max`;
 * - valid-call-threw: a handler that makes only valid calls (a polite program) never sees one
 *   throw — an error thrown into it belongs to another response;
 * - client-error: valid requests raise no 'clientError';
 * - shutdown/stats: `close()` resolves with a sane report, no connection is left open, requests
 *   counted ≥ responses received, closes by reason sum to connections.
 *
 * 2000 seeded cases by default (a fixed seed, so a failure reproduces; fast-check prints the
 * seed, path and shrunk counterexample). A longer run, e.g. 100,000 cases with a fresh seed:
 *
 *   TETHER_HANDLER_FUZZ_RUNS=100000 TETHER_HANDLER_FUZZ_SEED=$RANDOM pnpm --filter @tether/server exec vitest run test/handler-misuse.property.test.ts
 *
 * To replay a reported failure, set TETHER_HANDLER_FUZZ_SEED and TETHER_HANDLER_FUZZ_PATH to the
 * seed and path fast-check printed.
 */

import net from 'node:net';
import { Connection, NEED_DATA, PAUSED, RemoteProtocolError, parseConnection } from '@tether/protocol';
import type { Fields } from '@tether/protocol';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import type { ServerOptions, ServerRequest, ShutdownReport, TetherServer } from '../src/index.js';
import { politeProgramArb, programArb, runProgram } from './handler-programs.js';
import type { Activity, HandlerTrace, Program } from './handler-programs.js';
import { sleep } from './tcp-helpers.js';

const RUNS = Number(process.env.TETHER_HANDLER_FUZZ_RUNS ?? 2000);
/** Fixed by default so that CI failures reproduce; any integer from the environment replaces it. */
const SEED = Number(process.env.TETHER_HANDLER_FUZZ_SEED ?? 0x7e7e7);
const PATH = process.env.TETHER_HANDLER_FUZZ_PATH;
/** A case takes about 15 ms (2000 in about 35 s on 2 cores): room for a slow machine and for shrinking a failure. */
const TEST_TIMEOUT_MS = 60_000 + RUNS * 30;

/** Steps of the "nothing moves" detector: this many 5 ms turns with no handler step and no byte. */
const QUIET_TURNS = 4;
/** A connection that looks wedged is looked at once more after this long, so a slow turn is not a wedge. */
const WEDGE_CONFIRM_MS = 300;
/** Most a case's first phase may take (handler programs wait a few ms a step at most). */
const PHASE_ONE_LIMIT_MS = 5000;
/** The shutdown deadline given to `close()`: what is still busy then is forced. */
const CLOSE_TIMEOUT_MS = 20;
/** How long `close()` may take before the case fails (it must resolve soon after its deadline). */
const CLOSE_LIMIT_MS = 3000;

type Method = 'GET' | 'HEAD' | 'POST';

interface RequestSpec {
  readonly method: Method;
  readonly body: string;
  readonly program: Program;
}

interface ClientSpec {
  readonly mode: 'pipelined' | 'sequential';
  readonly requests: readonly RequestSpec[];
  /** The last request says `Connection: close`. */
  readonly closeLast: boolean;
}

interface CaseSpec {
  readonly options: ServerOptions & { readonly keepAliveMax: number };
  readonly clients: readonly ClientSpec[];
}

const requestArb: fc.Arbitrary<RequestSpec> = fc.record({
  method: fc.constantFrom<Method>('GET', 'GET', 'GET', 'HEAD', 'POST', 'POST'),
  body: fc.string({ maxLength: 40 }),
  program: fc.oneof({ weight: 3, arbitrary: programArb }, { weight: 1, arbitrary: politeProgramArb }),
});

const caseArb: fc.Arbitrary<CaseSpec> = fc.record({
  options: fc.record({
    keepAliveMax: fc.integer({ min: 1, max: 5 }),
    pipelineConcurrency: fc.integer({ min: 1, max: 8 }),
    writeHighWaterMark: fc.constantFrom(1, 16, 1024, 64 * 1024),
    keepAliveTimeout: fc.constantFrom(200, 400),
    requestTimeout: fc.constantFrom(200, 400),
    headersTimeout: fc.constant(400),
    lingerTimeout: fc.constantFrom(50, 200),
    advertiseKeepAlive: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  }),
  clients: fc.array(
    fc.record({
      mode: fc.constantFrom<ClientSpec['mode']>('pipelined', 'sequential'),
      requests: fc.array(requestArb, { minLength: 1, maxLength: 6 }),
      closeLast: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    }),
    { minLength: 1, maxLength: 2 },
  ),
});

/** A final response as the client read it. */
interface Answer {
  readonly status: number;
  readonly headers: Fields;
}

/**
 * One client connection: sends its requests (all at once, or each after the previous answer)
 * through a client-role Connection and parses what comes back.
 */
class Client {
  readonly index: number;
  readonly spec: ClientSpec;
  readonly socket: net.Socket;
  readonly conn = new Connection('client');
  /** Complete final responses, in order. */
  readonly answers: Answer[] = [];
  /** Heads of final responses received, complete or not (for header checks). */
  readonly heads: Answer[] = [];
  /** Requests written. */
  sent = 0;
  /** The server closed (FIN or reset). */
  eof = false;
  closed = false;
  /** The stream ended inside a response (head or body). */
  truncated = false;
  /** A response head arrived whose body has not ended. */
  inBody = false;
  /** Informational responses since the last final one. */
  interim = 0;
  /** The response stream was not valid HTTP/1.1. */
  parseError: unknown = null;
  readonly #activity: Activity;
  readonly #closedPromise: Promise<void>;

  private constructor(index: number, spec: ClientSpec, socket: net.Socket, activity: Activity) {
    this.index = index;
    this.spec = spec;
    this.socket = socket;
    this.#activity = activity;
    socket.on('data', (chunk: Buffer) => {
      activity.ticks++;
      if (this.eof) return;
      this.conn.receiveData(chunk);
      this.#pump();
    });
    socket.on('end', () => this.#onEof());
    socket.on('error', () => {
      // A reset: 'close' follows; what was read is what the server delivered.
      activity.ticks++;
    });
    this.#closedPromise = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        this.#onEof();
        resolve();
      }),
    );
  }

  static async open(port: number, index: number, spec: ClientSpec, activity: Activity): Promise<Client> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const client = new Client(index, spec, socket, activity);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return client;
  }

  /** The target naming this client and request, read back by the handler. */
  static target(client: number, request: number): string {
    return `/c${client}/r${request}`;
  }

  /** Start sending. */
  start(): void {
    if (this.spec.mode === 'pipelined') {
      const parts: Uint8Array[] = [];
      while (this.sent < this.spec.requests.length) parts.push(this.#request(this.sent++));
      this.socket.write(Buffer.concat(parts));
    } else {
      this.#sendNext();
    }
  }

  /** The index of the first response saying `Connection: close`, or -1. */
  get closingAt(): number {
    return this.answers.findIndex((a) => says(a, 'close'));
  }

  /** Part of a response after the last complete one arrived (a head, some body, a 1xx). */
  get partial(): boolean {
    return this.truncated || this.inBody || this.interim > 0;
  }

  /** Nothing more to wait for: closed, broken, or every request answered (and closed after a close). */
  get settled(): boolean {
    if (this.eof || this.parseError !== null) return true;
    if (this.closingAt >= 0) return false;
    return this.answers.length === this.spec.requests.length;
  }

  /** Resolves when the socket has closed or after `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    if (this.closed) return true;
    await Promise.race([this.#closedPromise, sleep(ms)]);
    return this.closed;
  }

  #request(i: number): Uint8Array {
    const { method, body } = this.spec.requests[i]!;
    const close = this.spec.closeLast && i === this.spec.requests.length - 1;
    const head = { type: 'request' as const, method, target: Client.target(this.index, i), headers: close ? ['Host', 'fuzz', 'Connection', 'close'] : ['Host', 'fuzz'] };
    return this.conn.sendMessage(head, method === 'POST' ? Buffer.from(body) : undefined);
  }

  #sendNext(): void {
    if (this.sent >= this.spec.requests.length || this.eof || !this.socket.writable) return;
    let bytes: Uint8Array;
    try {
      bytes = this.#request(this.sent);
    } catch (err) {
      // The client-role Connection refuses another request: the responses so far said to stop.
      this.parseError ??= err;
      return;
    }
    this.sent++;
    this.socket.write(bytes);
    this.#activity.ticks++;
  }

  #onEof(): void {
    if (this.eof) return;
    this.eof = true;
    this.#activity.ticks++;
    this.conn.receiveEof();
    this.#pump();
  }

  #pump(): void {
    for (;;) {
      let event;
      try {
        event = this.conn.nextEvent();
      } catch (err) {
        if (this.eof && err instanceof RemoteProtocolError && err.code === 'H1_INCOMPLETE_MESSAGE') this.truncated = true;
        else this.parseError ??= err;
        return;
      }
      if (event === NEED_DATA || event === PAUSED) return;
      switch (event.type) {
        case 'informational-response':
          this.interim++;
          break;
        case 'response':
          this.heads.push({ status: event.status, headers: event.headers });
          this.inBody = true;
          break;
        case 'end-of-message': {
          const head = this.heads.at(-1)!;
          this.answers.push(head);
          this.inBody = false;
          this.interim = 0;
          if (this.spec.mode === 'sequential' && !says(head, 'close')) this.#sendNext();
          break;
        }
        case 'connection-closed':
          return;
        default:
          break;
      }
    }
  }
}

/** The response's Connection field has `token`. */
function says(answer: Answer, token: 'close' | 'keep-alive'): boolean {
  const tokens = parseConnection(answer.headers.getAll('connection'));
  return token === 'close' ? tokens.close : tokens.keepAlive;
}

/** What one case saw, to judge. */
interface CaseRun {
  readonly spec: CaseSpec;
  readonly clients: readonly Client[];
  readonly traces: ReadonlyMap<string, HandlerTrace>;
  readonly problems: string[];
}

const traceKey = (client: number, request: number): string => `${client}/${request}`;

/** The handler of this request broke its response midway (see HandlerTrace.brokeMidway): the server may cut it short and close. */
function brokeMidway(run: CaseRun, client: number, request: number): boolean {
  const t = run.traces.get(traceKey(client, request));
  return t !== undefined && (t.brokeMidway || t.reportedFailed);
}

/** The handler never answered (returned or hangs without ending its response): the server may hold the request until shutdown. */
function neverAnswered(t: HandlerTrace | undefined): t is HandlerTrace {
  return t !== undefined && (t.state === 'hung' || t.state === 'returned') && !t.res.writableEnded;
}

/** Why the first phase of `c` is stuck, or null when it is not (settled, or held by a handler). */
function wedged(run: CaseRun, c: Client): string | null {
  if (c.settled) return null;
  const m = c.answers.length;
  // A handler that never answered holds the connection until shutdown. Its response may even look
  // complete to the client (a head-only message: HEAD, 204, Content-Length: 0), so every request
  // up to the first unanswered one is looked at.
  for (let r = 0; r <= Math.min(m, c.sent - 1); r++) if (neverAnswered(run.traces.get(traceKey(c.index, r)))) return null;
  const closing = c.closingAt;
  if (closing >= 0) return `[wedge/connection-close] c${c.index}: response ${closing} says Connection: close, but the server has not closed the connection`;
  const t = run.traces.get(traceKey(c.index, m));
  if (t === undefined) return `[wedge] c${c.index}: ${m} of ${c.sent} requests answered; request ${m}'s handler never ran, and the connection stays open`;
  return `[wedge] c${c.index}: ${m} of ${c.sent} requests answered; request ${m}'s handler ${describeTrace(t)}, yet no answer and no close`;
}

/** Checks of the first phase: why each connection that closed, closed. */
function judgePhaseOne(run: CaseRun): void {
  for (const c of run.clients) {
    if (!c.eof || c.parseError !== null) continue;
    const m = c.answers.length;
    if (m >= c.sent && !c.partial) continue;
    // After a response saying close; or a response broken midway (the last complete one, which
    // may look complete to the client, or the one cut short).
    const explained = (m > 0 && (c.closingAt === m - 1 || brokeMidway(run, c.index, m - 1))) || brokeMidway(run, c.index, m);
    if (!explained) {
      run.problems.push(
        `[close-explained] c${c.index}: the server closed after ${m} of ${c.sent} responses${c.partial ? ' (the next one cut short)' : ''}, ` +
          `without a Connection: close and without a response broken midway (request ${m}'s handler ${describeTrace(run.traces.get(traceKey(c.index, m)))})`,
      );
    }
  }
}

/** What a handler did, for a failure message. */
function describeTrace(t: HandlerTrace | undefined): string {
  if (t === undefined) return 'never ran';
  const end = `end() returned: ${t.endReturned}, broke midway: ${t.brokeMidway}`;
  if (t.state === 'failed') return `failed (head sent: ${t.headersSentAtFailure}, writableEnded: ${t.endedAtFailure}, ${end})`;
  return `is '${t.state}' (head sent: ${t.res.headersSent}, writableEnded: ${t.res.writableEnded}, ${end})`;
}

/** Checks of everything each client received, after shutdown. */
function judgeStreams(run: CaseRun, stats: ReturnType<TetherServer['stats']>): void {
  const max = run.spec.options.keepAliveMax;
  const problems = run.problems;
  for (const c of run.clients) {
    const tag = `c${c.index}`;
    if (c.parseError !== null) problems.push(`[stream] ${tag}: the response stream is not valid HTTP/1.1: ${errorText(c.parseError)}`);
    if (c.heads.length > max) problems.push(`[keep-alive-max] ${tag}: ${c.heads.length} responses on one connection with keepAliveMax ${max}`);
    if (c.answers.length > c.sent) problems.push(`[order] ${tag}: ${c.answers.length} responses to ${c.sent} requests`);
    const closing = c.closingAt;
    if (closing >= 0 && (closing !== c.answers.length - 1 || c.partial || c.conn.discardedBytes > 0)) {
      problems.push(`[connection-close] ${tag}: response ${closing} says Connection: close, but more followed (${c.answers.length} complete, partial: ${c.partial}, ${c.conn.discardedBytes} bytes after it)`);
    }
    const advertised: [index: number, max: number][] = [];
    c.heads.forEach((head, i) => {
      const keepAlive = head.headers.getAll('keep-alive');
      const seq = head.headers.get('x-seq');
      if (seq !== undefined && seq !== String(i)) problems.push(`[order] ${tag}: response ${i} carries X-Seq: ${seq}`);
      if (keepAlive.length > 0 && says(head, 'close')) problems.push(`[close-and-keep-alive] ${tag}: response ${i} says Connection: close and carries Keep-Alive: ${keepAlive.join(', ')}`);
      for (const value of keepAlive) {
        for (const param of value.split(',')) {
          const [name = '', v = ''] = param.split('=').map((s) => s.trim());
          if (name.toLowerCase() !== 'max') continue;
          const left = max - (i + 1);
          if (!/^\d+$/.test(v)) problems.push(`[keep-alive-max] ${tag}: response ${i} advertises Keep-Alive max=${v}`);
          else if (Number(v) > left) problems.push(`[keep-alive-max] ${tag}: response ${i} advertises max=${v}, but keepAliveMax ${max} leaves ${left}`);
          else advertised.push([i, Number(v)]);
        }
      }
    });
    // One connection: a close by the keepAliveMax policy is this one's; it must honour every max advertised.
    if (run.clients.length === 1 && stats.closedBy['keep-alive-max'] > 0) {
      const last = c.answers.length - 1;
      for (const [i, left] of advertised) {
        if (last < i + left) problems.push(`[keep-alive-max] ${tag}: response ${i} advertised max=${left}, but the keepAliveMax policy closed after response ${last}`);
      }
    }
    for (let r = 0; r < c.sent; r++) {
      const t = run.traces.get(traceKey(c.index, r));
      if (t?.brokeMidway === true && !t.endReturned && c.answers.length > r + 1) {
        problems.push(`[failed-midway] ${tag}: request ${r}'s handler broke its response midway (never ended), yet ${c.answers.length - r - 1} more responses followed`);
      }
    }
    // Cut short: by a handler that broke it, or at shutdown, of a handler that never answered.
    const m = c.answers.length;
    const cut = run.traces.get(traceKey(c.index, m));
    if (c.partial && !brokeMidway(run, c.index, m) && !(neverAnswered(cut) && cut.res.headersSent)) {
      problems.push(`[close-explained] ${tag}: response ${m} was cut short, but its handler ${describeTrace(cut)}`);
    }
    if (!c.closed) problems.push(`[shutdown] ${tag}: close() resolved, yet the client's socket is still open`);
  }
}

/** Run one case and return what went wrong (empty: every invariant held). */
async function runCase(spec: CaseSpec, crashes: unknown[]): Promise<string[]> {
  const activity: Activity = { ticks: 0, waiting: 0 };
  const traces = new Map<string, HandlerTrace>();
  const problems: string[] = [];
  const clientErrors: unknown[] = [];
  const server = createServer(spec.options, (req, res) => {
    activity.ticks++;
    const match = /^\/c(\d)\/r(\d)$/.exec(req.url);
    const request = match === null ? undefined : spec.clients[Number(match[1])]?.requests[Number(match[2])];
    if (match === null || request === undefined) {
      problems.push(`[order] a handler got an unknown request ${req.method} ${JSON.stringify(req.url)}`);
      res.end();
      return undefined;
    }
    const key = traceKey(Number(match[1]), Number(match[2]));
    if (traces.has(key)) problems.push(`[order] the handler of ${key} ran twice`);
    if (req.method !== request.method) problems.push(`[order] request ${key} was sent as ${request.method}, the handler got ${req.method}`);
    const trace: HandlerTrace = { state: 'running', res, headersSentAtFailure: false, endedAtFailure: false, endReturned: false, brokeMidway: false, reportedFailed: false, politeThrow: null };
    traces.set(key, trace);
    if (request.program.tag) res.setHeader('X-Seq', match[2]!);
    return runProgram(request.program, req, res, trace, activity);
  });
  server.on('error', (_err: unknown, req: ServerRequest | null) => {
    const match = req === null ? null : /^\/c(\d)\/r(\d)$/.exec(req.url);
    const trace = match === null ? undefined : traces.get(traceKey(Number(match[1]), Number(match[2])));
    if (trace !== undefined) trace.reportedFailed = true;
  });
  server.on('clientError', (err: unknown) => clientErrors.push(err));
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  const clients: Client[] = [];
  try {
    for (const [i, c] of spec.clients.entries()) clients.push(await Client.open(port, i, c, activity));
    const run: CaseRun = { spec, clients, traces, problems };
    for (const c of clients) c.start();

    // Phase 1: until every client is settled, or nothing moves. A wedge is confirmed once.
    const started = Date.now();
    let confirming = false;
    for (;;) {
      let quiet = 0;
      let seen = activity.ticks;
      while (!clients.every((c) => c.settled) && quiet < QUIET_TURNS && Date.now() - started < PHASE_ONE_LIMIT_MS) {
        await sleep(5);
        if (activity.ticks !== seen || activity.waiting > 0) {
          seen = activity.ticks;
          quiet = 0;
        } else {
          quiet++;
        }
      }
      const stuck = clients.map((c) => wedged(run, c)).filter((s): s is string => s !== null);
      if (stuck.length === 0 || confirming) {
        problems.push(...stuck);
        break;
      }
      confirming = true;
      await sleep(WEDGE_CONFIRM_MS);
    }
    judgePhaseOne(run);

    // Phase 2: shutdown forces what handlers still hold.
    let timer: NodeJS.Timeout | undefined;
    const report = await Promise.race([
      server.close({ timeout: CLOSE_TIMEOUT_MS }),
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), CLOSE_LIMIT_MS))),
    ]);
    clearTimeout(timer);
    if (report === null) problems.push(`[shutdown] close({ timeout: ${CLOSE_TIMEOUT_MS} }) did not resolve within ${CLOSE_LIMIT_MS} ms`);
    else judgeReport(report, problems);
    for (const c of clients) await c.closedWithin(1000);
    const stats = server.stats();
    judgeStreams(run, stats);
    const answered = clients.reduce((n, c) => n + c.answers.length, 0);
    const sent = clients.reduce((n, c) => n + c.sent, 0);
    const closes = Object.values(stats.closedBy).reduce((n, k) => n + k, 0);
    if (report !== null && stats.connections.open !== 0) problems.push(`[stats] ${stats.connections.open} connections open after close()`);
    if (stats.connections.total !== clients.length) problems.push(`[stats] ${stats.connections.total} connections counted for ${clients.length} clients`);
    if (stats.requests < answered) problems.push(`[stats] ${stats.requests} requests counted, ${answered} responses received`);
    if (stats.requests > sent) problems.push(`[stats] ${stats.requests} requests counted, ${sent} sent`);
    if (report !== null && closes !== stats.connections.total) problems.push(`[stats] closes by reason sum to ${closes} for ${stats.connections.total} connections`);
    for (const [key, t] of traces) {
      if (t.politeThrow !== null) problems.push(`[valid-call-threw] request ${key}: its handler made only valid calls, yet res.${t.politeThrow.op}() threw ${errorText(t.politeThrow.error)}`);
    }
    if (clientErrors.length > 0) problems.push(`[client-error] valid requests raised 'clientError': ${errorText(clientErrors[0])}`);

    // Handlers still in a timed wait carry on after shutdown: let them finish inside this case.
    const waitUntil = Date.now() + 200;
    while (activity.waiting > 0 && Date.now() < waitUntil) await sleep(2);
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    for (const c of clients) c.socket.destroy();
  }
  for (const err of crashes.splice(0)) {
    problems.unshift(`[crash] ${errorText(err, true)}`);
  }
  return problems;
}

/** An error as text (its stack when `stack`). */
function errorText(err: unknown, stack = false): string {
  if (err instanceof Error) return stack ? (err.stack ?? err.message) : `${err.name}: ${err.message}`;
  return typeof err === 'string' ? err : JSON.stringify(err) ?? 'undefined';
}

/** Every count of the shutdown report is a non-negative integer. */
function judgeReport(report: ShutdownReport, problems: string[]): void {
  for (const [name, value] of Object.entries(report)) {
    if (!Number.isSafeInteger(value) || (value as number) < 0) problems.push(`[shutdown] the shutdown report has ${name}: ${String(value)}`);
  }
}

it(
  `no handler program crashes the process or wedges a connection (${RUNS} cases, seed ${SEED})`,
  async () => {
    // The property owns crash detection while it runs: the runner's own recorders would report
    // each crash of every shrinking step as a separate unhandled error.
    const savedUncaught = process.listeners('uncaughtException');
    const savedUnhandled = process.listeners('unhandledRejection');
    const crashes: unknown[] = [];
    const record = (err: unknown): void => {
      crashes.push(err);
    };
    process.removeAllListeners('uncaughtException').removeAllListeners('unhandledRejection');
    process.on('uncaughtException', record).on('unhandledRejection', record);
    try {
      await fc.assert(
        fc.asyncProperty(caseArb, async (spec) => {
          crashes.length = 0;
          const problems = await runCase(spec, crashes);
          if (problems.length > 0) throw new Error(problems.join('\n'));
        }),
        {
          numRuns: RUNS,
          seed: SEED,
          ...(PATH === undefined ? {} : { path: PATH }),
          interruptAfterTimeLimit: TEST_TIMEOUT_MS - 10_000,
          markInterruptAsFailure: true,
        },
      );
    } finally {
      process.off('uncaughtException', record).off('unhandledRejection', record);
      for (const listener of savedUncaught) process.on('uncaughtException', listener);
      for (const listener of savedUnhandled) process.on('unhandledRejection', listener);
    }
    expect(crashes).toEqual([]);
  },
  TEST_TIMEOUT_MS,
);
