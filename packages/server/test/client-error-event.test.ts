/**
 * 'clientError' as node:http has it: `(err, socket)` for bytes that are not HTTP, a head or a
 * request too slow, or a socket error; a listener owns the socket and answers, and without one
 * the server answers itself. Each scenario that node:http can play is played on node:http beside
 * tether with the same bytes and the same listener, and both must be seen to do the same.
 */

import net from 'node:net';
import type http from 'node:http';
import Fastify from 'fastify';
import type { FastifyServerFactory } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientError, NODE_PARSE_ERROR_CODES, clientFaultAction, handOverTimeout } from '../src/client-error.js';
import { createServer } from '../src/index.js';
import type { Handler, TetherServer } from '../src/index.js';
import { rawExchange, statuses, twins } from './node-twin.js';
import type { TwinHandler } from './node-twin.js';
import { Resources, sleep, waitFor } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

/** What a listener written for node:http typically does: answer on the socket and end it. */
const LISTENER_ANSWER = 'HTTP/1.1 499 Listener\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

const ok: TwinHandler = (req, res) => {
  req.resume();
  req.on('end', () => res.end('ok'));
};

/** A listener that records what it got and answers; the records of both servers by name. */
function recorder(): { seen: Map<string, { err: Error & { code?: string }; socket: unknown }[]>; setup: (server: TetherServer | http.Server, name: 'tether' | 'node') => void } {
  const seen = new Map<string, { err: Error & { code?: string }; socket: unknown }[]>();
  return {
    seen,
    setup: (server, name) => {
      seen.set(name, []);
      (server as http.Server).on('clientError', (err: Error & { code?: string }, socket: net.Socket) => {
        seen.get(name)!.push({ err, socket });
        if (socket.writable) socket.end(LISTENER_ANSWER);
      });
    },
  };
}

/** [label, bytes, tether's code, node's code (= the table's)]; every one sent whole, in one write. */
const BOTH_REFUSE: readonly (readonly [string, string, keyof typeof NODE_PARSE_ERROR_CODES, string])[] = [
  ['a method with a non-token character', 'G@T / HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_METHOD', 'HPE_INVALID_METHOD'],
  ['a control character in the target', 'GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_REQUEST_LINE', 'HPE_INVALID_URL'],
  ['a request line without a target', 'GET HTTP/1.1\r\nHost: a\r\n\r\n', 'H1_INVALID_REQUEST_LINE', 'HPE_INVALID_URL'],
  ['a malformed version', 'GET / HTTP/1.x\r\nHost: a\r\n\r\n', 'H1_INVALID_VERSION', 'HPE_INVALID_VERSION'],
  ['HTTP/3.0', 'GET / HTTP/3.0\r\nHost: a\r\n\r\n', 'H1_UNSUPPORTED_VERSION', 'HPE_INVALID_VERSION'],
  ['a space in a field name', 'GET / HTTP/1.1\r\nHo st: a\r\n\r\n', 'H1_INVALID_HEADER_NAME', 'HPE_INVALID_HEADER_TOKEN'],
  ['a space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 'H1_WHITESPACE_BEFORE_COLON', 'HPE_INVALID_HEADER_TOKEN'],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n', 'H1_OBS_FOLD', 'HPE_INVALID_HEADER_TOKEN'],
  ['NUL in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX: b\x00c\r\n\r\n', 'H1_INVALID_HEADER_VALUE', 'HPE_INVALID_HEADER_TOKEN'],
  ['a 20 KB head', `GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`, 'H1_HEADERS_TOO_LARGE', 'HPE_HEADER_OVERFLOW'],
  ['a 17 KB target', `GET /${'a'.repeat(17_000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 'H1_TARGET_TOO_LONG', 'HPE_HEADER_OVERFLOW'],
  ['a bare LF after a field', 'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n', 'H1_BARE_LF', 'HPE_CR_EXPECTED'],
  ['a bare CR in a value', 'GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n', 'H1_BARE_CR', 'HPE_LF_EXPECTED'],
  ['a non-numeric Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n', 'H1_INVALID_CONTENT_LENGTH', 'HPE_INVALID_CONTENT_LENGTH'],
  ['two differing Content-Lengths', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 'H1_CONFLICTING_CONTENT_LENGTH', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
  ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'H1_CONTENT_LENGTH_AND_TRANSFER_ENCODING', 'HPE_INVALID_TRANSFER_ENCODING'],
  ['a final coding other than chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 'H1_TRANSFER_ENCODING_NOT_CHUNKED', 'HPE_INVALID_TRANSFER_ENCODING'],
  ['a bad chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', 'H1_INVALID_CHUNK_SIZE', 'HPE_INVALID_CHUNK_SIZE'],
  ['an unclosed quoted chunk extension', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a="b\r\nhello\r\n0\r\n\r\n', 'H1_INVALID_CHUNK_EXTENSION', 'HPE_STRICT'],
  ['20 KB of chunk extensions', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=${'b'.repeat(20_000)}\r\nhello\r\n0\r\n\r\n`, 'H1_CHUNK_EXTENSIONS_TOO_LARGE', 'HPE_CHUNK_EXTENSIONS_OVERFLOW'],
  ['chunk data longer than its size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n', 'H1_INVALID_CHUNK_DATA', 'HPE_STRICT'],
];

