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

import { EMPTY_BYTES, decodeLatin1 } from './latin1.js';

type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;

/**
 * A zero-filled array of `size` bytes of the same kind as `like` (its species: a Node Buffer's is
 * Node's internal FastBuffer). Keeping every array the parser reads of one kind keeps the
 * engine's element loads monomorphic; nothing is imported.
 */
function allocLike(like: Uint8Array, size: number): Uint8Array {
  const species = (like.constructor as { [Symbol.species]?: new (size: number) => Uint8Array })[Symbol.species];
  const made = typeof species === 'function' ? new species(size) : undefined;
  return made instanceof Uint8Array && made.length === size ? made : new Uint8Array(size);
}

// First allocation when a split forces a copy: room for a typical head and then some.
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
  /**
   * The host's native latin1 decoder, borrowed from the first received chunk that has one (a
   * Node or Bun Buffer). It works on any Uint8Array receiver, so it keeps serving once bytes
   * have been copied into our own buffer.
   */
  #latin1: Latin1Slice | undefined;
  #words: Int32Array | undefined;
  #wordsOf: Uint8Array | undefined;

  /** Number of unconsumed bytes. */
  get length(): number {
    return this.end - this.start;
  }

  /** Add received bytes. */
  append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.#latin1 === undefined) {
      const native = (chunk as Uint8Array & { latin1Slice?: unknown }).latin1Slice;
      if (typeof native === 'function') this.#latin1 = native as Latin1Slice;
    }
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
    // Room for what is kept and the new chunk, plus as much again as is kept: growth doubles
    // with what stays unconsumed (amortised O(1) per byte when a head arrives a byte at a time),
    // while a large chunk behind a small leftover is copied without doubling its allocation.
    const grown = allocLike(chunk, Math.max(MIN_CAPACITY, 2 * kept + n));
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

  #text = '';
  #textOf: Uint8Array | undefined;
  #textStart = 0;
  #textEnd = 0;

  /**
   * The unconsumed bytes decoded octet-for-character, cached: string index `i` holds byte
   * `i + textOrigin`. Decoding a whole socket read once and slicing heads out of it is far cheaper
   * than decoding each head; it is redone only when bytes arrive into a buffer it does not cover.
   */
  text(): string {
    if (this.#textOf !== this.data || this.#textStart > this.start || this.#textEnd < this.end) {
      this.#text = this.decode(this.start, this.end);
      this.#textOf = this.data;
      this.#textStart = this.start;
      this.#textEnd = this.end;
    }
    return this.#text;
  }

  /** Byte index of the first character of {@link ReceiveBuffer.text}. */
  get textOrigin(): number {
    return this.#textStart;
  }

  /** Decode `data[start, end)` octet-for-character. */
  decode(start: number, end: number): string {
    const native = this.#latin1;
    return native === undefined ? decodeLatin1(this.data, start, end) : native.call(this.data, start, end);
  }

  /**
   * The buffer under `data` as 32-bit words, for word-at-a-time scans. Word 0 starts at byte
   * index {@link ReceiveBuffer.wordOrigin} of `data` (≤ 0: the start of the underlying buffer).
   */
  words(): Int32Array {
    const data = this.data;
    if (this.#wordsOf !== data || this.#words === undefined) {
      // One view per underlying buffer, not per chunk: chunks are often views of one larger
      // buffer, and a typed array per chunk is garbage the collector has to trace.
      const buffer = data.buffer;
      if (this.#words === undefined || this.#words.buffer !== buffer) {
        this.#words = new Int32Array(buffer, 0, buffer.byteLength >> 2);
      }
      this.#wordsOf = data;
      this.wordOrigin = -data.byteOffset;
    }
    return this.#words;
  }

  /** Byte index (relative to `data`) of the first byte of `words()[0]`. */
  wordOrigin = 0;

  /** Drop CR and LF octets at the front (empty lines between messages). */
  skipLineEnds(): void {
    let n = 0;
    while (this.start + n < this.end && (this.data[this.start + n] === 0x0d || this.data[this.start + n] === 0x0a)) n++;
    if (n > 0) this.consume(n);
  }

  /** A copy of every unconsumed byte (for handing back after a protocol switch). */
  copyRemaining(): Uint8Array {
    return this.data.slice(this.start, this.end);
  }
}
