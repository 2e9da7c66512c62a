/**
 * Theory of operation: interop tests of @tether/protocol against real peers over real TCP
 * sockets on 127.0.0.1, port 0 — no mocks. The Connection stays sans-I/O; the I/O lives here,
 * in two small drivers:
 *
 * - client role: {@link SocketReader} queues what a `net.Socket` reads, {@link nextClientEvent}
 *   feeds it to a client Connection whenever it answers NEED_DATA (or PAUSED once a close is
 *   decided, so the EOF that ends it gets read), and the test writes what `send()` returns;
 * - server role: {@link serveTether} is the loop a server built on tether would run: on 'data'
 *   `receiveData`, on 'end' `receiveEof`, drain `nextEvent`, answer each request with
 *   `sendMessage` (the body names its method and target and echoes its body), answer a
 *   RemoteProtocolError with `err.status` and `Connection: close`, and end the socket once
 *   `ourState` is MUST_CLOSE.
 *
 * Peers: node:http's server (client role), node:http's keep-alive Agent, raw HTTP/1.0 and
 * malformed bytes, and curl (server role).
 *
 * Invariants: every wait is bounded (READ_TIMEOUT_MS per wait, TEST_TIMEOUT_MS per test, curl
 * killed after CURL_TIMEOUT_MS), and every socket, server and agent a test opens is registered
 * in `cleanups` and closed by `afterEach`, whether the test passed or not.
 */

import { execFile, execFileSync } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { Agent, createServer as createHttpServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { promisify } from 'node:util';

import { afterEach, describe, expect, it } from 'vitest';

import { Connection, NEED_DATA, PAUSED, RemoteProtocolError } from '../src/index.js';
import type { Event, NextEvent, RequestEvent, ResponseEvent } from '../src/index.js';

/** Per-test budget. Everything is loopback; a healthy run takes milliseconds per test. */
const TEST_TIMEOUT_MS = 20_000;
/** The longest one wait (a socket read, a response, a close) may take before the test fails. */
const READ_TIMEOUT_MS = 5_000;
/** curl is killed after this long (two tiny requests on loopback). */
const CURL_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Bounded waits and cleanup

/** Closers of everything the current test opened, run newest first after it. */
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const close of cleanups.splice(0).reverse()) await close();
});

/** `promise`, or a rejection naming `what` after `ms`. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a test knows about the connections its server accepted. */
interface ServerLog {
  /** Server-side sockets, in accept order (`connection` events). */
  readonly sockets: Socket[];
  /** Resolves when the server-side socket of the same index has closed. */
  readonly closed: Promise<void>[];
}

/**
 * Listen on 127.0.0.1 port 0, count `connection` events, and register the server's cleanup:
 * destroy whatever sockets are left and wait for `close`.
 */
async function listen(server: Server): Promise<{ port: number; log: ServerLog }> {
  const log: ServerLog = { sockets: [], closed: [] };
  server.on('connection', (socket: Socket) => {
    log.sockets.push(socket);
    log.closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
  });
  cleanups.push(async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of log.sockets) socket.destroy();
    await within(READ_TIMEOUT_MS, 'the server to close', closed);
  });
  server.listen(0, '127.0.0.1');
  await within(READ_TIMEOUT_MS, 'listen', once(server, 'listening'));
  return { port: (server.address() as AddressInfo).port, log };
}

/** A client socket to 127.0.0.1:`port`, destroyed after the test. */
async function connectTo(port: number): Promise<{ socket: Socket; reader: SocketReader }> {
  const socket = connect({ host: '127.0.0.1', port });
  cleanups.push(() => {
    socket.destroy();
  });
  const reader = new SocketReader(socket);
  await within(READ_TIMEOUT_MS, 'connect', once(socket, 'connect'));
  return { socket, reader };
}