describe('the error a listener gets', () => {
  it.each(BOTH_REFUSE)('%s: node\'s code, on both servers, and the listener answers', async (_label, bytes, tetherCode, nodeCode) => {
    expect(NODE_PARSE_ERROR_CODES[tetherCode]).toBe(nodeCode);
    const { seen, setup } = recorder();
    for (const twin of await twins(resources, ok, {}, setup)) {
      const reply = await rawExchange(twin.port, bytes);
      // The listener's answer, not the server's.
      expect(statuses(reply.text), twin.name).toEqual([499]);
      expect(reply.closed, twin.name).toBe(true);
      expect(seen.get(twin.name)!.map((s) => s.err.code), twin.name).toEqual([nodeCode]);
    }
    const err = seen.get('tether')![0]!.err;
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ tetherCode, status: expect.any(Number) as number, reason: expect.any(String) as string });
    expect(err.message).toMatch(/^Parse Error: /);
  });

  it('an end of input inside a head: HPE_INVALID_EOF_STATE on both, rawPacket absent', async () => {
    const { seen, setup } = recorder();
    for (const twin of await twins(resources, ok, {}, setup)) {
      const reply = await rawExchange(twin.port, 'GET / HTTP/1.1\r\nHost: a\r\n', { then: (socket) => setTimeout(() => socket.end(), 50) });
      expect(statuses(reply.text), twin.name).toEqual([499]);
      expect(seen.get(twin.name)!.map((s) => s.err.code), twin.name).toEqual(['HPE_INVALID_EOF_STATE']);
    }
    expect(seen.get('tether')![0]!.err).toMatchObject({ tetherCode: 'H1_INCOMPLETE_MESSAGE', rawPacket: undefined });
  });

  it('the socket is the connection\'s own net.Socket, and rawPacket the chunk the fault was in', async () => {
    const { seen, setup } = recorder();
    const [tether] = await twins(resources, ok, {}, setup);
    let accepted: net.Socket | null = null;
    (tether!.server as TetherServer).on('connection', (socket: net.Socket) => (accepted = socket));
    const bytes = 'G@T / HTTP/1.1\r\nHost: a\r\n\r\n';
    await rawExchange(tether!.port, bytes);
    const [{ err, socket }] = seen.get('tether')! as [{ err: ClientError; socket: net.Socket }];
    expect(socket).toBeInstanceOf(net.Socket);
    expect(socket).toBe(accepted);
    expect(err.rawPacket?.toString('latin1')).toBe(bytes);
    expect(err.cause).toMatchObject({ name: 'RemoteProtocolError', code: 'H1_INVALID_METHOD' });
  });

  it('faults node:http does not report keep tether\'s code (a missing Host, a CONNECT with content, a body over maxBodySize)', async () => {
    const { seen, setup } = recorder();
    const { server, port } = await resources.server((_req, res) => res.end('ok'), { maxBodySize: 10 });
    setup(server, 'tether');
    for (const bytes of ['GET / HTTP/1.1\r\n\r\n', 'CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\nContent-Length: 3\r\n\r\nabc', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n']) {
      expect(statuses((await rawExchange(port, bytes)).text)).toEqual([499]);
    }
    expect(seen.get('tether')!.map((s) => [s.err.code, (s.err as ClientError).status])).toEqual([
      ['H1_MISSING_HOST', 400],
      ['H1_CONNECT_WITH_CONTENT', 400],
      ['H1_BODY_TOO_LARGE', 413],
    ]);
  });
});

