/**
 * Theory of operation: test helpers that other packages' tests use too (exported as
 * `@tether/protocol/testing`). {@link ConnectionPair} feeds what one side sends to the other, the
 * way h11's tests do; {@link drain} collects every event currently available; {@link seededRandom}
 * makes fixtures that every run and machine see alike.
 */

import { Connection } from './connection.js';
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
  readonly client: Connection;
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
