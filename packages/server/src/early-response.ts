/**
 * Theory of operation: the response of a handler that runs ahead of its turn (a pipelined GET or
 * HEAD started while earlier responses are still being written, `pipelineConcurrency` > 1).
 * HTTP/1.1 answers in request order, so nothing can be framed yet: this sink records what the
 * handler does — head, body pieces, end — and keeps the body bytes in memory. When the
 * response's turn comes, the connection replays the record through its own sink (which frames
 * and writes for real) and every later call goes straight there.
 *
 * Memory is bounded like a socket's: once the recorded body passes `highWaterMark`, `write()`
 * returns false, and 'drain' is emitted after the replay, when the bytes have left the record.
 * A handler that fails ahead of its turn is recorded as failed; its response pays at its turn.
 */

import type { ServerRequest } from './request.js';
import { ServerResponse } from './response.js';
import type { ResponseSink } from './response.js';

type Step =
  | { readonly kind: 'whole'; readonly body: Uint8Array | string }
  | { readonly kind: 'head' }
  | { readonly kind: 'data'; readonly data: Uint8Array }
  | { readonly kind: 'end'; readonly trailers: readonly string[] | undefined }
  | { readonly kind: 'info'; readonly status: number; readonly headers: readonly string[] }
  | { readonly kind: 'destroy' }
  | { readonly kind: 'sent'; readonly done: (res: ServerResponse, err: Error | null) => void };

/** Whether a handler may run before the responses ahead of its request are written. */
export function mayRunAhead(req: ServerRequest): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && req.complete && !req.fields.has('expect') && !req.fields.has('upgrade');
}

/** A response written ahead of its turn: recorded until then, forwarded after. */
export class EarlyResponse implements ResponseSink {
  /** The response its handler writes. */
  readonly res: ServerResponse;
  readonly #highWaterMark: number;
  #steps: Step[] = [];
  #bytes = 0;
  #target: ResponseSink | null = null;
  /** A `write()` returned false: the handler waits for 'drain'. */
  #backedUp = false;
  #failure: { readonly err: unknown } | null = null;

  constructor(highWaterMark: number, req: ServerRequest) {
    this.#highWaterMark = highWaterMark;
    this.res = new ServerResponse(this, req);
  }

  /** Body bytes held. */
  get bufferedBytes(): number {
    return this.#bytes;
  }

  /** What its handler failed with ahead of its turn, or null. */
  get failure(): unknown {
    return this.#failure === null ? null : this.#failure.err;
  }

  /** Its handler failed ahead of its turn (the first failure is kept). */
  fail(err: unknown): void {
    this.#failure ??= { err: err ?? new Error('handler failed') };
  }

  sendWhole(res: ServerResponse, body: Uint8Array | string): void {
    if (this.#target !== null) return this.#target.sendWhole(res, body);
    res.markHeadSent();
    this.#steps.push({ kind: 'whole', body });
    this.#bytes += typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  }

  sendHead(res: ServerResponse): void {
    if (this.#target !== null) return this.#target.sendHead(res);
    res.markHeadSent();
    this.#steps.push({ kind: 'head' });
  }

  sendData(res: ServerResponse, data: Uint8Array): boolean {
    if (this.#target !== null) return this.#target.sendData(res, data);
    this.#steps.push({ kind: 'data', data });
    this.#bytes += data.length;
    if (this.#bytes <= this.#highWaterMark) return true;
    this.#backedUp = true;
    return false;
  }

  sendEnd(res: ServerResponse, trailers: readonly string[] | undefined): void {
    if (this.#target !== null) return this.#target.sendEnd(res, trailers);
    this.#steps.push({ kind: 'end', trailers });
  }

  sendInformational(res: ServerResponse, status: number, headers: readonly string[]): void {
    if (this.#target !== null) return this.#target.sendInformational(res, status, headers);
    this.#steps.push({ kind: 'info', status, headers });
  }

  destroyResponse(res: ServerResponse): void {
    if (this.#target !== null) return this.#target.destroyResponse(res);
    this.#steps.push({ kind: 'destroy' });
  }

  afterSent(res: ServerResponse, done: (res: ServerResponse, err: Error | null) => void): void {
    if (this.#target !== null) return this.#target.afterSent(res, done);
    this.#steps.push({ kind: 'sent', done });
  }

  /**
   * The response's turn: replay the record into `target`, then forward to it. Returns whether
   * the handler was told to wait (it should get a 'drain' once `target` has room). A throw from
   * `target` (what was recorded cannot be framed) stops the replay and propagates.
   */
  replay(target: ResponseSink): boolean {
    const steps = this.#steps;
    const res = this.res;
    this.#steps = [];
    this.#bytes = 0;
    this.#target = target;
    for (const step of steps) {
      if (step.kind === 'whole') target.sendWhole(res, step.body);
      else if (step.kind === 'head') target.sendHead(res);
      else if (step.kind === 'data') target.sendData(res, step.data);
      else if (step.kind === 'end') target.sendEnd(res, step.trailers);
      else if (step.kind === 'info') target.sendInformational(res, step.status, step.headers);
      else if (step.kind === 'sent') target.afterSent(res, step.done);
      else target.destroyResponse(res);
    }
    return this.#backedUp;
  }
}
