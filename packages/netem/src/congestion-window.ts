/**
 * Theory of operation: the sender's congestion window of one direction of one connection, in
 * bytes, as RFC 5681 describes it, reduced to what a loss-free link exercises:
 *
 * - A fresh window is `initial` bytes (RFC 6928: 10 segments).
 * - Slow start with byte counting (RFC 3465, L = ∞): every acknowledged byte grows the window
 *   by one byte, so a window whose every segment is acknowledged one RTT later doubles per RTT.
 *   netem acknowledges each segment on its own (no delayed ACKs); RFC 5681 §3.1's
 *   `cwnd += min(N, SMSS)` per ACK is then the same rule.
 * - ssthresh is infinite: there is no loss, so no congestion avoidance and no reduction.
 * - RFC 5681 §4.1 restart after idle (optional): before sending, if nothing is in flight and
 *   nothing has been sent for longer than `restartAfter` ms, the window is cut to
 *   `min(initial, cwnd)`. (Linux halves the window per idle RTO instead of cutting it at once.)
 * - The usable window is capped at `max` bytes in flight (a stand-in for the receiver's window).
 *
 * Invariants: 0 ≤ inFlight; the sender sends at most `available` bytes at a time.
 * Pure: times are passed in, nothing here reads a clock.
 */

/** Settings of a {@link CongestionWindow}. */
export interface CongestionWindowOptions {
  /** Window of a fresh connection, bytes (Infinity: no slow start). */
  readonly initial: number;
  /** Most bytes in flight, whatever the window (Infinity: no cap). */
  readonly max: number;
  /** Idle ms after which the window restarts (Infinity: never). */
  readonly restartAfter: number;
}

/** A congestion window in slow start. */
export class CongestionWindow {
  #cwnd: number;
  #inFlight = 0;
  #lastSendAt = Number.NEGATIVE_INFINITY;
  #restarts = 0;
  readonly #initial: number;
  readonly #max: number;
  readonly #restartAfter: number;

  constructor(options: CongestionWindowOptions) {
    this.#initial = options.initial;
    this.#max = options.max;
    this.#restartAfter = options.restartAfter;
    this.#cwnd = Math.min(options.initial, options.max);
  }

  /** The window now, bytes (never above `max`). */
  get size(): number {
    return this.#cwnd;
  }

  /** Bytes sent and not yet acknowledged. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Bytes that may be sent now. */
  get available(): number {
    return Math.max(0, this.#cwnd - this.#inFlight);
  }

  /** How many times the window restarted after idle. */
  get restarts(): number {
    return this.#restarts;
  }

  /** RFC 5681 §4.1: call before sending at time `t`; cuts the window if the sender was idle longer than `restartAfter`. */
  beforeSend(t: number): void {
    if (this.#inFlight === 0 && t - this.#lastSendAt > this.#restartAfter && this.#cwnd > this.#initial) {
      this.#cwnd = this.#initial;
      this.#restarts += 1;
    }
  }

  /** `bytes` were sent at time `t`. */
  onSend(bytes: number, t: number): void {
    this.#inFlight += bytes;
    this.#lastSendAt = t;
  }

  /** `bytes` were acknowledged: slow start grows the window by as much (RFC 3465 byte counting). */
  onAck(bytes: number): void {
    this.#inFlight = Math.max(0, this.#inFlight - bytes);
    this.#cwnd = Math.min(this.#max, this.#cwnd + bytes);
  }
}

/**
 * RTT rounds slow start needs to deliver `bytes` from a fresh window of `initialWindow` bytes,
 * when nothing else limits it: round k carries `initialWindow × 2^(k-1)` bytes.
 * E.g. 200 000 bytes from 14 600: 14 600 + 29 200 + 58 400 + 116 800 ≥ 200 000 → 4 rounds.
 */
export function slowStartRounds(bytes: number, initialWindow: number): number {
  if (bytes <= 0) return 0;
  if (initialWindow === Number.POSITIVE_INFINITY) return 1;
  let rounds = 0;
  let sent = 0;
  let window = initialWindow;
  while (sent < bytes) {
    sent += window;
    window *= 2;
    rounds += 1;
  }
  return rounds;
}
