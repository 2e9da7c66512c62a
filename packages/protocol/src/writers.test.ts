/**
 * The send side: events → bytes. Exact bytes of heads, the framing the connection chooses, the
 * refusals (nothing is emitted and the connection stays usable), and a round trip of every
 * serialized message through a connection of the other role.
 */

import { describe, expect, it } from 'vitest';
import { Connection, Fields, LocalProtocolError, validateField, writeRequestHead, writeResponseHead } from './index.js';
import type { Event, FieldsInit, LocalErrorCode, SendRequest, SendResponse, SendEvent, SendOptions } from './index.js';
import { bytes, drain } from './testing.js';

const HOST = { Host: 'example.com' };

function text(data: Uint8Array | readonly Uint8Array[]): string {
  const parts = data instanceof Uint8Array ? [data] : data;
  return parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('latin1')).join('');
}

function join(parts: readonly Uint8Array[]): Uint8Array {
  return bytes(text(parts));
}

/** A server connection that has received (and fully parsed) `request`. */
function serverAfter(request: string, options: { proxy?: boolean } = {}): Connection {
  const server = new Connection('server', options);
  server.receiveData(bytes(request));
  const events = drain(server);
  expect(events.at(-1)?.type).toBe('end-of-message');
  return server;
}

/** A compact, comparable form of received events: heads, the body as one string, trailers. */
interface Summary {
  head: { type: string; method?: string; target?: string; status?: number; reason?: string; headers: readonly string[] } | null;
  body: string;
  trailers: readonly string[] | null;
  ended: boolean;
  closed: boolean;
}

function summarize(events: readonly Event[]): Summary {
  const out: Summary = { head: null, body: '', trailers: null, ended: false, closed: false };
  for (const e of events) {
    switch (e.type) {
      case 'request':
        out.head = { type: e.type, method: e.method, target: e.target, headers: e.headers.raw };
        break;
      case 'response':
      case 'informational-response':
        out.head = { type: e.type, status: e.status, reason: e.reason, headers: e.headers.raw };
        break;
      case 'data':
        out.body += text(e.data);
        break;
      case 'end-of-message':
        out.ended = true;
        out.trailers = e.trailers?.raw ?? null;
        break;
      case 'connection-closed':
        out.closed = true;
        break;
    }
  }
  return out;
}

/** What a client that sent `method` makes of `wire` (with end of input after it when `eof`). */
function clientParse(method: string, wire: Uint8Array, eof: boolean): Event[] {
  const client = new Connection('client');
  client.send({ type: 'request', method, target: method === 'CONNECT' ? 'example.com:443' : '/', headers: HOST });
  client.send({ type: 'end-of-message' });
  client.receiveData(wire);
  if (eof) client.receiveEof();
  return drain(client);
}

/** What a server makes of `wire`. */
function serverParse(wire: Uint8Array): Event[] {
  const server = new Connection('server');
  server.receiveData(wire);
  return drain(server);
}

function sendAll(conn: Connection, events: readonly SendEvent[], options: SendOptions = {}): Uint8Array[] {
  const out: Uint8Array[] = [];
  events.forEach((e, i) => out.push(...conn.send(e, i === 0 ? options : {})));
  return out;
}

function expectLocalError(fn: () => unknown, code: LocalErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(LocalProtocolError);
  expect((caught as LocalProtocolError).code).toBe(code);
}

