/**
 * Theory of operation: helpers for driving a link over real TCP on 127.0.0.1.
 *
 * - `Resources` owns every server, socket and link a test opens and releases them in
 *   `afterEach` (sockets first, then links, then servers), so a failing test leaks nothing.
 * - `startServer(onSocket)` is a plain node:net server on port 0 with half-open connections
 *   allowed (so a test can answer after the client's FIN).
 * - `Reader` records every read of a socket with its `performance.now()` time and resolves
 *   waits on byte counts, `'end'` or `'close'`, each with a deadline.
 * - `tolerance()` is the one statement of how close a measurement must be to the model:
 *   never earlier than the model allows (less 1 ms of clock and rounding slack), and no later
 *   than 15 % or 10 ms, whichever is larger. Timers on a loaded machine fire late, not early.
 * - `measureTimings()` runs a measurement up to 3 times. Every attempt must be no earlier than
 *   the model allows; an attempt that is late (a CPU-starved machine delays events, it never
 *   advances them) is repeated, and the last attempt must be within tolerance.
 *
 * Every wait here has a deadline; nothing loops without a bound.
 */

import net from 'node:net';
import { expect } from 'vitest';

import { createLink } from '../src/index.js';
import type { Link, LinkOptions } from '../src/index.js';

/** Everything a test opened, released after it. */
export class Resources {
  readonly #sockets = new Set<net.Socket>();
  readonly #servers = new Set<net.Server>();
  readonly #links = new Set<Link>();

  socket(s: net.Socket): net.Socket {
    this.#sockets.add(s);
    s.on('error', () => undefined);
    return s;
  }

  async link(options: LinkOptions): Promise<Link> {
    const link = await createLink(options);
    this.#links.add(link);
    return link;
  }

  server(s: net.Server): net.Server {
    this.#servers.add(s);
    return s;
  }

  async release(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    await Promise.all([...this.#links].map((l) => l.close()));
    this.#links.clear();
    await Promise.all(
      [...this.#servers].map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            // A server's close waits for its connections: destroy what the tests left.
            (s as net.Server & { sockets?: Set<net.Socket> }).sockets?.forEach((c) => c.destroy());
          }),
      ),
    );
    this.#servers.clear();
  }
}

/** A node:net server on 127.0.0.1 port 0 that allows half-open connections and tracks its sockets. */
export async function startServer(res: Resources, onSocket: (socket: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  Object.assign(server, { sockets });
  res.server(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** An echo server: every chunk is written back; a FIN is answered with a FIN. */
export function echoServer(res: Resources): Promise<number> {
  return startServer(res, (socket) => {
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
    socket.on('end', () => socket.end());
  });
}

/** Connect a tracked client socket to 127.0.0.1:`port`. */
export function connect(res: Resources, port: number): net.Socket {
  return res.socket(net.connect({ host: '127.0.0.1', port, noDelay: true }));
}

/** One read: when and how many bytes. */
export interface Read {
  readonly at: number;
  readonly bytes: number;
}

/** Records what a socket reads; waits have deadlines. */
export class Reader {
  readonly reads: Read[] = [];
  readonly chunks: Buffer[] = [];
  total = 0;
  endedAt: number | undefined;
  closedAt: number | undefined;
  error: (Error & { code?: string }) | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.reads.push({ at: performance.now(), bytes: chunk.length });
      this.chunks.push(chunk);
      this.total += chunk.length;
      this.#wake();
    });
    socket.on('end', () => {
      this.endedAt = performance.now();
      this.#wake();
    });
    socket.on('error', (err: Error & { code?: string }) => {
      this.error ??= err;
      this.#wake();
    });
    socket.on('close', () => {
      this.closedAt = performance.now();
      this.#wake();
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves with the time the condition first held (checked on every socket event), or rejects after `ms`. */
  until(what: string, condition: () => boolean, ms = 3000): Promise<number> {
    if (condition()) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        done();
        resolve(performance.now());
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms} ms waiting for ${what} (read ${this.total} bytes)`));
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }

  /** Time the `n`-th byte arrived. */
  bytes(n: number, ms?: number): Promise<number> {
    return this.until(`${n} bytes`, () => this.total >= n, ms);
  }

  /** Time the socket closed. */
  closed(ms?: number): Promise<number> {
    return this.until('close', () => this.closedAt !== undefined, ms);
  }

  /** Everything read, as one buffer. */
  data(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** The accepted range for a measurement of a modelled duration `expected` ms. */
export function tolerance(expected: number): { readonly min: number; readonly max: number } {
  return { min: expected - 1, max: expected + Math.max(0.15 * expected, 10) };
}

/** Assert-friendly check: `measured` within {@link tolerance} of `expected`. */
export function withinTolerance(measured: number, expected: number): boolean {
  const { min, max } = tolerance(expected);
  return measured >= min && measured <= max;
}

/** One measured duration and what the model says it should be. */
export interface Timing {
  readonly what: string;
  readonly measured: number;
  readonly expected: number;
}

/** Attempts of a timing measurement: 1 normally, up to 3 when a loaded machine makes one late. */
export const TIMING_ATTEMPTS = 3;

/**
 * Run `measure` (which sets up what it needs) until one attempt has every timing within
 * {@link tolerance} and `accept(timings)` holds, at most {@link TIMING_ATTEMPTS} times.
 * Every attempt is checked for being early at once; lateness is only retried.
 *
 * @returns the accepted (or last) attempt's timings, for the test's own exact checks.
 */
export async function measureTimings(measure: () => Promise<Timing[]>, accept: () => boolean = () => true): Promise<Timing[]> {
  let timings: Timing[] = [];
  for (let attempt = 1; attempt <= TIMING_ATTEMPTS; attempt += 1) {
    timings = await measure();
    console.log(`  attempt ${attempt}: ${timings.map((t) => `${t.what} ${t.measured.toFixed(1)} ms (model ${t.expected})`).join('; ')}`);
    for (const t of timings) expect(t.measured, `${t.what}: earlier than the model`).toBeGreaterThanOrEqual(tolerance(t.expected).min);
    if (timings.every((t) => t.measured <= tolerance(t.expected).max) && accept()) return timings;
  }
  for (const t of timings) expect(t.measured, `${t.what}: later than the tolerance`).toBeLessThanOrEqual(tolerance(t.expected).max);
  return timings;
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Resolve after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Bytes 0..250 repeating, `n` of them. */
export function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 1) b[i] = i % 251;
  return b;
}
