/**
 * The pool's rules over real TCP, against @tether/server and raw servers that record what
 * arrives: reuse, pipelining only where allowed (never on a fresh connection, never a
 * non-idempotent request), the server's Connection: close and Keep-Alive max honoured, the last
 * request of a retiring connection saying Connection: close, request bodies, aborts, timeouts
 * with distinct codes, backpressure, close() and destroy().
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import type { Handler, ServerOptions } from '@tether/server';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, ClientError, Pool, closeDefaultPools, request } from '../src/index.js';
import type { PoolOptions } from '../src/index.js';
import { closedPort } from './closed-port.js';
import { ok } from './raw-server.js';
import type { Behaviour , RawServer} from './raw-server.js';
import { Resources } from './resources.js';

const resources = new Resources();
afterEach(() => resources.release());

const tether = (handler: Handler, options?: ServerOptions): Promise<string> => resources.tether(handler, options);

const raw = (behaviour: Behaviour): Promise<RawServer> => resources.raw(behaviour);
const pool = (origin: string, options: PoolOptions = {}): Pool => resources.pool(origin, options);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function eventually(done: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** A raw server answering each request after `delay(req)` ms, recording how many requests on its connection were unanswered when it arrived. */
async function recordingServer(delay: (path: string) => number): Promise<{ server: RawServer; arrivals: { path: string; method: string; connection: number; unanswered: number }[] }> {
  const arrivals: { path: string; method: string; connection: number; unanswered: number }[] = [];
  const pending = new Map<number, number>();
  const server = await raw((req, conn) => {
    const unanswered = pending.get(conn.number) ?? 0;
    arrivals.push({ path: req.path, method: req.method, connection: conn.number, unanswered });
    pending.set(conn.number, unanswered + 1);
    // Answer in order: each response waits for the ones before it.
    const answer = (): void => {
      pending.set(conn.number, (pending.get(conn.number) ?? 1) - 1);
      if (!conn.socket.destroyed) conn.socket.write(ok(`body of ${req.path}`));
    };
    const previous = (conn as { chain?: Promise<void> }).chain ?? Promise.resolve();
    (conn as { chain?: Promise<void> }).chain = previous.then(() => sleep(delay(req.path))).then(answer);
  });
  return { server, arrivals };
}

describe('reuse', () => {
  it('sends sequential requests on one connection (same client port), counting handshakes saved', async () => {
    const ports = new Set<number>();
    const origin = await tether((req, res) => {
      ports.add(req.socket.remotePort!);
      res.end(`hello ${req.url}`);
    });
    const p = pool(origin);
    for (let i = 0; i < 10; i++) {
      const res = await p.request({ path: `/${i}` });
      expect(res.statusCode).toBe(200);
      expect(await res.text()).toBe(`hello /${i}`);
    }
    expect(ports.size).toBe(1);
    expect(p.stats()).toMatchObject({ requests: 10, handshakesSaved: 9, pipelinedRequests: 0, retries: 0, connections: { opened: 1, open: 1, idle: 1 } });
  });

  it('opens up to `connections` for concurrent requests, then queues', async () => {
    let active = 0;
    let most = 0;
    const origin = await tether(async (_req, res) => {
      most = Math.max(most, ++active);
      await sleep(20);
      active--;
      res.end('ok');
    });
    const p = pool(origin, { connections: 3 });
    const all = await Promise.all(Array.from({ length: 12 }, () => p.request().then((r) => r.text())));
    expect(all).toEqual(Array(12).fill('ok'));
    expect(most).toBe(3);
    expect(p.stats().connections.opened).toBe(3);
  });

  it('keepAlive: false sends Connection: close on every request and never reuses', async () => {
    const server = await raw((req, conn) => conn.socket.write(ok(req.path, req.headers.connection === 'close' ? ['Connection: close'] : [])));
    const p = pool(server.origin, { keepAlive: false });
    for (let i = 0; i < 3; i++) expect(await (await p.request({ path: `/${i}` })).text()).toBe(`/${i}`);
    expect(server.received.map((r) => r.headers.connection)).toEqual(['close', 'close', 'close']);
    expect(p.stats().connections.opened).toBe(3);
  });
});

