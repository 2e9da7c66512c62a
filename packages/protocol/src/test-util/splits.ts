/**
 * Theory of operation: the "every split" check of the receive side (hyper's `all_async_cases`).
 * A parser case is run once with the whole input in one `receiveData`, then once for every cut
 * point (part 1, drain, part 2, drain) and once a byte at a time (drain after each byte). Every
 * run is reduced to an {@link Outcome} — the events with consecutive data pieces merged, the
 * error (class, code, status), both sides' states, `keepAlive` and the trailing bytes — and
 * every run must give the reference outcome. Segmentation is the socket's business, never the
 * parser's: a difference is a bug.
 *
 * This is a test utility: it lives under `src/test-util/` so that it is type-checked and linted
 * with the tests, and is excluded from the published build (tsconfig.build.json).
 */

import { expect } from 'vitest';
import { Connection } from '../connection.js';
import type { ConnectionOptions } from '../connection.js';
import { RemoteProtocolError } from '../errors.js';
import type { RemoteErrorCode } from '../errors.js';
import { NEED_DATA, PAUSED } from '../events.js';
import type { Event, SendEvent } from '../events.js';
import { decodeLatin1, encodeLatin1 } from '../latin1.js';
import type { Role, SideState } from '../state.js';

/** An event reduced to plain data that `toEqual` can compare. */
export type NormalEvent =
  | { readonly type: 'request'; readonly method: string; readonly target: string; readonly version: string; readonly headers: readonly string[] }
  | { readonly type: 'response' | 'informational-response'; readonly status: number; readonly reason: string; readonly version: string; readonly headers: readonly string[] }
  | { readonly type: 'data'; readonly data: string; readonly extensions?: readonly (readonly [string, string | null])[] }
  | { readonly type: 'end-of-message'; readonly trailers: readonly string[] | null }
  | { readonly type: 'connection-closed' };

/** The error a run ended with. The message is left out: it may quote however much had arrived. */
export interface NormalError {
  readonly name: string;
  readonly code: string | undefined;
  readonly status: number | undefined;
}

/** Everything observable about one run of the receive side. */
export interface Outcome {
  readonly events: NormalEvent[];
  readonly error: NormalError | null;
  readonly states: Readonly<Record<Role, SideState>>;
  readonly keepAlive: boolean;
  readonly trailing: { readonly data: string; readonly closed: boolean };
}

/** Options of {@link expectSameAtEverySplit}. */
export interface SplitOptions {
  /** Options of every Connection created. */
  readonly connection?: ConnectionOptions;
  /** Events the connection sends before it receives (a client must send its request first). */
  readonly send?: readonly SendEvent[];
  /** Call `receiveEof()` after the last byte and drain again. */
  readonly eof?: boolean;
}

/** The reference outcome, plus the reference run's connection and the error object it threw. */
export interface SplitResult extends Outcome {
  /** The connection of the whole-input run, for further assertions or sends. */
  readonly conn: Connection;
  /** The error thrown by the whole-input run, as thrown (`undefined` when none). */
  readonly thrown: unknown;
}

/** An event as plain data (body bytes as a latin1 string), for comparisons. */
export function normalEvent(e: Event): NormalEvent {
  switch (e.type) {
    case 'request':
      return { type: e.type, method: e.method, target: e.target, version: e.version, headers: [...e.headers.raw] };
    case 'response':
    case 'informational-response':
      return { type: e.type, status: e.status, reason: e.reason, version: e.version, headers: [...e.headers.raw] };
    case 'data': {
      const data = decodeLatin1(e.data, 0, e.data.length);
      if (e.extensions === undefined) return { type: 'data', data };
      return { type: 'data', data, extensions: e.extensions.map(([n, v]) => [n, v] as const) };
    }
    case 'end-of-message':
      return { type: e.type, trailers: e.trailers === null ? null : [...e.trailers.raw] };
    case 'connection-closed':
      return { type: e.type };
  }
}

function normalError(err: unknown): NormalError {
  if (err instanceof RemoteProtocolError) return { name: err.name, code: err.code, status: err.status };
  return { name: err instanceof Error ? err.name : typeof err, code: undefined, status: undefined };
}

/** One run: a fresh connection fed `parts` in order, drained after each. */
class Run {
  readonly conn: Connection;
  readonly events: NormalEvent[] = [];
  thrown: unknown = undefined;
  #failed = false;

  constructor(role: Role, options: SplitOptions) {
    this.conn = new Connection(role, options.connection);
    for (const e of options.send ?? []) this.conn.send(e);
  }

  feed(part: Uint8Array): void {
    if (part.length > 0) this.conn.receiveData(part);
    this.drain();
  }

  eof(): void {
    this.conn.receiveEof();
    this.drain();
  }

