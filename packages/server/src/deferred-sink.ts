/**
 * Theory of operation: the sink of a response whose handler runs ahead of its turn (a pipelined
 * GET or HEAD started while earlier responses are still being written). HTTP/1.1 answers in
 * request order, so nothing can be framed yet: the sink records what the handler does — head,
 * body pieces, end — and keeps the body bytes in memory. When the response's turn comes, the
 * connection replays the record through its own sink (which frames and writes for real) and
 * every later call goes straight there.
 *
 * Memory is bounded like a socket's: once the recorded body passes `highWaterMark`, `write()`
 * returns false, and 'drain' is emitted after the replay, when the bytes have left the record.
 */

import type { ResponseSink, ServerResponse } from './response.js';

type Step =
  | { readonly kind: 'whole'; readonly body: Uint8Array | string }
  | { readonly kind: 'head' }
  | { readonly kind: 'data'; readonly data: Uint8Array }
  | { readonly kind: 'end'; readonly trailers: readonly string[] | undefined };

/** Records a response until its turn; then forwards to the connection. */
export class DeferredSink implements ResponseSink {
  readonly #highWaterMark: number;
  #steps: Step[] = [];
  #bytes = 0;
  #target: ResponseSink | null = null;
  /** A `write()` returned false: the handler waits for 'drain'. */
  #backedUp = false;

  constructor(highWaterMark: number) {
    this.#highWaterMark = highWaterMark;
  }

  /** Body bytes held. */
  get bufferedBytes(): number {
    return this.#bytes;
  }

  /** The response ended (its record is complete). */
  get ended(): boolean {
    const last = this.#steps.at(-1);
    return last !== undefined && (last.kind === 'whole' || last.kind === 'end');
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

  /**
   * The response's turn: replay the record into `target`, then forward to it. Returns whether
   * the handler was told to wait (it should get a 'drain' once `target` has room).
   */
  replay(res: ServerResponse, target: ResponseSink): boolean {
    const steps = this.#steps;
    this.#steps = [];
    this.#bytes = 0;
    this.#target = target;
    for (const step of steps) {
      if (step.kind === 'whole') target.sendWhole(res, step.body);
      else if (step.kind === 'head') target.sendHead(res);
      else if (step.kind === 'data') target.sendData(res, step.data);
      else target.sendEnd(res, step.trailers);
    }
    return this.#backedUp;
  }
}
