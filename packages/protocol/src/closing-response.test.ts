/**
 * A final response the server sends as the last on its connection: `close: true` on the head
 * (the server's own decision: a request limit, a shutdown) always ends the connection and says
 * `Connection: close`; and whatever made a response the last one, it carries no `keep-alive`
 * token and no Keep-Alive field (RFC 9112 §9.6: close means no further request is read; the
 * Keep-Alive parameters describe a connection that persists).
 */

import { describe, expect, it } from 'vitest';
import { Connection } from './connection.js';
import { decodeLatin1 } from './latin1.js';
import type { SendResponse } from './events.js';
import { bytes } from './testing.js';

/** A server connection that has received `requests` and sends `head` with body "ok" through `how`. */
function text(b: Uint8Array): string {
  return decodeLatin1(b, 0, b.length);
}

function answer(requests: string, head: Omit<SendResponse, 'type'>, how: 'message' | 'text' | 'send'): { wire: string; state: string } {
  const conn = new Connection('server');
  conn.receiveData(bytes(requests));
  while (true) {
    const e = conn.nextEvent();
    if (typeof e === 'symbol' || e.type === 'end-of-message') break;
  }
  const full: SendResponse & { type: 'response' } = { type: 'response', ...head };
  let wire: string;
  if (how === 'message') wire = text(conn.sendMessage(full, bytes('ok')));
  else if (how === 'text') {
    const out = conn.sendMessageText(full, 'ok');
    wire = typeof out === 'string' ? out : text(out);
  } else {
    wire = conn.send(full).map(text).join('');
    wire += conn.send({ type: 'data', data: bytes('ok') }).map(text).join('');
    wire += conn.send({ type: 'end-of-message' }).map(text).join('');
  }
  return { wire, state: conn.ourState };
}

function fieldLines(wire: string, name: string): string[] {
  const head = wire.slice(0, wire.indexOf('\r\n\r\n'));
  return head
    .split('\r\n')
    .slice(1)
    .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((l) => l.slice(l.indexOf(':') + 1).trim());
}

const GET = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
const GET_CLOSE = 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';

interface Case {
  readonly name: string;
  readonly request: string;
  readonly headers: readonly string[];
  readonly close?: boolean;
  /** Connection field lines expected on the wire. */
  readonly connection: readonly string[];
  readonly keepAliveField: boolean;
  readonly state: 'MUST_CLOSE' | 'IDLE';
}

const CASES: readonly Case[] = [
  { name: 'close: true, no caller fields', request: GET, headers: [], close: true, connection: ['close'], keepAliveField: false, state: 'MUST_CLOSE' },
  { name: 'close: true over the caller\'s Connection: keep-alive', request: GET, headers: ['Connection', 'keep-alive'], close: true, connection: ['close'], keepAliveField: false, state: 'MUST_CLOSE' },
  { name: 'close: true over Connection: keep-alive and Keep-Alive', request: GET, headers: ['Connection', 'keep-alive', 'Keep-Alive', 'timeout=5, max=9'], close: true, connection: ['close'], keepAliveField: false, state: 'MUST_CLOSE' },
  { name: 'close: true keeps other Connection tokens', request: GET, headers: ['Connection', 'x-trace, keep-alive', 'X-Trace', '1'], close: true, connection: ['close, x-trace'], keepAliveField: false, state: 'MUST_CLOSE' },
  { name: 'close: true with the caller\'s own Connection: close', request: GET, headers: ['Connection', 'close'], close: true, connection: ['close'], keepAliveField: false, state: 'MUST_CLOSE' },
  { name: 'the caller\'s Connection: close drops its Keep-Alive', request: GET, headers: ['Connection', 'close', 'Keep-Alive', 'timeout=5, max=998'], connection: ['close'], keepAliveField: false, state: 'MUST_CLOSE' },
  { name: 'the caller\'s "close, keep-alive" is made consistent', request: GET, headers: ['Connection', 'close, keep-alive'], connection: ['close'], keepAliveField: false, state: 'MUST_CLOSE' },
  { name: 'a request with Connection: close drops the Keep-Alive field', request: GET_CLOSE, headers: ['Keep-Alive', 'timeout=5'], connection: ['close'], keepAliveField: false, state: 'MUST_CLOSE' },
  { name: 'close: false persists and keeps the caller\'s fields', request: GET, headers: ['Keep-Alive', 'timeout=5, max=9'], close: false, connection: [], keepAliveField: true, state: 'IDLE' },
  { name: 'no decision persists', request: GET, headers: ['Connection', 'keep-alive'], connection: ['keep-alive'], keepAliveField: false, state: 'IDLE' },
];

describe('a final response sent as the last on its connection', () => {
  for (const how of ['message', 'text', 'send'] as const) {
    for (const c of CASES) {
      it(`${c.name} (${how})`, () => {
        const { wire, state } = answer(c.request, { status: 200, headers: c.headers, ...(c.close === undefined ? {} : { close: c.close }) }, how);
        expect(fieldLines(wire, 'connection')).toEqual(c.connection);
        expect(fieldLines(wire, 'keep-alive').length > 0).toBe(c.keepAliveField);
        expect(state).toBe(c.state);
      });
    }
  }

  it('close: true on the answer to the first of two pipelined requests: the second is never answered', () => {
    const conn = new Connection('server');
    conn.receiveData(bytes(GET + GET));
    conn.nextEvent();
    conn.nextEvent();
    conn.sendMessage({ type: 'response', status: 200, close: true }, bytes('ok'));
    expect(conn.ourState).toBe('MUST_CLOSE');
    expect(() => conn.sendMessage({ type: 'response', status: 200 }, bytes('ok'))).toThrow(/MUST_CLOSE/);
  });
});

describe('sendingChunked', () => {
  it.each([
    ['a streamed response to HTTP/1.1', GET, [], true],
    ['a response with Content-Length', GET, ['Content-Length', '2'], false],
    ['a streamed response to HTTP/1.0', 'GET / HTTP/1.0\r\n\r\n', [], false],
  ] as const)('%s: %s', (_name, request, headers, chunked) => {
    const conn = new Connection('server');
    conn.receiveData(bytes(request));
    conn.nextEvent();
    expect(conn.sendingChunked).toBe(false);
    conn.send({ type: 'response', status: 200, headers: [...headers] });
    expect(conn.sendingChunked).toBe(chunked);
    conn.send({ type: 'data', data: bytes('ok') });
    conn.send({ type: 'end-of-message' });
    expect(conn.sendingChunked).toBe(false);
  });
});
