/** Regression tests, each named for what broke. */
import { describe, expect, it } from 'vitest';
import { Connection, NEED_DATA, RemoteProtocolError, formatKeepAlive } from './index.js';
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
});
