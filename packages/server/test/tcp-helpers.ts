/**
 * Theory of operation: test helpers for driving @tether/server over real TCP on 127.0.0.1.
 *
 * - `ResponseReader` parses a byte stream of HTTP/1.1 responses (Content-Length, chunked or
 *   close-delimited bodies) independently of the server's own code, and tells a response that
 *   was cut off (`headStarted`, `bodyStarted`) from one that never began.
 * - `RawConnection` is one client socket that records how it ended: `'fin'` when the server's
 *   FIN arrived before the socket closed with no error (a graceful close), otherwise the error
 *   code (`ECONNRESET`, …). This is how the tests tell a graceful close from a reset.
 * - `Heartbeat` is a well-behaved keep-alive client that keeps asking while a test attacks the
 *   server from other connections; it is bounded in requests and time.
 * - `Resources` owns every server, socket and closer a test opens and releases them in
 *   `afterEach`, clients first so that a server's `close()` never waits on a test's socket.
 *
 * Every wait here has a deadline; nothing loops without a bound.
 */

import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { createServer } from '../src/index.js';
import type { Handler, ServerOptions, TetherServer } from '../src/index.js';

/** One parsed response. Header names are lower-cased; repeated fields are joined with ", ". */
export interface ParsedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

type BodyMode = { readonly kind: 'length'; remaining: number } | { readonly kind: 'chunked'; remaining: number; phase: 'size' | 'data' | 'data-crlf' | 'trailers' } | { readonly kind: 'close' };

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** An incremental parser of the responses a server sends on one connection. */
export class ResponseReader {
  /** The responses read completely, in order. */
  readonly responses: ParsedResponse[] = [];
  #buf: Buffer = Buffer.alloc(0);
  #head: { status: number; headers: Record<string, string> } | null = null;
  #mode: BodyMode | null = null;
  #body: Buffer[] = [];
  #ended = false;

  /** Bytes of a response head have arrived but not its whole body (or head). */
  get headStarted(): boolean {
    return this.#head !== null || this.#buf.length > 0;
  }

  /** A complete head has arrived whose body is not complete. */
  get bodyStarted(): boolean {
    return this.#head !== null;
  }

  /** Feed bytes as they arrive. Throws on bytes that are not an HTTP/1.1 response stream. */
  push(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    this.#parse();
  }

  readonly #bodyless = new Set<number>();

  /** The response at `index` (0-based, on this connection) answers a HEAD: no body follows its head. */
  expectBodyless(index: number): void {
    this.#bodyless.add(index);
  }