describe('pipelining', () => {
  it('never pipelines behind the first exchange of a new connection, then pipelines up to the limit', async () => {
    const { server, arrivals } = await recordingServer((path) => (path === '/0' ? 30 : 5));
    const p = pool(server.origin, { connections: 1, pipelining: 4 });
    const bodies = await Promise.all(Array.from({ length: 9 }, (_, i) => p.request({ path: `/${i}` }).then((r) => r.text())));
    expect(bodies).toEqual(Array.from({ length: 9 }, (_, i) => `body of /${i}`));
    expect(arrivals[0]).toMatchObject({ path: '/0', unanswered: 0 });
    // /1 waited for /0's answer even though the caller asked for all nine at once.
    expect(arrivals[1]).toMatchObject({ path: '/1', unanswered: 0 });
    expect(Math.max(...arrivals.map((a) => a.unanswered))).toBe(3);
    expect(p.stats().pipelinedRequests).toBeGreaterThan(0);
    expect(server.connections).toHaveLength(1);
  });

  it('never pipelines a non-idempotent request, nor anything behind it before its response', async () => {
    const { server, arrivals } = await recordingServer(() => 10);
    const p = pool(server.origin, { connections: 1, pipelining: 8 });
    await (await p.request({ path: '/warm' })).text();
    const paths = ['/a', '/b', '/post1', '/c', '/d', '/post2', '/e'];
    const bodies = await Promise.all(paths.map((path) => p.request({ path, method: path.startsWith('/post') ? 'POST' : 'GET', ...(path.startsWith('/post') ? { body: 'x' } : {}) }).then((r) => r.text())));
    expect(bodies).toEqual(paths.map((path) => `body of ${path}`));
    const at = (path: string): { unanswered: number } => arrivals.find((a) => a.path === path)!;
    expect(at('/post1').unanswered).toBe(0);
    expect(at('/post2').unanswered).toBe(0);
    // What follows a POST was sent only after the POST's response arrived.
    expect(at('/c').unanswered).toBe(0);
    expect(at('/e').unanswered).toBe(0);
    // GETs behind GETs were pipelined.
    expect(at('/b').unanswered).toBe(1);
  });

  it("honours the server's Keep-Alive max: never sends more than the connection will take", async () => {
    const origin = await tether((req, res) => res.end(req.url), { keepAliveMax: 5 });
    const p = pool(origin, { connections: 1, pipelining: 10 });
    const bodies = await Promise.all(Array.from({ length: 23 }, (_, i) => p.request({ path: `/${i}` }).then((r) => r.text())));
    expect(bodies).toEqual(Array.from({ length: 23 }, (_, i) => `/${i}`));
    await eventually(() => p.stats().connections.open <= 1);
    const stats = p.stats();
    expect(stats.retries).toBe(0);
    expect(Object.keys(stats.requestsPerConnection).every((n) => Number(n) <= 5)).toBe(true);
    expect(stats.connections.opened).toBe(5);
  });

  it("honours Connection: close: the connection is retired after that response, nothing is lost", async () => {
    const server = await raw((req, conn) => {
      const last = conn.received === 2;
      conn.socket.write(ok(req.path, last ? ['Connection: close'] : []));
      if (last) conn.socket.end();
    });
    const p = pool(server.origin, { connections: 1, pipelining: 6 });
    const bodies = await Promise.all(Array.from({ length: 10 }, (_, i) => p.request({ path: `/${i}` }).then((r) => r.text())));
    expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `/${i}`));
    await eventually(() => p.stats().connections.open <= 1);
    // Requests pipelined behind the announced close were re-sent; none failed.
    expect(p.stats().closedBy['server-close'] + p.stats().closedBy['learned-limit']).toBeGreaterThanOrEqual(4);
    expect(p.stats().retries).toBeGreaterThan(0);
  });
});

