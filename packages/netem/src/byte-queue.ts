/**
 * Theory of operation: a queue of bytes kept as the chunks they arrived in. `take(n)` removes
 * the first `n` bytes as zero-copy `subarray` views (a chunk split at a boundary is shared by
 * the two sides), so a segment may span chunks and a chunk may span segments without copying.
 * Invariant: `length` is the sum of the unconsumed bytes of the queued chunks.
 */

import { Deque } from './deque.js';

/** A FIFO of bytes. */
export class ByteQueue {
  readonly #chunks = new Deque<Uint8Array>();
  /** Bytes of the head chunk already taken. */
  #offset = 0;
  #length = 0;

  /** Bytes queued. */
  get length(): number {
    return this.#length;
  }

  /** Append a chunk (kept by reference: the caller must not modify it afterwards). */
  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.byteLength;
  }

  /**
   * Remove the first `n` bytes (at most `length`) and return them as views, in order.
   *
   * @throws RangeError when `n` is negative or more than `length`.
   */
  take(n: number): Uint8Array[] {
    if (!(n >= 0 && n <= this.#length)) throw new RangeError(`take(${n}) from a queue of ${this.#length} bytes`);
    const out: Uint8Array[] = [];
    let left = n;
    while (left > 0) {
      const head = this.#chunks.peek();
      if (head === undefined) break; // unreachable while #length is consistent
      const available = head.byteLength - this.#offset;
      if (available <= left) {
        out.push(this.#offset === 0 ? head : head.subarray(this.#offset));
        this.#chunks.shift();
        this.#offset = 0;
        left -= available;
      } else {
        out.push(head.subarray(this.#offset, this.#offset + left));
        this.#offset += left;
        left = 0;
      }
    }
    this.#length -= n;
    return out;
  }

  /** Drop every byte. */
  clear(): void {
    this.#chunks.clear();
    this.#offset = 0;
    this.#length = 0;
  }
}
