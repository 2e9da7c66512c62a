/**
 * Theory of operation: one request from the moment `request()` is called until it settles. It
 * waits in its pool's queue, is taken by a connection, and may come back to the queue when its
 * connection drops before the response head arrives (to be re-sent on a newer connection). It
 * settles once: with a response (its head arrived) or with an error.
 */

import type { ClientConnection } from './client-connection.js';
import { traceError, traceResponse } from './diagnostics.js';
import { ClientError } from './errors.js';
import type { ClientResponse } from './response.js';

/** A request body: bytes (or text), or a stream of bytes. */
export type RequestBody = string | Uint8Array | AsyncIterable<Uint8Array>;

/** A request on its way. */
export class PendingRequest {
  readonly method: string;
  readonly path: string;
  /** Flat `[name, value, …]`, with Host. */
  readonly headers: readonly string[];
  /** The whole body (text is sent as UTF-8), or a stream, or null. */
  readonly body: string | Uint8Array | AsyncIterable<Uint8Array> | null;
  /** The declared length of a streamed body, when known. */
  readonly contentLength: number | undefined;
  /** May be re-sent after a dropped connection (idempotent by method and policy, body replayable). */
  readonly retryable: boolean;
  /** Idempotent (by method, or as the caller said): may be pipelined. */
  readonly idempotent: boolean;
  readonly signal: AbortSignal | undefined;
  /** Re-sends so far after drops the server did not announce. */
  attempts = 0;
  /** Put back after its connection dropped it unanswered: its next write is a retry (stats). */
  resend = false;
  /** It was re-sent once, free, after losing the keep-alive race on a reused connection. */
  raced = false;
  /** It may only go out on a connection whose serial is above this (one opened after it was lost). */
  freshAfter = 0;
  /** Written on a connection with other requests in flight. */
  pipelined = false;
  /** The head arrived and was handed to the caller. */
  response: ClientResponse | null = null;
  /** The connection that took it, until it is answered or given back. */
  connection: ClientConnection | null = null;
  /** Ms from writing it until its response head, when not the pool's (set by `dispatch()`). */
  headersTimeout: number | undefined;
  /** Ms allowed between two pieces of its response body, when not the pool's. */
  bodyTimeout: number | undefined;
  /** Called when the request has been written (each time it is). */
  onWritten: (() => void) | null = null;
  /** Called once when the request fails or its response body ends or fails. */
  onSettled: (() => void) | null = null;
  /** When `request()` was called, and (later) when its connection was opened and it was written (performance.now() ms). */
  readonly queuedAt = performance.now();
  connectStartAt: number | undefined;
  connectedAt: number | undefined;
  sentAt = -1;
  #settled = false;
  readonly #resolve: (res: ClientResponse) => void;
  readonly #reject: (err: Error) => void;

  constructor(init: {
    method: string;
    path: string;
    headers: readonly string[];
    body: string | Uint8Array | AsyncIterable<Uint8Array> | null;
    contentLength: number | undefined;
    retryable: boolean;
    idempotent: boolean;
    signal: AbortSignal | undefined;
    resolve: (res: ClientResponse) => void;
    reject: (err: Error) => void;
  }) {
    this.method = init.method;
    this.path = init.path;
    this.headers = init.headers;
    this.body = init.body;
    this.contentLength = init.contentLength;
    this.retryable = init.retryable;
    this.idempotent = init.idempotent;
    this.signal = init.signal;
    this.#resolve = init.resolve;
    this.#reject = init.reject;
  }

  /** Whether the body is a stream (its length possibly unknown; it cannot be replayed). */
  get streaming(): boolean {
    return this.body !== null && typeof this.body !== 'string' && !(this.body instanceof Uint8Array);
  }

  /** Settled already (answered, failed, aborted). */
  get settled(): boolean {
    return this.#settled;
  }

  /** Hand the response (head) to the caller. */
  succeed(res: ClientResponse): void {
    if (this.#settled) return;
    this.#settled = true;
    this.response = res;
    res.body.request = this;
    traceResponse(this, res, this.connection);
    const done = this.onSettled;
    this.onSettled = null;
    if (done !== null) res.body.onSettled = done;
    this.#resolve(res);
  }

  /** Written at least once (on this or an earlier connection): the server may have acted on it. */
  get written(): boolean {
    return this.sentAt >= 0;
  }

  /** Fail the request (before its head arrived). */
  fail(err: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.connection = null;
    this.onSettled?.();
    this.onSettled = null;
    // A request re-sent after a drop may have been processed by the server that dropped it,
    // whatever stopped its later attempt (a connect failure, a timeout, an abort in the queue).
    if (this.written && err instanceof ClientError && !err.mayHaveBeenProcessed) {
      err = new ClientError(err.code, err.message, { mayHaveBeenProcessed: true, cause: err.cause });
    }
    traceError(this, err);
    this.#reject(err);
  }

  /** `METHOD path`, for messages. */
  toString(): string {
    return `${this.method} ${this.path}`;
  }
}
