/**
 * Theory of operation: handler programs for the handler-misuse property
 * (handler-misuse.property.test.ts). A program is data — the steps a handler performs on
 * `(req, res)` — so fast-check can generate and shrink it and a failure prints as a readable
 * list. `runProgram` interprets one:
 *
 * - steps run synchronously until the first step that awaits, so a throw before it is a
 *   synchronous throw out of the handler and a throw after it rejects the handler's promise
 *   (an `asyncFn` program behaves as an `async` handler: every throw is a rejection);
 * - a call that throws escapes the handler (that is the misuse), unless its step is `caught`,
 *   as a user who expects the call may fail would wrap it;
 * - a `detached` program runs from a timer after the handler returned (callback style:
 *   `setTimeout(() => res.end())`); there every call is wrapped, since a throw would be the
 *   user's own crash, and a `throw` step just stops the program;
 * - a `polite` program makes only valid calls (plain headers, a valid status, writes, one end);
 *   its calls are wrapped too, and one that throws is recorded, since the error cannot be its own;
 * - the trace records how the handler ended (returned, failed, or still waiting, and on what),
 *   which is what tells a handler that never answered — its connection may stay busy until
 *   shutdown — from a server that wedged a connection after the handler did its part.
 *
 * Every step touches only `req` and `res`, and no promise made here can reject unhandled (a
 * detached program catches its own), so an unhandled rejection during a case is the server's.
 *
 * A program runs on tether's request and response or on node:http's own (the `nodeObjects` path,
 * node-objects-misuse.property.test.ts): every call on `res` is one both have with the same
 * meaning; reading the body is `req.text()` on tether's, reading the stream to its end on node's.
 */

import type http from 'node:http';
import { RemoteProtocolError } from '@tether/protocol';
import fc from 'fast-check';
import { ServerRequest } from '../src/index.js';
import type { ServerResponse } from '../src/index.js';

type HeaderValue = string | number | readonly string[];

/** The request a program reads: tether's, or node:http's on the `nodeObjects` path. */
export type ProgramRequest = ServerRequest | http.IncomingMessage;

/** The response a program writes: tether's, or node:http's on the `nodeObjects` path. */
export type ProgramResponse = ServerResponse | http.ServerResponse;

/** A header value: a literal, or a Content-Length `delta` bytes off the program's own body length (0: right). */
export type ValueSpec = { readonly literal: HeaderValue } | { readonly contentLength: number };

/** A body chunk: text, bytes, or `repeat` times 'x' (a large body that prints small). */
export type Chunk = string | Uint8Array | { readonly repeat: number };

/** What a `throw` step throws. */
export type Thrown = 'error' | 'string' | 'null' | 'undefined' | 'remote-400' | 'remote-502' | 'remote-1000';

/** A status as a handler might set it: any number, or text. */
export type StatusSpec = number | string;

/** One thing a handler does. `caught`: the call is wrapped in try/catch and the program goes on. */
export type Step =
  | { readonly op: 'setHeader'; readonly name: string; readonly value: ValueSpec; readonly caught: boolean }
  | { readonly op: 'appendHeader'; readonly name: string; readonly value: ValueSpec; readonly caught: boolean }
  | { readonly op: 'removeHeader'; readonly name: string; readonly caught: boolean }
  | { readonly op: 'status'; readonly code: StatusSpec }
  | { readonly op: 'reason'; readonly message: string }
  | { readonly op: 'writeHead'; readonly code: StatusSpec; readonly reason: string | null; readonly headers: readonly (readonly [string, ValueSpec])[] | null; readonly caught: boolean }
  | { readonly op: 'write'; readonly chunk: Chunk; readonly awaitDrain: boolean; readonly caught: boolean }
  | { readonly op: 'end'; readonly chunk: Chunk | null; readonly caught: boolean }
  | { readonly op: 'trailers'; readonly fields: readonly (readonly [string, string])[]; readonly caught: boolean }
  | { readonly op: 'readBody' }
  | { readonly op: 'throw'; readonly value: Thrown }
  | { readonly op: 'wait'; readonly how: 'microtask' | 'immediate' | 'timer'; readonly ms: number }
  | { readonly op: 'hang' };

