/**
 * Theory of operation: the harness of the handler-misuse properties — tether's own objects
 * (handler-misuse.property.test.ts) and node:http's on the `nodeObjects` path
 * (node-objects-misuse.property.test.ts). Each test file states its invariants; this module
 * generates the cases, runs them and judges them.
 *
 * A case starts a server on 127.0.0.1 port 0 with random policy options, whose handler runs a
 * generated program per request (handler-programs.ts). One or two clients talk to it over real
 * sockets: a raw socket that writes all its requests at once, or one that sends each after the
 * previous answer. Responses are parsed by a client-role @tether/protocol Connection, which knows
 * which request each answers (HEAD) and refuses a malformed response stream.
 *
 * A case has two phases. First the clients run until every request is answered, or the
 * connection closed, or nothing has moved for a while (no handler step, no byte). Then
 * `server.close({ timeout })` ends what is left — the connections held by handlers that never
 * answer. Every failure message starts with the name of the invariant it breaks, in brackets.
 *
 * What differs between the paths is a `MisusePath`: how the server is made, and whether node
 * frames the responses (then the judges allow exactly what node's framing makes legitimate; see
 * `nodeFraming`). With `nodeFraming: false` the judgement is the one the tether-objects property
 * has always made.
 */

import net from 'node:net';
import { Connection, NEED_DATA, PAUSED, RemoteProtocolError, decideFraming, isRefusal, parseConnection } from '@tether/protocol';
import type { Fields } from '@tether/protocol';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { ServerOptions, ShutdownReport, TetherServer } from '../src/index.js';
import { politeProgramArb, programArb, runProgram, setsField } from './handler-programs.js';
import type { Activity, HandlerTrace, Program, ProgramRequest, ProgramResponse } from './handler-programs.js';
import { sleep } from './tcp-helpers.js';

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

export interface RequestSpec {
  readonly method: Method;
  readonly body: string;
  readonly program: Program;
}

export interface ClientSpec {
  readonly mode: 'pipelined' | 'sequential';
  readonly requests: readonly RequestSpec[];
  /** The last request says `Connection: close`. */
  readonly closeLast: boolean;
}

/** A case's server options: the random policy options (keepAliveMax always set). */
export type CaseOptions = ServerOptions & { readonly keepAliveMax: number };

export interface CaseSpec {
  readonly options: CaseOptions;
  readonly clients: readonly ClientSpec[];
}

/** A case's handler: it runs the request's program on whatever objects the server gives. */
export type CaseHandler = (req: ProgramRequest, res: ProgramResponse) => unknown;

/** What a property runs on. */
export interface MisusePath {
  /** Make a case's server, not listening yet, whose handler is `handler`. */
  serve(options: CaseOptions, handler: CaseHandler): TetherServer;
  /**
   * node's ServerResponse frames each response and honours the handler's own fields, so:
   * - a handler's `Keep-Alive` field is written as given (node then adds none): the Keep-Alive
   *   checks (close-and-keep-alive, keep-alive-max) skip a response whose handler may have set one;
   * - a handler's `Connection` field is written as given, and a handler that removed it gets
   *   none (node then adds none): when tether's policy makes that response the last (keepAliveMax
   *   reached, or its request said `Connection: close`) or node's (a 204 or 304 with chunked
   *   Transfer-Encoding closes), the connection closes after a response that may not say so;
   * - a response whose framing ends it at the close (RFC 9112 §6.3: no Content-Length and no
   *   Transfer-Encoding, or a final coding other than chunked; or both fields) is the last.
   * Each of these explains a close after that response (close-explained); nothing else changes.
   */
  readonly nodeFraming: boolean;
}

/** One property run: how many cases, from which seed (and path, to replay), within what time. */
export interface MisuseRun {
  readonly runs: number;
  readonly seed: number;
  readonly path: string | undefined;
  /** The test's timeout: fast-check stops (and fails) 10 s before it. */
  readonly timeoutMs: number;
}

const requestArb: fc.Arbitrary<RequestSpec> = fc.record({
  method: fc.constantFrom<Method>('GET', 'GET', 'GET', 'HEAD', 'POST', 'POST'),
  body: fc.string({ maxLength: 40 }),
  program: fc.oneof({ weight: 3, arbitrary: programArb }, { weight: 1, arbitrary: politeProgramArb }),
});

