/**
 * Theory of operation: a connection's output on its way to the socket, and its backpressure.
 *
 * Output is not written piece by piece: it is batched and handed to the socket in one write per
 * connection at the end of the event-loop turn (a setImmediate runs after the turn's socket
 * reads), together with every other connection that has output waiting. The answers to a
 * pipelined read leave in one write, and the peer is woken for a burst of answers rather than
 * for each, which on loopback saves kernel time per answer (bench/: pipelined throughput up by
 * about a quarter). Anything that must follow the output (ending or destroying the socket,
 * handing it over) flushes first.
 *
 * Backpressure: bytes written and not yet taken by the kernel (the socket's `writableLength`
 * plus the batch) above `highWaterMark` make {@link OutputBuffer.checkBackpressure} true; the owner is
 * told once they fall back under it (`onClear`). The socket says 'drain' only when it passed its
 * own mark, which can be above ours, so the level is checked again after every write completes.
 */

import type { Socket } from 'node:net';

/** A socket's `write`, as taken when its buffer is made (a connection may then shadow it: see `interceptWrites`). */
type SocketWrite = (this: Socket, data: Uint8Array | string, encoding?: BufferEncoding, cb?: (err?: Error | null) => void) => boolean;

/** A character outside ASCII. */
const NOT_ASCII = /[\u0080-\uffff]/;

/** A write's callback: called once the bytes are with the kernel, or with an error. */
type WriteCallback = (err?: Error | null) => void;

/** Buffers with output waiting, written out together at the end of the event-loop turn. */
let waiting: OutputBuffer[] = [];

function schedule(out: OutputBuffer): void {
  if (waiting.length === 0) setImmediate(flushWaiting);
  waiting.push(out);
}

function flushWaiting(): void {
  const list = waiting;
  // Output written by what runs below (a drain resuming a handler) waits for the next turn.
  waiting = [];
  let i = 0;
  try {
    for (; i < list.length; i++) list[i]!.flush();
  } finally {
    // A throw out of one connection's flush must not strand the others.
    if (++i < list.length) {
      if (waiting.length === 0) setImmediate(flushWaiting);
      waiting.push(...list.slice(i));
    }
  }
}

/** One write's worth of output (`text`: every part is a string): text joined as text, anything else as bytes. */
function joinOutput(parts: readonly (Uint8Array | string)[], text: boolean): Uint8Array | string {
  if (text) return parts.join('');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}

/** Most bytes of a batch joined into one array; more is written as a gather list. */
const COPY_LIMIT = 16 * 1024;

/** A connection's output batch over its socket. */
export class OutputBuffer {
  readonly #socket: Socket;
  /** The socket's own `write`, called with `.call(socket, …)`. */
  readonly #socketWrite: SocketWrite;
  readonly #highWaterMark: number;
  readonly #onClear: () => void;
  /** Output not yet handed to the socket; null when there is none. */
  #batch: (Uint8Array | string)[] | null = null;
  #batchBytes = 0;
  /** Every part of #batch is a string. */
  #batchText = true;
  /** Every part of #batch is ASCII text. */
  #batchAscii = true;
  /** Output passed the high-water mark and the owner waits to hear that it cleared. */
  #wantClear = false;
  /** The socket's writes come through this buffer (see `interceptWrites`). */
  #intercepted = false;
  /** Parts written so far, ever (marks count in them). */
  #parts = 0;
  /**
   * What waits for #batch to be with the socket, in the order registered: function, argument, …
   * (a write's callback, see `interceptWrites`, or an `afterWrite`); null when nothing does.
   */
  #after: unknown[] | null = null;