describe('without a listener the server answers', () => {
  it.each([
    ['a bad method', 'G@T / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['a 20 KB head', `GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ])('%s: %i and Connection: close, then closes, on both servers', async (_label, bytes, status) => {
    for (const twin of await twins(resources, ok)) {
      const reply = await rawExchange(twin.port, bytes);
      expect(statuses(reply.text), twin.name).toEqual([status]);
      expect(reply.text, twin.name).toMatch(/\r\nConnection: close\r\n/i);
      expect(reply.closed, twin.name).toBe(true);
    }
  });
});

describe('when the listener is told, and what happens to the socket', () => {
  it('after the answers to the requests before the bad one, in order, even when their handlers are slow', async () => {
    const told: string[] = [];
    const { server, port } = await resources.server(async (req, res) => {
      await sleep(req.url === '/1' ? 60 : 10);
      res.end(req.url);
    });
    server.on('clientError', (_err: unknown, socket: net.Socket) => {
      told.push('told');
      socket.end(LISTENER_ANSWER);
    });
    const reply = await rawExchange(port, 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nG@T / HTTP/1.1\r\n\r\n');
    expect(statuses(reply.text)).toEqual([200, 200, 499]);
    expect(reply.text.indexOf('/1')).toBeLessThan(reply.text.indexOf('/2'));
    expect(told).toEqual(['told']);
  });

  it('an error in the body being read: the listener answers, and nothing the handler writes after reaches the socket', async () => {
    let handlerSaw: unknown = null;
    const { server, port } = await resources.server(async (req, res) => {
      try {
        await req.text();
      } catch (err) {
        handlerSaw = err;
      }
      res.end('from the handler');
    });
    server.on('clientError', (_err: unknown, socket: net.Socket) => socket.end(LISTENER_ANSWER));
    // The bad chunk comes once the handler reads.
    const reply = await rawExchange(port, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', { then: (socket) => setTimeout(() => socket.write('zz\r\n'), 50) });
    expect(statuses(reply.text)).toEqual([499]);
    expect(reply.text).not.toContain('from the handler');
    expect(handlerSaw).toMatchObject({ code: 'H1_INVALID_CHUNK_SIZE' });
  });

  it('a listener that neither ends nor destroys the socket: destroyed at headersTimeout, no answer written', async () => {
    const { server, port } = await resources.server((_req, res) => res.end('ok'), { headersTimeout: 200 });
    let told = 0;
    server.on('clientError', () => told++);
    const started = Date.now();
    const reply = await rawExchange(port, 'G@T / HTTP/1.1\r\n\r\n', { ms: 3000 });
    expect(reply.closed).toBe(true);
    expect(reply.text).toBe('');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(told).toBe(1);
    await waitFor(() => server.stats().connections.open === 0, 1000);
    expect(server.stats().closedBy['parse-error']).toBe(1);
  });

  it('a listener that ends the socket: a peer that never closes is destroyed lingerTimeout later, having read the answer', async () => {
    const { server, port } = await resources.server((_req, res) => res.end('ok'), { lingerTimeout: 150, headersTimeout: 10_000 });
    server.on('clientError', (_err: unknown, socket: net.Socket) => socket.end(LISTENER_ANSWER));
    const conn = await resources.connect(port, { allowHalfOpen: true });
    const started = Date.now();
    conn.send('G@T / HTTP/1.1\r\n\r\n');
    // The listener's FIN reaches the peer; the peer keeps its side open.
    expect(await conn.until(() => conn.events.includes('end'), 2000)).toBe(true);
    expect(conn.reader.responses.map((r) => r.status)).toEqual([499]);
    expect(server.stats().connections.open).toBe(1);
    // Destroyed at the linger deadline, not at the 10 s hand-over deadline.
    expect(await waitFor(() => server.stats().connections.open === 0, 3000)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(120);
    expect(server.stats().closedBy['parse-error']).toBe(1);
  });

  it('a listener that throws: a process warning; the connection still ends at its deadline', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    resources.defer(() => process.off('warning', onWarning));
    const { server, port } = await resources.server((_req, res) => res.end('ok'), { headersTimeout: 100 });
    server.on('clientError', () => {
      throw new Error('listener');
    });
    const reply = await rawExchange(port, 'G@T / HTTP/1.1\r\n\r\n', { ms: 3000 });
    expect(reply.closed).toBe(true);
    await waitFor(() => warnings.length > 0, 1000);
    expect(warnings.map((w) => w.message)).toContain('listener');
  });

  it('a socket error (the peer resets): told once, with the socket already destroyed, on both servers', async () => {
    const { seen, setup } = recorder();
    const hold: TwinHandler = () => undefined;
    for (const twin of await twins(resources, hold, {}, setup)) {
      const socket = net.connect({ port: twin.port, host: '127.0.0.1' });
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      await sleep(50);
      socket.resetAndDestroy();
      await waitFor(() => seen.get(twin.name)!.length > 0, 2000);
      await sleep(50);
      const got = seen.get(twin.name)!;
      expect(got.map((s) => s.err.code), twin.name).toEqual(['ECONNRESET']);
      expect((got[0]!.socket as net.Socket).destroyed, twin.name).toBe(true);
    }
  });
});

describe('timeouts are client errors too', () => {
  const nodeChecks = { connectionsCheckingInterval: 20 };

  it('headersTimeout: ERR_HTTP_REQUEST_TIMEOUT to the listener, on both servers; 408 without one', async () => {
    const { seen, setup } = recorder();
    const options = { tether: { headersTimeout: 150 }, node: { headersTimeout: 150, requestTimeout: 1000, ...nodeChecks } };
    for (const twin of await twins(resources, ok, options, setup)) {
      const reply = await rawExchange(twin.port, 'GET / HTTP/1.1\r\nHost: a\r\n', { ms: 3000 });
      expect(statuses(reply.text), twin.name).toEqual([499]);
      expect(seen.get(twin.name)![0]?.err.code, twin.name).toBe('ERR_HTTP_REQUEST_TIMEOUT');
    }
    expect(seen.get('tether')![0]!.err).toMatchObject({ tetherCode: 'TETHER_HEADERS_TIMEOUT', status: 408, message: 'Request timeout' });
    for (const twin of await twins(resources, ok, options)) {
      const reply = await rawExchange(twin.port, 'GET / HTTP/1.1\r\nHost: a\r\n', { ms: 3000 });
      expect(statuses(reply.text), twin.name).toEqual([408]);
    }
  });

  it('requestTimeout while the handler waits for the body: the listener answers in its place', async () => {
    const { seen, setup } = recorder();
    const options = { tether: { requestTimeout: 200, headersTimeout: 200 }, node: { requestTimeout: 200, headersTimeout: 200, ...nodeChecks } };
    for (const twin of await twins(resources, ok, options, setup)) {
      const reply = await rawExchange(twin.port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab', { ms: 3000 });
      expect(statuses(reply.text), twin.name).toEqual([499]);
      expect(seen.get(twin.name)![0]?.err.code, twin.name).toBe('ERR_HTTP_REQUEST_TIMEOUT');
    }
    expect(seen.get('tether')![0]!.err).toMatchObject({ tetherCode: 'TETHER_REQUEST_TIMEOUT' });
  });

  it('requestTimeout after the head went out: the connection is destroyed first, then the listener is told', async () => {
    const told: { code: string | undefined; writable: boolean; destroyed: boolean }[] = [];
    const { server, port } = await resources.server(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      await req.text().catch(() => undefined);
    }, { requestTimeout: 150 });
    server.on('clientError', (err: Error & { code?: string }, socket: net.Socket) => told.push({ code: err.code, writable: socket.writable, destroyed: socket.destroyed }));
    const reply = await rawExchange(port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab', { ms: 3000 });
    expect(reply.closed).toBe(true);
    expect(statuses(reply.text)).toEqual([200]);
    expect(told).toEqual([{ code: 'ERR_HTTP_REQUEST_TIMEOUT', writable: false, destroyed: true }]);
  });
});

describe('Fastify\'s own clientError handler works on tether as on node', () => {
  async function fastify(onTether: boolean): Promise<number> {
    let tether: TetherServer | null = null;
    const serverFactory = ((handler: Handler) => (tether = createServer({ headersTimeout: 150 }, handler))) as unknown as FastifyServerFactory;
    const app = onTether ? Fastify({ serverFactory }) : Fastify({ http: { headersTimeout: 150, requestTimeout: 1000, connectionsCheckingInterval: 20 } });
    app.get('/', () => ({ ok: true }));
    resources.defer(() => app.close());
    await app.listen({ port: 0, host: '127.0.0.1' });
    return onTether ? tether!.address()!.port : (app.server.address() as net.AddressInfo).port;
  }

  it('a malformed request gets Fastify\'s JSON 400, a slow head its JSON 408', async () => {
    const replies: string[][] = [];
    for (const onTether of [true, false]) {
      const port = await fastify(onTether);
      const bad = await rawExchange(port, 'G@T / HTTP/1.1\r\nHost: a\r\n\r\n');
      const slow = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n', { ms: 3000 });
      replies.push([bad.text, slow.text]);
    }
    const [tether, node] = replies;
    expect(tether).toEqual(node);
    expect(statuses(tether![0]!)).toEqual([400]);
    expect(tether![0]).toMatch(/"statusCode":400/);
    expect(statuses(tether![1]!)).toEqual([408]);
  });
});

describe('the decision, as a table', () => {
  it.each([
    [false, { kind: 'answer', status: 400, reason: 'parse-error' }, 'own'],
    [false, { kind: 'abort', reason: 'timeout' }, 'own'],
    [true, { kind: 'answer', status: 400, reason: 'parse-error' }, 'hand-over'],
    [true, { kind: 'answer', status: 408, reason: 'timeout' }, 'hand-over'],
    [true, { kind: 'abort', reason: 'timeout' }, 'abort-then-tell'],
    [true, { kind: 'none' }, 'own'],
  ] as const)('listening %s, the server would %o: %s', (listening, own, kind) => {
    expect(clientFaultAction(own, listening).kind).toBe(kind);
  });

  it('a handed-over socket is given headersTimeout, or lingerTimeout when that is off', () => {
    expect(handOverTimeout(60_000, 2000)).toBe(60_000);
    expect(handOverTimeout(Number.POSITIVE_INFINITY, 2000)).toBe(2000);
  });
});