/**
 * A handler. `tag` sets `X-Seq: <request index>` first (the property checks responses come in
 * order); `detached`: the steps run after the handler returned, from `setImmediate` or a timer of
 * that many ms; `polite`: every step is a valid call (see the module comment).
 */
export interface Program {
  readonly asyncFn: boolean;
  readonly tag: boolean;
  readonly detached: 'immediate' | number | null;
  readonly polite: boolean;
  readonly steps: readonly Step[];
}

/**
 * Where a handler is: running a step; awaiting a timer, the request body or 'drain'; awaiting
 * forever on purpose (`hung`); returned; or failed (threw, or its promise rejected).
 */
export type HandlerState = 'running' | 'waiting' | 'reading' | 'draining' | 'hung' | 'returned' | 'failed';

/** What one handler invocation did. */
export interface HandlerTrace {
  state: HandlerState;
  readonly res: ProgramResponse;
  /** `res.headersSent` and `res.writableEnded` when the handler failed. */
  headersSentAtFailure: boolean;
  endedAtFailure: boolean;
  /** A call of `res.end()` returned (did not throw): the handler answered. */
  endReturned: boolean;
  /**
   * The handler broke its response midway: with the head out and before an `end()` returned, a
   * call on `res` threw (caught or not) or the handler failed. The server may then cut the
   * response short and must close the connection after it.
   */
  brokeMidway: boolean;
  /**
   * The server reported (its 'error' event, with this request) that the response failed: what a
   * handler running ahead of its turn recorded could not be framed when its turn came. Its
   * calls returned, but the server may cut the response short and close, as for `brokeMidway`.
   */
  reportedFailed: boolean;
  /** A polite program's call that threw, and what it threw. */
  politeThrow: { readonly op: string; readonly error: unknown } | null;
}

/** Shared by every handler and client of a case: `ticks` moves on any progress; `waiting` counts handlers in a timed wait. */
export interface Activity {
  ticks: number;
  waiting: number;
}

/** The bytes of `chunk`. */
export function chunkBytes(chunk: Chunk): string | Uint8Array {
  return typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : 'x'.repeat(chunk.repeat);
}

function chunkLength(chunk: Chunk): number {
  const bytes = chunkBytes(chunk);
  return typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
}

/** Bytes the program writes as body (what a right Content-Length says). */
function bodyLength(program: Program): number {
  let n = 0;
  for (const step of program.steps) {
    if (step.op === 'write') n += chunkLength(step.chunk);
    else if (step.op === 'end' && step.chunk !== null) n += chunkLength(step.chunk);
  }
  return n;
}

function headerValue(spec: ValueSpec, length: number): HeaderValue {
  return 'literal' in spec ? spec.literal : String(length + spec.contentLength);
}

function thrown(value: Thrown): unknown {
  switch (value) {
    case 'error':
      return new Error('thrown by the handler');
    case 'string':
      return 'thrown by the handler';
    case 'null':
      return null;
    case 'undefined':
      return undefined;
    case 'remote-400':
      return new RemoteProtocolError('H1_INVALID_HEADER_VALUE', 'thrown by the handler');
    case 'remote-502':
      // A gateway handler letting its upstream parse error escape (client-role errors carry 502).
      return new RemoteProtocolError('H1_INVALID_STATUS_LINE', 'thrown by the handler', 502);
    case 'remote-1000':
      return new RemoteProtocolError('H1_INVALID_HEADER_VALUE', 'thrown by the handler', 1000);
  }
}

/**
 * Whether `program` may set the field `name` (any case): a setHeader, appendHeader or writeHead
 * step names it; with `orRemove`, a removeHeader step too.
 */
export function setsField(program: Program, name: string, orRemove = false): boolean {
  const lower = name.toLowerCase();
  return program.steps.some((step) => {
    if (step.op === 'setHeader' || step.op === 'appendHeader') return step.name.toLowerCase() === lower;
    if (step.op === 'removeHeader') return orRemove && step.name.toLowerCase() === lower;
    if (step.op === 'writeHead') return step.headers?.some(([field]) => field.toLowerCase() === lower) ?? false;
    return false;
  });
}

/**
 * Read node's request to its end: resolves at 'end' (at once if it ended), rejects when it fails
 * or closes first, as tether's `req.text()` rejects when the body does not arrive.
 */
