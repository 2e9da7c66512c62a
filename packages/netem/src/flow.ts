/**
 * Theory of operation: one direction of one relayed connection, as the link model sees it.
 * Bytes move through four stages, each a queue in time order:
 *
 * ```
 *  enqueue()        send(t)                  egress(t)               output
 *  ─────────► queue ───────► segments+wire ──────────► (toxics) ────► data / fin / reset
 *             unsent         sent on the link,          delivered at
 *                            serialized until txEnd,    deliverAt = txEnd + rtt/2
 *                            acked at txEnd + rtt
 * ```
 *
 * - `queue`: bytes read from the sending socket and not yet sent. A segment takes at most
 *   `mss` bytes, no more than the congestion window allows, and never before `openAt` (the
 *   emulated handshake). Which flow sends next, and when, is the scheduler's decision.
 * - `segments` / `wire`: sent bytes (their payload in `wire`, their timing in `segments`) wait
 *   for `deliverAt`, then pass the {@link ToxicShaper} (which may hold, cut or end them).
 * - `acks`: each segment's acknowledgement returns one RTT after its last byte left, and
 *   grows the window (slow start).
 * - FIN and RST travel as zero-byte segments, so they arrive after every byte sent before them
 *   (RFC 9293 §3.10.7: data before a FIN is delivered first). A FIN waits for the queue to
 *   empty; a reset drops the unsent queue and goes at once (behind what is already in flight).
 *
 * Time: the flow never reads a clock. Every method takes the model time it happens at, or
 * acts at the scheduler's current time (the `now` of its last `advance`) — `enqueue` and
 * `finish` only record; the scheduler decides what happens when.
 */

import { ByteQueue } from './byte-queue.js';
import { CongestionWindow } from './congestion-window.js';
import { Deque } from './deque.js';
import type { Direction } from './options.js';
import type { DirectionStats } from './stats.js';
import { ToxicShaper } from './toxics.js';
import type { Toxic, ToxicAction } from './toxics.js';

/** Bytes to write to the receiving socket, as views in order. */
export interface DataOutput<T> {
  readonly kind: 'data';
  readonly tag: T;
  /** Model time the (first) bytes were delivered. */
  readonly at: number;
  readonly chunks: Uint8Array[];
  bytes: number;
}

/** What the scheduler asks the I/O layer to do to the receiving end of a flow. */
export type Output<T> =
  | DataOutput<T>
  /** Half-close the receiving socket (the sender's FIN arrived). */
  | { readonly kind: 'fin'; readonly tag: T; readonly at: number }
  /** Reset the receiving socket (the sender's RST arrived). */
  | { readonly kind: 'reset'; readonly tag: T; readonly at: number }
  /** A toxic's byte limit was reached: reset or close the whole connection. */
  | { readonly kind: 'toxic'; readonly tag: T; readonly at: number; readonly action: ToxicAction };

/** The link settings a flow needs. */
export interface FlowSettings {
  /** Round-trip time, ms. */
  readonly rtt: number;
  /** Maximum segment size, bytes. */
  readonly mss: number;
  /** Fresh congestion window, bytes. */
  readonly initialWindow: number;
  /** Cap on bytes in flight. */
  readonly maxWindow: number;
  /** Idle ms after which the window restarts (Infinity: never). */
  readonly restartAfter: number;
}

interface Segment {
  /** Bytes of this segment not yet let through by egress. */
  bytes: number;
  readonly deliverAt: number;
  readonly marker?: 'fin' | 'reset';
}

interface Ack {
  readonly bytes: number;
  readonly ackAt: number;
}

