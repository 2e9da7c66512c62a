/**
 * Theory of operation: a connection's timeouts as named deadlines watched by one lazy timer.
 * Time comes from an injected {@link Clock}, so this module touches no host timer and tests drive
 * time instead of sleeping.
 *
 * Each name holds one deadline (a clock reading, or none). One timer is armed for the earliest
 * deadline ever asked for that has not fired yet; moving a deadline later or clearing it costs no
 * timer call — the timer fires early, finds nothing due, and re-arms for what is pending. So the
 * busy path (a deadline pushed back on every request) is a clock read, and the timer fires at
 * most about once per timeout period.
 *
 * Invariants: a deadline fires at most once, never before its time; a delay is clamped to what a
 * host timer can hold ({@link MAX_TIMER_DELAY}: a longer one is re-armed in steps, never fired
 * early); a deadline of `Infinity` never fires; after {@link Deadlines.stop} nothing fires again.
 */

/** The time source of {@link Deadlines}: milliseconds on a monotonic clock, and a one-shot timer. */
export interface Clock {
  /** Now, in ms (monotonic: `performance.now()` in Node). */
  now(): number;
  /** Call `fire` once after `delay` ms (an integer in [1, {@link MAX_TIMER_DELAY}]); returns a handle. */
  setTimer(fire: () => void, delay: number): unknown;
  /** Cancel a timer made by `setTimer` (a handle that already fired is ignored). */
  clearTimer(handle: unknown): void;
}

/**
 * The longest delay a host timer holds: Node (and browsers) store it in a signed 32-bit integer and
 * fire a longer one after 1 ms.
 */
export const MAX_TIMER_DELAY = 2_147_483_647;

/**
 * Check a timeout option: a non-negative number of ms or `Infinity` (never). Throws a RangeError
 * naming the option for a negative number, NaN or a non-number.
 */
export function checkTimeout(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new RangeError(`${name} must be a number of milliseconds ≥ 0 or Infinity, got ${String(value)}`);
  }
  return value;
}

/** The delay to give a host timer for a deadline `ms` away: at least 1, at most {@link MAX_TIMER_DELAY}. */
export function timerDelay(ms: number): number {
  return Math.min(MAX_TIMER_DELAY, Math.max(1, Math.ceil(ms)));
}

/** Named deadlines over one lazy timer. */
export class Deadlines<Name extends string> {
  readonly #clock: Clock;
  readonly #names: readonly Name[];
  /** Slot of each name in `#at` (a property lookup: cheaper than searching `#names` on every call). */
  readonly #slots: Readonly<Record<Name, number>>;
  /** Deadline per name, in the order of `#names`; `Infinity` when none. */
  readonly #at: number[];
  readonly #onExpire: (name: Name) => void;
  #timer: unknown = undefined;
  /** When the armed timer fires (its deadline); `Infinity` when none is armed. */
  #timerAt = Number.POSITIVE_INFINITY;
  #stopped = false;

  /**
   * @param names - every deadline name, in the order expired deadlines are reported.
   * @param onExpire - called once per deadline that passed, with its name (it is cleared first).
   */
  constructor(clock: Clock, names: readonly Name[], onExpire: (name: Name) => void) {
    this.#clock = clock;
    this.#names = names;
    this.#slots = Object.fromEntries(names.map((name, i) => [name, i])) as Record<Name, number>;
    this.#at = names.map(() => Number.POSITIVE_INFINITY);
    this.#onExpire = onExpire;
  }

  /** The clock's reading now. */
  now(): number {
    return this.#clock.now();
  }

  /** Whether `name` has a deadline pending. */
  has(name: Name): boolean {
    return this.#at[this.#index(name)] !== Number.POSITIVE_INFINITY;
  }

  /** The deadline of `name` (a clock reading), or `Infinity`. */
  get(name: Name): number {
    return this.#at[this.#index(name)]!;
  }

  /** `name` expires `ms` after `from` (default now); `Infinity` clears it. */
  after(name: Name, ms: number, from: number = this.#clock.now()): void {
    this.at(name, from + ms);
  }

  /** `name` expires at clock reading `deadline`; `Infinity` (or NaN) clears it. */
  at(name: Name, deadline: number): void {
    if (this.#stopped) return;
    const at = Number.isNaN(deadline) ? Number.POSITIVE_INFINITY : deadline;
    this.#at[this.#index(name)] = at;
    if (at < this.#timerAt) this.#arm(at);
  }

  /** Clear the deadline of `name` (the timer is left to find nothing due). */
  clear(name: Name): void {
    this.#at[this.#index(name)] = Number.POSITIVE_INFINITY;
  }

  /** Clear every deadline and the timer; nothing fires again. */
  stop(): void {
    this.#stopped = true;
    this.#at.fill(Number.POSITIVE_INFINITY);
    this.#disarm();
  }

  #index(name: Name): number {
    const i = this.#slots[name];
    if (typeof i !== 'number') throw new RangeError(`unknown deadline ${JSON.stringify(name)}`);
    return i;
  }

  #arm(at: number): void {
    this.#disarm();
    if (at === Number.POSITIVE_INFINITY) return;
    this.#timerAt = at;
    this.#timer = this.#clock.setTimer(this.#fire, timerDelay(at - this.#clock.now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    for (let i = 0; i < this.#at.length && !this.#stopped; i++) {
      if (this.#at[i]! <= now) {
        this.#at[i] = Number.POSITIVE_INFINITY;
        this.#onExpire(this.#names[i]!);
      }
    }
    if (this.#stopped) return;
    // Re-arm for what is pending (a callback may have armed already).
    let next = Number.POSITIVE_INFINITY;
    for (const at of this.#at) if (at < next) next = at;
    if (next < this.#timerAt) this.#arm(next);
  };
}
