/**
 * Theory of operation: a first-in first-out queue with O(1) amortized `push` and `shift`.
 * Items live in one array from index `#head`; the consumed prefix is dropped once it is both
 * longer than 1024 items and more than half of the array, so memory stays proportional to
 * what is queued and `shift` never moves the whole array on every call (as `Array#shift` may).
 */

/** Consumed prefix length above which the array is compacted. Small enough to bound waste, large enough to amortize the copy. */
const COMPACT_AFTER = 1024;

/** A FIFO queue. */
export class Deque<T> {
  #items: T[] = [];
  #head = 0;

  /** Number of queued items. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Append at the tail. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** The head item, or undefined when empty. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  /** The item `i` places from the head, or undefined past the tail. */
  at(i: number): T | undefined {
    return i >= 0 ? this.#items[this.#head + i] : undefined;
  }

  /** Remove and return the head item, or undefined when empty. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#head += 1;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** The queued items from head to tail (a copy). */
  toArray(): T[] {
    return this.#items.slice(this.#head);
  }

  /** Drop every item. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
