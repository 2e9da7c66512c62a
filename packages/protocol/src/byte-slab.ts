/**
 * Theory of operation: small output arrays carved out of a larger block. In V8 a
 * `new Uint8Array(n)` above 64 bytes allocates its own zero-filled store outside the heap, which
 * costs about a microsecond — more than serializing a whole response head. A view on a shared
 * block costs a few tens of nanoseconds (the way Node pools small Buffers).
 *
 * Invariants: space is handed out once and never reused, so every array returned stays valid
 * and private to its caller; a block is collected once nothing refers to its arrays.
 *
 * {@link SHARED_SLAB} is the package's one piece of module state, and it is unobservable: it only
 * decides where fresh arrays live. (A slab per connection would pin a block per connection — a
 * server with ten thousand connections would hold 160 MB of mostly empty blocks.)
 */

/** Size of one block. */
const BLOCK_SIZE = 16 * 1024;
/** Larger requests get an array of their own: they would waste too much of a block. */
const MAX_PIECE = BLOCK_SIZE / 4;

/** A bump allocator of small, zero-filled byte arrays. */
export class ByteSlab {
  #block: ArrayBuffer | undefined;
  #used = 0;

  /** A new zero-filled array of `size` bytes. */
  alloc(size: number): Uint8Array {
    if (size > MAX_PIECE) return new Uint8Array(size);
    let block = this.#block;
    if (block === undefined || this.#used + size > BLOCK_SIZE) {
      block = new ArrayBuffer(BLOCK_SIZE);
      this.#block = block;
      this.#used = 0;
    }
    const piece = new Uint8Array(block, this.#used, size);
    // Keep every piece 8-byte aligned, as a fresh array would be.
    this.#used += (size + 7) & ~7;
    return piece;
  }
}

/** The slab every connection allocates from. */
export const SHARED_SLAB = new ByteSlab();