describe('request heads: exact bytes', () => {
  const cases: [label: string, head: SendRequest, options: SendOptions, wire: string][] = [
    [
      'GET without body: no Content-Length (RFC 9110 §8.6)',
      { type: 'request', method: 'GET', target: '/a?b=c', headers: [['Host', 'example.com'], ['Accept', '*/*']] },
      {},
      'GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n',
    ],
    [
      'field names keep their case, order kept, OWS around values dropped',
      { type: 'request', method: 'GET', target: '/', headers: ['host', 'example.com', 'X-MiXeD', ' \tv  a l \t', 'x-mixed', 'second'] },
      {},
      'GET / HTTP/1.1\r\nhost: example.com\r\nX-MiXeD: v  a l\r\nx-mixed: second\r\n\r\n',
    ],
    [
      'bodyLength adds Content-Length last',
      { type: 'request', method: 'PUT', target: '/x', headers: HOST },
      { bodyLength: 4 },
      'PUT /x HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\n',
    ],
    [
      'streaming request goes chunked',
      { type: 'request', method: 'POST', target: '/upload', headers: HOST },
      { streaming: true },
      'POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n',
    ],
    [
      'an explicit Content-Length is not duplicated',
      { type: 'request', method: 'PUT', target: '/x', headers: { ...HOST, 'Content-Length': '4' } },
      { bodyLength: 4 },
      'PUT /x HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\n',
    ],
    [
      'an explicit Transfer-Encoding wins over bodyLength',
      { type: 'request', method: 'PUT', target: '/x', headers: { ...HOST, 'Transfer-Encoding': 'chunked' } },
      { bodyLength: 4 },
      'PUT /x HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n',
    ],
    [
      'asterisk-form',
      { type: 'request', method: 'OPTIONS', target: '*', headers: HOST },
      {},
      'OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n',
    ],
    [
      'authority-form CONNECT',
      { type: 'request', method: 'CONNECT', target: 'example.com:443', headers: { Host: 'example.com:443' } },
      {},
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    ],
    [
      'absolute-form',
      { type: 'request', method: 'GET', target: 'http://example.com/x', headers: HOST },
      {},
      'GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n',
    ],
    [
      'obs-text in a value is written octet for octet',
      { type: 'request', method: 'GET', target: '/', headers: { ...HOST, 'X-Name': 'caf\u00e9' } },
      {},
      'GET / HTTP/1.1\r\nHost: example.com\r\nX-Name: caf\u00e9\r\n\r\n',
    ],
  ];

  it.each(cases)('%s', (_label, head, options, wire) => {
    const client = new Connection('client');
    const out = client.send(head, options);
    expect(out).toHaveLength(1);
    expect(text(out)).toBe(wire);
    expect(client.ourState).toBe('SEND_BODY');
  });

  it('writeRequestHead alone gives the same bytes', () => {
    expect(text(writeRequestHead('DELETE', '/r/1', new Fields(['Host', 'h'])))).toBe('DELETE /r/1 HTTP/1.1\r\nHost: h\r\n\r\n');
  });
});

