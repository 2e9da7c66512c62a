/**
 * Tracing on `diagnostics_channel`: a subscriber to the `tether:client:*` channels sees a request's
 * life (create → headers → response → trailers, or error) and its connection's (connected →
 * retired → closed, with the reasons), with the same objects in every message — for a pipelined
 * batch, a request re-sent after a dropped connection, a truncated response, and connections
 * retired at the server's `Keep-Alive: max`, at the limit the pool learned, and idle before the
 * server's `Keep-Alive: timeout`.
 */
import diagnostics from 'node:diagnostics_channel';
import { ManualClock } from '@tether/protocol/testing';
import { createServer } from '@tether/server';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNELS, CLOSE_AFTER_STREAK, Client } from '../src/index.js';
import type { TraceConnection, TraceRequest } from '../src/index.js';
import { eventually } from './outcome.js';
import { ok } from './raw-server.js';
import { Resources } from './resources.js';

const resources = new Resources();
afterEach(() => resources.release());

interface Event {
  readonly channel: string;
  readonly message: {
    request?: TraceRequest;
    connection?: TraceConnection | null;
    retry?: boolean;
    reason?: string;
    limit?: number | null;
    advertised?: boolean;
    error?: unknown;
    response?: { statusCode: number };
    trailers?: readonly string[];
  };
}

/** Subscribe to every tether channel until the test ends. */
function trace(): Event[] {
  const events: Event[] = [];
  for (const name of Object.values(CHANNELS)) {
    const listener = (message: unknown): void => {
      events.push({ channel: name.replace('tether:client:', ''), message: message as Event['message'] });
    };
    diagnostics.subscribe(name, listener);
    resources.defer(() => diagnostics.unsubscribe(name, listener));
  }
  return events;
}

/** `channel path` for request events, `channel #id` for connection events. */
function line(e: Event): string {
  if (e.message.request !== undefined) {
    const extra = e.channel === 'request:headers' ? ` on #${String(e.message.connection?.id)}${e.message.retry === true ? ' (retry)' : ''}` : '';
    return `${e.channel} ${e.message.request.path}${extra}`;
  }
  return `${e.channel} #${String(e.message.connection?.id)}${e.message.reason === undefined ? '' : ` ${e.message.reason}`}`;
}

