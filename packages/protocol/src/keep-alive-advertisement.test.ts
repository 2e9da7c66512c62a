import { describe, expect, it } from 'vitest';
import { Connection, LocalProtocolError } from './index.js';

/** A server connection that has received `raw` and read every event it holds. */
function received(raw: string): Connection {
  const c = new Connection('server');
  c.receiveData(new TextEncoder().encode(raw));
  for (let e = c.nextEvent(); typeof e !== 'symbol' && e.type !== 'connection-closed'; e = c.nextEvent()) {
    if (e.type === 'end-of-message' && c.theirState !== 'IDLE') break;
  }
  return c;
}

/** The head's field lines after the status line, as `name: value` strings. */
function fieldLines(out: string | Uint8Array): string[] {
  const text = typeof out === 'string' ? out : Buffer.from(out).toString('latin1');
  return text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n').slice(1);
}

const GET = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
const KA = 'timeout=5, max=99';

describe('send({ keepAlive }): the Keep-Alive advertisement, named in Connection', () => {
  it.each([
    ['a persistent response', GET, [], false, ['Connection: keep-alive', `Keep-Alive: ${KA}`]],
    ['the caller already says Connection: keep-alive', GET, ['Connection', 'keep-alive'], false, ['Connection: keep-alive', `Keep-Alive: ${KA}`]],
    ['the caller names another option: keep-alive is added', GET, ['Connection', 'x-trace'], false, ['Connection: x-trace', 'Connection: keep-alive', `Keep-Alive: ${KA}`]],
    ['the caller\'s own Keep-Alive is replaced', GET, ['keep-ALIVE', 'timeout=600'], false, ['Connection: keep-alive', `Keep-Alive: ${KA}`]],
    ['an HTTP/1.0 client that asked to keep the connection', 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', [], false, ['Connection: keep-alive', `Keep-Alive: ${KA}`]],
    ['the sender closes: neither', GET, [], true, ['Connection: close']],
    ['the request said close: neither', 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', [], false, ['Connection: close']],
    ['an HTTP/1.0 client without keep-alive: neither', 'GET / HTTP/1.0\r\n\r\n', [], false, ['Connection: close']],
  ] as const)('%s', (_name, raw, headers, close, expected) => {
    for (const how of ['send', 'sendMessage', 'sendMessageText'] as const) {
      const c = received(raw);
      const head = { type: 'response' as const, status: 200, headers: [...headers, 'Content-Length', '2'], close, keepAlive: KA };
      const out = how === 'send' ? c.send(head)[0]! : how === 'sendMessage' ? c.sendMessage(head, new TextEncoder().encode('ok')) : c.sendMessageText(head, 'ok');
      const lines = fieldLines(out).filter((l) => /^(connection|keep-alive):/i.test(l));
      expect(lines, how).toEqual(expected);
    }
  });

  it('without keepAlive nothing is added to a persistent 1.1 response', () => {
    const c = received(GET);
    expect(fieldLines(c.sendMessageText({ type: 'response', status: 200 }, 'ok'))).toEqual(['Content-Length: 2']);
  });

  it('a value that is not a field value is refused, and nothing is sent', () => {
    const c = received(GET);
    expect(() => c.sendMessageText({ type: 'response', status: 200, keepAlive: 'timeout=5\r\nX-Injected: 1' }, 'ok')).toThrow(LocalProtocolError);
    expect(c.ourState).toBe('SEND_RESPONSE');
  });

  it('a refused value is refused every time it is given, not only the first', () => {
    for (let i = 0; i < 3; i++) {
      const c = received(GET);
      expect(() => c.sendMessageText({ type: 'response', status: 200, keepAlive: ' timeout=5' }, 'ok')).toThrow(LocalProtocolError);
    }
  });

  it('values counting down, each sent as given, every form of send alike', () => {
    for (let max = 50; max > 0; max--) {
      const value = `timeout=5, max=${max}`;
      for (const how of ['send', 'sendMessage', 'sendMessageText'] as const) {
        const c = received(GET);
        const head = { type: 'response' as const, status: 200, headers: ['Content-Length', '2'], keepAlive: value };
        const out = how === 'send' ? c.send(head)[0]! : how === 'sendMessage' ? c.sendMessage(head, new TextEncoder().encode('ok')) : c.sendMessageText(head, 'ok');
        expect(fieldLines(out), how).toEqual(['Content-Length: 2', 'Connection: keep-alive', `Keep-Alive: ${value}`]);
      }
    }
  });

  it('a long value is sent as given, every time', () => {
    const value = `timeout=5, x=${'y'.repeat(10_000)}`;
    for (let i = 0; i < 2; i++) {
      const c = received(GET);
      const out = c.sendMessageText({ type: 'response', status: 200, keepAlive: value }, 'ok');
      expect(fieldLines(out)).toEqual(['Content-Length: 2', 'Connection: keep-alive', `Keep-Alive: ${value}`]);
    }
  });

  it('a value with obs-text is sent byte for byte, as latin1', () => {
    const c = received(GET);
    const out = c.sendMessage({ type: 'response', status: 200, headers: ['Content-Length', '2'], keepAlive: 'timeout=5, x=\u00e9' }, new TextEncoder().encode('ok'));
    const bytes = Buffer.from(out);
    expect(bytes.includes(Buffer.from('Keep-Alive: timeout=5, x=\xe9\r\n', 'latin1'))).toBe(true);
    expect(fieldLines(out)).toEqual(['Content-Length: 2', 'Connection: keep-alive', 'Keep-Alive: timeout=5, x=\u00e9']);
  });
});
