/**
 * Theory of operation: client-side helpers for the framework integration tests (Fastify, Koa),
 * which run each scenario against the framework on tether and on node:http and expect the same.
 *
 * - `fetchRaw` is one request through node's http client (keep-alive when given an agent); it
 *   keeps the body as bytes, never decoding a `content-encoding`, so a test decodes it itself and
 *   can tell a body encoded once from one encoded twice, and it returns the socket the response
 *   came on, so a test can tell reuse from a new connection.
 * - `EventStreamReader` reads a `text/event-stream` response event by event as it arrives.
 * - `Gate` is a promise a handler waits on and a test opens: how a test makes a server write
 *   "over time" without sleeping — the server writes, the client sees it, then the test lets the
 *   server go on. A server that held its output until the end would never let the client see it.
 * - `Ticks` is the event stream the suites write over time: the server writes an event, then
 *   waits at a gate that only the client opens once that event has arrived.
 * - `openedPerTest` holds the servers, agents and sockets a test opens, and releases them after
 *   it: clients first, so that no server's close waits on a test's client.
 * - `countConnections` counts the TCP connections a server accepts (node's and tether's both
 *   emit `'connection'`); `closed` waits for a socket to close.
 * - `sendPipelined` and `checkGracefulClose` are the scenarios both suites run the same way: a
 *   pipelining client, and a graceful close with an idle and an in-flight connection.
 */

import { EventEmitter } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import type { Writable } from 'node:stream';

import { afterEach, expect } from 'vitest';
import { RawConnection } from './tcp-helpers.js';

/** A response as the client received it. */
export interface Fetched {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The field lines as received, `[name, value, …]`: repeated fields stay separate lines. */
  readonly rawHeaders: readonly string[];
  /** The body bytes as sent (no content-coding undone). */
  readonly body: Buffer;
  readonly text: string;
  readonly socket: net.Socket;
}

/** Options of {@link fetchRaw}. */
export interface FetchOptions {
  readonly method?: string;
  readonly headers?: http.OutgoingHttpHeaders;
  readonly body?: string | Buffer;
  /** The agent (keep-alive) to use; default a new connection closed after the response. */
  readonly agent?: http.Agent;
}

/** What a test opened; see {@link openedPerTest}. */
export interface Opened<S> {
  readonly servers: S[];
  readonly agents: http.Agent[];
  readonly sockets: net.Socket[];
}

/**
 * Called in a `describe` block: after each of its tests, destroy the agents and sockets the test
 * opened, then close its servers with `close`, one after another.
 */
export function openedPerTest<S>(close: (server: S) => Promise<unknown>): Opened<S> {
  const opened: Opened<S> = { servers: [], agents: [], sockets: [] };
  afterEach(async () => {
    for (const agent of opened.agents.splice(0)) agent.destroy();
    for (const socket of opened.sockets.splice(0)) socket.destroy();
    for (const server of opened.servers.splice(0)) await close(server);
  });
  return opened;
}

/** A keep-alive agent with one socket (so a test can tell reuse), kept in `agents` to be destroyed after the test. */
export function keepAliveAgent(agents: http.Agent[]): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  return agent;
}

/** One request to 127.0.0.1:`port`; resolves when the whole response has arrived. */
export function fetchRaw(port: number, path: string, options: FetchOptions = {}): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString('utf8'), socket: req.socket! });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A promise a server-side handler waits on until the test opens it. */
export class Gate {
  readonly promise: Promise<void>;
  #open!: () => void;
  #opened = false;

  constructor() {
    this.promise = new Promise((resolve) => (this.#open = resolve));
  }

  get opened(): boolean {
    return this.#opened;
  }

  open(): void {
    this.#opened = true;
    this.#open();
  }
}

/** Each event of a `text/event-stream` response as it arrives (`next()`), and how it ended. */
export class EventStreamReader {
  readonly response: http.IncomingMessage;
  #buffer = '';
  #events: string[] = [];
  #ended = false;
  readonly #wake = new EventEmitter();

  private constructor(response: http.IncomingMessage) {
    this.response = response;
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.#buffer += chunk;
      // The WHATWG event-stream format: an event ends at a blank line.
      for (let at = this.#buffer.indexOf('\n\n'); at >= 0; at = this.#buffer.indexOf('\n\n')) {
        this.#events.push(this.#buffer.slice(0, at));
        this.#buffer = this.#buffer.slice(at + 2);
      }
      this.#wake.emit('wake');
    });
    response.on('end', () => {
      this.#ended = true;
      this.#wake.emit('wake');
    });
  }

