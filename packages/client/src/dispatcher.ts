/**
 * Theory of operation: a pool as an undici `Dispatcher`. `dispatch(options, handler)` turns
 * undici's options into a pool request (dispatch-options.ts) and reports its life to the handler
 * in either style undici 7 documents:
 *
 *   new:    onRequestStart(controller) → onResponseStart(controller, status, headers, message)
 *           → onResponseData(controller, chunk)* → onResponseEnd(controller, trailers)
 *           | onResponseError(controller, err)
 *   legacy: onConnect(abort) → onHeaders(status, rawHeaders, resume, message) → onData(chunk)*
 *           → onComplete(rawTrailers) | onError(err)
 *
 * One {@link HandlerCall} per request is both the adapter and the new style's controller. The
 * start callback runs at once (so `abort` works while the request waits in the queue); the
 * response head and body reach the handler synchronously from the connection's parser; the body
 * is in sink mode (no buffering): a paused controller, or `false` from `onHeaders`/`onData`,
 * stops the connection reading its socket until `resume()`.
 *
 * Invariants: every handler call is guarded — a throw becomes an abort of that request alone,
 * never an exception in the connection's read loop; exactly one of end or error is delivered, and
 * nothing after it; an abort from inside a handler callback reaches the pool on the next
 * microtask (the connection is in the middle of parsing), one from outside reaches it at once.
 */

import type { DispatchOptions } from './dispatch-options.js';
import { normalizeDispatch } from './dispatch-options.js';
import { ClientError } from './errors.js';
import { PendingRequest } from './pending.js';
import type { Pool } from './pool.js';
import type { ClientResponse, ResponseBody } from './response.js';

export type { DispatchOptions } from './dispatch-options.js';

/** undici 7's request controller, handed to new-style handlers. */
export interface DispatchController {
  /** Stop delivering body data (the connection stops reading) until `resume()`. */
  pause(): void;
  /** Deliver body data again. */
  resume(): void;
  /** Cancel the request; the handler's error callback gets `reason`. */
  abort(reason?: Error): void;
  /** `pause()` was called, and `resume()` not since. */
  readonly paused: boolean;
  /** `abort()` was called. */
  readonly aborted: boolean;
  /** What `abort()` was given (or the error made for it), else null. */
  readonly reason: Error | null;
}

/** Response header or trailer fields as undici's new-style handlers get them. */
export type DispatchHeaders = Record<string, string | string[]>;

/**
 * A handler of `dispatch()`: undici 7's new style (`onRequestStart` … `onResponseError`) or the
 * legacy one (`onConnect` … `onError`). Every member is optional except an error callback.
 */