  drain(): void {
    for (;;) {
      let e;
      try {
        e = this.conn.nextEvent();
      } catch (err) {
        if (this.#failed) {
          // No resync: a failed connection rethrows the very same error.
          expect(err, 'a failed connection must rethrow the same error').toBe(this.thrown);
        } else {
          this.#failed = true;
          this.thrown = err;
        }
        return;
      }
      if (e === NEED_DATA || e === PAUSED) return;
      // Data events are views into the fed bytes: copy them out now.
      const n = normalEvent(e);
      const last = this.events.at(-1);
      if (n.type === 'data' && n.extensions === undefined && last?.type === 'data') {
        this.events[this.events.length - 1] = { ...last, data: last.data + n.data };
      } else {
        this.events.push(n);
      }
      if (e.type === 'connection-closed') return;
    }
  }

  outcome(): Outcome {
    const trailing = this.conn.trailingData;
    return {
      events: this.events,
      error: this.#failed ? normalError(this.thrown) : null,
      states: this.conn.states,
      keepAlive: this.conn.keepAlive,
      // Once a close is decided or their side failed, later input is dropped rather than kept,
      // so which bytes are still held depends on the split; how many arrived unparsed does not.
      trailing: dropsInput(this.conn.theirState)
        ? { data: `<${trailing.data.length + this.conn.discardedBytes} unparsed bytes>`, closed: trailing.closed }
        : { data: decodeLatin1(trailing.data, 0, trailing.data.length), closed: trailing.closed },
    };
  }
}

function dropsInput(state: string): boolean {
  return state === 'ERROR' || state === 'MUST_CLOSE' || state === 'CLOSED';
}

function run(role: Role, parts: readonly Uint8Array[], options: SplitOptions): Run {
  const r = new Run(role, options);
  for (const part of parts) r.feed(part);
  if (options.eof === true) r.eof();
  return r;
}

/**
 * Parse `input` (text is one octet per character) whole, split at every offset, and one byte at
 * a time; assert that every run has the same {@link Outcome}; return the reference outcome.
 */
export function expectSameAtEverySplit(role: Role, input: string | Uint8Array, options: SplitOptions = {}): SplitResult {
  const all = typeof input === 'string' ? encodeLatin1(input) : input;
  // Each run gets its own copies: receiveData adopts the array it is given.
  const whole = run(role, [all.slice()], options);
  const reference = whole.outcome();
  for (let cut = 1; cut < all.length; cut++) {
    const r = run(role, [all.slice(0, cut), all.slice(cut)], options);
    expect(r.outcome(), `split at byte ${cut} of ${all.length}`).toEqual(reference);
  }
  const bytes: Uint8Array[] = [];
  for (let i = 0; i < all.length; i++) bytes.push(all.slice(i, i + 1));
  expect(run(role, bytes, options).outcome(), 'one byte at a time').toEqual(reference);
  return { ...reference, conn: whole.conn, thrown: whole.thrown };
}

/**
 * Assert that a run failed with a {@link RemoteProtocolError} of `code` and `status`, and that the
 * connection does not resynchronise: `nextEvent()` throws the very same error again, also after
 * more (valid) bytes arrive.
 */
export function expectRemoteError(r: SplitResult, code: RemoteErrorCode, status: number): RemoteProtocolError {
  expect(r.thrown).toBeInstanceOf(RemoteProtocolError);
  const err = r.thrown as RemoteProtocolError;
  expect({ code: err.code, status: err.status }).toEqual({ code, status });
  expect(r.conn.theirState).toBe('ERROR');
  expect(r.conn.keepAlive).toBe(false);
  expect(thrownBy(() => r.conn.nextEvent())).toBe(err);
  if (!r.trailing.closed) {
    r.conn.receiveData(encodeLatin1('GET / HTTP/1.1\r\nHost: a\r\n\r\nHTTP/1.1 200 OK\r\n\r\n'));
    expect(thrownBy(() => r.conn.nextEvent())).toBe(err);
  }
  return err;
}

/** What `fn` throws (fails the test when it returns). */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** A compact, comparable summary of events: `request GET /`, `response 200 OK`, `data "…"`, `end`, `closed`. */
export function brief(events: readonly NormalEvent[]): string[] {
  return events.map((e) => {
    switch (e.type) {
      case 'request':
        return `request ${e.method} ${e.target} ${e.version}`;
      case 'response':
      case 'informational-response':
        return `${e.type} ${e.status} ${e.version}`;
      case 'data':
        return `data ${JSON.stringify(e.data)}`;
      case 'end-of-message':
        return e.trailers === null ? 'end' : `end ${JSON.stringify(e.trailers)}`;
      case 'connection-closed':
        return 'closed';
    }
  });
}