function readNodeBody(req: http.IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (req.readableEnded) {
      resolve();
      return;
    }
    if (req.destroyed) {
      reject(new Error('the request was destroyed before its body ended'));
      return;
    }
    req.on('data', () => undefined);
    req.once('end', () => resolve());
    req.once('error', reject);
    req.once('close', () => reject(new Error('the request closed before its body ended')));
  });
}

/** What the steps of one run act on. */
interface Run {
  readonly program: Program;
  readonly req: ProgramRequest;
  /**
   * The response, typed as tether's: node's has every method a step calls, with the same
   * signature (tether's response mirrors node's API), so one set of calls serves both.
   */
  readonly res: ServerResponse;
  readonly trace: HandlerTrace;
  readonly activity: Activity;
  /** The program's body length (what a right Content-Length says). */
  readonly length: number;
}

/**
 * Make `call`, a call on `res`. It throws on unless the step is `caught` or the program wraps
 * every call (detached, polite). A call that throws once the head is out, before an `end()`
 * returned, breaks the response midway.
 */
function attempt(run: Run, op: string, caught: boolean, call: () => unknown): void {
  const { program, res, trace } = run;
  try {
    call();
  } catch (err) {
    if (res.headersSent && !trace.endReturned) trace.brokeMidway = true;
    if (program.polite) trace.politeThrow ??= { op, error: err };
    if (!caught && program.detached === null && !program.polite) throw err;
  }
}

/** Await a timer, counted in `activity.waiting` (a case is not quiet while one runs). */
function timer(activity: Activity, how: 'microtask' | 'immediate' | 'timer', ms: number): Promise<void> {
  activity.waiting++;
  return new Promise<void>((resolve) => {
    const done = (): void => {
      activity.waiting--;
      resolve();
    };
    if (how === 'microtask') queueMicrotask(done);
    else if (how === 'immediate') setImmediate(done);
    else setTimeout(done, ms);
  });
}

/**
 * Perform one step. Returns a promise when the step awaits (the state says on what); throws
 * what the step throws.
 */
function perform(run: Run, step: Step): Promise<unknown> | undefined {
  const { req, res, trace, length } = run;
  switch (step.op) {
    case 'setHeader':
      attempt(run, step.op, step.caught, () => res.setHeader(step.name, headerValue(step.value, length)));
      return undefined;
    case 'appendHeader':
      attempt(run, step.op, step.caught, () => {
        const before = res.getHeader(step.name);
        const added = headerValue(step.value, length);
        const list = (v: HeaderValue): string[] => (Array.isArray(v) ? [...(v as readonly string[])] : [String(v)]);
        res.setHeader(step.name, before === undefined ? added : [...list(before), ...list(added)]);
      });
      return undefined;
    case 'removeHeader':
      attempt(run, step.op, step.caught, () => res.removeHeader(step.name));
      return undefined;
    case 'status':
      res.statusCode = step.code as number;
      return undefined;
    case 'reason':
      res.statusMessage = step.message;
      return undefined;
    case 'writeHead': {
      const headers = step.headers === null ? null : Object.fromEntries(step.headers.map(([name, value]) => [name, headerValue(value, length)]));
      const code = step.code as number;
      attempt(run, step.op, step.caught, () => {
        if (step.reason !== null && headers !== null) res.writeHead(code, step.reason, headers);
        else if (step.reason !== null) res.writeHead(code, step.reason);
        else if (headers !== null) res.writeHead(code, headers);
        else res.writeHead(code);
      });
      return undefined;
    }
    case 'write': {
      let ok = true;
      attempt(run, step.op, step.caught, () => (ok = res.write(chunkBytes(step.chunk))));
      if (ok || !step.awaitDrain) return undefined;
      trace.state = 'draining';
      return new Promise((resolve) => res.once('drain', resolve));
    }
    case 'end':
      attempt(run, step.op, step.caught, () => {
        if (step.chunk === null) res.end();
        else res.end(chunkBytes(step.chunk));
        trace.endReturned = true;
      });
      return undefined;
    case 'trailers':
      attempt(run, step.op, step.caught, () => res.addTrailers(Object.fromEntries(step.fields)));
      return undefined;
    case 'readBody':
      trace.state = 'reading';
      return req instanceof ServerRequest ? req.text() : readNodeBody(req);
    case 'throw':
      throw thrown(step.value);
    case 'wait':
      trace.state = 'waiting';
      return timer(run.activity, step.how, step.ms);
    case 'hang':
      trace.state = 'hung';
      return new Promise(() => undefined);
  }
}