describe('closing', () => {
  it('maxRequestsPerConnection: the last request says Connection: close', async () => {
    const server = await raw((req, conn) => conn.socket.write(ok(req.path, req.headers.connection === 'close' ? ['Connection: close'] : [])));
    const p = pool(server.origin, { maxRequestsPerConnection: 3 });
    for (let i = 0; i < 6; i++) await (await p.request({ path: `/${i}` })).text();
    expect(server.received.map((r) => r.headers.connection ?? '-')).toEqual(['-', '-', 'close', '-', '-', 'close']);
    await eventually(() => p.stats().connections.open === 0);
    expect(p.stats().closedBy['server-close'] + p.stats().closedBy['keep-alive-max']).toBe(2);
  });

  it('close() finishes queued work, marks the last request Connection: close, half-closes; later requests are refused', async () => {
    const server = await raw((req, conn) => {
      setTimeout(() => conn.socket.write(ok(req.path, req.headers.connection === 'close' ? ['Connection: close'] : [])), 5);
    });
    const p = pool(server.origin, { connections: 1, pipelining: 1 });
    const answers = Array.from({ length: 4 }, (_, i) => p.request({ path: `/${i}` }).then((r) => r.text()));
    const closed = p.close();
    expect(await Promise.all(answers)).toEqual(['/0', '/1', '/2', '/3']);
    await closed;
    expect(server.received.at(-1)!.headers.connection).toBe('close');
    expect(server.received.slice(0, -1).every((r) => r.headers.connection === undefined)).toBe(true);
    await expect(p.request()).rejects.toMatchObject({ code: 'TETHER_CLOSED', mayHaveBeenProcessed: false });
    expect(p.stats().connections.open).toBe(0);
  });

  it('close() closes idle connections with a FIN, not a reset', async () => {
    const endings: string[] = [];
    const server = await raw((req, conn) => {
      if (conn.received === 1) {
        conn.socket.on('end', () => endings.push('fin'));
        conn.socket.on('error', (e: NodeJS.ErrnoException) => endings.push(e.code ?? 'error'));
      }
      conn.socket.write(ok(req.path));
    });
    const p = pool(server.origin, { connections: 2 });
    await Promise.all([p.request({ path: '/a' }).then((r) => r.text()), p.request({ path: '/b' }).then((r) => r.text())]);
    await p.close();
    await eventually(() => endings.length === 2);
    expect(endings).toEqual(['fin', 'fin']);
  });

  it('destroy() fails queued and in-flight requests at once', async () => {
    const server = await raw(() => undefined); // never answers
    const p = pool(server.origin, { connections: 1 });
    const first = p.request({ path: '/1' });
    const second = p.request({ path: '/2' });
    await eventually(() => server.received.length === 1);
    void p.destroy();
    await expect(first).rejects.toMatchObject({ code: 'TETHER_CLOSED' });
    await expect(second).rejects.toMatchObject({ code: 'TETHER_CLOSED', mayHaveBeenProcessed: false });
  });
});

describe('bodies', () => {
  const echo: Handler = async (req, res) => {
    const body = await req.text();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, body, te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null }));
  };

  it('sends text, bytes, a stream (chunked) and a stream with a declared length', async () => {
    const origin = await tether(echo);
    const p = pool(origin);
    async function* parts(): AsyncIterable<Uint8Array> {
      yield Buffer.from('one,');
      await sleep(5);
      yield Buffer.from('two');
    }
    const cases = [
      { body: 'héllo', expected: { body: 'héllo', te: null, cl: '6' } },
      { body: new Uint8Array([104, 105]), expected: { body: 'hi', te: null, cl: '2' } },
      { body: parts(), expected: { body: 'one,two', te: 'chunked', cl: null } },
      { body: parts(), headers: { 'content-length': '7' }, expected: { body: 'one,two', te: null, cl: '7' } },
    ];
    for (const c of cases) {
      const res = await p.request({ method: 'PUT', path: '/', body: c.body, ...(c.headers ? { headers: c.headers } : {}) });
      expect(await res.json()).toEqual({ method: 'PUT', ...c.expected });
    }
  });

  it('reads a body as JSON, an ArrayBuffer, or piece by piece; a body is read once', async () => {
    const origin = await tether((req, res) => {
      if (req.url === '/stream') {
        res.write('a');
        setTimeout(() => res.end('b'), 5);
      } else res.end('{"x":1}');
    });
    const p = pool(origin);
    expect(await (await p.request()).json()).toEqual({ x: 1 });
    expect(new TextDecoder().decode(await (await p.request()).arrayBuffer())).toBe('{"x":1}');
    const res = await p.request({ path: '/stream' });
    const pieces: string[] = [];
    for await (const piece of res.body) pieces.push(Buffer.from(piece).toString());
    expect(pieces.join('')).toBe('ab');
    await expect(res.text()).rejects.toThrow(/already been read/);
  });

  it('a caller that does not read a body stops the socket; the responses behind it wait, then arrive', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 0x61);
    let bigSocketWritten = 0;
    const origin = await tether((req, res) => {
      if (req.url === '/big') {
        res.end(big);
        const socket = req.socket;
        setTimeout(() => (bigSocketWritten = socket.bytesWritten - socket.writableLength), 300);
      } else res.end('small');
    });
    const p = pool(origin, { connections: 1, pipelining: 2 });
    await (await p.request({ path: '/warm' })).text();
    const bigRes = await p.request({ path: '/big' });
    const small = p.request({ path: '/small' });
    await sleep(350);
    // Far less than the 8 MiB body left the server: the client stopped reading.
    expect(bigSocketWritten).toBeLessThan(4 * 1024 * 1024);
    expect((await bigRes.bytes()).length).toBe(big.length);
    expect(await (await small).text()).toBe('small');
  });
});

