/**
 * Theory of operation: test helpers that other packages' tests use too (exported as
 * `@tether/protocol/testing`). {@link ConnectionPair} feeds what one side sends to the other, the
 * way h11's tests do; {@link drain} collects every event currently available; {@link seededRandom}
 * makes fixtures that every run and machine see alike; {@link ManualClock} is a clock that tests move.
 *
 * @module @tether/protocol/testing
 */

import { Connection } from './connection.js';
import type { Clock } from './deadlines.js';
import type { ConnectionOptions } from './connection.js';
import { NEED_DATA, PAUSED } from './events.js';
import type { Event, SendEvent } from './events.js';
import { concatBytes, encodeLatin1 } from './latin1.js';

/** Every event `conn` can produce now, stopping at NEED_DATA, PAUSED or a connection-closed event. */
export function drain(conn: Connection): Event[] {
  const events: Event[] = [];
  for (;;) {
    const e = conn.nextEvent();
    if (e === NEED_DATA || e === PAUSED) return events;
    events.push(e);
    if (e.type === 'connection-closed') return events;
  }
}

/** Bytes from a string, one octet per character (test input is written as text). */
export function bytes(s: string): Uint8Array {
  return encodeLatin1(s);
}

/** A client and a server connection wired back to back. */
export class ConnectionPair {
  /** The client side. */
  readonly client: Connection;
  /** The server side. */
  readonly server: Connection;

  constructor(options: ConnectionOptions = {}) {
    this.client = new Connection('client', options);
    this.server = new Connection('server', options);
  }

  /** `sender` sends `events`; the peer receives the bytes; returns the events the peer then yields. */
  send(sender: 'client' | 'server', events: readonly SendEvent[]): Event[] {
    const from = sender === 'client' ? this.client : this.server;
    const to = sender === 'client' ? this.server : this.client;
    const out: Uint8Array[] = [];
    for (const e of events) out.push(...from.send(e));
    const data = concatBytes(out);
    if (data.length > 0) to.receiveData(data);
    return drain(to);
  }
}

/**
 * A seeded generator of numbers in [0, 1) (mulberry32): the same sequence for a seed on every run
 * and engine, for fixtures, benchmarks and demos that must not change between runs.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A {@link Clock} that moves only when told: tests of timeouts advance it instead of sleeping.
 * Timers fire in deadline order (then in the order they were set) during {@link ManualClock.advance}.
 */
export class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  readonly #timers = new Map<number, { readonly at: number; readonly seq: number; readonly fire: () => void }>();

  now(): number {
    return this.#now;
  }

  setTimer(fire: () => void, delay: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + delay, seq: id, fire });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Timers armed and not yet fired. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way, at its own time. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; seq: number; fire: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq))) next = entry;
      }
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fire();
    }
    this.#now = end;
  }
}