  /** GET `path` with `accept: text/event-stream`; resolves once the response head arrived. */
  static open(port: number, path: string, agent?: http.Agent): Promise<EventStreamReader> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path, agent: agent ?? false, headers: { accept: 'text/event-stream' } }, (res) => resolve(new EventStreamReader(res)));
      req.on('error', reject);
    });
  }

  /** The next event's text (its lines without the blank line), or null when the stream ended. */
  async next(): Promise<string | null> {
    while (this.#events.length === 0 && !this.#ended) await new Promise((resolve) => this.#wake.once('wake', resolve));
    return this.#events.shift() ?? null;
  }

  /** Resolves when the response has ended; what arrived after the last complete event. */
  async end(): Promise<string> {
    while (!this.#ended) await new Promise((resolve) => this.#wake.once('wake', resolve));
    return this.#buffer;
  }
}

/** Counts the connections `server` accepts from now on. */
export function countConnections(server: EventEmitter): { readonly count: number } {
  const counter = { count: 0 };
  server.on('connection', () => counter.count++);
  return counter;
}

/** Resolves with the socket's 'close' (at once if it has closed). */
export function closed(socket: net.Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

/**
 * An event stream written over time: event `i` (`id: i`, `data: tick i`) is written, then the
 * writer waits at `gates[i]`, which the reader opens only once event `i` has arrived; a `done`
 * event ends the stream. A server that held its output back would never see a gate open.
 */
export class Ticks {
  readonly gates: readonly Gate[] = [new Gate(), new Gate(), new Gate()];

  /** Server side: write the events into `stream` over time, then end it. */
  writeTo(stream: Writable): void {
    void (async () => {
      for (let i = 0; i < this.gates.length; i++) {
        stream.write(`id: ${i}\ndata: tick ${i}\n\n`);
        await this.gates[i]!.promise;
      }
      stream.end('event: done\ndata: bye\n\n');
    })();
  }

  /** Client side: each event as it arrives (opening its gate), then `done`, then the end. */
  async readFrom(events: EventStreamReader): Promise<void> {
    for (let i = 0; i < this.gates.length; i++) {
      // The server waits at gates[i] until this event has reached the client.
      expect(await events.next()).toBe(`id: ${i}\ndata: tick ${i}`);
      expect(this.gates[i]!.opened).toBe(false);
      this.gates[i]!.open();
    }
    expect(await events.next()).toBe('event: done\ndata: bye');
    expect(await events.next()).toBeNull();
  }
}

/** The body of the pipelined `POST /echo`. */
export const PIPELINED_JSON = '{"posted":true}';

/**
 * The pipelining client of both suites, on a new connection (handed to `track` to be destroyed
 * after the test): one write of GET /slow/0, POST /echo with {@link PIPELINED_JSON}, GET /big,
 * HEAD /big (the one bodyless answer), GET /nope, GET /throw, then `last` (the suite's own; its
 * final request says `connection: close`). Resolves once every response has arrived, parsed,
 * and the connection has closed.
 */
export async function sendPipelined(port: number, last: readonly string[], track: (socket: net.Socket) => void): Promise<RawConnection> {
  const requests = [
    'GET /slow/0 HTTP/1.1\r\nhost: x\r\n\r\n',
    `POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${PIPELINED_JSON.length}\r\n\r\n${PIPELINED_JSON}`,
    'GET /big HTTP/1.1\r\nhost: x\r\n\r\n',
    'HEAD /big HTTP/1.1\r\nhost: x\r\n\r\n',
    'GET /nope HTTP/1.1\r\nhost: x\r\n\r\n',
    'GET /throw HTTP/1.1\r\nhost: x\r\n\r\n',
    ...last,
  ];
  const conn = await RawConnection.open(port);
  track(conn.socket);
  conn.reader.expectBodyless(3);
  conn.send(requests.join(''));
  expect(await conn.until(() => conn.reader.responses.length === requests.length && conn.isClosed, 5_000)).toBe(true);
  expect(conn.parseError).toBeNull();
  return conn;
}

/** The graceful-close scenario of {@link checkGracefulClose}. */
export interface GracefulClose {
  /** `tether` or `node:http`: how the in-flight answer ends its connection differs. */
  readonly name: string;
  /** The server, serving `GET /quick` and `GET /slow`. */
  readonly port: number;
  /** The keep-alive client that sends `/slow`. */
  readonly agent: http.Agent;
  /** Where the idle client's agent goes, to be destroyed after the test. */
  readonly agents: http.Agent[];
  /** Opened by `/slow`'s handler once it runs; it then waits at `release`. */
  readonly entered: Gate;
  readonly release: Gate;
  /** Begin the server's graceful close; settles when it is closed. */
  close(): Promise<unknown>;
  /** Awaited once close() has begun, before its effects are checked (Fastify: its preClose hook ran). */
  readonly begun?: Promise<void>;
}

/**
 * An idle keep-alive connection (another client's) and `/slow` in flight when close() begins:
 * the idle connection closes at once and new ones are refused while close() waits. Released,
 * `/slow` is answered in full: tether says `connection: close` and closes; node:http keeps the
 * connection (close() waits for the client to go, or Fastify's 72 s keep-alive timeout), so the
 * client goes. Then the connection closes and close() settles.
 */
export async function checkGracefulClose(c: GracefulClose): Promise<void> {
  const idle = await fetchRaw(c.port, '/quick', { agent: keepAliveAgent(c.agents) });
  expect(idle.headers.connection).not.toBe('close');

  const slow = fetchRaw(c.port, '/slow', { agent: c.agent });
  await c.entered.promise;
  let closeSettled = false;
  const closing = c.close().then(() => (closeSettled = true));
  if (c.begun !== undefined) await c.begun;
  await closed(idle.socket);
  await expect(fetchRaw(c.port, '/quick')).rejects.toThrow(/ECONNREFUSED/);
  expect(closeSettled).toBe(false);

  c.release.open();
  const done = await slow;
  expect([done.status, done.text]).toEqual([200, '{"finished":true}']);
  if (c.name === 'tether') {
    expect(done.headers.connection).toBe('close');
  } else {
    expect(done.headers.connection).toBe('keep-alive');
    expect(closeSettled).toBe(false);
    c.agent.destroy();
  }
  await closed(done.socket);
  await closing;
  expect(closeSettled).toBe(true);
}
