import { describe, expect, it } from 'vitest';
import { Connection, LocalProtocolError } from './index.js';

/** A server connection that has received `raw` and read every event it holds. */
function received(raw: string, eof = false): Connection {
  const c = new Connection('server');
  c.receiveData(new TextEncoder().encode(raw));
  if (eof) c.receiveEof();
  for (let e = c.nextEvent(); typeof e !== 'symbol' && e.type !== 'connection-closed'; e = c.nextEvent()) {
    if (e.type === 'end-of-message' && c.theirState !== 'IDLE') break;
  }
  return c;
}

const GET = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

describe('sentElsewhere: a response another serializer wrote completes its exchange', () => {
  it.each([
    ['a persistent request, response keeps alive', GET, false, false, false],
    ['the response closes', GET, true, false, true],
    ['the request says Connection: close', 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', false, false, true],
    ['an HTTP/1.0 request without keep-alive', 'GET / HTTP/1.0\r\n\r\n', false, false, true],
    ['an HTTP/1.0 request with keep-alive', 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', false, false, false],
    ['the client finished sending', GET, false, true, true],
    ['a 2xx to CONNECT is no tunnel here', 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n', false, false, true],
  ])('%s', (_name, raw, close, eof, mustClose) => {
    const c = received(raw, eof);
    expect(c.sentElsewhere(200, close)).toBe(mustClose);
    expect(c.ourState).toBe(mustClose ? 'MUST_CLOSE' : 'IDLE');
    expect(c.keepAlive).toBe(!mustClose);
  });

  it('answers pipelined requests one at a time, oldest first', () => {
    const c = received(GET + GET);
    c.nextEvent();
    c.nextEvent();
    expect(c.pendingRequests).toEqual(['GET', 'GET']);
    expect(c.sentElsewhere(200, false)).toBe(false);
    expect(c.ourState).toBe('SEND_RESPONSE');
    expect(c.pendingRequests).toEqual(['GET']);
    expect(c.sentElsewhere(404, false)).toBe(false);
    expect(c.ourState).toBe('IDLE');
  });

  it.each([
    ['no request awaits a response', () => new Connection('server'), 200],
    ['a status that is not final', () => received(GET), 100],
    ['a status out of range', () => received(GET), 1000],
    ['a response already being sent', () => {
      const c = received(GET);
      c.send({ type: 'response', status: 200, headers: ['Content-Length', '1'] });
      return c;
    }, 200],
    ['a client connection', () => new Connection('client'), 200],
  ])('refuses %s', (_name, make, status) => {
    expect(() => make().sentElsewhere(status, false)).toThrow(LocalProtocolError);
  });
});
