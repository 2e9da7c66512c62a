/**
 * The connection state machine driven through real bytes: the h11-style cycle seen from both
 * ends, pipelining, persistence, 100-continue, protocol switches, EOF handling, error responses
 * and misuse.
 */

import { describe, expect, it } from 'vitest';
import { Connection, LocalProtocolError, NEED_DATA, PAUSED, RemoteProtocolError } from './index.js';
import type { LocalErrorCode, NextEvent, PipelineRequest, PipelineVerdict, RemoteErrorCode, Role, SendEvent, SendOptions, SideState } from './index.js';
import { ConnectionPair, bytes, drain } from './testing.js';

const HOST = { Host: 'example.com' };

function text(data: Uint8Array | readonly Uint8Array[]): string {
  const parts = data instanceof Uint8Array ? [data] : data;
  return parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('latin1')).join('');
}

/** A short, comparable name for what `nextEvent()` returned. */
function label(e: NextEvent): string {
  if (e === NEED_DATA) return 'NEED_DATA';
  if (e === PAUSED) return 'PAUSED';
  switch (e.type) {
    case 'request':
      return `request ${e.method} ${e.target}`;
    case 'response':
    case 'informational-response':
      return `${e.type} ${e.status}`;
    case 'data':
      return `data ${text(e.data)}`;
    default:
      return e.type;
  }
}

function labels(conn: Connection): string[] {
  return drain(conn).map(label);
}

function get(target = '/', headers: Record<string, string> = {}): SendEvent {
  return { type: 'request', method: 'GET', target, headers: { ...HOST, ...headers } };
}

function req(method: string, target = '/', headers: Record<string, string> = {}): SendEvent {
  return { type: 'request', method, target, headers: { ...HOST, ...headers } };
}

