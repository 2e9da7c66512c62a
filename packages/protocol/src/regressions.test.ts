/** Regression tests, each named for what broke. */
import { describe, expect, it } from 'vitest';
import { Connection, Fields, LocalProtocolError, NEED_DATA, PAUSED, RemoteProtocolError, formatKeepAlive } from './index.js';
import { ConnectionPair, bytes, drain } from './testing.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('regressions', () => {
  it('a long extension method with a short target is not refused as 414', () => {
    const c = new Connection('server', { maxTargetLength: 16 });
    const method = 'X'.repeat(40);
    c.receiveData(bytes(`${method} /short HTTP/1.1\r\nHost: a\r\n\r\n`));
    const [head] = drain(c);
    expect(head).toMatchObject({ type: 'request', method, target: '/short' });
  });

  it('a long target is still refused as 414 before its line ends', () => {
    const c = new Connection('server', { maxTargetLength: 16 });
    c.receiveData(bytes(`GET /${'a'.repeat(40)}`));
    expect(() => c.nextEvent()).toThrow(expect.objectContaining({ code: 'H1_TARGET_TOO_LONG', status: 414 }) as Error);
  });

  it('input after a decided close is dropped, not buffered', () => {
    const c = new Connection('server');
    c.receiveData(bytes('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'));
    drain(c);
    expect(c.theirState).toBe('MUST_CLOSE');
    const mib = new Uint8Array(1 << 20).fill(0x41);
    for (let i = 0; i < 4; i++) c.receiveData(mib);
    expect(c.trailingData.data.length).toBe(0);
    expect(c.discardedBytes).toBe(4 << 20);
  });

  it('a malformed pipelined request does not stop the earlier request from being answered on a live connection, then 400', () => {
    const s = new Connection('server');
    s.receiveData(bytes('GET /ok HTTP/1.1\r\nHost: a\r\n\r\nGET /bad HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n'));
    const events = [s.nextEvent(), s.nextEvent()];
    expect(events.map((e) => (typeof e === 'symbol' ? e : e.type))).toEqual(['request', 'end-of-message']);
    expect(() => s.nextEvent()).toThrow(RemoteProtocolError);
    const ok = text(s.sendMessage({ type: 'response', status: 200 }, bytes('fine')));
    expect(ok).not.toMatch(/connection: close/i);
    expect(s.ourState).toBe('IDLE');
    const bad = text(s.sendMessage({ type: 'response', status: 400 }, bytes('bad')));
    expect(bad).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(bad).toMatch(/\r\nConnection: close\r\n/);
    expect(s.ourState).toBe('MUST_CLOSE');
  });

  it('canSend says busy, not closing, while our request body is still being sent', () => {
    const pair = new ConnectionPair();
    pair.client.send({ type: 'request', method: 'PUT', target: '/', headers: { host: 'a', 'transfer-encoding': 'chunked' } });
    expect(pair.client.canSend({ method: 'GET' })).toEqual({ ok: false, reason: 'busy' });
    pair.client.send({ type: 'end-of-message' });
    expect(pair.client.canSend({ method: 'GET' })).toEqual({ ok: false, reason: 'persistence-unconfirmed' });
  });

  it('a POST without a body is sent with Content-Length: 0, a GET without one', () => {
    const c = new Connection('client');
    const post = text(c.sendMessage({ type: 'request', method: 'POST', target: '/', headers: { host: 'a' } }));
    expect(post).toContain('\r\nContent-Length: 0\r\n');
    const d = new Connection('client');
    const get = text(d.sendMessage({ type: 'request', method: 'GET', target: '/', headers: { host: 'a' } }));
    expect(get).not.toMatch(/content-length/i);
  });

  it('formatKeepAlive refuses a parameter value that would inject a line break', () => {
    expect(() => formatKeepAlive({ extensions: [['x', 'a\r\nSet-Cookie: b']] })).toThrow(RangeError);
    expect(formatKeepAlive({ timeout: 5, extensions: [['x', 'a b']] })).toBe('timeout=5, x="a b"');
  });

  it('a response read until close is complete only at end of input', () => {
    const c = new Connection('client');
    c.send({ type: 'request', method: 'GET', target: '/', headers: { host: 'a' } });
    c.send({ type: 'end-of-message' });
    c.receiveData(bytes('HTTP/1.0 200 OK\r\n\r\nabc'));
    expect(drain(c).map((e) => e.type)).toEqual(['response', 'data']);
    expect(c.nextEvent()).toBe(NEED_DATA);
    c.receiveEof();
    expect(drain(c).map((e) => e.type)).toEqual(['end-of-message', 'connection-closed']);
  });

  it('a client cannot send on a connection whose response it could not parse', () => {
    const c = new Connection('client');
    c.sendMessage({ type: 'request', method: 'GET', target: '/1', headers: { host: 'a' } });
    c.receiveData(bytes('HTTP/1.1 200 OK\r\nContent-Length: zz\r\n\r\n'));
    expect(() => c.nextEvent()).toThrow(RemoteProtocolError);
    expect(c.ourState).toBe('MUST_CLOSE');
    expect(() => c.sendMessage({ type: 'request', method: 'POST', target: '/2', headers: { host: 'a' } }, bytes('x'))).toThrow(
      expect.objectContaining({ code: 'H1_REQUEST_AFTER_CLOSE' }) as Error,
    );
  });

  it('a client reports every unusable response as 502, whatever the code', () => {
    const c = new Connection('client');
    c.sendMessage({ type: 'request', method: 'GET', target: '/', headers: { host: 'a' } });
    c.receiveData(bytes(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(20000)}\r\n\r\n`));
    expect(() => c.nextEvent()).toThrow(expect.objectContaining({ code: 'H1_HEADERS_TOO_LARGE', status: 502 }) as Error);
  });

  it('no 1xx goes to an HTTP/1.0 client, and its 100-continue is ignored', () => {
    const s = new Connection('server');
    s.receiveData(bytes('POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n'));
    expect(s.nextEvent()).toMatchObject({ type: 'request', version: '1.0' });
    expect(s.theyAreWaitingFor100Continue).toBe(false);
    expect(() => s.send({ type: 'informational-response', status: 100 })).toThrow(expect.objectContaining({ code: 'H1_INVALID_STATE' }) as Error);
    expect(() => s.send({ type: 'informational-response', status: 103, headers: { link: '</a>; rel=preload' } })).toThrow(LocalProtocolError);
  });

  it('100-continue is pending only for the request whose response is next', () => {
    const s = new Connection('server');
    s.receiveData(bytes('GET /a HTTP/1.1\r\nHost: a\r\n\r\nPUT /b HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n'));
    expect(drain(s).map((e) => e.type)).toEqual(['request', 'end-of-message', 'request']);
    expect(s.theyAreWaitingFor100Continue).toBe(false);
    s.sendMessage({ type: 'response', status: 200 }, bytes('a'));
    expect(s.theyAreWaitingFor100Continue).toBe(true);
    expect(text(concat(s.send({ type: 'informational-response', status: 100 })))).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    expect(s.theyAreWaitingFor100Continue).toBe(false);
  });

  it('an empty line after a response does not break an idle client connection', () => {
    const c = new Connection('client');
    c.sendMessage({ type: 'request', method: 'GET', target: '/', headers: { host: 'a' } });
    c.receiveData(bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok\r\n'));
    expect(drain(c).map((e) => e.type)).toEqual(['response', 'data', 'end-of-message']);
    expect(c.nextEvent()).toBe(PAUSED);
    c.sendMessage({ type: 'request', method: 'GET', target: '/2', headers: { host: 'a' } });
    c.receiveData(bytes('HTTP/1.1 204 No Content\r\n\r\n'));
    expect(drain(c).map((e) => e.type)).toEqual(['response', 'end-of-message']);
  });

  it('a 101 must name its protocol and follow the whole request', () => {
    const upgrade = { host: 'a', connection: 'upgrade', upgrade: 'websocket' };
    const c = new Connection('client');
    c.sendMessage({ type: 'request', method: 'GET', target: '/', headers: upgrade });
    c.receiveData(bytes('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\n'));
    expect(() => c.nextEvent()).toThrow(expect.objectContaining({ code: 'H1_UNEXPECTED_SWITCH' }) as Error);
    const s = new Connection('server');
    s.receiveData(bytes('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'));
    drain(s);
    expect(() => s.send({ type: 'informational-response', status: 101 })).toThrow(LocalProtocolError);
    expect(s.send({ type: 'informational-response', status: 101, headers: { upgrade: 'websocket', connection: 'upgrade' } })).toHaveLength(1);
    expect(s.ourState).toBe('SWITCHED_PROTOCOL');
  });

  it('a 205 carries Content-Length: 0 and refuses a body', () => {
    const s = new Connection('server');
    s.receiveData(bytes('POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n'));
    drain(s);
    expect(() => s.sendMessage({ type: 'response', status: 205 }, bytes('x'))).toThrow(expect.objectContaining({ code: 'H1_BODY_NOT_ALLOWED' }) as Error);
    expect(s.ourState).toBe('SEND_RESPONSE');
    expect(text(s.sendMessage({ type: 'response', status: 205 }))).toBe('HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n');
  });

  it('sendMessage refuses forbidden trailers before anything is sent', () => {
    const s = new Connection('server');
    s.receiveData(bytes('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
    drain(s);
    const head = { type: 'response', status: 200, headers: { 'transfer-encoding': 'chunked' } } as const;
    expect(() => s.sendMessage(head, bytes('hi'), new Fields(['Content-Length', '2']))).toThrow(
      expect.objectContaining({ code: 'H1_FRAMING_HEADERS_NOT_ALLOWED' }) as Error,
    );
    expect(s.ourState).toBe('SEND_RESPONSE');
    expect(text(s.sendMessage(head, bytes('hi'), new Fields(['X-Sum', 'abc'])))).toContain('2\r\nhi\r\n0\r\nX-Sum: abc\r\n\r\n');
  });

  it('looking up one field of a parsed head matches names exactly, case-insensitively', () => {
    const s = new Connection('server');
    s.receiveData(bytes('GET / HTTP/1.1\r\nHost: a\r\nA^b: caret\r\nX-Twice: 1\r\nx-twice: 2\r\n\r\n'));
    const [req] = drain(s);
    if (req?.type !== 'request') throw new Error('no request');
    expect(req.headers.get('a~b')).toBeUndefined();
    expect(req.headers.get('A^B')).toBe('caret');
    expect(req.headers.getAll('x-twice')).toEqual(['1', '2']);
    expect(req.headers.has('expect')).toBe(false);
    expect(req.headers.raw).toEqual(['Host', 'a', 'A^b', 'caret', 'X-Twice', '1', 'x-twice', '2']);
    expect(req.headers.get('X-TWICE')).toBe('1, 2');
  });
});

function concat(parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
