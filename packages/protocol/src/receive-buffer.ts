/**
 * Theory of operation: the bytes received but not yet turned into events. Readers work on
 * `data[start, end)` with absolute indexes and call `consume(n)`.
 *
 * Invariants:
 * - When everything has been consumed, the next chunk is adopted as it is (no copy): the common
 *   case of a chunk holding whole messages never copies. Body data handed out by readers are
 *   views into these chunks.
 * - Only when unconsumed bytes remain (a head or chunk-size line split across chunks) is a chunk
 *   copied, into a buffer of ours that grows by doubling, so feeding one byte at a time costs
 *   amortised O(1) per byte rather than O(n) per byte.
 * - Bytes before `end` are never written again, so views handed out stay valid.
 */

import { EMPTY_BYTES } from './latin1.js';

// First allocation when a split forces a copy: one typical 16 KiB socket read plus slack.
const MIN_CAPACITY = 4096;

/** A queue of received bytes with zero-copy reads. */
export class ReceiveBuffer {
  /** The bytes; valid from `start` to `end`. */
  data: Uint8Array = EMPTY_BYTES;
  /** Index of the first unconsumed byte. */
  start = 0;
  /** Index after the last received byte. */
  end = 0;
  #owned = false;

  /** Number of unconsumed bytes. */
  get length(): number {
    return this.end - this.start;
  }

  /** Add received bytes. */
  append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.start === this.end) {
      this.data = chunk;
      this.start = 0;
      this.end = n;
      this.#owned = false;
      return;
    }
    if (this.#owned && this.data.length - this.end >= n) {
      this.data.set(chunk, this.end);
      this.end += n;
      return;
    }
    const kept = this.end - this.start;
    const grown = new Uint8Array(Math.max(MIN_CAPACITY, 2 * (kept + n)));
    grown.set(this.data.subarray(this.start, this.end), 0);
    grown.set(chunk, kept);
    this.data = grown;
    this.start = 0;
    this.end = kept + n;
    this.#owned = true;
  }

  /** Drop `n` bytes from the front. */
  consume(n: number): void {
    this.start += n;
    if (this.start === this.end) {
      this.data = EMPTY_BYTES;
      this.start = 0;
      this.end = 0;
      this.#owned = false;
    }
  }

  /** A view of the next `n` bytes, consumed. */
  take(n: number): Uint8Array {
    const view = this.data.subarray(this.start, this.start + n);
    this.consume(n);
    return view;
  }

  /** A copy of every unconsumed byte (for handing back after a protocol switch). */
  copyRemaining(): Uint8Array {
    return this.data.slice(this.start, this.end);
  }
}