/** `from` sends `event`; the bytes go into `to`'s receive buffer (not parsed yet). */
function deliver(from: Connection, to: Connection, event: SendEvent, options: SendOptions = {}): string {
  const out = from.send(event, options);
  const wire = text(out);
  if (wire.length > 0) to.receiveData(bytes(wire));
  return wire;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

function expectLocal(fn: () => unknown, code: LocalErrorCode): void {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(LocalProtocolError);
  expect((err as LocalProtocolError).code).toBe(code);
}

function expectRemote(fn: () => unknown, code: RemoteErrorCode): RemoteProtocolError {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(RemoteProtocolError);
  expect((err as RemoteProtocolError).code).toBe(code);
  return err as RemoteProtocolError;
}

function serverWith(input: string): Connection {
  const server = new Connection('server');
  server.receiveData(bytes(input));
  return server;
}

type Both = readonly [client: SideState, server: SideState];

describe('the request/response cycle, seen from both ends', () => {
  interface Step {
    what: string;
    act: (c: Connection, s: Connection) => string;
    /** States of the client connection and of the server connection after the step (client side, server side). */
    client: Both;
    server: Both;
    /** What the step returned (a pulled event's label, or wire bytes). */
    result?: string | RegExp;
  }
  const pull = (who: Role) => (c: Connection, s: Connection): string => label((who === 'client' ? c : s).nextEvent());
  const cs = (event: SendEvent, options?: SendOptions) => (c: Connection, s: Connection): string => deliver(c, s, event, options);
  const sc = (event: SendEvent, options?: SendOptions) => (c: Connection, s: Connection): string => deliver(s, c, event, options);

  const scenarios: [name: string, steps: Step[]][] = [
    [
      'GET with a Content-Length response on a persistent connection',
      [
        { what: 'client sends the request head', act: cs(get('/x')), client: ['SEND_BODY', 'SEND_RESPONSE'], server: ['IDLE', 'IDLE'], result: 'GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n' },
        { what: 'server reads the head', act: pull('server'), client: ['SEND_BODY', 'SEND_RESPONSE'], server: ['SEND_BODY', 'SEND_RESPONSE'], result: 'request GET /x' },
        { what: 'server reads the (empty) body end', act: pull('server'), client: ['SEND_BODY', 'SEND_RESPONSE'], server: ['IDLE', 'SEND_RESPONSE'], result: 'end-of-message' },
        { what: 'server needs more', act: pull('server'), client: ['SEND_BODY', 'SEND_RESPONSE'], server: ['IDLE', 'SEND_RESPONSE'], result: 'NEED_DATA' },
        { what: 'client ends its request', act: cs({ type: 'end-of-message' }), client: ['IDLE', 'SEND_RESPONSE'], server: ['IDLE', 'SEND_RESPONSE'], result: '' },
        { what: 'client waits for the response', act: pull('client'), client: ['IDLE', 'SEND_RESPONSE'], server: ['IDLE', 'SEND_RESPONSE'], result: 'NEED_DATA' },
        { what: 'server sends the response head', act: sc({ type: 'response', status: 200 }, { bodyLength: 2 }), client: ['IDLE', 'SEND_RESPONSE'], server: ['IDLE', 'SEND_BODY'], result: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n' },
        { what: 'client reads the response head', act: pull('client'), client: ['IDLE', 'SEND_BODY'], server: ['IDLE', 'SEND_BODY'], result: 'response 200' },
        { what: 'server sends data', act: sc({ type: 'data', data: bytes('ok') }), client: ['IDLE', 'SEND_BODY'], server: ['IDLE', 'SEND_BODY'], result: 'ok' },
        { what: 'client reads data', act: pull('client'), client: ['IDLE', 'SEND_BODY'], server: ['IDLE', 'SEND_BODY'], result: 'data ok' },
        { what: 'server ends the response', act: sc({ type: 'end-of-message' }), client: ['IDLE', 'SEND_BODY'], server: ['IDLE', 'IDLE'], result: '' },
        { what: 'client reads the end', act: pull('client'), client: ['IDLE', 'IDLE'], server: ['IDLE', 'IDLE'], result: 'end-of-message' },
        { what: 'client has nothing in flight', act: pull('client'), client: ['IDLE', 'IDLE'], server: ['IDLE', 'IDLE'], result: 'PAUSED' },
        { what: 'the next request starts a new cycle', act: cs(get('/y')), client: ['SEND_BODY', 'SEND_RESPONSE'], server: ['IDLE', 'IDLE'], result: /^GET \/y / },
        { what: 'server reads it', act: pull('server'), client: ['SEND_BODY', 'SEND_RESPONSE'], server: ['SEND_BODY', 'SEND_RESPONSE'], result: 'request GET /y' },
      ],
    ],
    [
      'chunked POST with Connection: close, chunked response, both sides close',
      [
        { what: 'client sends a streaming head with close', act: cs(req('POST', '/u', { Connection: 'close' }), { streaming: true }), client: ['SEND_BODY', 'SEND_RESPONSE'], server: ['IDLE', 'IDLE'], result: /Transfer-Encoding: chunked\r\n/ },
        { what: 'server reads the head', act: pull('server'), client: ['SEND_BODY', 'SEND_RESPONSE'], server: ['SEND_BODY', 'SEND_RESPONSE'], result: 'request POST /u' },
        { what: 'client sends a chunk', act: cs({ type: 'data', data: bytes('abc') }), client: ['SEND_BODY', 'SEND_RESPONSE'], server: ['SEND_BODY', 'SEND_RESPONSE'], result: '3\r\nabc\r\n' },
        { what: 'server reads it', act: pull('server'), client: ['SEND_BODY', 'SEND_RESPONSE'], server: ['SEND_BODY', 'SEND_RESPONSE'], result: 'data abc' },
        { what: 'client ends: DONE → MUST_CLOSE', act: cs({ type: 'end-of-message' }), client: ['MUST_CLOSE', 'SEND_RESPONSE'], server: ['SEND_BODY', 'SEND_RESPONSE'], result: '0\r\n\r\n' },
        { what: 'server reads the end: their side MUST_CLOSE', act: pull('server'), client: ['MUST_CLOSE', 'SEND_RESPONSE'], server: ['MUST_CLOSE', 'SEND_RESPONSE'], result: 'end-of-message' },
        { what: 'server ignores further input', act: pull('server'), client: ['MUST_CLOSE', 'SEND_RESPONSE'], server: ['MUST_CLOSE', 'SEND_RESPONSE'], result: 'PAUSED' },
        { what: 'server streams a response, saying close', act: sc({ type: 'response', status: 200 }), client: ['MUST_CLOSE', 'SEND_RESPONSE'], server: ['MUST_CLOSE', 'SEND_BODY'], result: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' },
        { what: 'client reads the head', act: pull('client'), client: ['MUST_CLOSE', 'SEND_BODY'], server: ['MUST_CLOSE', 'SEND_BODY'], result: 'response 200' },
        { what: 'server sends a chunk', act: sc({ type: 'data', data: bytes('hi') }), client: ['MUST_CLOSE', 'SEND_BODY'], server: ['MUST_CLOSE', 'SEND_BODY'], result: '2\r\nhi\r\n' },
        { what: 'client reads it', act: pull('client'), client: ['MUST_CLOSE', 'SEND_BODY'], server: ['MUST_CLOSE', 'SEND_BODY'], result: 'data hi' },
        { what: 'server ends: DONE → MUST_CLOSE', act: sc({ type: 'end-of-message' }), client: ['MUST_CLOSE', 'SEND_BODY'], server: ['MUST_CLOSE', 'MUST_CLOSE'], result: '0\r\n\r\n' },
        { what: 'client reads the end', act: pull('client'), client: ['MUST_CLOSE', 'MUST_CLOSE'], server: ['MUST_CLOSE', 'MUST_CLOSE'], result: 'end-of-message' },
        {
          what: 'server closes its side',
          act: (c, s) => {
            s.send({ type: 'connection-closed' });
            c.receiveEof();
            return '';
          },
          client: ['MUST_CLOSE', 'MUST_CLOSE'],
          server: ['MUST_CLOSE', 'CLOSED'],
        },
        { what: 'client sees the close', act: pull('client'), client: ['MUST_CLOSE', 'CLOSED'], server: ['MUST_CLOSE', 'CLOSED'], result: 'connection-closed' },
        {
          what: 'client closes its side',
          act: (c, s) => {
            c.send({ type: 'connection-closed' });
            s.receiveEof();
            return '';
          },
          client: ['CLOSED', 'CLOSED'],
          server: ['MUST_CLOSE', 'CLOSED'],
        },
        { what: 'server sees the close', act: pull('server'), client: ['CLOSED', 'CLOSED'], server: ['CLOSED', 'CLOSED'], result: 'connection-closed' },
        { what: 'a closed connection keeps saying so', act: pull('server'), client: ['CLOSED', 'CLOSED'], server: ['CLOSED', 'CLOSED'], result: 'connection-closed' },
      ],
    ],
    [
      'HEAD: the response ends with its head',
      [
        { what: 'client sends HEAD', act: cs(req('HEAD', '/h')), client: ['SEND_BODY', 'SEND_RESPONSE'], server: ['IDLE', 'IDLE'] },
        { what: 'client ends', act: cs({ type: 'end-of-message' }), client: ['IDLE', 'SEND_RESPONSE'], server: ['IDLE', 'IDLE'] },
        { what: 'server reads the head', act: pull('server'), client: ['IDLE', 'SEND_RESPONSE'], server: ['SEND_BODY', 'SEND_RESPONSE'], result: 'request HEAD /h' },
        { what: 'server reads the end', act: pull('server'), client: ['IDLE', 'SEND_RESPONSE'], server: ['IDLE', 'SEND_RESPONSE'], result: 'end-of-message' },
        { what: 'server answers with a length but no body', act: sc({ type: 'response', status: 200, headers: { 'Content-Length': '1000' } }), client: ['IDLE', 'SEND_RESPONSE'], server: ['IDLE', 'SEND_BODY'] },
        { what: 'server ends', act: sc({ type: 'end-of-message' }), client: ['IDLE', 'SEND_RESPONSE'], server: ['IDLE', 'IDLE'], result: '' },
        { what: 'client reads the head', act: pull('client'), client: ['IDLE', 'SEND_BODY'], server: ['IDLE', 'IDLE'], result: 'response 200' },
        { what: 'client reads the end at once', act: pull('client'), client: ['IDLE', 'IDLE'], server: ['IDLE', 'IDLE'], result: 'end-of-message' },
      ],
    ],
  ];

  it.each(scenarios)('%s', (_name, steps) => {
    const c = new Connection('client');
    const s = new Connection('server');
    for (const step of steps) {
      const result = step.act(c, s);
      const got = { what: step.what, client: [c.states.client, c.states.server], server: [s.states.client, s.states.server] };
      expect(got).toEqual({ what: step.what, client: step.client, server: step.server });
      if (typeof step.result === 'string') expect({ what: step.what, result }).toEqual({ what: step.what, result: step.result });
      else if (step.result !== undefined) expect(result, step.what).toMatch(step.result);
      // ourState / theirState are views of the same pair.
      expect([c.ourState, c.theirState]).toEqual([c.states.client, c.states.server]);
      expect([s.ourState, s.theirState]).toEqual([s.states.server, s.states.client]);
    }
  });
});

describe('server-side pipelining', () => {
  const three = 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\nPUT /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc';

  it('reads three requests before any response and answers them strictly in order', () => {
    const server = serverWith(three);
    expect(labels(server)).toEqual(['request GET /1', 'end-of-message', 'request HEAD /2', 'end-of-message', 'request PUT /3', 'data abc', 'end-of-message']);
    expect(server.pendingRequests).toEqual(['GET', 'HEAD', 'PUT']);
    expect(server.requestCount).toBe(3);
    expect(server.states).toEqual({ client: 'IDLE', server: 'SEND_RESPONSE' });

    // The first response answers GET /1: it has a body.
    expect(text(server.sendMessage({ type: 'response', status: 200 }, bytes('one')))).toBe('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none');
    expect(server.pendingRequests).toEqual(['HEAD', 'PUT']);
    expect(server.states).toEqual({ client: 'IDLE', server: 'SEND_RESPONSE' });

    // The second answers HEAD /2: a body is refused, the head alone goes out.
    server.send({ type: 'response', status: 200, headers: { 'Content-Length': '3' } });
    expectLocal(() => server.send({ type: 'data', data: bytes('two') }), 'H1_BODY_NOT_ALLOWED');
    // A response to the third may not start before the second is finished.
    expectLocal(() => server.send({ type: 'response', status: 200 }, { bodyLength: 0 }), 'H1_INVALID_STATE');
    server.send({ type: 'end-of-message' });
    expect(server.pendingRequests).toEqual(['PUT']);

    expect(text(server.sendMessage({ type: 'response', status: 201 }))).toBe('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
    expect(server.pendingRequests).toEqual([]);
    expect(server.states).toEqual({ client: 'IDLE', server: 'IDLE' });
    expect(server.nextEvent()).toBe(NEED_DATA);
  });

  it('the client pairs pipelined responses with its requests in order (HEAD framing proves it)', () => {
    const pair = new ConnectionPair();
    const wire: string[] = [];
    for (const e of [get('/1'), req('HEAD', '/2'), get('/3')]) wire.push(text(pair.client.sendMessage(e as SendEvent & { type: 'request' })));
    expect(pair.client.pendingRequests).toEqual(['GET', 'HEAD', 'GET']);
    pair.server.receiveData(bytes(wire.join('')));
    expect(labels(pair.server).filter((l) => l.startsWith('request'))).toEqual(['request GET /1', 'request HEAD /2', 'request GET /3']);
    const responses = [
      pair.server.sendMessage({ type: 'response', status: 200 }, bytes('first')),
      text(pair.server.send({ type: 'response', status: 200, headers: { 'Content-Length': '5' } })) + text(pair.server.send({ type: 'end-of-message' })),
      pair.server.sendMessage({ type: 'response', status: 200 }, bytes('third')),
    ];
    pair.client.receiveData(bytes(responses.map((r) => (typeof r === 'string' ? r : text(r))).join('')));
    expect(labels(pair.client)).toEqual(['response 200', 'data first', 'end-of-message', 'response 200', 'end-of-message', 'response 200', 'data third', 'end-of-message']);
    expect(pair.client.pendingRequests).toEqual([]);
    expect(pair.client.states).toEqual({ client: 'IDLE', server: 'IDLE' });
  });

  it('a request pipelined after Connection: close is never parsed', () => {
    const next = 'GET /2 HTTP/1.1\r\nHost: a\r\n\r\n';
    const server = serverWith(`GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n${next}`);
    expect(labels(server)).toEqual(['request GET /1', 'end-of-message']);
    expect(server.nextEvent()).toBe(PAUSED);
    expect(server.pausedReason).not.toBeNull();
    expect(server.states).toEqual({ client: 'MUST_CLOSE', server: 'SEND_RESPONSE' });
    expect(server.keepAlive).toBe(false);
    expect(text(server.trailingData.data)).toBe(next);
    expect(server.trailingData.closed).toBe(false);

    // The response says close without being told to.
    expect(text(server.sendMessage({ type: 'response', status: 200 }, bytes('x')))).toBe('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx');
    expect(server.states).toEqual({ client: 'MUST_CLOSE', server: 'MUST_CLOSE' });
    expect(server.nextEvent()).toBe(PAUSED);
    expect(text(server.trailingData.data)).toBe(next);

    server.receiveEof();
    expect(labels(server)).toEqual(['connection-closed']);
    expect(server.trailingData).toEqual({ data: bytes(next), closed: true });
    expect(server.requestCount).toBe(1);
  });

  it('a response with Connection: close mid-pipeline leaves the later requests unanswered', () => {
    const server = serverWith('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n');
    drain(server);
    const first = text(server.sendMessage({ type: 'response', status: 200, headers: { Connection: 'close' } }, bytes('x')));
    expect(first).toBe('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx');
    expect(server.states).toEqual({ client: 'MUST_CLOSE', server: 'MUST_CLOSE' });
    expect(server.pendingRequests).toEqual(['GET', 'GET']);
    expectLocal(() => server.sendMessage({ type: 'response', status: 200 }, bytes('y')), 'H1_INVALID_STATE');
    expect(server.nextEvent()).toBe(PAUSED);

    // The client learns which requests got no response, to retry them elsewhere.
    const client = new Connection('client');
    for (const t of ['/1', '/2', '/3']) {
      client.send(get(t));
      client.send({ type: 'end-of-message' });
    }
    client.receiveData(bytes(first));
    expect(labels(client)).toEqual(['response 200', 'data x', 'end-of-message']);
    expect(client.states).toEqual({ client: 'MUST_CLOSE', server: 'MUST_CLOSE' });
    expect(client.pendingRequests).toEqual(['GET', 'GET']);
    expect(client.canSend({ method: 'GET' })).toEqual({ ok: false, reason: 'closing' });
  });
});

describe('client: no request after a close is decided', () => {
  const ways: [how: string, reach: (c: Connection) => void][] = [
    ['we sent Connection: close', (c) => void c.sendMessage({ type: 'request', method: 'GET', target: '/', headers: { ...HOST, Connection: 'close' } })],
    [
      'the response said Connection: close',
      (c) => {
        c.sendMessage({ type: 'request', method: 'GET', target: '/', headers: HOST });
        c.receiveData(bytes('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));
        drain(c);
      },
    ],
    [
      'an HTTP/1.0 response without keep-alive',
      (c) => {
        c.sendMessage({ type: 'request', method: 'GET', target: '/', headers: HOST });
        c.receiveData(bytes('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'));
        drain(c);
      },
    ],
    [
      'a response delimited by the close',
      (c) => {
        c.sendMessage({ type: 'request', method: 'GET', target: '/', headers: HOST });
        c.receiveData(bytes('HTTP/1.1 200 OK\r\n\r\nbody'));
        c.receiveEof();
        expect(labels(c)).toEqual(['response 200', 'data body', 'end-of-message', 'connection-closed']);
      },
    ],
    [
      'the server closed the idle connection',
      (c) => {
        c.receiveEof();
        drain(c);
      },
    ],
  ];

  it.each(ways)('%s: MUST_CLOSE, canSend refuses, send throws H1_REQUEST_AFTER_CLOSE', (_how, reach) => {
    const client = new Connection('client');
    reach(client);
    expect(client.ourState).toBe('MUST_CLOSE');
    expect(client.keepAlive).toBe(false);
    expect(client.canSend({ method: 'GET' })).toEqual({ ok: false, reason: 'closing' });
    expectLocal(() => client.send(get('/again')), 'H1_REQUEST_AFTER_CLOSE');
    expect(client.ourState).toBe('MUST_CLOSE');
    client.send({ type: 'connection-closed' });
    expect(client.ourState).toBe('CLOSED');
    expectLocal(() => client.send(get('/again')), 'H1_REQUEST_AFTER_CLOSE');
  });

  it('an HTTP/1.0 response with keep-alive lets the connection persist', () => {
    const client = new Connection('client');
    client.sendMessage({ type: 'request', method: 'GET', target: '/', headers: HOST });
    client.receiveData(bytes('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n'));
    drain(client);
    expect(client.ourState).toBe('IDLE');
    expect(client.pipelineSnapshot().persistenceConfirmed).toBe(true);
  });
});

describe('canSend / canPipeline verdicts', () => {
  type Setup = (pair: ConnectionPair) => void;
  const request = (method: string, headers: Record<string, string> = {}, body?: string): Setup => (pair) => {
    const out = pair.client.sendMessage({ type: 'request', method, target: '/', headers: { ...HOST, ...headers } }, body === undefined ? undefined : bytes(body));
    pair.server.receiveData(out);
    drain(pair.server);
  };
  const respond = (headers: Record<string, string> = {}): Setup => (pair) => {
    pair.client.receiveData(pair.server.sendMessage({ type: 'response', status: 200, headers }, bytes('ok')));
    drain(pair.client);
  };
  const respondHeadOnly: Setup = (pair) => {
    pair.client.receiveData(pair.server.send({ type: 'response', status: 200 }, { bodyLength: 2 })[0]!);
    drain(pair.client);
  };
  const confirmed: Setup[] = [request('GET'), respond()];

  const no = (reason: string): PipelineVerdict => ({ ok: false, reason }) as PipelineVerdict;
  const OK: PipelineVerdict = { ok: true };
  const cases: [label: string, setup: Setup[], request: PipelineRequest, verdict: PipelineVerdict | 'refused'][] = [
    ['first request on a new connection: GET', [], { method: 'GET' }, OK],
    ['first request on a new connection: POST', [], { method: 'POST' }, OK],
    ['first request on a new connection: CONNECT', [], { method: 'CONNECT' }, OK],
    ['first request on a new connection: streaming body', [], { method: 'PUT', streamingBody: true }, OK],
    ['first request on a new connection: upgrade', [], { method: 'GET', upgrade: true }, OK],
    ['second request before any response: persistence not confirmed', [request('GET')], { method: 'GET' }, no('persistence-unconfirmed')],
    ['after the first response, nothing in flight: POST is fine', confirmed, { method: 'POST' }, OK],
    ...(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'] as const).map((m): [string, Setup[], PipelineRequest, PipelineVerdict] => [
      `persistence confirmed, GET in flight: ${m} may be pipelined`,
      [...confirmed, request('GET')],
      { method: m },
      OK,
    ]),
    ['persistence confirmed, GET in flight: POST is not pipelined', [...confirmed, request('GET')], { method: 'POST' }, no('not-idempotent')],
    ['persistence confirmed, GET in flight: PATCH is not pipelined', [...confirmed, request('GET')], { method: 'PATCH' }, no('not-idempotent')],
    ['persistence confirmed, GET in flight: CONNECT is not pipelined', [...confirmed, request('GET')], { method: 'CONNECT' }, no('upgrade')],
    ['persistence confirmed, GET in flight: an upgrade is not pipelined', [...confirmed, request('GET')], { method: 'GET', upgrade: true }, no('upgrade')],
    ['persistence confirmed, GET in flight: a streaming body is not pipelined', [...confirmed, request('GET')], { method: 'PUT', streamingBody: true }, no('streaming-body')],
    ['nothing behind a POST before its response head', [...confirmed, request('POST', {}, 'x')], { method: 'GET' }, no('behind-barrier')],
    ['nothing behind a POST even after earlier responses', [...confirmed, request('GET'), request('POST', {}, 'x'), respond()], { method: 'GET' }, no('behind-barrier')],
    ['behind a POST once its response head arrived', [...confirmed, request('POST', {}, 'x'), respondHeadOnly], { method: 'GET' }, OK],
    ['an HTTP/1.0 keep-alive response confirms persistence', [request('GET'), (p) => { p.client.receiveData(bytes('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n')); drain(p.client); p.server.sendMessage({ type: 'response', status: 200 }); }, request('GET')], { method: 'GET' }, OK],
    ['closing: the response said close', [request('GET'), respond({ Connection: 'close' })], { method: 'GET' }, no('closing')],
    ['closing: we said close', [request('GET', { Connection: 'close' })], { method: 'GET' }, no('closing')],
    ['closing: we closed', [(p) => void p.client.send({ type: 'connection-closed' })], { method: 'GET' }, no('closing')],
    ['our own request body is still streaming', [(p) => void p.client.send(req('PUT'), { streaming: true })], { method: 'GET' }, 'refused'],
    ['an Upgrade request waits for its answer', [request('GET', { Connection: 'upgrade', Upgrade: 'websocket' })], { method: 'GET' }, 'refused'],
  ];

  it.each(cases)('%s', (_label, setup, request, verdict) => {
    const pair = new ConnectionPair();
    for (const step of setup) step(pair);
    const got = pair.client.canSend(request);
    if (verdict === 'refused') expect(got.ok).toBe(false);
    else expect(got).toEqual(verdict);
  });
});

describe('Expect: 100-continue', () => {
  const head = (expect = '100-continue'): string => `POST /u HTTP/1.1\r\nHost: a\r\nExpect: ${expect}\r\nContent-Length: 3\r\n\r\n`;

  it('server: waiting until it sends 100; the body then flows', () => {
    const server = serverWith(head());
    expect(labels(server)).toEqual(['request POST /u']);
    expect(server.theyAreWaitingFor100Continue).toBe(true);
    expect(text(server.send({ type: 'informational-response', status: 100 }))).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    expect(server.theyAreWaitingFor100Continue).toBe(false);
    expect(server.states).toEqual({ client: 'SEND_BODY', server: 'SEND_RESPONSE' });
    server.receiveData(bytes('abc'));
    expect(labels(server)).toEqual(['data abc', 'end-of-message']);
  });

  it.each(['100-continue', '100-Continue'])('server: the expectation is recognised in any case (%s)', (value) => {
    const server = serverWith(head(value));
    drain(server);
    expect(server.theyAreWaitingFor100Continue).toBe(true);
  });

  it('server: no expectation, nobody waits', () => {
    const server = serverWith('POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n');
    drain(server);
    expect(server.theyAreWaitingFor100Continue).toBe(false);
  });

  it('server: a final response instead of 100 ends the wait', () => {
    const server = serverWith(head());
    drain(server);
    server.sendMessage({ type: 'response', status: 417 });
    expect(server.theyAreWaitingFor100Continue).toBe(false);
  });

  it('server: a final response to a client still waiting closes the connection', () => {
    const server = serverWith(head());
    drain(server);
    expect(text(server.sendMessage({ type: 'response', status: 401 }))).toMatch(/\r\nConnection: close\r\n/);
    expect(server.keepAlive).toBe(false);
  });

  it.each([
    ['after a 100', (server: Connection): void => void server.send({ type: 'informational-response', status: 100 }), ''],
    ['once body data arrived', (): void => undefined, 'a'],
  ])('server: a final response %s keeps the connection', (_label, before, data) => {
    const server = serverWith(`${head()}${data}`);
    drain(server);
    before(server);
    expect(text(server.send({ type: 'response', status: 200, headers: { 'Content-Length': '0' } }))).not.toMatch(/Connection: close/);
    expect(server.keepAlive).toBe(true);
  });

  it('server: body data arriving without a 100 ends the wait (the client did not wait)', () => {
    const server = serverWith(`${head()}a`);
    expect(labels(server)).toEqual(['request POST /u', 'data a']);
    expect(server.theyAreWaitingFor100Continue).toBe(false);
  });

  it('server: a 103 Early Hints does not end the wait', () => {
    const server = serverWith(head());
    drain(server);
    server.send({ type: 'informational-response', status: 103, headers: { Link: '</a>; rel=preload' } });
    expect(server.theyAreWaitingFor100Continue).toBe(true);
  });

  it('client: waiting after the head, until 100 arrives', () => {
    const pair = new ConnectionPair();
    const out = pair.client.send(req('POST', '/u', { Expect: '100-continue' }), { bodyLength: 3 });
    expect(pair.client.weAreWaitingFor100Continue).toBe(true);
    pair.server.receiveData(out[0]!);
    drain(pair.server);
    const interim = pair.send('server', [{ type: 'informational-response', status: 100 }]);
    expect(interim.map(label)).toEqual(['informational-response 100']);
    expect(pair.client.weAreWaitingFor100Continue).toBe(false);
    expect(pair.client.states).toEqual({ client: 'SEND_BODY', server: 'SEND_RESPONSE' });
    expect(pair.send('client', [{ type: 'data', data: bytes('abc') }, { type: 'end-of-message' }]).map(label)).toEqual(['data abc', 'end-of-message']);
  });

  it('client: a final response ends the wait', () => {
    const client = new Connection('client');
    client.send(req('POST', '/u', { Expect: '100-continue' }), { bodyLength: 3 });
    client.receiveData(bytes('HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n'));
    expect(labels(client)).toEqual(['response 417', 'end-of-message']);
    expect(client.weAreWaitingFor100Continue).toBe(false);
  });

  it('client: a 103 does not end the wait', () => {
    const client = new Connection('client');
    client.send(req('POST', '/u', { Expect: '100-continue' }), { bodyLength: 3 });
    client.receiveData(bytes('HTTP/1.1 103 Early Hints\r\n\r\n'));
    expect(labels(client)).toEqual(['informational-response 103']);
    expect(client.weAreWaitingFor100Continue).toBe(true);
  });

  it('client: sending the body anyway ends the wait', () => {
    const client = new Connection('client');
    client.send(req('POST', '/u', { Expect: '100-continue' }), { bodyLength: 3 });
    client.send({ type: 'data', data: bytes('a') });
    expect(client.weAreWaitingFor100Continue).toBe(false);
  });

  it('client: without the expectation we never wait', () => {
    const client = new Connection('client');
    client.send(req('POST', '/u'), { bodyLength: 3 });
    expect(client.weAreWaitingFor100Continue).toBe(false);
  });
});

describe('protocol switch: Upgrade', () => {
  const upgrade = req('GET', '/chat', { Connection: 'Upgrade', Upgrade: 'websocket' }) as SendEvent & { type: 'request' };
  const next = 'GET /next HTTP/1.1\r\nHost: example.com\r\n\r\n';

  function sent(): { client: Connection; server: Connection } {
    const client = new Connection('client');
    const server = new Connection('server');
    server.receiveData(client.sendMessage(upgrade));
    server.receiveData(bytes(next));
    return { client, server };
  }

  it('the client waits for the answer and sends nothing else meanwhile', () => {
    const { client } = sent();
    expect(client.states).toEqual({ client: 'MIGHT_SWITCH_PROTOCOL', server: 'SEND_RESPONSE' });
    expect(client.canSend({ method: 'GET' }).ok).toBe(false);
    expectLocal(() => client.send(get('/next')), 'H1_INVALID_STATE');
  });

  it('the server parses the request and is PAUSED for further pipelined input until it answers', () => {
    const { server } = sent();
    expect(labels(server)).toEqual(['request GET /chat', 'end-of-message']);
    expect(server.states).toEqual({ client: 'MIGHT_SWITCH_PROTOCOL', server: 'SEND_RESPONSE' });
    expect(server.nextEvent()).toBe(PAUSED);
    expect(server.pausedReason).toMatch(/switch/);
    expect(text(server.trailingData.data)).toBe(next);
  });

  it('accepting with 101: SWITCHED_PROTOCOL on both sides, trailingData carries the next bytes', () => {
    const { client, server } = sent();
    drain(server);
    const answer = server.send({ type: 'response', status: 101, headers: { Connection: 'Upgrade', Upgrade: 'websocket' } });
    expect(text(answer)).toBe('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(server.states).toEqual({ client: 'SWITCHED_PROTOCOL', server: 'SWITCHED_PROTOCOL' });
    expect(server.nextEvent()).toBe(PAUSED);
    expect(server.trailingData).toEqual({ data: bytes(next), closed: false });
    expectLocal(() => server.send({ type: 'data', data: bytes('x') }), 'H1_INVALID_STATE');

    const frame = new Uint8Array([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]);
    client.receiveData(bytes(text(answer) + text(frame)));
    expect(labels(client)).toEqual(['response 101']);
    expect(client.states).toEqual({ client: 'SWITCHED_PROTOCOL', server: 'SWITCHED_PROTOCOL' });
    expect(client.nextEvent()).toBe(PAUSED);
    expect(client.trailingData.data).toEqual(frame);
    expectLocal(() => client.send(get('/')), 'H1_INVALID_STATE');
  });

  it('declining with 200: the following pipelined request is parsed', () => {
    const { client, server } = sent();
    drain(server);
    const answer = server.sendMessage({ type: 'response', status: 200 }, bytes('no'));
    expect(server.states).toEqual({ client: 'IDLE', server: 'IDLE' });
    expect(labels(server)).toEqual(['request GET /next', 'end-of-message']);
    expect(server.pendingRequests).toEqual(['GET']);

    client.receiveData(answer);
    expect(labels(client)).toEqual(['response 200', 'data no', 'end-of-message']);
    expect(client.states).toEqual({ client: 'IDLE', server: 'IDLE' });
    expect(client.canSend({ method: 'GET' })).toEqual({ ok: true });
  });

  it('101 needs a request that asked for it', () => {
    const server = serverWith('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    drain(server);
    expectLocal(() => server.send({ type: 'response', status: 101, headers: { Upgrade: 'x' } }), 'H1_INVALID_STATE');
    expect(server.states).toEqual({ client: 'IDLE', server: 'SEND_RESPONSE' });
  });

  it('Upgrade without the upgrade connection option is not an upgrade request (RFC 9110 §7.8)', () => {
    const server = serverWith('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(labels(server)).toEqual(['request GET /', 'end-of-message', 'request GET /2', 'end-of-message']);
    expectLocal(() => server.send({ type: 'response', status: 101 }), 'H1_INVALID_STATE');
  });

  it('101 is refused while the request body is still arriving (RFC 9110 §7.8)', () => {
    const server = serverWith('POST /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: x\r\nContent-Length: 5\r\n\r\nab');
    expect(labels(server)).toEqual(['request POST /chat', 'data ab']);
    expectLocal(() => server.send({ type: 'response', status: 101, headers: { Connection: 'upgrade', Upgrade: 'x' } }), 'H1_INVALID_STATE');
    expect(server.states).toEqual({ client: 'SEND_BODY', server: 'SEND_RESPONSE' });
    server.receiveData(bytes('cde'));
    expect(labels(server)).toEqual(['data cde', 'end-of-message']);
    server.send({ type: 'response', status: 101, headers: { Connection: 'upgrade', Upgrade: 'x' } });
    expect(server.states).toEqual({ client: 'SWITCHED_PROTOCOL', server: 'SWITCHED_PROTOCOL' });
  });

  it('the client refuses a 101 it did not ask for', () => {
    const client = new Connection('client');
    client.sendMessage({ type: 'request', method: 'GET', target: '/', headers: HOST });
    client.receiveData(bytes('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n'));
    const err = expectRemote(() => client.nextEvent(), 'H1_UNEXPECTED_SWITCH');
    expect(err.status).toBe(502);
    expect(client.theirState).toBe('ERROR');
  });
});

describe('protocol switch: CONNECT', () => {
  const connect = { type: 'request', method: 'CONNECT', target: 'example.com:443', headers: { Host: 'example.com:443' } } as const;
  const hello = new Uint8Array([0x16, 0x03, 0x01, 0x00, 0xa5]);

  it('2xx makes a tunnel: no framing fields, both sides SWITCHED_PROTOCOL, bytes handed back', () => {
    const client = new Connection('client');
    const server = new Connection('server');
    server.receiveData(client.sendMessage(connect));
    expect(client.states).toEqual({ client: 'MIGHT_SWITCH_PROTOCOL', server: 'SEND_RESPONSE' });
    server.receiveData(hello);
    expect(labels(server)).toEqual(['request CONNECT example.com:443', 'end-of-message']);
    expect(server.nextEvent()).toBe(PAUSED);

    const answer = server.send({ type: 'response', status: 200 });
    expect(text(answer)).toBe('HTTP/1.1 200 OK\r\n\r\n');
    expect(server.states).toEqual({ client: 'SWITCHED_PROTOCOL', server: 'SWITCHED_PROTOCOL' });
    expect(server.trailingData.data).toEqual(hello);

    const serverHello = new Uint8Array([0x16, 0x03, 0x03, 0x00, 0x7a]);
    client.receiveData(bytes(text(answer) + text(serverHello)));
    expect(labels(client)).toEqual(['response 200']);
    expect(client.states).toEqual({ client: 'SWITCHED_PROTOCOL', server: 'SWITCHED_PROTOCOL' });
    expect(client.trailingData.data).toEqual(serverHello);
  });

  it('a 407 declines: normal framing, the connection goes on', () => {
    const pair = new ConnectionPair();
    pair.server.receiveData(pair.client.sendMessage(connect));
    drain(pair.server);
    pair.client.receiveData(pair.server.sendMessage({ type: 'response', status: 407 }, bytes('auth')));
    expect(labels(pair.client)).toEqual(['response 407', 'data auth', 'end-of-message']);
    expect(pair.client.states).toEqual({ client: 'IDLE', server: 'IDLE' });
    expect(pair.server.states).toEqual({ client: 'IDLE', server: 'IDLE' });
  });

  it('2xx to CONNECT is refused until the request has been read to its end', () => {
    const server = serverWith('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(label(server.nextEvent())).toBe('request CONNECT example.com:443');
    expectLocal(() => server.send({ type: 'response', status: 200 }), 'H1_INVALID_STATE');
    expect(label(server.nextEvent())).toBe('end-of-message');
    server.send({ type: 'response', status: 200 });
    expect(server.states).toEqual({ client: 'SWITCHED_PROTOCOL', server: 'SWITCHED_PROTOCOL' });
  });

  // RFC 9110 §9.3.6: a CONNECT request has no content. node:http (llhttp) takes the bytes after
  // the head for tunnel data whatever the framing fields say; reading them as a body instead
  // would end the request elsewhere than such a peer does.
  it.each([
    ['Content-Length: 10', 'Content-Length: 10\r\n'],
    ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked\r\n'],
  ])('server: a CONNECT request with %s is H1_CONNECT_WITH_CONTENT; the 400 closes the connection', (_name, fields) => {
    const server = serverWith(`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n${fields}\r\n0123456789`);
    const err = expectRemote(() => server.nextEvent(), 'H1_CONNECT_WITH_CONTENT');
    expect(err.status).toBe(400);
    expect(server.theirState).toBe('ERROR');
    const out = text(server.sendMessage({ type: 'response', status: err.status }));
    expect(out).toBe('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    expect(server.states).toEqual({ client: 'ERROR', server: 'MUST_CLOSE' });
    expect(server.keepAlive).toBe(false);
  });

  it('server: a CONNECT request with Content-Length: 0 is accepted', () => {
    const server = serverWith('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 0\r\n\r\n');
    expect(labels(server)).toEqual(['request CONNECT example.com:443', 'end-of-message']);
    server.send({ type: 'response', status: 200 });
    expect(server.states).toEqual({ client: 'SWITCHED_PROTOCOL', server: 'SWITCHED_PROTOCOL' });
  });

  it.each<[string, (c: Connection) => unknown, LocalErrorCode]>([
    ['a whole body', (c) => c.sendMessage(connect, bytes('0123456789')), 'H1_BODY_NOT_ALLOWED'],
    ['a body length', (c) => c.send(connect, { bodyLength: 10 }), 'H1_BODY_NOT_ALLOWED'],
    ['a streamed body', (c) => c.send(connect, { streaming: true }), 'H1_BODY_NOT_ALLOWED'],
    ['Content-Length: 10', (c) => c.send({ ...connect, headers: { ...connect.headers, 'Content-Length': '10' } }), 'H1_FRAMING_HEADERS_NOT_ALLOWED'],
    ['Transfer-Encoding: chunked', (c) => c.send({ ...connect, headers: { ...connect.headers, 'Transfer-Encoding': 'chunked' } }), 'H1_FRAMING_HEADERS_NOT_ALLOWED'],
  ])('client: a CONNECT request with %s is refused before anything is sent', (_name, act, code) => {
    const client = new Connection('client');
    expectLocal(() => act(client), code);
    expect(client.states).toEqual({ client: 'IDLE', server: 'IDLE' });
    expect(client.pendingRequests).toEqual([]);
  });

  it('client: a CONNECT request with no content is sent without a framing field (RFC 9110 §8.6)', () => {
    expect(text(new Connection('client').sendMessage(connect, new Uint8Array(0)))).toBe('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(text(new Connection('client').send(connect, { bodyLength: 0 }))).toBe('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    const zero = { ...connect, headers: { ...connect.headers, 'Content-Length': '0' } };
    expect(text(new Connection('client').send(zero))).toBe('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 0\r\n\r\n');
  });

  it('101 is not an answer to CONNECT', () => {
    const server = new Connection('server');
    server.receiveData(new Connection('client').sendMessage(connect));
    drain(server);
    expectLocal(() => server.send({ type: 'response', status: 101 }), 'H1_INVALID_STATE');
  });
});

describe('misuse: LocalProtocolError H1_INVALID_STATE, state unchanged', () => {
  const answered = (): Connection => {
    const s = serverWith('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    drain(s);
    s.sendMessage({ type: 'response', status: 200 }, bytes('x'));
    return s;
  };
  const responding = (): Connection => {
    const s = serverWith('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    drain(s);
    s.send({ type: 'response', status: 200 });
    return s;
  };
  const requested = (): Connection => {
    const s = serverWith('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    drain(s);
    return s;
  };
  const streaming = (): Connection => {
    const c = new Connection('client');
    c.send(req('PUT'), { streaming: true });
    return c;
  };
  const cases: [label: string, setup: () => Connection, act: (c: Connection) => unknown][] = [
    ['server: a second response while the first is being sent', responding, (s) => s.send({ type: 'response', status: 200 })],
    ['server: a second response after the only request was answered', answered, (s) => s.sendMessage({ type: 'response', status: 200 })],
    ['server: a 1xx after the final response', responding, (s) => s.send({ type: 'informational-response', status: 100 })],
    ['server: data before a head', requested, (s) => s.send({ type: 'data', data: bytes('x') })],
    ['server: end-of-message before a head', requested, (s) => s.send({ type: 'end-of-message' })],
    ['server: data on a fresh connection', () => new Connection('server'), (s) => s.send({ type: 'data', data: bytes('x') })],
    ['server: 100 Continue with no request', () => new Connection('server'), (s) => s.send({ type: 'informational-response', status: 100 })],
    ['server: a request from a server connection', () => new Connection('server'), (s) => s.send(get())],
    ['server: a success response with no request to answer', () => new Connection('server'), (s) => s.sendMessage({ type: 'response', status: 200 })],
    ['client: a response from a client connection', () => new Connection('client'), (c) => c.send({ type: 'response', status: 200 })],
    ['client: an informational response from a client connection', () => new Connection('client'), (c) => c.send({ type: 'informational-response', status: 100 })],
    ['client: data before a request head', () => new Connection('client'), (c) => c.send({ type: 'data', data: bytes('x') })],
    ['client: end-of-message before a request head', () => new Connection('client'), (c) => c.send({ type: 'end-of-message' })],
    ['client: a second request head while the body is streaming', streaming, (c) => c.send(get())],
    ['client: closing in the middle of a body', streaming, (c) => c.send({ type: 'connection-closed' })],
    ['server: data after we closed', () => { const s = new Connection('server'); s.send({ type: 'connection-closed' }); return s; }, (s) => s.send({ type: 'data', data: bytes('x') })],
    ['server: anything after a failed write', () => { const s = requested(); s.sendFailed(); return s; }, (s) => s.send({ type: 'response', status: 500 }, { bodyLength: 0 })],
  ];

  it.each(cases)('%s', (_label, setup, act) => {
    const conn = setup();
    const before = { states: conn.states, pending: conn.pendingRequests };
    expectLocal(() => act(conn), 'H1_INVALID_STATE');
    expect({ states: conn.states, pending: conn.pendingRequests }).toEqual(before);
  });

  it.each(['client', 'server'] as const)('%s: receiveData after receiveEof throws', (role) => {
    const conn = new Connection(role);
    conn.receiveEof();
    expectLocal(() => conn.receiveData(bytes('GET / HTTP/1.1\r\n')), 'H1_INVALID_STATE');
    expectLocal(() => conn.receiveData(new Uint8Array(0)), 'H1_INVALID_STATE');
  });
});

describe('end of input', () => {
  it('server: the client half-closes after pipelining two requests; both are answered, the last with close', () => {
    const server = serverWith('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
    server.receiveEof();
    expect(labels(server)).toEqual(['request GET /1', 'end-of-message', 'request GET /2', 'end-of-message', 'connection-closed']);
    expect(server.states).toEqual({ client: 'CLOSED', server: 'SEND_RESPONSE' });
    expect(server.pendingRequests).toEqual(['GET', 'GET']);

    expect(text(server.sendMessage({ type: 'response', status: 200 }, bytes('1')))).toBe('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1');
    expect(server.states).toEqual({ client: 'CLOSED', server: 'SEND_RESPONSE' });
    expect(text(server.sendMessage({ type: 'response', status: 200 }, bytes('2')))).toBe('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n2');
    expect(server.states).toEqual({ client: 'CLOSED', server: 'MUST_CLOSE' });
    expect(label(server.nextEvent())).toBe('connection-closed');
  });

  it('server: the client closes an idle connection', () => {
    const server = new Connection('server');
    server.receiveEof();
    expect(labels(server)).toEqual(['connection-closed']);
    expect(server.states).toEqual({ client: 'CLOSED', server: 'MUST_CLOSE' });
  });

  it('server: the client closes in the middle of a request head', () => {
    const server = serverWith('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHo');
    server.receiveEof();
    const firstTwo: NextEvent[] = [server.nextEvent(), server.nextEvent()];
    expect(firstTwo.map(label)).toEqual(['request GET /1', 'end-of-message']);
    expectRemote(() => server.nextEvent(), 'H1_INCOMPLETE_MESSAGE');
    expect(server.theirState).toBe('ERROR');
    // The complete request is still answered, and that answer closes.
    expect(text(server.sendMessage({ type: 'response', status: 200 }))).toMatch(/\r\nConnection: close\r\n/);
    expect(server.ourState).toBe('MUST_CLOSE');
  });

  it('client: the server closes an idle keep-alive connection', () => {
    const pair = new ConnectionPair();
    pair.send('client', [get(), { type: 'end-of-message' }]);
    pair.send('server', [{ type: 'response', status: 200, headers: { 'Content-Length': '0' } }, { type: 'end-of-message' }]);
    expect(pair.client.states).toEqual({ client: 'IDLE', server: 'IDLE' });
    pair.client.receiveEof();
    expect(labels(pair.client)).toEqual(['connection-closed']);
    expect(pair.client.states).toEqual({ client: 'MUST_CLOSE', server: 'CLOSED' });
    expect(pair.client.pendingRequests).toEqual([]);
  });

  it('client: the server closes with requests in flight and no response bytes', () => {
    const client = new Connection('client');
    client.sendMessage({ type: 'request', method: 'GET', target: '/1', headers: HOST });
    client.sendMessage({ type: 'request', method: 'HEAD', target: '/2', headers: HOST });
    client.receiveEof();
    expect(labels(client)).toEqual(['connection-closed']);
    expect(client.pendingRequests).toEqual(['GET', 'HEAD']);
    expect(client.states).toEqual({ client: 'MUST_CLOSE', server: 'CLOSED' });
  });

  it('client: the server closes after the first of two responses; only the second is pending', () => {
    const client = new Connection('client');
    client.sendMessage({ type: 'request', method: 'GET', target: '/1', headers: HOST });
    client.sendMessage({ type: 'request', method: 'PUT', target: '/2', headers: HOST }, bytes('x'));
    client.receiveData(bytes('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    client.receiveEof();
    expect(labels(client)).toEqual(['response 200', 'end-of-message', 'connection-closed']);
    expect(client.pendingRequests).toEqual(['PUT']);
  });

  it('client: the server closes in the middle of a response head', () => {
    const client = new Connection('client');
    client.sendMessage({ type: 'request', method: 'GET', target: '/', headers: HOST });
    client.receiveData(bytes('HTTP/1.1 200 OK\r\nContent-Le'));
    client.receiveEof();
    const err = expectRemote(() => client.nextEvent(), 'H1_INCOMPLETE_MESSAGE');
    expect(client.theirState).toBe('ERROR');
    expect(thrown(() => client.nextEvent())).toBe(err);
  });

  it('client: the server closes before the Content-Length is complete (truncated body)', () => {
    const client = new Connection('client');
    client.sendMessage({ type: 'request', method: 'GET', target: '/', headers: HOST });
    client.receiveData(bytes('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab'));
    client.receiveEof();
    expect(label(client.nextEvent())).toBe('response 200');
    expect(label(client.nextEvent())).toBe('data ab');
    expectRemote(() => client.nextEvent(), 'H1_INCOMPLETE_MESSAGE');
  });
});

describe('error responses', () => {
  it('after a bad request head the server sends one 400 with Connection: close, then MUST_CLOSE', () => {
    const server = serverWith('GET / HTTP/1.1\r\nHost : a\r\n\r\n');
    const err = expectRemote(() => server.nextEvent(), 'H1_WHITESPACE_BEFORE_COLON');
    expect(err.status).toBe(400);
    expect(server.theirState).toBe('ERROR');
    expect(thrown(() => server.nextEvent())).toBe(err);

    const out = text(server.sendMessage({ type: 'response', status: err.status }, bytes('bad')));
    expect(out).toBe('HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbad');
    expect(server.states).toEqual({ client: 'ERROR', server: 'MUST_CLOSE' });
    expect(server.keepAlive).toBe(false);
    expectLocal(() => server.sendMessage({ type: 'response', status: 400 }), 'H1_INVALID_STATE');
  });

  it('a bad chunk inside the first request: the 400 answers that request and closes', () => {
    const server = serverWith('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    expect(label(server.nextEvent())).toBe('request POST /');
    expectRemote(() => server.nextEvent(), 'H1_INVALID_CHUNK_SIZE');
    const out = text(server.sendMessage({ type: 'response', status: 400 }));
    expect(out).toBe('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    expect(server.pendingRequests).toEqual([]);
    expect(server.ourState).toBe('MUST_CLOSE');
  });

  it('a Transfer-Encoding with an empty list element ("chunked,"): the 400 closes, the chunked bytes are never read', () => {
    const server = serverWith('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n');
    const err = expectRemote(() => server.nextEvent(), 'H1_TRANSFER_ENCODING_NOT_CHUNKED');
    expect(err.status).toBe(400);
    expect(text(server.sendMessage({ type: 'response', status: err.status }))).toBe('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    expect(server.states).toEqual({ client: 'ERROR', server: 'MUST_CLOSE' });
    expect(server.requestCount).toBe(0);
  });

  it('the caller’s own keep-alive is overridden on an error response', () => {
    const server = serverWith('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    expectRemote(() => server.nextEvent(), 'H1_DUPLICATE_HOST');
    const out = text(server.sendMessage({ type: 'response', status: 400, headers: { Connection: 'keep-alive', 'Keep-Alive': 'timeout=5' } }));
    expect(out).toBe('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });

  it('a 408 on an idle connection is allowed, says close and ends the connection', () => {
    const server = new Connection('server');
    expect(text(server.sendMessage({ type: 'response', status: 408 }))).toBe('HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    expect(server.states).toEqual({ client: 'MUST_CLOSE', server: 'MUST_CLOSE' });
    expectLocal(() => server.sendMessage({ type: 'response', status: 408 }), 'H1_INVALID_STATE');
  });

  it('a 408 on a keep-alive connection idle after an exchange is allowed', () => {
    const server = serverWith('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    drain(server);
    server.sendMessage({ type: 'response', status: 200 });
    expect(text(server.sendMessage({ type: 'response', status: 408 }))).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n.*Connection: close\r\n\r\n$/s);
    expect(server.ourState).toBe('MUST_CLOSE');
  });

  it('a 408 while a request head is half received: the partial head is never parsed', () => {
    const server = serverWith('GET /slow HTTP/1.1\r\nHo');
    expect(server.nextEvent()).toBe(NEED_DATA);
    server.sendMessage({ type: 'response', status: 408 });
    expect(server.nextEvent()).toBe(PAUSED);
    expect(server.requestCount).toBe(0);
  });
});
