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
 * - `countConnections` counts the TCP connections a server accepts (node's and tether's both
 *   emit `'connection'`).
 */

import { EventEmitter } from 'node:events';
import http from 'node:http';
import type net from 'node:net';

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