  /** `onClear`: output fell back under the mark after {@link OutputBuffer.checkBackpressure} said true. */
  constructor(socket: Socket, highWaterMark: number, onClear: () => void) {
    this.#socket = socket;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- only ever called with `.call(socket, …)`
    this.#socketWrite = socket.write;
    this.#highWaterMark = highWaterMark;
    this.#onClear = onClear;
    socket.on('drain', () => {
      if (this.#wantClear) this.#clear();
    });
  }

  /**
   * Queue `out` (text as UTF-8; `ascii`: the text is known to be ASCII, and goes out as latin1,
   * which the socket copies without an encoding pass). Returns false when backed up.
   */
  write(out: Uint8Array | string, ascii = false, callback?: WriteCallback | null): boolean {
    if (typeof callback === 'function') (this.#after ??= []).push(callWrite, callback);
    let batch = this.#batch;
    if (batch === null) {
      batch = this.#batch = [];
      schedule(this);
    }
    batch.push(out);
    this.#parts++;
    if (typeof out !== 'string') this.#batchText = false;
    if (!ascii) this.#batchAscii = false;
    // Text is counted by characters: close enough for a high-water mark.
    this.#batchBytes += out.length;
    return !this.checkBackpressure();
  }

  /**
   * Call `fn(arg, err)` once the batch written so far is with the socket (`err` null), or when it
   * never will be (the socket was destroyed first). One function for many arguments: no closure
   * per call. With no output waiting, on the next tick.
   */
  afterWrite<T>(fn: (arg: T, err: Error | null) => void, arg: T): void {
    if (this.#batch !== null) (this.#after ??= []).push(fn, arg);
    else process.nextTick(fn, arg, this.#socket.destroyed ? destroyedError() : null);
  }

  /** Where the batch ends now: what is written after it can be taken back with {@link OutputBuffer.truncate}. */
  get mark(): number {
    return this.#parts;
  }

  /** Drop what was written after `mark` and is not yet with the socket (a response destroyed in the turn it wrote). */
  truncate(mark: number): void {
    const batch = this.#batch;
    // The batch holds the parts written since the last flush: those after `mark` go.
    const keep = Math.max(0, mark - (this.#parts - (batch?.length ?? 0)));
    if (batch === null || batch.length <= keep) return;
    const dropped = batch.splice(keep);
    for (const part of dropped) this.#batchBytes -= part.length;
    this.#parts -= dropped.length;
  }

  /** Bytes written and not yet taken by the kernel. */
  get unsent(): number {
    return this.#socket.writableLength + this.#batchBytes;
  }

  /** Whether output is past the high-water mark; if so, `onClear` is called once it falls back under. */
  checkBackpressure(): boolean {
    if (this.unsent <= this.#highWaterMark) return false;
    this.#wantClear = true;
    return true;
  }

  /** Hand the batch to the socket: one write, however many answers it holds. */
  flush(): void {
    const batch = this.#batch;
    if (batch === null) return;
    this.#batch = null;
    const socket = this.#socket;
    const after = this.#after;
    this.#after = null;
    if (socket.destroyed) {
      this.#batchBytes = 0;
      if (after !== null) process.nextTick(callAfter, after, destroyedError());
      return;
    }
    const size = this.#batchBytes;
    const text = this.#batchText;
    const encoding = this.#batchAscii ? 'latin1' : 'utf8';
    this.#batchBytes = 0;
    this.#batchText = true;
    this.#batchAscii = true;
    // node's ServerResponse corks the socket until the next tick when a handler writes; the batch
    // is already one write, and a close that follows at once must not find it still corked.
    if (this.#intercepted) while (socket.writableCorked > 0) socket.uncork();
    const recheck = this.#wantClear ? this.#recheck : undefined;
    const written: WriteCallback | undefined =
      after === null
        ? recheck
        : (err) => {
            recheck?.();
            callAfter(after, err ?? null);
          };
    if (batch.length === 1) this.#socketWrite.call(socket, batch[0]!, encoding, written);
    else if (size <= COPY_LIMIT) this.#socketWrite.call(socket, joinOutput(batch, text), encoding, written);
    else {
      // Large pieces are not copied: the kernel gathers them (writev).
      socket.cork();
      for (let i = 0; i < batch.length; i++) this.#socketWrite.call(socket, batch[i]!, undefined, i === batch.length - 1 ? written : undefined);
      socket.uncork();
    }
    this.#recheck();
  }

  /** Drop what is waiting (the socket is being destroyed without it). */
  discard(): void {
    this.#batch = null;
    this.#batchBytes = 0;
    this.#wantClear = false;
    // What waited for the batch hears that it never went out.
    if (this.#after !== null) process.nextTick(callAfter, this.#after, destroyedError());
    this.#after = null;
  }

  readonly #recheck = (err?: Error | null): void => {
    if ((err === undefined || err === null) && this.#wantClear && !this.#socket.destroyed && this.unsent <= this.#highWaterMark) this.#clear();
  };

  #clear(): void {
    this.#wantClear = false;
    this.#onClear();
  }

  /**
   * Make everything written to the socket through its `write` (by node:http's ServerResponse, or
   * a handler writing to the socket itself) go through this buffer: batched per event-loop turn in
   * order with the connection's own output, the callbacks called once the batch is with the
   * kernel. An own property of the socket, shadowing its prototype's; the function returned
   * removes it (before the socket is handed over).
   */
  interceptWrites(): () => void {
    const socket = this.#socket;
    this.#intercepted = true;
    const write = (data: Uint8Array | string, encoding?: BufferEncoding | WriteCallback | null, callback?: WriteCallback | null): boolean => {
      if (typeof encoding === 'function') {
        callback = encoding;
        encoding = undefined;
      }
      if (typeof data !== 'string') return this.write(data, false, callback);
      if (encoding == null || encoding === 'utf8' || encoding === 'utf-8') return this.write(data, !NOT_ASCII.test(data), callback);
      // latin1 (node's heads) is ASCII nearly always; anything else is made bytes here.
      if ((encoding === 'latin1' || encoding === 'ascii' || encoding === 'binary') && !NOT_ASCII.test(data)) return this.write(data, true, callback);
      return this.write(Buffer.from(data, encoding), false, callback);
    };
    Object.defineProperty(socket, 'write', { value: write, configurable: true, writable: true });
    return () => {
      this.flush();
      this.#intercepted = false;
      delete (socket as { write?: unknown }).write;
    };
  }
}

/** What output that never reached a socket destroyed first hears, as a stream's pending writes do. */
function destroyedError(): Error {
  return Object.assign(new Error('Cannot call write after a stream was destroyed'), { code: 'ERR_STREAM_DESTROYED' });
}

/** A write's own callback, as an `afterWrite` entry. */
function callWrite(callback: WriteCallback, err: Error | null): void {
  callback(err);
}

/** The `afterWrite` calls of a batch, in order. */
function callAfter(after: readonly unknown[], err: Error | null): void {
  for (let i = 0; i < after.length; i += 2) (after[i] as (arg: unknown, err: Error | null) => void)(after[i + 1], err);
}