/**
 * Run `program` as the handler of `(req, res)`, recording into `trace`. Returns what a handler
 * returns: undefined, or a promise when the program awaits (or is an async function).
 */
export function runProgram(program: Program, req: ProgramRequest, res: ProgramResponse, trace: HandlerTrace, activity: Activity): unknown {
  const run: Run = { program, req, res: res as ServerResponse, trace, activity, length: bodyLength(program) };
  const steps = program.steps;
  const from = (start: number): unknown => {
    for (let i = start; i < steps.length; i++) {
      activity.ticks++;
      trace.state = 'running';
      const pause = perform(run, steps[i]!);
      if (pause !== undefined) return pause.then(() => from(i + 1));
    }
    trace.state = 'returned';
    activity.ticks++;
    return undefined;
  };
  if (program.detached !== null) {
    // Callback style: the handler returns at once; the steps run later, outside its promise. A
    // throw there (a `throw` step, the body failing to arrive) just stops them: the handler has
    // long returned, and what a user's callback throws is the user's crash, not the server's.
    const stop = (): void => {
      trace.state = 'returned';
      activity.ticks++;
    };
    trace.state = 'waiting';
    void timer(activity, program.detached === 'immediate' ? 'immediate' : 'timer', program.detached === 'immediate' ? 0 : program.detached).then(() => {
      try {
        const out = from(0);
        if (out instanceof Promise) out.catch(stop);
      } catch {
        stop();
      }
    });
    return undefined;
  }
  const fail = (err: unknown): never => {
    trace.state = 'failed';
    trace.headersSentAtFailure = res.headersSent;
    trace.endedAtFailure = res.writableEnded;
    if (res.headersSent && !trace.endReturned) trace.brokeMidway = true;
    activity.ticks++;
    throw err;
  };
  const guarded = (): unknown => {
    let out: unknown;
    try {
      out = from(0);
    } catch (err) {
      return fail(err);
    }
    return out instanceof Promise ? out.catch(fail) : out;
  };
  // An async function runs synchronously up to its first await and turns a throw into a rejection.
  return program.asyncFn ? new Promise((resolve) => resolve(guarded())) : guarded();
}

// -------------------------------------------------------------------------------------------------
// Arbitraries

const literal = (arb: fc.Arbitrary<HeaderValue>): fc.Arbitrary<ValueSpec> => arb.map((value) => ({ literal: value }));

