/**
 * `sendMessageText`: the same message as `sendMessage` with the body encoded as UTF-8 — as one
 * string when the head is ASCII and the body follows it unframed, as the very same bytes
 * otherwise — and the same state afterwards.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Connection } from './connection.js';
import { LocalProtocolError } from './errors.js';
import { utf8Length } from './latin1.js';
import { bytes, drain } from './testing.js';

type Head = Parameters<Connection['sendMessage']>[0];

/** A server connection that has received `request` (or a client connection, fresh). */
function server(request = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'): Connection {
  const conn = new Connection('server');
  conn.receiveData(bytes(request));
  drain(conn);
  return conn;
}

function asBytes(out: string | Uint8Array): Uint8Array {
  return typeof out === 'string' ? new TextEncoder().encode(out) : out;
}

/** Send `head` + `body` both ways on twin connections and compare bytes and states. */
function same(make: () => Connection, head: Head, body: string): string | Uint8Array {
  const a = make();
  const b = make();
  const text = a.sendMessageText(head, body);
  const encoded = new TextEncoder().encode(body);
  const reference = b.sendMessage(head, head.type === 'request' && body === '' ? undefined : encoded);
  expect(Buffer.from(asBytes(text)).toString('latin1')).toBe(Buffer.from(reference).toString('latin1'));
  expect(a.states).toEqual(b.states);
  return text;
}

describe('sendMessageText', () => {
  it('an ASCII head and a UTF-8 body: one string, Content-Length in bytes', () => {
    const out = same(() => server(), { type: 'response', status: 200, headers: ['Content-Type', 'text/plain; charset=utf-8'] }, 'héllo ✓ 😀');
    expect(typeof out).toBe('string');
    expect(out).toMatch(/\r\nContent-Length: 15\r\n\r\nhéllo ✓ 😀$/);
  });

  it('a head with obs-text comes back as the same bytes sendMessage writes', () => {
    const out = same(() => server(), { type: 'response', status: 200, headers: ['X-Latin', 'caf\u00e9'] }, 'body');
    expect(out).toBeInstanceOf(Uint8Array);
  });

  it('a chunked response (the handler asked for it) comes back as bytes', () => {
    const out = same(() => server(), { type: 'response', status: 200, headers: ['Transfer-Encoding', 'chunked'] }, 'abc');
    expect(out).toBeInstanceOf(Uint8Array);
  });

  it('a HEAD answer: the head alone; a body there is refused and nothing changes', () => {
    const make = (): Connection => server('HEAD / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(same(make, { type: 'response', status: 200, headers: ['Content-Length', '5'] }, '')).toMatch(/Content-Length: 5\r\n\r\n$/);
    const conn = make();
    const before = conn.states;
    expect(() => conn.sendMessageText({ type: 'response', status: 200 }, 'x')).toThrow(LocalProtocolError);
    expect(conn.states).toEqual(before);
  });

  it('requests: a GET without a body has no Content-Length, a POST with an empty one says 0', () => {
    const client = (): Connection => new Connection('client');
    expect(same(client, { type: 'request', method: 'GET', target: '/a', headers: ['Host', 'a'] }, '')).not.toMatch(/Content-Length/);
    const post = client().sendMessageText({ type: 'request', method: 'POST', target: '/a', headers: ['Host', 'a'] }, '');
    expect(post).toMatch(/Content-Length: 0\r\n\r\n$/);
  });

  it('utf8Length counts like TextEncoder, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
      }),
      { numRuns: 500 },
    );
    expect(utf8Length('\ud800x\udc00')).toBe(7);
  });

  it('any text body and ASCII fields: the text message equals the byte message', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.constantFrom(200, 201, 404, 500), (body, status) => {
        same(() => server(), { type: 'response', status, headers: ['Content-Type', 'text/plain'] }, body);
      }),
      { numRuns: 200 },
    );
  });
});