  /** The peer closed: completes a close-delimited body. */
  end(): void {
    this.#ended = true;
    if (this.#head !== null && this.#mode?.kind === 'close') this.#complete();
  }

  #parse(): void {
    for (;;) {
      if (this.#head === null) {
        const at = this.#buf.indexOf(HEAD_END);
        if (at < 0) return;
        this.#readHead(this.#buf.subarray(0, at).toString('latin1'));
        this.#buf = this.#buf.subarray(at + HEAD_END.length);
        continue;
      }
      if (!this.#readBody()) return;
    }
  }

  #readHead(text: string): void {
    const [statusLine = '', ...lines] = text.split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3}) /.exec(`${statusLine} `);
    if (match === null) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    const status = Number(match[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`not a field line: ${JSON.stringify(line)}`);
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    if (status >= 100 && status < 200) return; // RFC 9110 §15.2: interim; the final response follows.
    this.#head = { status, headers };
    this.#body = [];
    // RFC 9112 §6.3: 204/304 have no body; chunked wins; then Content-Length; else until close.
    if (status === 204 || status === 304 || this.#bodyless.has(this.responses.length)) this.#mode = { kind: 'length', remaining: 0 };
    else if (/chunked\s*$/i.test(headers['transfer-encoding'] ?? '')) this.#mode = { kind: 'chunked', remaining: 0, phase: 'size' };
    else if (headers['content-length'] !== undefined) this.#mode = { kind: 'length', remaining: Number(headers['content-length']) };
    else this.#mode = { kind: 'close' };
  }

  /** Read what body the buffer holds; true when the response completed. */
  #readBody(): boolean {
    const mode = this.#mode;
    if (mode === null) throw new Error('unreachable: body without a head');
    if (mode.kind === 'close') {
      this.#body.push(this.#buf);
      this.#buf = Buffer.alloc(0);
      if (this.#ended) this.#complete();
      return false;
    }
    if (mode.kind === 'length') {
      const take = Math.min(mode.remaining, this.#buf.length);
      this.#body.push(this.#buf.subarray(0, take));
      this.#buf = this.#buf.subarray(take);
      mode.remaining -= take;
      if (mode.remaining > 0) return false;
      this.#complete();
      return true;
    }
    for (;;) {
      if (mode.phase === 'size' || mode.phase === 'data-crlf' || mode.phase === 'trailers') {
        const at = this.#buf.indexOf(CRLF);
        if (at < 0) return false;
        const line = this.#buf.subarray(0, at).toString('latin1');
        this.#buf = this.#buf.subarray(at + CRLF.length);
        if (mode.phase === 'data-crlf') {
          if (line !== '') throw new Error(`chunk data not followed by CRLF: ${JSON.stringify(line)}`);
          mode.phase = 'size';
        } else if (mode.phase === 'trailers') {
          if (line === '') {
            this.#complete();
            return true;
          }
        } else {
          const size = Number.parseInt(line.split(';')[0] ?? '', 16);
          if (!Number.isFinite(size)) throw new Error(`bad chunk size line: ${JSON.stringify(line)}`);
          mode.remaining = size;
          mode.phase = size === 0 ? 'trailers' : 'data';
        }
        continue;
      }
      const take = Math.min(mode.remaining, this.#buf.length);
      this.#body.push(this.#buf.subarray(0, take));
      this.#buf = this.#buf.subarray(take);
      mode.remaining -= take;
      if (mode.remaining > 0) return false;
      mode.phase = 'data-crlf';
    }
  }

  #complete(): void {
    const head = this.#head;
    if (head === null) return;
    this.responses.push({ status: head.status, headers: head.headers, body: Buffer.concat(this.#body) });
    this.#head = null;
    this.#mode = null;
    this.#body = [];
  }
}

/** How a client connection ended: still open, the server's FIN (graceful), or an error code. */
export type Ending = 'open' | 'fin' | `error:${string}`;

/** A raw client connection that parses responses and records how it ended. */
export class RawConnection {
  readonly socket: net.Socket;
  readonly reader = new ResponseReader();
  /** Socket events in order ('end', 'close', 'error:CODE'), to check FIN-before-close. */
  readonly events: string[] = [];
  #ending: Ending = 'open';
  #waiters: (() => void)[] = [];
  #closed: Promise<void>;
  #parseError: unknown = null;

  private constructor(socket: net.Socket, read: boolean) {
    this.socket = socket;
    if (read) {
      socket.on('data', (chunk: Buffer) => {
        try {
          this.reader.push(chunk);
        } catch (err) {
          this.#parseError ??= err;
        }
        this.#wake();
      });
    }
    socket.on('end', () => {
      this.events.push('end');
      this.reader.end();
      this.#wake();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.events.push(`error:${err.code ?? err.message}`);
      if (this.#ending === 'open') this.#ending = `error:${err.code ?? err.message}`;
    });
    this.#closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.events.push('close');
        if (this.#ending === 'open') this.#ending = this.events[0] === 'end' ? 'fin' : 'error:closed-without-fin';
        this.#wake();
        resolve();
      });
    });
  }

  /** Connect; `read: false` leaves the socket paused so nothing is ever read (a client that does not read). */
  static async open(port: number, options: { allowHalfOpen?: boolean; read?: boolean } = {}): Promise<RawConnection> {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
    const conn = new RawConnection(socket, options.read ?? true);
    if (options.read === false) socket.pause();
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return conn;
  }

  /** How the connection ended so far. */
  get ending(): Ending {
    return this.#ending;
  }

  /** Whether the socket has closed. */
  get isClosed(): boolean {
    return this.events.includes('close');
  }

  /** A parse error of the response stream, if any (the server sent something that is not HTTP). */
  get parseError(): unknown {
    return this.#parseError;
  }

  /** Write if the socket still takes writes; false when it does not. */
  send(data: string | Buffer): boolean {
    if (!this.socket.writable) return false;
    this.socket.write(data);
    return true;
  }

  /** Resolves when `done()` holds, the socket closes, or `ms` passes; returns whether `done()` held. */
  async until(done: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0 || this.isClosed) return done();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Resolves when the socket has closed, or after `ms`; returns whether it closed. */
  async closed(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([this.#closed.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
    clearTimeout(timer);
    return closed;
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

/** Options of {@link Heartbeat.start}. */
export interface HeartbeatOptions {
  /** Pause between requests. */
  readonly intervalMs?: number;
  /** Most requests to send. */
  readonly maxRequests?: number;
  /** Most ms to run. */
  readonly maxMs?: number;
  /** Ms a response may take before it counts as a failure. */
  readonly responseTimeoutMs?: number;
}

/**
 * A well-behaved client on its own keep-alive connection: GET, wait for the answer, pause,
 * repeat, reconnecting only when the server closed the connection gracefully.
 */
export class Heartbeat {
  /** Times (Date.now()) at which a correct answer arrived. */
  readonly answeredAt: number[] = [];
  /** What went wrong, if anything. */
  readonly failures: string[] = [];
  #stopped = false;
  #done: Promise<void> = Promise.resolve();
  #current: RawConnection | null = null;

  /** Start asking `port` in the background until `stop()` or a bound is reached. */
  static start(port: number, options: HeartbeatOptions = {}): Heartbeat {
    const beat = new Heartbeat();
    beat.#done = beat.#run(port, options);
    return beat;
  }

  /** Answers that arrived in `[from, to]`. */
  answeredBetween(from: number, to: number): number {
    return this.answeredAt.filter((t) => t >= from && t <= to).length;
  }

  /** Stop after the request in flight; closes the connection. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
    this.#current?.socket.destroy();
  }

  async #run(port: number, options: HeartbeatOptions): Promise<void> {
    const { intervalMs = 10, maxRequests = 5000, maxMs = 20_000, responseTimeoutMs = 2000 } = options;
    const deadline = Date.now() + maxMs;
    for (let i = 0; i < maxRequests && !this.#stopped && Date.now() < deadline; i++) {
      if (this.#current === null || !this.#current.socket.writable) {
        if (this.#current !== null && this.#current.ending !== 'open' && this.#current.ending !== 'fin') this.failures.push(`connection ended with ${this.#current.ending}`);
        this.#current?.socket.destroy();
        try {
          this.#current = await RawConnection.open(port);
        } catch (err) {
          this.failures.push(`connect: ${String(err)}`);
          return;
        }
      }
      const conn = this.#current;
      const before = conn.reader.responses.length;
      conn.send(`GET /heartbeat/${i} HTTP/1.1\r\nHost: heartbeat\r\n\r\n`);
      const answered = await conn.until(() => conn.reader.responses.length > before, responseTimeoutMs);
      const res = conn.reader.responses[before];
      if (!answered || res === undefined) {
        this.failures.push(`request ${i}: no answer within ${responseTimeoutMs} ms (${conn.ending})`);
        return;
      }
      if (res.status !== 200 || !res.body.toString().endsWith(`/heartbeat/${i}`)) this.failures.push(`request ${i}: ${res.status} ${res.body.toString()}`);
      else this.answeredAt.push(Date.now());
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

/** The soft limit on open files of this process (inherited by a child shell), or Infinity if unknown. */
export function openFileLimit(): number {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Number.POSITIVE_INFINITY : Number(out);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Resolves when `done()` holds or `ms` passes; returns whether it held. Polls every `everyMs`. */
export async function waitFor(done: () => boolean, ms: number, everyMs = 10): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return true;
}

/** Sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Everything a test opened; `release()` in `afterEach` closes clients, then servers. */
export class Resources {
  readonly #servers: TetherServer[] = [];
  readonly #sockets = new Set<net.Socket>();
  readonly #closers: (() => unknown)[] = [];

  /** Create a server on 127.0.0.1 port 0. */
  async server(handler: Handler, options: ServerOptions = {}): Promise<{ server: TetherServer; port: number; origin: string }> {
    const server = createServer(options, handler);
    this.#servers.push(server);
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    return { server, port, origin: `http://127.0.0.1:${port}` };
  }

  /** Open a raw connection that is destroyed in `release()`. */
  async connect(port: number, options: { allowHalfOpen?: boolean; read?: boolean } = {}): Promise<RawConnection> {
    const conn = await RawConnection.open(port, options);
    this.#sockets.add(conn.socket);
    return conn;
  }

  /** Start a heartbeat that is stopped in `release()`. */
  heartbeat(port: number, options: HeartbeatOptions = {}): Heartbeat {
    const beat = Heartbeat.start(port, options);
    this.#closers.push(() => beat.stop());
    return beat;
  }

  /** Run `close` in `release()` (agents, pools, child processes). */
  defer(close: () => unknown): void {
    this.#closers.push(close);
  }

  /** Close everything: clients first, then every server still listening. */
  async release(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await Promise.all(this.#closers.splice(0).map((close) => Promise.resolve(close())));
    const listening = this.#servers.splice(0).filter((server) => server.address() !== null);
    await Promise.all(listening.map((server) => server.close({ timeout: 1000 })));
  }
}