/** A header a handler might set: the names that steer framing and persistence, with right, wrong and malformed values. */
export const headerArb: fc.Arbitrary<readonly [string, ValueSpec]> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.tuple(
      fc.constantFrom('Connection', 'connection', 'CONNECTION'),
      literal(
        fc.oneof(
          fc.constantFrom('close', 'keep-alive', 'upgrade', 'Close', 'Keep-Alive', 'close, keep-alive', 'keep-alive, upgrade', 'upgrade, close', 'x-token', 'foo, bar', ''),
          fc.constantFrom<readonly string[]>(['keep-alive'], ['close', 'keep-alive'], ['x-token', 'close'], []),
        ),
      ),
    ),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.constantFrom('Keep-Alive', 'keep-alive'),
      literal(fc.constantFrom('timeout=5, max=100', 'timeout=1', 'max=0', 'max=1', 'max=-1', 'max=abc', 'garbage', '')),
    ),
  },
  {
    weight: 4,
    arbitrary: fc.tuple(
      fc.constantFrom('Content-Length', 'content-length'),
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(0, 0, 1, -1, 3).map((delta) => ({ contentLength: delta })) },
        { weight: 2, arbitrary: literal(fc.constantFrom<HeaderValue>('-1', 'abc', '1.5', '0x10', '5, 5', '5, 6', '', '99999999999999999999', 0, 5, -1, Number.NaN, 1.5, ['5', '5'], ['1', '2'])) },
      ),
    ),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.constantFrom('Transfer-Encoding', 'transfer-encoding'),
      literal(fc.constantFrom<HeaderValue>('chunked', 'gzip', 'gzip, chunked', 'chunked, gzip', 'identity', 'garbage', 'chunked, chunked', '', ['gzip', 'chunked'])),
    ),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constant('Date'), literal(fc.constantFrom('Tue, 01 Jan 2030 00:00:00 GMT', 'yesterday'))) },
  { weight: 1, arbitrary: fc.tuple(fc.constant('Trailer'), literal(fc.constantFrom('X-Checksum', 'Content-Length', 'Connection'))) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('Upgrade', 'Proxy-Connection', 'TE'), literal(fc.constantFrom('websocket', 'close', 'trailers'))) },
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.constantFrom('Content-Type', 'X-A', 'Set-Cookie', 'Location'),
      literal(fc.oneof(fc.constantFrom<HeaderValue>('text/plain', 'a=b', '', 42, ['a=1', 'b=2']), fc.string({ maxLength: 12 }))),
    ),
  },
  // Invalid names, and values with CR, LF, NUL, edge whitespace or characters outside latin1.
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('', 'bad name', 'x\r\ny', 'x:y', 'é', 'X-A\n'), literal(fc.constant('v'))) },
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.constantFrom('X-A', 'Connection', 'Keep-Alive', 'Content-Length'),
      literal(fc.constantFrom<HeaderValue>('a\r\nX-Injected: 1', 'close\r\nKeep-Alive: max=9', 'a\nb', 'a\rb', 'a\0b', ' lead', 'trail ', 'é', 'Ā', ['ok', 'a\r\nb'])),
    ),
  },
);

const HEADER_NAMES = ['Connection', 'Keep-Alive', 'Content-Length', 'Transfer-Encoding', 'Date', 'Trailer', 'X-Seq', 'X-A', 'bad name'];

/** Statuses: ordinary, bodiless, informational (not allowed as a final answer), out of range, not integers, text. */
export const statusArb: fc.Arbitrary<StatusSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<StatusSpec>(200, 201, 204, 205, 304, 404, 500) },
  { weight: 2, arbitrary: fc.constantFrom<StatusSpec>(100, 101, 103, 199, 99, 0, -1, 600, 999, 1000, 200.5, Number.NaN, Number.POSITIVE_INFINITY, '200', '204', 'abc') },
);

const reasonArb = fc.constantFrom('OK', '', 'Custom Reason', 'bad\r\nX-Injected: 1', 'é', 'Ā');

export const chunkArb: fc.Arbitrary<Chunk> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.constantFrom('é', '日本語', '\r\n0\r\n\r\n') },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 32 }) },
  // Past the default writeHighWaterMark (64 KiB).
  { weight: 1, arbitrary: fc.constantFrom({ repeat: 70_000 }, { repeat: 2_000 }) },
);

const caughtArb = fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

const thrownArb = fc.constantFrom<Thrown>('error', 'error', 'error', 'string', 'null', 'undefined', 'remote-400', 'remote-502', 'remote-1000');

const writeArb: fc.Arbitrary<Step> = fc.record({ op: fc.constant('write' as const), chunk: chunkArb, awaitDrain: fc.boolean(), caught: caughtArb });
const endArb: fc.Arbitrary<Step> = fc.record({ op: fc.constant('end' as const), chunk: fc.option(chunkArb, { nil: null }), caught: caughtArb });
const throwArb: fc.Arbitrary<Step> = fc.record({ op: fc.constant('throw' as const), value: thrownArb });

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: headerArb.chain(([name, value]) => caughtArb.map((caught): Step => ({ op: 'setHeader', name, value, caught }))) },
  { weight: 2, arbitrary: headerArb.chain(([name, value]) => caughtArb.map((caught): Step => ({ op: 'appendHeader', name, value, caught }))) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('removeHeader' as const), name: fc.constantFrom(...HEADER_NAMES), caught: caughtArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('status' as const), code: statusArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reason' as const), message: reasonArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('writeHead' as const),
      code: statusArb,
      reason: fc.option(reasonArb, { nil: null }),
      headers: fc.option(fc.array(headerArb, { maxLength: 2 }), { nil: null }),
      caught: caughtArb,
    }),
  },
  { weight: 4, arbitrary: writeArb },
  { weight: 2, arbitrary: endArb },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('trailers' as const),
      fields: fc.constantFrom<readonly (readonly [string, string])[]>([['X-Checksum', 'abc']], [['Content-Length', '5']], [['X-A', 'a\r\nb']], [['bad name', 'v']]),
      caught: caughtArb,
    }),
  },
  { weight: 2, arbitrary: fc.constant<Step>({ op: 'readBody' }) },
  { weight: 1, arbitrary: throwArb },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.constantFrom<Step>({ op: 'wait', how: 'microtask', ms: 0 }, { op: 'wait', how: 'immediate', ms: 0 }),
      fc.integer({ min: 1, max: 4 }).map((ms): Step => ({ op: 'wait', how: 'timer', ms })),
    ),
  },
);