describe('response heads: exact bytes', () => {
  const cases: [label: string, request: string, head: SendResponse, options: SendOptions, wire: string][] = [
    [
      'default reason phrase and Content-Length',
      'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
      { type: 'response', status: 200, headers: { 'Content-Type': 'text/plain' } },
      { bodyLength: 5 },
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n',
    ],
    [
      'custom reason phrase, empty reason',
      'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
      { type: 'response', status: 299, reason: '' },
      { bodyLength: 0 },
      'HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n',
    ],
    [
      'custom reason phrase with spaces',
      'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
      { type: 'response', status: 404, reason: 'Nothing To See' },
      { bodyLength: 0 },
      'HTTP/1.1 404 Nothing To See\r\nContent-Length: 0\r\n\r\n',
    ],
    [
      'streaming to HTTP/1.1: chunked',
      'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
      { type: 'response', status: 200 },
      {},
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
    ],
    [
      'streaming to HTTP/1.0: close-delimited, Connection: close',
      'GET / HTTP/1.0\r\n\r\n',
      { type: 'response', status: 200 },
      {},
      'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n',
    ],
    [
      'HTTP/1.0 keep-alive with known length: Connection: keep-alive added (RFC 9112 §C.2.2)',
      'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
      { type: 'response', status: 200 },
      { bodyLength: 3 },
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n',
    ],
    [
      'HTTP/1.0 keep-alive but streaming: must close',
      'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
      { type: 'response', status: 200 },
      {},
      'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n',
    ],
    [
      'HTTP/1.0 without keep-alive, known length: Connection: close',
      'GET / HTTP/1.0\r\n\r\n',
      { type: 'response', status: 200 },
      { bodyLength: 3 },
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n',
    ],
    [
      'a proxy does not honour an HTTP/1.0 keep-alive: close',
      'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
      { type: 'response', status: 200 },
      { bodyLength: 3 },
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n',
    ],
    [
      'request said close: the response says it too',
      'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      { type: 'response', status: 200 },
      { bodyLength: 2 },
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n',
    ],
    [
      'closing: keep-alive token and Keep-Alive field are replaced, other tokens kept',
      'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      { type: 'response', status: 200, headers: [['Connection', 'keep-alive, X-Trace'], ['Keep-Alive', 'timeout=5'], ['X-Trace', '1']] },
      { bodyLength: 0 },
      'HTTP/1.1 200 OK\r\nX-Trace: 1\r\nContent-Length: 0\r\nConnection: close, x-trace\r\n\r\n',
    ],
    [
      'the caller’s own Connection: close is kept as written',
      'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
      { type: 'response', status: 200, headers: { Connection: 'Close' } },
      { bodyLength: 0 },
      'HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n',
    ],
    [
      'HEAD: no framing field added',
      'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n',
      { type: 'response', status: 200 },
      { bodyLength: 10 },
      'HTTP/1.1 200 OK\r\n\r\n',
    ],
    [
      'HEAD: an explicit Content-Length is kept (RFC 9110 §9.3.2)',
      'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n',
      { type: 'response', status: 200, headers: { 'Content-Length': '10' } },
      {},
      'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n',
    ],
    ['204: nothing added', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 204 }, {}, 'HTTP/1.1 204 No Content\r\n\r\n'],
    ['304: nothing added', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 304 }, { bodyLength: 10 }, 'HTTP/1.1 304 Not Modified\r\n\r\n'],
    [
      '304 may carry the Content-Length of the selected representation',
      'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
      { type: 'response', status: 304, headers: { 'Content-Length': '10' } },
      {},
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n',
    ],
    [
      'a 1xx interim response',
      'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
      { type: 'informational-response', status: 103, headers: { Link: '</s.css>; rel=preload' } },
      {},
      'HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n',
    ],
  ];

  it.each(cases)('%s', (label, request, head, options, wire) => {
    const server = serverAfter(request, { proxy: label.startsWith('a proxy') });
    const out = server.send(head, options);
    expect(out).toHaveLength(1);
    expect(text(out)).toBe(wire);
  });

  it('writeResponseHead alone gives the same bytes', () => {
    expect(text(writeResponseHead(418, "I'm a Teapot", new Fields(['A', 'b'])))).toBe("HTTP/1.1 418 I'm a Teapot\r\nA: b\r\n\r\n");
  });
});