describe('diagnostics_channel tracing', () => {
  it('a pipelined batch: created together, written on one connection, answered in order', async () => {
    const server = createServer({}, (req, res) => res.end(`body of ${req.url}`));
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    resources.defer(() => server.close({ timeout: 500 }));
    const events = trace();
    const client = new Client(`http://127.0.0.1:${port}`, { pipelining: 3 });
    // The first request shows the connection persists; the next three are pipelined.
    await (await client.request({ path: '/0' })).text();
    await Promise.all(['/1', '/2', '/3'].map(async (path) => (await client.request({ path })).text()));
    await client.close();
    expect(events.map(line)).toEqual([
      'request:create /0',
      'connection:connected #1',
      'request:headers /0 on #1',
      'request:response /0',
      'request:trailers /0',
      'request:create /1',
      'request:create /2',
      'request:create /3',
      'request:headers /1 on #1',
      'request:headers /2 on #1',
      'request:headers /3 on #1',
      'request:response /1',
      'request:trailers /1',
      'request:response /2',
      'request:trailers /2',
      'request:response /3',
      'request:trailers /3',
      'connection:retired #1 client-close',
      'connection:closed #1 client-close',
    ]);
    // One object per request, in every message about it.
    const first = events.filter((e) => e.message.request?.path === '/1').map((e) => e.message.request);
    expect(new Set(first).size).toBe(1);
    expect(first[0]).toMatchObject({ method: 'GET', path: '/1', origin: `http://127.0.0.1:${port}` });
    const connected = events.find((e) => e.channel === 'connection:connected')!.message.connection!;
    expect(connected).toMatchObject({ id: 1, remotePort: port, remoteAddress: '127.0.0.1' });
    expect(connected.responses).toBe(4);
  });

  it('a retry: the request written again on a new connection, marked as a retry', async () => {
    const server = await resources.raw((req, conn) => {
      // The first connection answers once, then drops the next request unanswered.
      if (conn.number === 1 && conn.received === 2) conn.socket.destroy();
      else conn.socket.write(ok(`got ${req.path}`));
    });
    const client = new Client(server.origin);
    resources.defer(() => client.destroy());
    await (await client.request({ path: '/a' })).text();
    const events = trace();
    expect(await (await client.request({ path: '/b' })).text()).toBe('got /b');
    expect(events.map(line)).toEqual([
      'request:create /b',
      'request:headers /b on #1',
      'connection:retired #1 error',
      'connection:closed #1 error',
      'connection:connected #2',
      'request:headers /b on #2 (retry)',
      'request:response /b',
      'request:trailers /b',
    ]);
  });

  it('a failure: the error names the request, and the connection closes with reason error', async () => {
    const server = await resources.raw((_req, conn) => {
      conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort');
      conn.socket.end();
    });
    const client = new Client(server.origin);
    resources.defer(() => client.destroy());
    const events = trace();
    const res = await client.request({ path: '/cut' });
    await expect(res.text()).rejects.toMatchObject({ code: 'TETHER_TRUNCATED_BODY' });
    await eventually(() => events.some((e) => e.channel === 'connection:closed'));
    expect(events.map(line)).toEqual(['request:create /cut', 'connection:connected #1', 'request:headers /cut on #1', 'request:response /cut', 'request:error /cut', 'connection:retired #1 error', 'connection:closed #1 error']);
    expect(events[4]!.message.error).toMatchObject({ code: 'TETHER_TRUNCATED_BODY' });
  });

  it("Keep-Alive: max: the connection retires as it writes the last request the server allows, saying so", async () => {
    // The first response allows one more request on the connection; the server closes after it.
    const server = await resources.raw((req, conn) => {
      if (conn.received === 1) conn.socket.write(ok(`got ${req.path}`, ['Keep-Alive: timeout=60, max=1']));
      else {
        conn.socket.write(ok(`got ${req.path}`, ['Connection: close']));
        conn.socket.end();
      }
    });
    const client = new Client(server.origin);
    resources.defer(() => client.destroy());
    const events = trace();
    expect(await (await client.request({ path: '/1' })).text()).toBe('got /1');
    expect(await (await client.request({ path: '/2' })).text()).toBe('got /2');
    await eventually(() => events.some((e) => e.channel === 'connection:closed'));
    expect(events.map(line)).toEqual([
      'request:create /1',
      'connection:connected #1',
      'request:headers /1 on #1',
      'request:response /1',
      'request:trailers /1',
      'request:create /2',
      'request:headers /2 on #1',
      'connection:retired #1 keep-alive-max',
      'request:response /2',
      'request:trailers /2',
      'connection:closed #1 keep-alive-max',
    ]);
    expect(events.find((e) => e.channel === 'connection:retired')!.message).toMatchObject({ limit: 2, advertised: true });
    expect(server.received.map((r) => r.headers.connection ?? '-')).toEqual(['-', 'close']);
    expect(client.stats().closedBy).toMatchObject({ 'keep-alive-max': 1, 'server-close': 0 });
  });

  it('a learned limit: once the server closed connections after 2 responses, the next retires there as learned-limit', async () => {
    // Every connection: two responses, the second announcing the close, never a Keep-Alive: max.
    const server = await resources.raw((req, conn) => {
      const last = conn.received === 2;
      conn.socket.write(ok(`got ${req.path}`, last ? ['Connection: close'] : []));
      if (last) conn.socket.end();
    });
    const client = new Client(server.origin, { pipelining: 10 });
    resources.defer(() => client.destroy());
    for (let i = 0; i < CLOSE_AFTER_STREAK * 2; i++) expect(await (await client.request({ path: `/${i}` })).text()).toBe(`got /${i}`);
    await eventually(() => client.stats().connections.open === 0);
    expect(client.originProfile.limitPerConnection).toBe(2);
    expect(client.stats().closedBy).toMatchObject({ 'server-close': CLOSE_AFTER_STREAK, 'learned-limit': 0 });
    const events = trace();
    // Sent together: the connection holds the second behind the first (persistence unconfirmed),
    // then the third behind the learned limit, which the server's close confirms.
    const bodies = await Promise.all(['/a', '/b', '/c'].map(async (path) => (await client.request({ path })).text()));
    expect(bodies).toEqual(['got /a', 'got /b', 'got /c']);
    await client.close();
    const next = `#${CLOSE_AFTER_STREAK + 1}`;
    const last = `#${CLOSE_AFTER_STREAK + 2}`;
    expect(events.map(line)).toEqual([
      'request:create /a',
      'request:create /b',
      'request:create /c',
      `connection:connected ${next}`,
      `request:headers /a on ${next}`,
      'request:response /a',
      'request:trailers /a',
      `request:headers /b on ${next}`,
      `connection:retired ${next} learned-limit`,
      'request:response /b',
      'request:trailers /b',
      `connection:closed ${next} learned-limit`,
      `connection:connected ${last}`,
      `request:headers /c on ${last}`,
      'request:response /c',
      'request:trailers /c',
      `connection:retired ${last} client-close`,
      `connection:closed ${last} client-close`,
    ]);
    expect(events.find((e) => e.channel === 'connection:retired')!.message).toMatchObject({ limit: 2, advertised: false });
    expect(client.stats().closedBy).toMatchObject({ 'server-close': CLOSE_AFTER_STREAK, 'learned-limit': 1 });
    expect(client.stats().retries).toBe(0);
  });

  it("Keep-Alive: timeout: an idle connection retires before the server's advertised timeout, saying which", async () => {
    // timeout=3 s: the pool keeps it idle 2 s (1 s short of the server's), below its own 4 s.
    const server = await resources.raw((req, conn) => conn.socket.write(ok(`got ${req.path}`, ['Keep-Alive: timeout=3'])));
    const clock = new ManualClock();
    const client = new Client(server.origin, { clock });
    resources.defer(() => client.destroy());
    const events = trace();
    expect(await (await client.request({ path: '/1' })).text()).toBe('got /1');
    await eventually(() => client.stats().connections.idle === 1);
    clock.advance(1999);
    expect(events.some((e) => e.channel === 'connection:retired')).toBe(false);
    clock.advance(1);
    await eventually(() => events.some((e) => e.channel === 'connection:closed'));
    expect(events.map(line).slice(-2)).toEqual(['connection:retired #1 keep-alive-timeout', 'connection:closed #1 keep-alive-timeout']);
    expect(events.find((e) => e.channel === 'connection:retired')!.message).toMatchObject({ limit: 2000, advertised: true });
  });
});