/** What a socket reads, queued for `await read()`. */
class SocketReader {
  readonly #chunks: Buffer[] = [];
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#notify();
    });
    socket.on('end', () => this.#end());
    socket.on('close', () => this.#end());
    socket.on('error', (err) => {
      this.#error = err;
      this.#notify();
    });
  }

  /** The next chunk read, or `null` at end of stream. Rejects on a socket error or after READ_TIMEOUT_MS. */
  async read(): Promise<Buffer | null> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk !== undefined) return chunk;
      if (this.#error !== null) throw this.#error;
      if (this.#ended) return null;
      await within(READ_TIMEOUT_MS, 'socket input', new Promise<void>((resolve) => (this.#wake = resolve)));
    }
  }

  /** Put back bytes read too far. */
  unread(chunk: Buffer): void {
    if (chunk.length > 0) this.#chunks.unshift(chunk);
  }

  #end(): void {
    this.#ended = true;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

// ---------------------------------------------------------------------------------------------
// Client role: a tether client Connection driven over a net.Socket

/**
 * The next event of a client Connection, reading the socket while it needs data. PAUSED is
 * expected only once the server decided to close: reading on is how the EOF that ends it arrives
 * (bytes after it are discarded by the Connection).
 */
async function nextClientEvent(conn: Connection, reader: SocketReader): Promise<Event> {
  let eofFed = false;
  for (;;) {
    const e = conn.nextEvent();
    if (e !== NEED_DATA && e !== PAUSED) return e;
    if (e === PAUSED && conn.theirState !== 'MUST_CLOSE') throw new Error(`client paused: ${conn.pausedReason ?? '?'}`);
    if (eofFed) throw new Error('the Connection still needs data after end of stream');
    const chunk = await reader.read();
    if (chunk === null) {
      conn.receiveEof();
      eofFed = true;
    } else {
      conn.receiveData(chunk);
    }
  }
}

/** A whole response: its head and its body as text. */
interface ReceivedResponse {
  readonly head: ResponseEvent;
  readonly body: string;
}

async function readResponse(conn: Connection, reader: SocketReader): Promise<ReceivedResponse> {
  let head: ResponseEvent | undefined;
  const body: Buffer[] = [];
  for (;;) {
    const e = await nextClientEvent(conn, reader);
    if (e.type === 'response') head = e;
    else if (e.type === 'data') body.push(Buffer.from(e.data));
    else if (e.type === 'end-of-message' && head !== undefined) return { head, body: Buffer.concat(body).toString('latin1') };
    else if (e.type !== 'informational-response') throw new Error(`unexpected ${e.type} while reading a response`);
  }
}

// ---------------------------------------------------------------------------------------------
// Server role: a tether server Connection answering on a net.Socket

/** What the tether server loop saw. */
interface TetherLog extends ServerLog {
  /** `METHOD target HTTP/version` of each request received, all connections together. */
  readonly requests: string[];
  /** Errors the peer's bytes raised (each answered with its status). */
  readonly remoteErrors: RemoteProtocolError[];
  /** Anything else that went wrong in the loop (must stay empty). */
  readonly failures: unknown[];
}

/** The body the test server answers with: the request's method and target, then its body. */
function answerBody(request: RequestEvent, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${request.method} ${request.target}\n`), body]);
}

/** The loop of a server built on tether, on one accepted socket (see the theory of operation). */
function serveTether(socket: Socket, log: TetherLog): void {
  const conn = new Connection('server');
  let request: RequestEvent | null = null;
  let body: Buffer[] = [];
  let done = false;

  const finish = (): void => {
    done = true;
    socket.end();
  };

  const pump = (): void => {
    while (!done) {
      if (conn.ourState === 'MUST_CLOSE') return finish();
      let e: NextEvent;
      try {
        e = conn.nextEvent();
      } catch (err) {
        if (!(err instanceof RemoteProtocolError)) throw err;
        log.remoteErrors.push(err);
        // The peer's bytes are not HTTP: answer on the same connection, then close it.
        const head = { type: 'response', status: err.status, headers: { 'content-type': 'text/plain', connection: 'close' } } as const;
        socket.write(conn.sendMessage(head, Buffer.from(`${err.code}\n`)));
        continue;
      }
      if (e === NEED_DATA || e === PAUSED) return;
      switch (e.type) {
        case 'request':
          request = e;
          body = [];
          log.requests.push(`${e.method} ${e.target} HTTP/${e.version}`);
          break;
        case 'data':
          body.push(Buffer.from(e.data));
          break;
        case 'end-of-message': {
          if (request === null) throw new Error('end-of-message without a request');
          const head = { type: 'response', status: 200, headers: { 'content-type': 'text/plain' } } as const;
          socket.write(conn.sendMessage(head, answerBody(request, Buffer.concat(body))));
          request = null;
          break;
        }
        case 'connection-closed':
          return finish();
        default:
          throw new Error(`unexpected ${e.type} on the server`);
      }
    }
  };

  const guarded = (step: () => void): void => {
    if (done) return;
    try {
      step();
    } catch (err) {
      log.failures.push(err);
      done = true;
      socket.destroy();
    }
  };

  socket.on('data', (chunk: Buffer) =>
    guarded(() => {
      conn.receiveData(chunk);
      pump();
    }),
  );
  socket.on('end', () =>
    guarded(() => {
      conn.receiveEof();
      pump();
    }),
  );
  socket.on('error', (err) => log.failures.push(err));
}

/** A net.Server running {@link serveTether} on each connection. */
async function startTetherServer(): Promise<{ port: number; log: TetherLog }> {
  const extra = { requests: [] as string[], remoteErrors: [] as RemoteProtocolError[], failures: [] as unknown[] };
  // allowHalfOpen: a client's EOF is an event for the Connection; the loop decides when to close.
  const server = createNetServer({ allowHalfOpen: true });
  const { port, log: base } = await listen(server);
  const log: TetherLog = Object.assign(base, extra);
  server.on('connection', (socket: Socket) => serveTether(socket, log));
  return { port, log };
}

/** A raw response read off a socket: status line, lower-cased fields, body (Content-Length framed). */
interface RawResponse {
  readonly statusLine: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

async function readRawResponse(reader: SocketReader): Promise<RawResponse> {
  let buffered = Buffer.alloc(0);
  for (;;) {
    const end = buffered.indexOf('\r\n\r\n');
    if (end >= 0) {
      const [statusLine = '', ...lines] = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
      }
      const length = Number(headers.get('content-length') ?? Number.NaN);
      if (!Number.isInteger(length)) throw new Error(`no usable Content-Length in ${JSON.stringify(lines)}`);
      const bodyEnd = end + 4 + length;
      if (buffered.length >= bodyEnd) {
        reader.unread(buffered.subarray(bodyEnd));
        return { statusLine, headers, body: buffered.subarray(end + 4, bodyEnd).toString('latin1') };
      }
    }
    const chunk = await reader.read();
    if (chunk === null) throw new Error(`end of stream inside a response: ${JSON.stringify(buffered.toString('latin1'))}`);
    buffered = Buffer.concat([buffered, chunk]);
  }
}

/** Reads on to the end of stream; fails if any byte comes first. */
async function expectEof(reader: SocketReader): Promise<void> {
  const chunk = await reader.read();
  expect(chunk?.toString('latin1') ?? null).toBeNull();
}

/** A node:http request through `agent`, read whole. */
function requestThrough(agent: Agent, port: number, method: string, path: string, body?: string) {
  return within(
    READ_TIMEOUT_MS,
    `${method} ${path}`,
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: string; reusedSocket: boolean }>((resolve, reject) => {
      const req = httpRequest({ agent, host: '127.0.0.1', port, method, path }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString(), reusedSocket: req.reusedSocket }),
        );
      });
      req.on('error', reject);
      if (body === undefined) req.end();
      else req.end(body);
    }),
  );
}

function hasCurl(): boolean {
  try {
    execFileSync('which', ['curl'], { stdio: 'ignore', timeout: 2_000 });
    return true;
  } catch {
    return false;
  }
}

const CURL = hasCurl();

// ---------------------------------------------------------------------------------------------

describe('interop: tether client Connection against a node:http server', () => {
  it(
    'pipelines 3 GETs once persistence is confirmed, streams a chunked POST, then closes on Connection: close — all on one TCP connection',
    async () => {
      // The server reports each request body piece as it arrives, so the test can prove the POST streams.
      const bodyPieces = new EventEmitter();
      const server = createHttpServer((req, res) => {
        const parts: Buffer[] = [];
        req.on('data', (chunk: Buffer) => {
          parts.push(chunk);
          bodyPieces.emit('piece');
        });
        req.on('end', () => {
          const body = req.method === 'POST' ? Buffer.concat(parts) : Buffer.from(`${req.method} ${req.url ?? ''}\n`);
          res.writeHead(200, {
            'content-type': 'text/plain',
            'content-length': body.length,
            'x-request-transfer-encoding': req.headers['transfer-encoding'] ?? 'none',
          });
          res.end(body);
        });
      });
      server.keepAliveTimeout = 5_000;
      const { port, log } = await listen(server);
      const { socket, reader } = await connectTo(port);
      const conn = new Connection('client');
      const host = `127.0.0.1:${port}`;
      const get = (target: string, headers: Record<string, string> = {}): Buffer =>
        Buffer.concat([...conn.send({ type: 'request', method: 'GET', target, headers: { host, ...headers } }), ...conn.send({ type: 'end-of-message' })]);

      // 1. One GET. Until a response confirms persistence, nothing may be pipelined behind it.
      socket.write(get('/first'));
      expect(conn.canSend({ method: 'GET' })).toEqual({ ok: false, reason: 'persistence-unconfirmed' });
      const first = await readResponse(conn, reader);
      expect(first.head.status).toBe(200);
      expect(first.body).toBe('GET /first\n');
      expect(conn.states).toEqual({ client: 'IDLE', server: 'IDLE' });

      // 2. Three GETs pipelined in one write, each allowed by canSend; the responses come back in order.
      const targets = ['/p1', '/p2', '/p3'];
      const batch: Buffer[] = [];
      for (const target of targets) {
        expect(conn.canSend({ method: 'GET' })).toEqual({ ok: true });
        batch.push(get(target));
      }
      expect(conn.pendingRequests).toEqual(['GET', 'GET', 'GET']);
      expect(conn.canSend({ method: 'POST', streamingBody: true })).toEqual({ ok: false, reason: 'not-idempotent' });
      socket.write(Buffer.concat(batch));
      for (const target of targets) {
        const r = await readResponse(conn, reader);
        expect([r.head.status, r.body]).toEqual([200, `GET ${target}\n`]);
      }
      expect(conn.pendingRequests).toEqual([]);

      // 3. A POST whose body streams chunked: each piece reaches the server before the next is sent.
      expect(conn.canSend({ method: 'POST', streamingBody: true })).toEqual({ ok: true });
      socket.write(Buffer.concat(conn.send({ type: 'request', method: 'POST', target: '/echo', headers: { host, 'content-type': 'text/plain' } }, { streaming: true })));
      const pieces = ['stream ', 'me ', 'back, please'];
      for (const piece of pieces) {
        const arrived = once(bodyPieces, 'piece', { signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
        socket.write(Buffer.concat(conn.send({ type: 'data', data: Buffer.from(piece) })));
        await arrived;
      }
      socket.write(Buffer.concat(conn.send({ type: 'end-of-message' })));
      const echoed = await readResponse(conn, reader);
      expect(echoed.head.headers.get('x-request-transfer-encoding')).toBe('chunked');
      expect(echoed.body).toBe(pieces.join(''));

      // 4. Connection: close. The client is MUST_CLOSE at once; the server answers, then closes.
      socket.write(get('/bye', { connection: 'close' }));
      expect(conn.ourState).toBe('MUST_CLOSE');
      expect(conn.canSend({ method: 'GET' })).toEqual({ ok: false, reason: 'closing' });
      const bye = await readResponse(conn, reader);
      expect([bye.head.status, bye.body, bye.head.headers.get('connection')]).toEqual([200, 'GET /bye\n', 'close']);
      expect(await nextClientEvent(conn, reader)).toEqual({ type: 'connection-closed' });
      expect(conn.states).toEqual({ client: 'MUST_CLOSE', server: 'CLOSED' });
      await within(READ_TIMEOUT_MS, 'the server to close its socket', log.closed[0]!);

      // One TCP connection served all six requests.
      expect(log.sockets.length).toBe(1);
      expect(conn.requestCount).toBe(6);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('interop: tether server Connection on net.createServer', () => {
  it(
    'serves 20 sequential GETs and a POST from a keep-alive http.Agent on one socket',
    async () => {
      const { port, log } = await startTetherServer();
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      cleanups.push(() => agent.destroy());

      for (let i = 0; i < 20; i++) {
        const r = await requestThrough(agent, port, 'GET', `/item/${i}`);
        expect([r.status, r.body, r.reusedSocket]).toEqual([200, `GET /item/${i}\n`, i > 0]);
        expect(r.headers.connection).toBeUndefined();
      }
      const post = await requestThrough(agent, port, 'POST', '/submit', 'name=tether&role=server');
      expect([post.status, post.body, post.reusedSocket]).toEqual([200, 'POST /submit\nname=tether&role=server', true]);

      expect(log.sockets.length).toBe(1);
      expect(log.requests.length).toBe(21);
      // The agent hangs up: the loop sees connection-closed and closes its side.
      agent.destroy();
      await within(READ_TIMEOUT_MS, 'the server to close its socket', log.closed[0]!);
      expect(log.failures).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'answers an HTTP/1.0 request without keep-alive with Connection: close, then closes',
    async () => {
      const { port, log } = await startTetherServer();
      const { socket, reader } = await connectTo(port);

      socket.write('GET /old HTTP/1.0\r\nHost: a\r\n\r\n');
      const r = await readRawResponse(reader);
      expect(r.statusLine).toBe('HTTP/1.1 200 OK');
      expect(r.headers.get('connection')).toBe('close');
      expect(r.body).toBe('GET /old\n');
      await expectEof(reader);
      await within(READ_TIMEOUT_MS, 'the server to close its socket', log.closed[0]!);
      expect(log.requests).toEqual(['GET /old HTTP/1.0']);
      expect(log.failures).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'keeps an HTTP/1.0 connection with Connection: keep-alive open for the next request',
    async () => {
      const { port, log } = await startTetherServer();
      const { socket, reader } = await connectTo(port);

      for (const target of ['/one', '/two']) {
        socket.write(`GET ${target} HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n`);
        const r = await readRawResponse(reader);
        expect([r.statusLine, r.headers.get('connection'), r.body]).toEqual(['HTTP/1.1 200 OK', 'keep-alive', `GET ${target}\n`]);
      }
      // A last one without keep-alive ends it.
      socket.write('GET /three HTTP/1.0\r\nHost: a\r\n\r\n');
      const last = await readRawResponse(reader);
      expect([last.headers.get('connection'), last.body]).toEqual(['close', 'GET /three\n']);
      await expectEof(reader);

      expect(log.sockets.length).toBe(1);
      expect(log.requests).toEqual(['GET /one HTTP/1.0', 'GET /two HTTP/1.0', 'GET /three HTTP/1.0']);
      expect(log.failures).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'answers a malformed request with err.status 400 and Connection: close on the same connection, then closes',
    async () => {
      const { port, log } = await startTetherServer();
      const { socket, reader } = await connectTo(port);

      socket.write('GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n');
      const r = await readRawResponse(reader);
      expect(r.statusLine).toBe('HTTP/1.1 400 Bad Request');
      expect(r.headers.get('connection')).toBe('close');
      await expectEof(reader);

      expect(log.remoteErrors).toHaveLength(1);
      expect(log.remoteErrors[0]).toBeInstanceOf(RemoteProtocolError);
      expect(log.remoteErrors[0]?.status).toBe(400);
      expect(r.body).toBe(`${log.remoteErrors[0]?.code}\n`);
      expect(log.sockets.length).toBe(1);
      expect(log.requests).toEqual([]);
      expect(log.failures).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it.skipIf(!CURL)(
    CURL ? 'curl --http1.1 fetches two URLs over one reused connection' : 'curl --http1.1 reuse (SKIPPED: curl is not on PATH)',
    async () => {
      const { port, log } = await startTetherServer();
      const base = `http://127.0.0.1:${port}`;
      const { stdout, stderr } = await promisify(execFile)('curl', ['-sv', '--http1.1', `${base}/a`, `${base}/b`], { timeout: CURL_TIMEOUT_MS });

      expect(stderr).toMatch(/Re-?using existing connection/);
      expect(stdout).toBe('GET /a\nGET /b\n');
      expect(log.sockets.length).toBe(1);
      expect(log.requests).toEqual(['GET /a HTTP/1.1', 'GET /b HTTP/1.1']);
      // curl exits and closes; the loop sees connection-closed and closes its side.
      await within(READ_TIMEOUT_MS, 'the server to close its socket', log.closed[0]!);
      expect(log.failures).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