describe('body framing bytes and round trip', () => {
  interface Case {
    label: string;
    request: string;
    head: SendResponse;
    options: SendOptions;
    chunks: string[];
    trailers?: FieldsInit;
    body: string;
    keepAlive: boolean;
    /** The peer only sees the end of the body when the connection closes. */
    eof?: boolean;
  }
  const cases: Case[] = [
    { label: 'Content-Length', request: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', head: { type: 'response', status: 200 }, options: { bodyLength: 11 }, chunks: ['hello', ' world'], body: 'hello world', keepAlive: true },
    {
      label: 'chunked: one chunk per data event, hex sizes, last-chunk',
      request: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
      head: { type: 'response', status: 200 },
      options: {},
      chunks: ['hello', '', 'x'.repeat(26)],
      body: `5\r\nhello\r\n1a\r\n${'x'.repeat(26)}\r\n0\r\n\r\n`,
      keepAlive: true,
    },
    {
      label: 'chunked with trailers',
      request: 'GET / HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n',
      head: { type: 'response', status: 200, headers: { Trailer: 'X-Checksum' } },
      options: {},
      chunks: ['abc'],
      trailers: [['X-Checksum', 'abc'], ['X-Other', '1']],
      body: '3\r\nabc\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n',
      keepAlive: true,
    },
    { label: 'chunked with an empty trailer list', request: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', head: { type: 'response', status: 200 }, options: {}, chunks: ['a'], trailers: {}, body: '1\r\na\r\n0\r\n\r\n', keepAlive: true },
    { label: 'close-delimited to HTTP/1.0', request: 'GET / HTTP/1.0\r\n\r\n', head: { type: 'response', status: 200 }, options: {}, chunks: ['raw ', 'bytes'], body: 'raw bytes', keepAlive: false, eof: true },
    { label: 'known length to an HTTP/1.0 keep-alive client', request: 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', head: { type: 'response', status: 200 }, options: { bodyLength: 3 }, chunks: ['abc'], body: 'abc', keepAlive: true },
    { label: 'empty body with Content-Length: 0', request: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', head: { type: 'response', status: 200 }, options: { bodyLength: 0 }, chunks: [], body: '', keepAlive: true },
    { label: 'HEAD: no body bytes', request: 'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n', head: { type: 'response', status: 200, headers: { 'Content-Length': '5' } }, options: {}, chunks: [], body: '', keepAlive: true },
  ];

  it.each(cases)('$label', (c) => {
    const server = serverAfter(c.request);
    const headBytes = server.send(c.head, c.options);
    const bodyParts: Uint8Array[] = [];
    for (const chunk of c.chunks) bodyParts.push(...server.send({ type: 'data', data: bytes(chunk) }));
    bodyParts.push(...server.send(c.trailers === undefined ? { type: 'end-of-message' } : { type: 'end-of-message', trailers: c.trailers }));
    expect(text(bodyParts)).toBe(c.body);
    expect(server.keepAlive).toBe(c.keepAlive);
    expect(server.ourState).toBe(c.keepAlive ? 'IDLE' : 'MUST_CLOSE');

    // Round trip: the client parses exactly what was sent.
    const method = c.request.split(' ')[0]!;
    const got = summarize(clientParse(method, join([...headBytes, ...bodyParts]), c.eof === true));
    expect(got.head?.status).toBe(c.head.status);
    expect(got.head?.headers).toEqual(parseHeadFields(headBytes));
    expect(got.body).toBe(c.chunks.join(''));
    expect(got.trailers).toEqual(c.trailers === undefined || Fields.from(c.trailers).size === 0 ? null : Fields.from(c.trailers).raw);
    expect(got.ended).toBe(true);
  });

  it('data is never copied: the caller’s array is one of the pieces', () => {
    const server = serverAfter('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    server.send({ type: 'response', status: 200 });
    const data = bytes('payload');
    const parts = server.send({ type: 'data', data });
    expect(parts).toHaveLength(3);
    expect(parts[1]).toBe(data);
    expect(text(parts[0]!)).toBe('7\r\n');
    expect(text(parts[2]!)).toBe('\r\n');
  });
});

/** The field lines of a serialized head, as a flat raw list. */
function parseHeadFields(head: readonly Uint8Array[]): string[] {
  const lines = text(head).split('\r\n').slice(1, -2);
  return lines.flatMap((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
}

describe('requests: framing and round trip', () => {
  const cases: [label: string, head: SendRequest, options: SendOptions, chunks: string[], trailers: FieldsInit | undefined, wire: string][] = [
    ['GET, no body', { type: 'request', method: 'GET', target: '/', headers: HOST }, {}, [], undefined, 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n'],
    [
      'PUT with a known length',
      { type: 'request', method: 'PUT', target: '/r', headers: HOST },
      { bodyLength: 4 },
      ['da', 'ta'],
      undefined,
      'PUT /r HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\ndata',
    ],
    [
      'streaming POST with trailers',
      { type: 'request', method: 'POST', target: '/u', headers: HOST },
      { streaming: true },
      ['ab', 'cde'],
      { 'X-Digest': 'sha-256=x' },
      'POST /u HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\nX-Digest: sha-256=x\r\n\r\n',
    ],
  ];

  it.each(cases)('%s', (_label, head, options, chunks, trailers, wire) => {
    const client = new Connection('client');
    const events: SendEvent[] = [head, ...chunks.map((c): SendEvent => ({ type: 'data', data: bytes(c) })), trailers === undefined ? { type: 'end-of-message' } : { type: 'end-of-message', trailers }];
    const out = sendAll(client, events, options);
    expect(text(out)).toBe(wire);
    const got = summarize(serverParse(join(out)));
    expect(got.head).toEqual({ type: 'request', method: head.method, target: head.target, headers: parseHeadFields([bytes(wire.slice(0, wire.indexOf('\r\n\r\n') + 4))]) });
    expect(got.body).toBe(chunks.join(''));
    expect(got.trailers).toEqual(trailers === undefined ? null : Fields.from(trailers).raw);
    expect(got.ended).toBe(true);
  });

  it('a request without body gets no Content-Length, and refuses body data', () => {
    const client = new Connection('client');
    const head = client.send({ type: 'request', method: 'POST', target: '/', headers: HOST });
    expect(text(head)).not.toMatch(/content-length|transfer-encoding/i);
    expectLocalError(() => client.send({ type: 'data', data: bytes('x') }), 'H1_BODY_NOT_ALLOWED');
    expect(client.send({ type: 'data', data: new Uint8Array(0) })).toEqual([]);
    expect(client.send({ type: 'end-of-message' })).toEqual([]);
    expect(client.ourState).toBe('IDLE');
  });
});

describe('sendMessage', () => {
  it('returns a single Uint8Array with head and body (one write)', () => {
    const server = serverAfter('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const out = server.sendMessage({ type: 'response', status: 200, headers: { 'Content-Type': 'text/plain' } }, bytes('hello'));
    expect(out).toBeInstanceOf(Uint8Array);
    expect(text(out)).toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello');
    expect(server.ourState).toBe('IDLE');
    const got = summarize(clientParse('GET', out, false));
    expect(got.body).toBe('hello');
    expect(got.ended).toBe(true);
  });

  it('a response without body gets Content-Length: 0', () => {
    const server = serverAfter('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(text(server.sendMessage({ type: 'response', status: 404 }))).toBe('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  });

  it('a request without body gets no Content-Length; an empty body gets Content-Length: 0', () => {
    const client = new Connection('client');
    expect(text(client.sendMessage({ type: 'request', method: 'GET', target: '/', headers: HOST }))).toBe('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n');
    expect(text(client.sendMessage({ type: 'request', method: 'PUT', target: '/', headers: HOST }, new Uint8Array(0)))).toBe(
      'PUT / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n',
    );
    expect(text(client.sendMessage({ type: 'request', method: 'PUT', target: '/', headers: HOST }, bytes('abc')))).toBe(
      'PUT / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\r\nabc',
    );
  });

  it('with an explicit Transfer-Encoding: chunked it frames the body and the trailers', () => {
    const server = serverAfter('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const out = server.sendMessage({ type: 'response', status: 200, headers: { 'Transfer-Encoding': 'chunked' } }, bytes('abc'), new Fields(['X-T', '1']));
    expect(text(out)).toBe('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n');
  });

  const refused: [label: string, request: string, head: SendResponse & { type: 'response' }, body: string, code: LocalErrorCode][] = [
    ['body on a HEAD response', 'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 200 }, 'abc', 'H1_BODY_NOT_ALLOWED'],
    ['body on a 204', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 204 }, 'abc', 'H1_BODY_NOT_ALLOWED'],
    ['body on a 304', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 304 }, 'abc', 'H1_BODY_NOT_ALLOWED'],
    ['body longer than the explicit Content-Length', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 200, headers: { 'Content-Length': '2' } }, 'abc', 'H1_BODY_LENGTH_MISMATCH'],
    ['body shorter than the explicit Content-Length', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 200, headers: { 'Content-Length': '9' } }, 'abc', 'H1_BODY_LENGTH_MISMATCH'],
  ];

  it.each(refused)('refuses %s as a whole: nothing emitted, the connection can still answer', (_label, request, head, body, code) => {
    const server = serverAfter(request);
    const before = { states: server.states, pending: server.pendingRequests, keepAlive: server.keepAlive };
    expectLocalError(() => server.sendMessage(head, bytes(body)), code);
    expect({ states: server.states, pending: server.pendingRequests, keepAlive: server.keepAlive }).toEqual(before);
    // The connection did not record a head that was never written: a proper answer still goes out.
    const out = server.sendMessage({ type: 'response', status: 500 });
    expect(text(out)).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
    expect(server.pendingRequests).toEqual([]);
  });
});

describe('refusals: LocalProtocolError, nothing emitted, state unchanged', () => {
  interface Refusal {
    label: string;
    /** Build the connection in the state before the refused call. */
    setup: () => Connection;
    act: (conn: Connection) => unknown;
    code: LocalErrorCode;
  }
  const get11 = (): Connection => serverAfter('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const withHead = (request: string, head: SendResponse, options: SendOptions = {}) => (): Connection => {
    const server = serverAfter(request);
    server.send(head, options);
    return server;
  };
  const client = (): Connection => new Connection('client');
  const response = (headers: FieldsInit, status = 200): ((conn: Connection) => unknown) => (conn) => conn.send({ type: 'response', status, headers }, { bodyLength: 0 });
  const request = (headers: FieldsInit): ((conn: Connection) => unknown) => (conn) => conn.send({ type: 'request', method: 'GET', target: '/', headers: { ...HOST, ...Object.fromEntries(Fields.from(headers)) } });

  const cases: Refusal[] = [
    // Body length
    { label: 'more bytes than Content-Length', setup: withHead('GET / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 200 }, { bodyLength: 3 }), act: (c) => c.send({ type: 'data', data: bytes('abcd') }), code: 'H1_BODY_LENGTH_MISMATCH' },
    { label: 'fewer bytes than Content-Length', setup: withHead('GET / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 200 }, { bodyLength: 3 }), act: (c) => c.send({ type: 'end-of-message' }), code: 'H1_BODY_LENGTH_MISMATCH' },
    { label: 'trailers on a Content-Length body', setup: withHead('GET / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 200 }, { bodyLength: 0 }), act: (c) => c.send({ type: 'end-of-message', trailers: { A: 'b' } }), code: 'H1_BODY_NOT_ALLOWED' },
    { label: 'trailers on a close-delimited body', setup: withHead('GET / HTTP/1.0\r\n\r\n', { type: 'response', status: 200 }), act: (c) => c.send({ type: 'end-of-message', trailers: { A: 'b' } }), code: 'H1_BODY_NOT_ALLOWED' },
    // Bodies where none is allowed
    { label: 'body on a HEAD response', setup: withHead('HEAD / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 200 }), act: (c) => c.send({ type: 'data', data: bytes('x') }), code: 'H1_BODY_NOT_ALLOWED' },
    { label: 'body on a 204', setup: withHead('GET / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 204 }), act: (c) => c.send({ type: 'data', data: bytes('x') }), code: 'H1_BODY_NOT_ALLOWED' },
    { label: 'body on a 304', setup: withHead('GET / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 304 }), act: (c) => c.send({ type: 'data', data: bytes('x') }), code: 'H1_BODY_NOT_ALLOWED' },
    { label: 'trailers on a 204', setup: withHead('GET / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 204 }), act: (c) => c.send({ type: 'end-of-message', trailers: { A: 'b' } }), code: 'H1_BODY_NOT_ALLOWED' },
    // Framing fields that may not be sent
    { label: 'Content-Length on a 204 (RFC 9110 §8.6)', setup: get11, act: response({ 'Content-Length': '0' }, 204), code: 'H1_FRAMING_HEADERS_NOT_ALLOWED' },
    { label: 'Transfer-Encoding on a 204', setup: get11, act: response({ 'Transfer-Encoding': 'chunked' }, 204), code: 'H1_FRAMING_HEADERS_NOT_ALLOWED' },
    { label: 'Content-Length on a 1xx', setup: get11, act: (c) => c.send({ type: 'informational-response', status: 103, headers: { 'Content-Length': '0' } }), code: 'H1_FRAMING_HEADERS_NOT_ALLOWED' },
    { label: 'Transfer-Encoding on a 1xx', setup: get11, act: (c) => c.send({ type: 'informational-response', status: 100, headers: { 'Transfer-Encoding': 'chunked' } }), code: 'H1_FRAMING_HEADERS_NOT_ALLOWED' },
    { label: 'Transfer-Encoding to an HTTP/1.0 client (RFC 9112 §6.1)', setup: () => serverAfter('GET / HTTP/1.0\r\n\r\n'), act: response({ 'Transfer-Encoding': 'chunked' }), code: 'H1_FRAMING_HEADERS_NOT_ALLOWED' },
    { label: 'Content-Length and Transfer-Encoding in one response (RFC 9112 §6.2)', setup: get11, act: response({ 'Content-Length': '5', 'Transfer-Encoding': 'chunked' }), code: 'H1_FRAMING_HEADERS_NOT_ALLOWED' },
    { label: 'Content-Length and Transfer-Encoding in one request', setup: client, act: request({ 'Content-Length': '5', 'Transfer-Encoding': 'chunked' }), code: 'H1_FRAMING_HEADERS_NOT_ALLOWED' },
    { label: 'an invalid Content-Length value', setup: get11, act: response({ 'Content-Length': 'abc' }), code: 'H1_FRAMING_HEADERS_NOT_ALLOWED' },
    { label: 'conflicting Content-Length values', setup: get11, act: response([['Content-Length', '1'], ['Content-Length', '2']]), code: 'H1_FRAMING_HEADERS_NOT_ALLOWED' },
    // Header injection
    ...(
      [
        ['CR LF in a value', 'a\r\nSet-Cookie: evil=1'],
        ['bare LF in a value', 'a\nb'],
        ['bare CR in a value', 'a\rb'],
        ['NUL in a value', 'a\0b'],
        ['another control in a value', 'a\x01b'],
        ['DEL in a value', 'a\x7fb'],
        ['a character above U+00FF in a value', 'snow\u2603'],
      ] as const
    ).flatMap(([what, value]): Refusal[] => [
      { label: `${what} (response)`, setup: get11, act: response({ 'X-Value': value }), code: 'H1_INVALID_FIELD_VALUE' },
      { label: `${what} (request)`, setup: client, act: request({ 'X-Value': value }), code: 'H1_INVALID_FIELD_VALUE' },
      { label: `${what} (trailer)`, setup: withHead('GET / HTTP/1.1\r\nHost: a\r\n\r\n', { type: 'response', status: 200 }), act: (c) => c.send({ type: 'end-of-message', trailers: { 'X-Value': value } }), code: 'H1_INVALID_FIELD_VALUE' },
    ]),
    ...(
      [
        ['an empty name', ''],
        ['a space in a name', 'X Y'],
        ['a colon in a name', 'X:Y'],
        ['CR LF in a name', 'X\r\nY'],
        ['a separator in a name', 'X(Y)'],
        ['a non-ASCII name', 'Gr\u00fc\u00dfe'],
        ['a name above U+00FF', 'X\u2603'],
      ] as const
    ).flatMap(([what, name]): Refusal[] => [
      { label: `${what} (response)`, setup: get11, act: response([[name, 'v']]), code: 'H1_INVALID_FIELD_NAME' },
      { label: `${what} (request)`, setup: client, act: (c) => c.send({ type: 'request', method: 'GET', target: '/', headers: [['Host', 'a'], [name, 'v']] }), code: 'H1_INVALID_FIELD_NAME' },
    ]),
    // Start lines
    { label: 'a request without Host (RFC 9112 §3.2)', setup: client, act: (c) => c.send({ type: 'request', method: 'GET', target: '/', headers: { Accept: '*/*' } }), code: 'H1_MISSING_HOST' },
    { label: 'an invalid method', setup: client, act: (c) => c.send({ type: 'request', method: 'GE T', target: '/', headers: HOST }), code: 'H1_INVALID_METHOD' },
    { label: 'an invalid target', setup: client, act: (c) => c.send({ type: 'request', method: 'GET', target: '/a b', headers: HOST }), code: 'H1_INVALID_TARGET' },
    { label: 'an empty target', setup: client, act: (c) => c.send({ type: 'request', method: 'GET', target: '', headers: HOST }), code: 'H1_INVALID_TARGET' },
    { label: 'a CR LF in the target', setup: client, act: (c) => c.send({ type: 'request', method: 'GET', target: '/\r\nX: y', headers: HOST }), code: 'H1_INVALID_TARGET' },
    { label: 'a status above 999', setup: get11, act: (c) => c.send({ type: 'response', status: 1000 }, { bodyLength: 0 }), code: 'H1_INVALID_STATUS' },
    { label: 'a CR LF in the reason phrase', setup: get11, act: (c) => c.send({ type: 'response', status: 200, reason: 'OK\r\nX: y' }, { bodyLength: 0 }), code: 'H1_INVALID_REASON' },
  ];

  it.each(cases)('$label', ({ setup, act, code }) => {
    const conn = setup();
    const before = { states: conn.states, pending: conn.pendingRequests, count: conn.requestCount, keepAlive: conn.keepAlive };
    expectLocalError(() => act(conn), code);
    expect({ states: conn.states, pending: conn.pendingRequests, count: conn.requestCount, keepAlive: conn.keepAlive }).toEqual(before);
  });

  it('after a refused injection the peer sees only the good message', () => {
    const client = new Connection('client');
    expectLocalError(() => client.send({ type: 'request', method: 'GET', target: '/', headers: { ...HOST, 'X-A': 'a\r\n\r\nGET /evil HTTP/1.1' } }), 'H1_INVALID_FIELD_VALUE');
    const out = client.sendMessage({ type: 'request', method: 'GET', target: '/good', headers: HOST });
    const events = serverParse(out);
    expect(events.filter((e) => e.type === 'request').map((e) => (e.type === 'request' ? e.target : ''))).toEqual(['/good']);
    expect(client.pendingRequests).toEqual(['GET']);
  });

  it('a refused trailer leaves the chunked body open; a clean end follows', () => {
    const server = serverAfter('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const parts = [...server.send({ type: 'response', status: 200 }), ...server.send({ type: 'data', data: bytes('ab') })];
    expectLocalError(() => server.send({ type: 'end-of-message', trailers: { 'X-T': 'a\nb' } }), 'H1_INVALID_FIELD_VALUE');
    expect(server.ourState).toBe('SEND_BODY');
    parts.push(...server.send({ type: 'end-of-message', trailers: { 'X-T': 'ok' } }));
    const got = summarize(clientParse('GET', join(parts), false));
    expect(got.body).toBe('ab');
    expect(got.trailers).toEqual(['X-T', 'ok']);
  });

  it('a body longer than Content-Length is refused before any of it is emitted, and the exact rest is accepted', () => {
    const server = serverAfter('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const parts = [...server.send({ type: 'response', status: 200 }, { bodyLength: 3 }), ...server.send({ type: 'data', data: bytes('ab') })];
    expectLocalError(() => server.send({ type: 'data', data: bytes('cd') }), 'H1_BODY_LENGTH_MISMATCH');
    parts.push(...server.send({ type: 'data', data: bytes('c') }), ...server.send({ type: 'end-of-message' }));
    expect(text(parts)).toBe('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc');
    expect(server.ourState).toBe('IDLE');
  });
});

describe('lines found valid before are remembered, never trusted beyond what they were', () => {
  it('a name known with one value still has every other value checked, in validateField and in heads', () => {
    validateField('X-Known', 'plain');
    expect(() => validateField('X-Known', 'plain\r\nInjected: yes')).toThrow(LocalProtocolError);
    expect(() => validateField('X-Known', ' plain')).toThrow(/whitespace/);
    const head = (value: string): string => text(writeResponseHead(200, 'OK', Fields.from(['X-Known', value])));
    expect(head('plain')).toBe('HTTP/1.1 200 OK\r\nX-Known: plain\r\n\r\n');
    // Padding is stripped by the writer, and the padded value is not remembered as the bare one.
    expect(head('  plain\t')).toBe('HTTP/1.1 200 OK\r\nX-Known: plain\r\n\r\n');
    expect(head('  plain\t')).toBe('HTTP/1.1 200 OK\r\nX-Known: plain\r\n\r\n');
    expect(() => head('plain\nInjected: yes')).toThrow(LocalProtocolError);
    // obs-text is valid but not plain ASCII: written as latin1 octets, every time.
    expect(head('caf\xe9')).toBe('HTTP/1.1 200 OK\r\nX-Known: caf\xe9\r\n\r\n');
    expect(head('caf\xe9')).toBe('HTTP/1.1 200 OK\r\nX-Known: caf\xe9\r\n\r\n');
  });
});

describe('a status given as text is refused, prebuilt status lines or not', () => {
  it('writeResponseHead and sendMessageText throw H1_INVALID_STATUS for "204"', () => {
    expect(() => writeResponseHead('204' as unknown as number, 'No Content', Fields.from([]))).toThrow(/invalid status code/);
    const server = new Connection('server');
    server.receiveData(bytes('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
    drain(server);
    expect(() => server.sendMessageText({ type: 'response', status: '204' as unknown as number, headers: [] }, 'body')).toThrow(LocalProtocolError);
    // Nothing was sent: the proper answer still can be.
    expect(text(server.sendMessage({ type: 'response', status: 204, headers: [] }))).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
  });
});