/** How a program finishes: mostly an answer (whole or streamed); sometimes a throw, no answer, or a wait forever. */
const finaleArb: fc.Arbitrary<readonly Step[]> = fc.oneof(
  { weight: 14, arbitrary: endArb.map((step) => [step]) },
  { weight: 4, arbitrary: fc.tuple(fc.array(writeArb, { minLength: 1, maxLength: 4 }), endArb).map(([writes, end]) => [...writes, end]) },
  { weight: 2, arbitrary: throwArb.map((step) => [step]) },
  { weight: 1, arbitrary: fc.constant([]) },
  { weight: 1, arbitrary: fc.constant<readonly Step[]>([{ op: 'hang' }]) },
);

const detachedArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.oneof(fc.constant<'immediate'>('immediate'), fc.integer({ min: 1, max: 3 })) },
);

/** A misusing handler program: up to six steps of misuse, then a finale. */
export const programArb: fc.Arbitrary<Program> = fc.record({
  asyncFn: fc.boolean(),
  tag: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  detached: detachedArb,
  polite: fc.constant(false),
  steps: fc.tuple(fc.array(stepArb, { maxLength: 6 }), finaleArb).map(([steps, finale]) => [...steps, ...finale]),
});

const politeWaitArb: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom<Step>({ op: 'wait', how: 'microtask', ms: 0 }, { op: 'wait', how: 'immediate', ms: 0 }),
  fc.integer({ min: 1, max: 4 }).map((ms): Step => ({ op: 'wait', how: 'timer', ms })),
);

/** Steps that are valid before the head is sent: plain headers, a valid status, reading, waiting. */
const politeHeadStepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant('setHeader' as const),
    name: fc.constantFrom('Content-Type', 'X-A', 'Set-Cookie', 'Cache-Control'),
    value: literal(fc.constantFrom<HeaderValue>('text/plain', 'v', 'no-store', 42, ['a=1', 'b=2'])),
    caught: fc.constant(false),
  }),
  fc.record({ op: fc.constant('status' as const), code: fc.constantFrom<StatusSpec>(200, 201, 404, 500) }),
  fc.constant<Step>({ op: 'readBody' }),
  politeWaitArb,
);

const politeChunkArb: fc.Arbitrary<Chunk> = fc.oneof(fc.string({ maxLength: 24 }), fc.uint8Array({ maxLength: 32 }), fc.constant({ repeat: 2_000 }));

/** A handler that does nothing wrong: head steps, then writes and waits, then one end. */
export const politeProgramArb: fc.Arbitrary<Program> = fc.record({
  asyncFn: fc.boolean(),
  tag: fc.boolean(),
  detached: detachedArb,
  polite: fc.constant(true),
  steps: fc
    .tuple(
      fc.array(politeHeadStepArb, { maxLength: 4 }),
      fc.array(fc.oneof(fc.record({ op: fc.constant('write' as const), chunk: politeChunkArb, awaitDrain: fc.boolean(), caught: fc.constant(false) }), politeWaitArb), { maxLength: 4 }),
      fc.record({ op: fc.constant('end' as const), chunk: fc.option(politeChunkArb, { nil: null }), caught: fc.constant(false) }),
    )
    .map(([head, body, end]): Step[] => [...head, ...body, end]),
});