/** A case: the server's options and its clients' requests, each with its handler program. */
export const caseArb: fc.Arbitrary<CaseSpec> = fc.record({
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
  /** Its framing ends it at the close of the connection (RFC 9112 §6.3), which makes it the last. */
  readonly endsAtClose: boolean;
}

/** Whether a response with this head, to a `method` request, is delimited by the close or must close (RFC 9112 §6.1, §6.3). */
function framingEndsAtClose(method: Method, status: number, headers: Fields): boolean {
  const field = (name: string): readonly string[] | undefined => {
    const values = headers.getAll(name);
    return values.length === 0 ? undefined : values;
  };
  const framing = decideFraming({ kind: 'response', version: '1.1', requestMethod: method, status, contentLength: field('content-length'), transferEncoding: field('transfer-encoding') });
  return !isRefusal(framing) && framing.mustClose;
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
        case 'response': {
          const method = this.spec.requests[this.heads.length]?.method ?? 'GET';
          this.heads.push({ status: event.status, headers: event.headers, endsAtClose: framingEndsAtClose(method, event.status, event.headers) });
          this.inBody = true;
          break;
        }
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
  readonly path: MisusePath;
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

/**
 * node's framing (see MisusePath.nodeFraming) made response `r` of `c` the last without saying
 * `Connection: close`: its framing ends it at the close; or its handler may have set or removed
 * its own Connection field, which node writes (or leaves out) instead of its own, and the
 * response is the last by tether's policy (keepAliveMax reached, or its request said close) or by
 * node's rule that a 204 or 304 with chunked Transfer-Encoding closes.
 */
function lastByNodeFraming(run: CaseRun, c: Client, r: number): boolean {
  if (!run.path.nodeFraming) return false;
  const answer = c.answers[r];
  if (answer?.endsAtClose === true) return true;
  const program = c.spec.requests[r]?.program;
  if (answer === undefined || program === undefined || !setsField(program, 'connection', true)) return false;
  const policyLast = r + 1 >= run.spec.options.keepAliveMax || (c.spec.closeLast && r === c.spec.requests.length - 1);
  const nodeLast = (answer.status === 204 || answer.status === 304) && setsField(program, 'transfer-encoding');
  return policyLast || nodeLast;
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
    // may look complete to the client, or the one cut short); or, under node's framing, a
    // response node's framing made the last.
    const explained = (m > 0 && (c.closingAt === m - 1 || brokeMidway(run, c.index, m - 1) || lastByNodeFraming(run, c, m - 1))) || brokeMidway(run, c.index, m);
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
      const seq = head.headers.get('x-seq');
      if (seq !== undefined && seq !== String(i)) problems.push(`[order] ${tag}: response ${i} carries X-Seq: ${seq}`);
      // Under node's framing a handler's own Keep-Alive is written as given (see MisusePath).
      const program = c.spec.requests[i]?.program;
      if (run.path.nodeFraming && program !== undefined && setsField(program, 'keep-alive')) return;
      const keepAlive = head.headers.getAll('keep-alive');
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

/** Run one case and return what went wrong (empty: every invariant held); `crashes` collects what the process caught meanwhile. */
export async function runCase(path: MisusePath, spec: CaseSpec, crashes: unknown[]): Promise<string[]> {
  const activity: Activity = { ticks: 0, waiting: 0 };
  const traces = new Map<string, HandlerTrace>();
  const problems: string[] = [];
  const clientErrors: unknown[] = [];
  const server = path.serve(spec.options, (req, res) => {
    activity.ticks++;
    const url = req.url ?? '';
    const match = /^\/c(\d)\/r(\d)$/.exec(url);
    const request = match === null ? undefined : spec.clients[Number(match[1])]?.requests[Number(match[2])];
    if (match === null || request === undefined) {
      problems.push(`[order] a handler got an unknown request ${req.method} ${JSON.stringify(url)}`);
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
  server.on('error', (_err: unknown, req: { readonly url?: string | undefined } | null) => {
    const match = req === null ? null : /^\/c(\d)\/r(\d)$/.exec(req.url ?? '');
    const trace = match === null ? undefined : traces.get(traceKey(Number(match[1]), Number(match[2])));
    if (trace !== undefined) trace.reportedFailed = true;
  });
  server.on('clientError', (err: unknown) => clientErrors.push(err));
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  const clients: Client[] = [];
  try {
    for (const [i, c] of spec.clients.entries()) clients.push(await Client.open(port, i, c, activity));
    const run: CaseRun = { spec, path, clients, traces, problems };
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

/**
 * The property: every generated case on `path` keeps every invariant. Run it as a test's body;
 * it fails with fast-check's report (seed, path, shrunk counterexample and the broken invariants).
 */
export async function checkMisuse(path: MisusePath, run: MisuseRun): Promise<void> {
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
        const problems = await runCase(path, spec, crashes);
        if (problems.length > 0) throw new Error(problems.join('\n'));
      }),
      {
        numRuns: run.runs,
        seed: run.seed,
        ...(run.path === undefined ? {} : { path: run.path }),
        interruptAfterTimeLimit: run.timeoutMs - 10_000,
        markInterruptAsFailure: true,
      },
    );
  } finally {
    process.off('uncaughtException', record).off('unhandledRejection', record);
    for (const listener of savedUncaught) process.on('uncaughtException', listener);
    for (const listener of savedUnhandled) process.on('unhandledRejection', listener);
  }
  expect(crashes).toEqual([]);
}