/** One direction of one connection on a link. Created by {@link Scheduler.open}. */
export class Flow<T> {
  /** The I/O layer's handle, echoed in every output. */
  readonly tag: T;
  /** Which way the bytes go. */
  readonly direction: Direction;
  /** Model time before which nothing may be sent (the emulated handshake). */
  readonly openAt: number;
  readonly #settings: FlowSettings;
  readonly #queue = new ByteQueue();
  readonly #wire = new ByteQueue();
  readonly #segments = new Deque<Segment>();
  readonly #acks = new Deque<Ack>();
  readonly #window: CongestionWindow;
  readonly #shaper: ToxicShaper;
  #lastTxEnd = Number.NEGATIVE_INFINITY;
  #finRequested = false;
  /** A FIN or RST segment has been sent: nothing more will be. */
  #terminalSent = false;
  /** Nothing more will be output (terminal marker or toxic action delivered, or closed). */
  #finished = false;
  #received = 0;
  #delivered = 0;
  #firstByteAt: number | undefined;

  /** @internal Use {@link Scheduler.open}. */
  constructor(tag: T, direction: Direction, openedAt: number, openAt: number, settings: FlowSettings, toxics: readonly Toxic[]) {
    this.tag = tag;
    this.direction = direction;
    this.openAt = openAt;
    this.#settings = settings;
    this.#window = new CongestionWindow({ initial: settings.initialWindow, max: settings.maxWindow, restartAfter: settings.restartAfter });
    this.#shaper = new ToxicShaper(toxics, direction, openedAt);
  }

  // ── the sending socket's side ────────────────────────────────────────────────────────────

