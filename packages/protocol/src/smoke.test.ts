import { describe, expect, it } from 'vitest';
import { Connection, NEED_DATA } from './index.js';
import { ConnectionPair, bytes, drain } from './testing.js';

describe('smoke', () => {
  it('parses pipelined requests split at every offset', () => {
    const input = 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nhi\r\n0\r\nT: 1\r\n\r\n';
    const whole = new Connection('server');
    whole.receiveData(bytes(input));
    const ref = JSON.stringify(normal(drain(whole)));
    for (let cut = 1; cut < input.length; cut++) {
      const c = new Connection('server');
      c.receiveData(bytes(input.slice(0, cut)));
      const evs = drain(c);
      c.receiveData(bytes(input.slice(cut)));
      evs.push(...drain(c));
      expect(JSON.stringify(normal(evs))).toBe(ref);
    }
    expect(ref).toContain('"hi"');
  });

  it('round-trips through a pair', () => {
    const pair = new ConnectionPair();
    const got = pair.send('client', [{ type: 'request', method: 'GET', target: '/', headers: { host: 'a' } }, { type: 'end-of-message' }]);
    expect(got.map((e) => e.type)).toEqual(['request', 'end-of-message']);
    const back = pair.send('server', [{ type: 'response', status: 200, headers: { 'content-length': '2' } }, { type: 'data', data: bytes('ok') }, { type: 'end-of-message' }]);
    expect(back.map((e) => e.type)).toEqual(['response', 'data', 'end-of-message']);
    expect(pair.client.ourState).toBe('IDLE');
    expect(pair.server.ourState).toBe('IDLE');
    expect(pair.client.nextEvent()).not.toBe(NEED_DATA);
  });
});

function normal(events: ReturnType<typeof drain>): unknown[] {
  const merged: unknown[] = [];
  let data = '';
  for (const e of events) {
    if (e.type === 'data') {
      data += Buffer.from(e.data).toString('latin1');
      continue;
    }
    if (data !== '') merged.push({ data });
    data = '';
    merged.push('headers' in e ? { ...e, headers: e.headers.raw } : e.type === 'end-of-message' ? { ...e, trailers: e.trailers?.raw ?? null } : e);
  }
  return merged;
}