describe('aborts', () => {
  it('an aborted queued request never reaches the server; an aborted in-flight one fails; the rest are answered', async () => {
    const { server, arrivals } = await recordingServer((path) => (path === '/slow' ? 100 : 1));
    const p = pool(server.origin, { connections: 1, pipelining: 1 });
    const slow = p.request({ path: '/slow' });
    const queued = new AbortController();
    const doomed = p.request({ path: '/queued', signal: queued.signal });
    const after = p.request({ path: '/after' });
    queued.abort();
    await expect(doomed).rejects.toMatchObject({ code: 'TETHER_ABORTED', mayHaveBeenProcessed: false });
    expect(await (await slow).text()).toBe('body of /slow');
    expect(await (await after).text()).toBe('body of /after');
    expect(arrivals.map((a) => a.path)).toEqual(['/slow', '/after']);

    const inFlight = new AbortController();
    const cut = p.request({ path: '/slow', signal: inFlight.signal });
    await eventually(() => arrivals.length === 3);
    inFlight.abort(new Error('changed my mind'));
    const aborted = (await cut.catch((e: unknown) => e)) as ClientError;
    expect(aborted).toMatchObject({ code: 'TETHER_ABORTED' });
    expect(aborted.message).toMatch(/changed my mind/);
    expect(await (await p.request({ path: '/next' })).text()).toBe('body of /next');
  });

  it('an already aborted signal fails at once', async () => {
    const p = pool('http://127.0.0.1:9');
    await expect(p.request({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'TETHER_ABORTED', mayHaveBeenProcessed: false });
    expect(p.stats().connections.opened).toBe(0);
  });
});

describe('timeouts and failures', () => {
  it('headersTimeout: TETHER_HEADERS_TIMEOUT, and the connection is not reused', async () => {
    const server = await raw((req, conn) => {
      if (req.path !== '/hang') conn.socket.write(ok('fine'));
    });
    const p = pool(server.origin, { connections: 1, headersTimeout: 100 });
    await (await p.request()).text();
    await expect(p.request({ path: '/hang' })).rejects.toMatchObject({ code: 'TETHER_HEADERS_TIMEOUT', mayHaveBeenProcessed: true });
    expect(await (await p.request()).text()).toBe('fine');
    expect(server.connections).toHaveLength(2);
    expect(p.stats().closedBy.timeout).toBe(1);
  });

  it('bodyTimeout: the body fails with TETHER_BODY_TIMEOUT', async () => {
    const server = await raw((_req, conn) => conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    const p = pool(server.origin, { bodyTimeout: 100 });
    const res = await p.request();
    await expect(res.text()).rejects.toMatchObject({ code: 'TETHER_BODY_TIMEOUT' });
    await eventually(() => p.stats().closedBy.timeout === 1);
  });

  it('connectTimeout: TETHER_CONNECT_TIMEOUT when the handshake does not complete', async () => {
    // A listener that never accepts, its backlog filled: further SYNs go unanswered.
    const python = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(30)']);
    resources.defer(() => python.kill());
    const port = await new Promise<number>((resolve) => python.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    const fillers: net.Socket[] = [];
    resources.defer(() => fillers.forEach((s) => s.destroy()));
    for (let i = 0; i < 4; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      fillers.push(s);
    }
    await sleep(100);
    const p = pool(`http://127.0.0.1:${port}`, { connectTimeout: 200 });
    const started = Date.now();
    await expect(p.request()).rejects.toMatchObject({ code: 'TETHER_CONNECT_TIMEOUT', mayHaveBeenProcessed: false });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    await eventually(() => p.stats().closedBy.timeout === 1);
  });

  it('a refused connection: TETHER_CONNECT_FAILED, not processed', async () => {
    const p = pool(`http://127.0.0.1:${await closedPort()}`);
    await expect(p.request()).rejects.toMatchObject({ code: 'TETHER_CONNECT_FAILED', mayHaveBeenProcessed: false });
  });

  it('1,000 requests to a refusing origin all fail with its connect error, after at most `connections` attempts', async () => {
    const p = pool(`http://127.0.0.1:${await closedPort()}`, { connections: 6, pipelining: 10 });
    const outcomes = await Promise.allSettled(Array.from({ length: 1000 }, (_, i) => p.request({ path: `/${i}` })));
    const failures = outcomes.map((o) => (o.status === 'rejected' ? (o.reason as ClientError) : null));
    expect(failures.filter((e) => e === null)).toHaveLength(0);
    expect(new Set(failures.map((e) => e?.code))).toEqual(new Set(['TETHER_CONNECT_FAILED']));
    expect(failures.every((e) => e?.mayHaveBeenProcessed === false)).toBe(true);
    const opened = p.stats().connections.opened;
    expect(opened).toBeGreaterThanOrEqual(1);
    expect(opened).toBeLessThanOrEqual(6);
    expect(failures[999]!.message).toMatch(/^GET \/999: /);
    // A request made after the failure makes an attempt of its own.
    await expect(p.request()).rejects.toMatchObject({ code: 'TETHER_CONNECT_FAILED' });
    expect(p.stats().connections.opened).toBe(opened + 1);
  });

  it('an unparseable response fails with TETHER_PROTOCOL, the protocol error as its cause', async () => {
    const server = await raw((_req, conn) => conn.socket.write('HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n'));
    const p = pool(server.origin);
    const err: unknown = await p.request().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'TETHER_PROTOCOL' });
    const cause = (err as ClientError).cause as { name: string; code: string };
    expect(cause.name).toBe('RemoteProtocolError');
    expect(cause.code).toMatch(/^H1_/);
  });

  it('a header the protocol refuses to write: TETHER_INVALID_REQUEST; the connection stays usable', async () => {
    const origin = await tether((_req, res) => res.end('ok'));
    const p = pool(origin);
    await expect(p.request({ headers: { 'x-bad': 'a\r\nInjected: yes' } })).rejects.toMatchObject({ code: 'TETHER_INVALID_REQUEST', mayHaveBeenProcessed: false });
    expect(await (await p.request()).text()).toBe('ok');
    expect(p.stats().connections.opened).toBe(1);
  });

  it('refuses bad options and origins with clear errors', () => {
    expect(() => new Pool('http://127.0.0.1:1', { connections: 0 })).toThrow(/connections/);
    expect(() => new Pool('http://127.0.0.1:1', { retry: { methods: ['POST'] } })).toThrow(/POST is not idempotent/);
    expect(() => new Pool('https://127.0.0.1:1')).toThrow(/https/);
    expect(() => new Pool('http://127.0.0.1:1/path')).toThrow(/origin/);
  });
});

describe('Client and request()', () => {
  it('a Client is a pool of one connection', async () => {
    const origin = await tether((req, res) => res.end(req.url));
    const client = new Client(origin, { pipelining: 3 });
    resources.defer(() => client.close());
    const bodies = await Promise.all(['/a', '/b', '/c', '/d'].map((path) => client.request({ path }).then((r) => r.text())));
    expect(bodies).toEqual(['/a', '/b', '/c', '/d']);
    expect(client.stats().connections.opened).toBe(1);
  });

  it('request(url) uses one default pool per origin', async () => {
    const ports = new Set<number>();
    const origin = await tether((req, res) => {
      ports.add(req.socket.remotePort!);
      res.end(`got ${req.url}`);
    });
    resources.defer(() => closeDefaultPools());
    expect(await (await request(`${origin}/x?y=1`)).text()).toBe('got /x?y=1');
    expect(await (await request(`${origin}/z`, { method: 'GET' })).text()).toBe('got /z');
    expect(ports.size).toBe(1);
  });
});
