/**
 * Theory of operation: one direction of a link — a single serializer of `bandwidth` bytes/s
 * shared by every flow going that way — run as a discrete-event simulation clocked by the
 * wall clock.
 *
 * The model: a segment of `s` bytes that starts at `t` occupies the link until
 * `txEnd = t + s / bandwidth`, arrives at `txEnd + rtt/2` and is acknowledged at
 * `txEnd + rtt`. The link is work-conserving and fair: whenever it is free, it serves the
 * flows that may send (data queued, handshake done, window open) by deficit round robin with
 * a quantum of one MSS, so backlogged flows get equal shares of the bandwidth, as competing
 * TCP flows roughly do on a real bottleneck (Shreedhar & Varghese, "Efficient fair queueing
 * using deficit round robin", 1995). Acknowledgements use no bandwidth.
 *
 * The clock: `advance(now)` processes every event due by `now` in model-time order — acks,
 * link-free instants, FINs, deliveries — computing each from the model times of the events
 * before it, never from when a timer happened to fire. So timer lateness (Node timers have
 * ~1 ms granularity and fire late under load) delays an output but never accumulates: a
 * transfer paced by 700 segments is 700 × (s / bandwidth) long, not 700 timer ticks. Work is
 * batched: one `advance` sends every segment and delivers every byte that is due, however
 * many; the caller arms one timer for the returned next event time.
 *
 * Invariants: model time never goes backwards; each step consumes at least one event (else an
 * internal error is thrown rather than spinning); the scheduler never reads a clock.
 */

import { Flow } from './flow.js';
import type { FlowSettings, Output } from './flow.js';
import type { Direction } from './options.js';
import type { Toxic } from './toxics.js';

/** Settings of one direction of a link. */
export interface SchedulerOptions {
  /** Which way this scheduler carries bytes. */
  readonly direction: Direction;
  /** Bytes per second (Infinity: no serialization delay). */
  readonly bandwidth: number;
  /** Round-trip time, ms. */
  readonly rtt: number;
  /** Maximum segment size (and the round-robin quantum), bytes. */
  readonly mss: number;
  /** Fresh congestion window, bytes. */
  readonly initialWindow: number;
  /** Cap on bytes in flight per flow. */
  readonly maxWindow: number;
  /** Idle ms after which a flow's window restarts (Infinity: never). */
  readonly restartAfter: number;
  /** Model time to start at (e.g. `performance.now()`). Default 0. */
  readonly start?: number;
}

/** Bound on steps in one `advance`; far above any real batch, it turns a modelling bug into an error instead of a hang. */
const MAX_STEPS_PER_ADVANCE = 10_000_000;

/** One direction of a link: a fair, paced serializer plus propagation delay. */
export class Scheduler<T> {
  readonly #direction: Direction;
  /** Bytes per ms. */
  readonly #rate: number;
  readonly #settings: FlowSettings;
  #flows: Flow<T>[] = [];
  #time: number;
  #linkFreeAt = Number.NEGATIVE_INFINITY;
  /** Round robin: index where the next search starts, the flow being served and what is left of its quantum. */
  #rr = 0;
  #current: Flow<T> | undefined;
  #quantumLeft = 0;

  constructor(options: SchedulerOptions) {
    this.#direction = options.direction;
    this.#rate = options.bandwidth / 1000;
    this.#time = options.start ?? 0;
    this.#settings = {
      rtt: options.rtt,
      mss: options.mss,
      initialWindow: options.initialWindow,
      maxWindow: options.maxWindow,
      restartAfter: options.restartAfter,
    };
  }

  /** The model time of the last `advance` (the time `enqueue`, `finish` and `open` act at). */
  get time(): number {
    return this.#time;
  }

  /** Flows not yet finished. */
  get flowCount(): number {
    return this.#flows.filter((f) => !f.finished).length;
  }

  /**
   * Open a flow at the current time.
   *
   * @param openAt model time before which it may not send (the emulated handshake).
   * @param toxics the connection's toxics (those of other directions are ignored).
   */
  open(tag: T, openAt: number, toxics: readonly Toxic[] = []): Flow<T> {
    const flow = new Flow(tag, this.#direction, this.#time, openAt, this.#settings, toxics);
    this.#flows.push(flow);
    return flow;
  }

  /** Model time of the next event (≥ the current time), or Infinity when nothing is pending. */
  nextEventTime(): number {
    let t = Number.POSITIVE_INFINITY;
    for (const flow of this.#flows) t = Math.min(t, flow.nextEventTime(this.#linkFreeAt));
    return Math.max(t, this.#time);
  }

  /**
   * Process every event due by `now`, appending outputs to `out` in model-time order, and move
   * the current time to `now` (never backwards).
   *
   * @returns the model time of the next event, Infinity when none is pending.
   */
  advance(now: number, out: Output<T>[]): number {
    this.#prune();
    for (let steps = 0; ; steps += 1) {
      const t = this.nextEventTime();
      if (t > now) break;
      if (steps >= MAX_STEPS_PER_ADVANCE || !this.#step(t, now, out)) {
        throw new Error(`netem scheduler (${this.#direction}) made no progress at model time ${t}`);
      }
      this.#time = t;
    }
    this.#time = Math.max(this.#time, now);
    return this.nextEventTime();
  }

  /** Everything that happens at model time `t`. @returns whether anything did. */
  #step(t: number, now: number, out: Output<T>[]): boolean {
    let progress = false;
    for (const flow of this.#flows) if (flow.processAcks(t)) progress = true;
    while (this.#linkFreeAt <= t) {
      const flow = this.#pick(t);
      if (flow === undefined) break;
      const { bytes, txEnd } = flow.send(t, this.#rate);
      this.#quantumLeft -= bytes;
      this.#linkFreeAt = txEnd;
      progress = true;
    }
    for (const flow of this.#flows) if (flow.sendFinIfDue(t)) progress = true;
    for (const flow of this.#flows) if (flow.egress(t, now, out)) progress = true;
    return progress;
  }

  /** Deficit round robin: keep serving the current flow while its quantum lasts, else the next flow that may send. */
  #pick(t: number): Flow<T> | undefined {
    if (this.#current !== undefined && this.#quantumLeft > 0 && this.#current.sendable(t)) return this.#current;
    const n = this.#flows.length;
    for (let i = 0; i < n; i += 1) {
      const index = (this.#rr + i) % n;
      const flow = this.#flows[index];
      if (flow?.sendable(t)) {
        this.#rr = index + 1; // reduced modulo the flow count at the next search, which may include newcomers
        this.#current = flow;
        this.#quantumLeft = this.#settings.mss;
        return flow;
      }
    }
    this.#current = undefined;
    return undefined;
  }

  /** Forget finished flows. */
  #prune(): void {
    if (!this.#flows.some((f) => f.finished)) return;
    const current = this.#flows[this.#rr];
    this.#flows = this.#flows.filter((f) => !f.finished);
    const index = current === undefined ? -1 : this.#flows.indexOf(current);
    this.#rr = index >= 0 ? index : 0;
    if (this.#current?.finished === true) this.#current = undefined;
  }
}