export interface DispatchHandler {
  /** New style: the request was accepted (it may still wait for a connection); keep `controller` to pause, resume or abort. */
  onRequestStart?(controller: DispatchController, context: unknown): void;
  /** New style: the response head, fields parsed (lower-case names, a repeated field as an array). */
  onResponseStart?(controller: DispatchController, statusCode: number, headers: DispatchHeaders, statusMessage?: string): void;
  /** New style: a piece of the response body. */
  onResponseData?(controller: DispatchController, chunk: Buffer): void;
  /** New style: the body is complete; trailers of a chunked body, else `{}`. */
  onResponseEnd?(controller: DispatchController, trailers: DispatchHeaders): void;
  /** New style: the request or its body failed (the only call after it is none). */
  onResponseError?(controller: DispatchController, err: Error): void;
  /** Legacy: the request was accepted; `abort(err)` cancels it. */
  onConnect?(abort: (err?: Error) => void, context?: unknown): void;
  /** Legacy: the first byte of the response arrived (fetch's timing). */
  onResponseStarted?(): void;
  /** Legacy: the response head, fields raw (`[name, value, …]` Buffers); false pauses until `resume()`. */
  onHeaders?(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean | undefined | void;
  /** Legacy: a piece of the response body; false pauses until `resume()`. */
  onData?(chunk: Buffer): boolean | undefined | void;
  /** Legacy: the body is complete; raw trailers (`[]` when none). */
  onComplete?(trailers: Buffer[] | null): void;
  /** Legacy: the request or its body failed. */
  onError?(err: Error): void;
  /** A piece of the request body was written. */
  onBodySent?(chunk: Uint8Array): void;
  /** The whole request was written. */
  onRequestSent?(): void;
  /** Never called: upgrades are refused. */
  onUpgrade?(...args: unknown[]): void;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Flat string fields → undici's raw form (Buffers, latin1). */
function rawFields(raw: readonly string[]): Buffer[] {
  const out: Buffer[] = new Array<Buffer>(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = Buffer.from(raw[i]!, 'latin1');
  return out;
}

/** Flat string fields → undici's parsed form: lower-case names, a repeated field as an array. */
function fieldRecord(raw: readonly string[]): DispatchHeaders {
  const out: DispatchHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const had = out[name];
    if (had === undefined) out[name] = value;
    else if (Array.isArray(had)) had.push(value);
    else out[name] = [had, value];
  }
  return out;
}

const NO_FIELDS: readonly string[] = [];

/** One dispatched request: the handler's adapter and (for new-style handlers) its controller. */
class HandlerCall implements DispatchController {
  readonly #pool: Pool;
  readonly #handler: DispatchHandler;
  readonly #modern: boolean;
  #req: PendingRequest | null = null;
  #body: ResponseBody | null = null;
  #done = false;
  #paused = false;
  #aborted = false;
  #reason: Error | null = null;
  /** Depth of handler callbacks running from the connection's read loop. */
  #inCallback = 0;
  #unlisten: (() => void) | null = null;
  #disposable: { destroy(err?: Error): unknown } | null = null;

  constructor(pool: Pool, handler: DispatchHandler) {
    this.#pool = pool;
    this.#handler = handler;
    this.#modern = typeof handler.onRequestStart === 'function' || typeof handler.onResponseStart === 'function';
  }

  get paused(): boolean {
    return this.#paused;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  /** Report `err` as the request's one error (it was never queued). */
  fail(err: Error): void {
    this.#error(err);
  }

  /** Run the handler's start callback, then queue the request. Returns dispatch()'s answer. */
  start(options: DispatchOptions): boolean {
    const pool = this.#pool;
    const refused = pool.refusal();
    if (refused !== null) {
      this.#error(new ClientError('TETHER_CLOSED', `${options.method ?? 'GET'} ${String(options.path)}: the pool is ${refused}`, { mayHaveBeenProcessed: false }));
      return false;
    }
    let normalized;
    try {
      // fetch passes the origin as the string it serialized (the pool's own): no URL to parse.
      const origin = options.origin;
      if (origin !== undefined && origin !== null && origin !== pool.origin && new URL(origin).origin !== pool.origin) {
        throw new ClientError('TETHER_INVALID_REQUEST', `${String(options.origin)} is not this pool's origin (${pool.origin}): use an Agent for many origins`, { mayHaveBeenProcessed: false });
      }
      normalized = normalizeDispatch(options, pool.address.authority);
    } catch (err) {
      this.#error(err instanceof ClientError ? err : new ClientError('TETHER_INVALID_REQUEST', String((err as Error).message), { mayHaveBeenProcessed: false, cause: err }));
      return false;
    }
    this.#disposable = normalized.disposable;
    this.#call(() => {
      if (this.#modern) this.#handler.onRequestStart?.(this, undefined);
      else this.#handler.onConnect?.((err) => this.abort(err));
    });
    if (this.#done) return !this.#aborted;
    const handler = this.#handler;
    let body = normalized.body;
    if (body !== null && typeof body !== 'string' && !(body instanceof Uint8Array) && (handler.onBodySent !== undefined || handler.onRequestSent !== undefined)) {
      body = this.#observed(body);
    }
    const retryable = normalized.idempotent && pool.options.retryMethods.has(normalized.method) && (body === null || typeof body === 'string' || body instanceof Uint8Array);
    const req = new PendingRequest({
      method: normalized.method,
      path: normalized.path,
      headers: normalized.headers,
      body,
      contentLength: normalized.contentLength,
      retryable,
      idempotent: normalized.pipelinable,
      signal: undefined,
      resolve: (res) => this.#head(res),
      reject: (err) => this.#error(err),
    });
    req.headersTimeout = normalized.headersTimeout;
    req.bodyTimeout = normalized.bodyTimeout;
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const whole = body;
      if (handler.onBodySent !== undefined || handler.onRequestSent !== undefined) {
        req.onWritten = () => {
          if (this.#done) return;
          this.#call(() => {
            handler.onBodySent?.(typeof whole === 'string' ? Buffer.from(whole) : whole);
            handler.onRequestSent?.();
          });
        };
      }
    } else if (body === null && handler.onRequestSent !== undefined) {
      req.onWritten = () => {
        if (!this.#done) this.#call(() => handler.onRequestSent?.());
      };
    }
    this.#req = req;
    const signal = options.signal;
    if (signal !== undefined && signal !== null) {
      if (signal.aborted) {
        this.abort(toError(signal.reason));
        return false;
      }
      const onAbort = (): void => this.abort(toError(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      this.#unlisten = () => signal.removeEventListener('abort', onAbort);
    }
    return pool.enqueue(req);
  }

  /** A streamed body that reports each chunk written, and its end, to the handler. */
  async *#observed(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const handler = this.#handler;
    for await (const chunk of body) {
      yield chunk;
      if (!this.#done) this.#call(() => handler.onBodySent?.(chunk));
    }
    if (!this.#done) this.#call(() => handler.onRequestSent?.());
  }

  /** Run handler code; a throw aborts this request (never the connection's read loop). */
  #call(fn: () => void): void {
    this.#inCallback++;
    try {
      fn();
    } catch (err) {
      this.abort(toError(err));
    } finally {
      this.#inCallback--;
    }
  }

  /** The response head arrived (called from the connection's read loop). */
  #head(res: ClientResponse): void {
    if (this.#done) return;
    const body = res.body;
    this.#body = body;
    const handler = this.#handler;
    this.#call(() => {
      handler.onResponseStarted?.();
      if (this.#done) return;
      if (this.#modern) {
        handler.onResponseStart?.(this, res.statusCode, fieldRecord(res.rawHeaders), res.statusMessage);
      } else if (handler.onHeaders !== undefined) {
        const more = handler.onHeaders(res.statusCode, rawFields(res.rawHeaders), () => this.resume(), res.statusMessage);
        if (more === false) this.#paused = true;
      }
    });
    if (this.#done) return;
    body.sink({
      data: (chunk) => this.#data(chunk),
      end: (trailers) => this.#end(trailers?.raw ?? NO_FIELDS),
      error: (err) => this.#error(err),
    });
    if (this.#paused && !this.#done) body.pauseSink();
  }

  #data(chunk: Uint8Array): boolean {
    if (this.#done) return true;
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const handler = this.#handler;
    this.#call(() => {
      if (this.#modern) handler.onResponseData?.(this, buf);
      else if (handler.onData?.(buf) === false) this.#paused = true;
    });
    return this.#done || !this.#paused;
  }

  #end(trailers: readonly string[]): void {
    if (this.#done) return;
    this.#settle();
    const handler = this.#handler;
    try {
      if (this.#modern) handler.onResponseEnd?.(this, fieldRecord(trailers));
      else handler.onComplete?.(rawFields(trailers));
    } catch (err) {
      // The response is complete; undici reports a throwing completion to the error callback.
      this.#deliverError(toError(err));
    }
  }

  /** The request or its body failed: the one error the handler gets. */
  #error(err: Error): void {
    if (this.#done) return;
    this.#settle();
    this.#disposable?.destroy(err);
    this.#deliverError(err);
  }

  #deliverError(err: Error): void {
    const handler = this.#handler;
    try {
      if (this.#modern) handler.onResponseError?.(this, err);
      else handler.onError?.(err);
    } catch {
      // Nothing is left to report to: the handler's own error callback failed.
    }
  }

  #settle(): void {
    this.#done = true;
    this.#unlisten?.();
    this.#unlisten = null;
  }

  pause(): void {
    if (this.#done || this.#paused) return;
    this.#paused = true;
    // From inside onResponseData the return value pauses; from outside, pause the body now.
    if (this.#inCallback === 0) this.#body?.pauseSink();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#done) return;
    const body = this.#body;
    if (body === null) return;
    // Never re-enter the connection's read loop from inside a handler callback.
    if (this.#inCallback > 0) {
      queueMicrotask(() => {
        if (!this.#paused && !this.#done) body.resumeSink();
      });
    } else body.resumeSink();
  }

  abort(reason?: Error): void {
    if (this.#aborted || this.#done) return;
    this.#aborted = true;
    const err = reason instanceof Error ? reason : new ClientError('TETHER_ABORTED', 'the request was aborted', { mayHaveBeenProcessed: true, cause: reason });
    this.#reason = err;
    const req = this.#req;
    this.#error(err);
    if (req === null || req.settled) return;
    const pooled = new ClientError('TETHER_ABORTED', `${req.toString()}: ${err.message}`, { mayHaveBeenProcessed: req.written, cause: err });
    if (this.#inCallback > 0) queueMicrotask(() => this.#pool.cancel(req, pooled));
    else this.#pool.cancel(req, pooled);
  }
}

/** @internal Report `err` to a handler of a request that cannot even reach a pool. */
export function failDispatch(handler: DispatchHandler, err: Error): void {
  if (handler === null || typeof handler !== 'object') throw new TypeError('handler must be an object');
  const modern = typeof handler.onRequestStart === 'function' || typeof handler.onResponseStart === 'function';
  const controller: DispatchController = { pause: () => undefined, resume: () => undefined, abort: () => undefined, paused: false, aborted: false, reason: null };
  try {
    if (modern && typeof handler.onResponseError === 'function') handler.onResponseError(controller, err);
    else if (typeof handler.onError === 'function') handler.onError(err);
    else throw err;
  } catch (thrown) {
    if (thrown === err) throw err;
    // The handler's own error callback failed: nothing is left to report to.
  }
}

/** @internal `pool.dispatch(options, handler)`. */
export function dispatchOn(pool: Pool, options: DispatchOptions, handler: DispatchHandler): boolean {
  if (handler === null || typeof handler !== 'object') throw new TypeError('handler must be an object');
  if (typeof handler.onError !== 'function' && typeof handler.onResponseError !== 'function') {
    throw new TypeError('handler must have onError or onResponseError');
  }
  if (options === null || typeof options !== 'object') {
    const err = new ClientError('TETHER_INVALID_REQUEST', 'dispatch options must be an object', { mayHaveBeenProcessed: false });
    new HandlerCall(pool, handler).fail(err);
    return false;
  }
  return new HandlerCall(pool, handler).start(options);
}