  /** Bytes read from the sender, at the scheduler's current time. Ignored once the flow is ending. */
  enqueue(chunk: Uint8Array): void {
    if (this.#finRequested || this.#terminalSent || this.#finished) return;
    this.#queue.push(chunk);
    this.#received += chunk.byteLength;
  }

  /** The sender half-closed (FIN), at the scheduler's current time: deliver it after the queued bytes. */
  finish(): void {
    this.#finRequested = true;
  }

  /**
   * The sender aborted (RST) at model time `t`: drop unsent bytes and deliver a reset after
   * what is already in flight, no earlier than `notBefore` + rtt/2.
   */
  reset(t: number, notBefore = t): void {
    if (this.#terminalSent || this.#finished) return;
    this.#queue.clear();
    this.#terminalSent = true;
    this.#segments.push({ bytes: 0, deliverAt: Math.max(t, notBefore, this.#lastTxEnd) + this.#settings.rtt / 2, marker: 'reset' });
  }

  /** Stop: drop everything, output nothing more. The scheduler forgets the flow. */
  close(): void {
    this.#finished = true;
    this.#terminalSent = true;
    this.#queue.clear();
    this.#wire.clear();
    this.#segments.clear();
    this.#acks.clear();
  }

  /** No more outputs will come from this flow. */
  get finished(): boolean {
    return this.#finished;
  }

  /**
   * Bytes the relay holds for this flow that count against its high-water mark at time `now`:
   * unsent bytes plus delivered-but-held bytes (a stall, a slice). Bytes still propagating are
   * not counted: they are bounded by the window.
   */
  buffered(now: number): number {
    let held = 0;
    for (let i = 0; ; i += 1) {
      const seg = this.#segments.at(i);
      if (seg === undefined || seg.deliverAt > now) break;
      held += seg.bytes;
    }
    return this.#queue.length + held;
  }

  /** A snapshot of the counters. */
  counters(): DirectionStats {
    return {
      received: this.#received,
      delivered: this.#delivered,
      cwnd: this.#window.size,
      inFlight: this.#window.inFlight,
      windowRestarts: this.#window.restarts,
      firstByteAt: this.#firstByteAt,
    };
  }

  // ── the scheduler's side ─────────────────────────────────────────────────────────────────

  /** Earliest model time of this flow's next event, given when the link is next free. */
  nextEventTime(linkFreeAt: number): number {
    if (this.#finished) return Number.POSITIVE_INFINITY;
    let t = Number.POSITIVE_INFINITY;
    const ack = this.#acks.peek();
    if (ack !== undefined) t = ack.ackAt;
    const seg = this.#segments.peek();
    if (seg !== undefined) t = Math.min(t, Math.max(seg.deliverAt, this.#shaper.freeAt));
    if (this.#canSend()) t = Math.min(t, Math.max(this.openAt, linkFreeAt));
    if (this.#finReady()) t = Math.min(t, this.openAt);
    return t;
  }

  #canSend(): boolean {
    return !this.#terminalSent && this.#queue.length > 0 && this.#window.available > 0;
  }

  #finReady(): boolean {
    return this.#finRequested && !this.#terminalSent && this.#queue.length === 0;
  }

  /** Whether a data segment may start at model time `t` (the link being free). */
  sendable(t: number): boolean {
    return !this.#finished && this.openAt <= t && this.#canSend();
  }

  /**
   * Send one segment starting at `t` on a link of `rate` bytes/ms.
   *
   * @returns the bytes sent and when the last of them leaves (`txEnd`).
   */
  send(t: number, rate: number): { bytes: number; txEnd: number } {
    const { mss, rtt } = this.#settings;
    this.#window.beforeSend(t);
    const bytes = Math.min(mss, this.#queue.length, this.#window.available);
    for (const chunk of this.#queue.take(bytes)) this.#wire.push(chunk);
    const txEnd = t + bytes / rate; // rate = Infinity: no serialization delay
    this.#lastTxEnd = txEnd;
    this.#segments.push({ bytes, deliverAt: txEnd + rtt / 2 });
    this.#acks.push({ bytes, ackAt: txEnd + rtt });
    this.#window.onSend(bytes, t);
    return { bytes, txEnd };
  }

  /** Send the FIN at `t` if it is due. @returns whether it was sent. */
  sendFinIfDue(t: number): boolean {
    if (this.#finished || !this.#finReady() || this.openAt > t) return false;
    this.#terminalSent = true;
    this.#segments.push({ bytes: 0, deliverAt: Math.max(t, this.#lastTxEnd) + this.#settings.rtt / 2, marker: 'fin' });
    return true;
  }

  /** Apply the acknowledgements due by `t`. @returns whether there were any. */
  processAcks(t: number): boolean {
    let any = false;
    for (let ack = this.#acks.peek(); ack !== undefined && ack.ackAt <= t; ack = this.#acks.peek()) {
      this.#acks.shift();
      this.#window.onAck(ack.bytes);
      any = true;
    }
    return any;
  }

  /**
   * Let through what is delivered by `t` and allowed by the toxics, appending to `out`.
   * `now` is the wall-clock time (slice delays count from it).
   *
   * @returns whether anything was output.
   */
  egress(t: number, now: number, out: Output<T>[]): boolean {
    let any = false;
    let merged: DataOutput<T> | undefined;
    for (;;) {
      const seg = this.#segments.peek();
      if (this.#finished || seg === undefined || seg.deliverAt > t || this.#shaper.freeAt > t) return any;
      any = true;
      if (seg.marker !== undefined) {
        out.push({ kind: seg.marker, tag: this.tag, at: t });
        this.close();
        return any;
      }
      // One piece: as many due data bytes as the toxics allow, across segment boundaries.
      const limit = this.#shaper.nextPieceLimit();
      let n = 0;
      for (let head = this.#segments.peek(); head !== undefined && n < limit; head = this.#segments.peek()) {
        if (head.marker !== undefined || head.deliverAt > t) break;
        const k = Math.min(head.bytes, limit - n);
        head.bytes -= k;
        n += k;
        if (head.bytes === 0) this.#segments.shift();
      }
      if (n > 0) {
        const chunks = this.#wire.take(n);
        this.#delivered += n;
        this.#firstByteAt ??= t;
        if (merged !== undefined && !this.#shaper.sliced) {
          merged.chunks.push(...chunks);
          merged.bytes += n;
        } else {
          merged = { kind: 'data', tag: this.tag, at: t, chunks, bytes: n };
          out.push(merged);
        }
      }
      const action = this.#shaper.onPiece(n, t, now);
      if (action !== undefined) {
        out.push({ kind: 'toxic', tag: this.tag, at: t, action });
        this.close();
        return any;
      }
    }
  }
}
