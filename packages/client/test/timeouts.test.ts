/**
 * Timeouts on an injected ManualClock, over real TCP: each fires at its deadline and not a
 * millisecond before (connect, headers, body, idle, and the linger after our FIN), a timeout
 * past what a Node timer holds (2^31 − 1 ms) does not fire early, and bad timeout options are
 * refused. The real-time versions (the default clock) are in pool.test.ts,
 * misbehaving-servers.test.ts and regressions.test.ts.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { MAX_TIMER_DELAY } from '@tether/protocol';
import { ManualClock } from '@tether/protocol/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Pool } from '../src/index.js';
import type { PoolOptions } from '../src/index.js';
import { eventually, turn, watch } from './outcome.js';
import { ok } from './raw-server.js';
import type { Behaviour, RawServer } from './raw-server.js';
import { Resources } from './resources.js';

const resources = new Resources();
afterEach(() => resources.release());

const raw = (behaviour: Behaviour): Promise<RawServer> => resources.raw(behaviour);
const pool = (origin: string, options: PoolOptions = {}): Pool => resources.pool(origin, options);

/** Past what a Node timer holds: 2^32 ms (about 50 days). */
const HUGE = 2 ** 32;
/** 2^31 ms: the shortest delay a Node timer cannot hold (set this long, it fires after 1 ms). */
const OVERFLOW = MAX_TIMER_DELAY + 1;

/**
 * A manual clock whose timers overflow as Node's do: a delay past {@link MAX_TIMER_DELAY} fires
 * after 1 ms. Deadlines that clamp their delays never notice.
 */
class NodeLikeClock extends ManualClock {
  override setTimer(fire: () => void, delay: number): unknown {
    return super.setTimer(fire, delay > MAX_TIMER_DELAY ? 1 : delay);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Let promise reactions run without a turn of the event loop (so no socket event can happen). */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** A server that answers every request with `ok('fine')` and never ends its side. */
async function neverEnding(): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('data', () => socket.write(ok('fine')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  resources.defer(() => new Promise((r) => server.close(r)));
  resources.defer(() => sockets.forEach((s) => s.destroy()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('timeouts on a manual clock', () => {
  it('connectTimeout: not a millisecond early, then TETHER_CONNECT_TIMEOUT', async () => {
    // No turn of the event loop between the request and the clock's moves: the handshake
    // cannot complete, whatever the server does.
    const server = await raw(() => undefined);
    const clock = new ManualClock();
    const p = pool(server.origin, { clock, connectTimeout: 200 });
    const res = watch(p.request());
    await microtasks();
    expect(p.stats().connections.opened).toBe(1);
    clock.advance(199);
    await microtasks();
    expect(res.settled()).toBe(false);
    clock.advance(1);
    expect(await res.outcome).toMatchObject({ error: { code: 'TETHER_CONNECT_TIMEOUT', mayHaveBeenProcessed: false } });
    await eventually(() => p.stats().closedBy.timeout === 1);
  });

  it('headersTimeout: not a millisecond early, then TETHER_HEADERS_TIMEOUT', async () => {
    const server = await raw(() => undefined);
    const clock = new ManualClock();
    const p = pool(server.origin, { clock, headersTimeout: 100 });
    const res = watch(p.request({ path: '/hang' }));
    await eventually(() => server.received.length === 1);
    clock.advance(99);
    await turn();
    expect(res.settled()).toBe(false);
    clock.advance(1);
    expect(await res.outcome).toMatchObject({ error: { code: 'TETHER_HEADERS_TIMEOUT', mayHaveBeenProcessed: true } });
    await eventually(() => p.stats().closedBy.timeout === 1);
  });

  it('bodyTimeout: each piece of the body pushes the deadline back; then TETHER_BODY_TIMEOUT', async () => {
    const server = await raw((_req, conn) => conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    const clock = new ManualClock();
    const p = pool(server.origin, { clock, bodyTimeout: 100 });
    const res = await p.request();
    const body = res.body[Symbol.asyncIterator]();
    expect(Buffer.from((await body.next()).value as Uint8Array).toString()).toBe('abc');
    clock.advance(99);
    server.connections[0]!.socket.write('de'); // read at 99: the deadline moves to 199
    expect(Buffer.from((await body.next()).value as Uint8Array).toString()).toBe('de');
    clock.advance(99);
    const next = watch(body.next());
    await turn();
    expect(next.settled()).toBe(false);
    clock.advance(1);
    expect(await next.outcome).toMatchObject({ error: { code: 'TETHER_BODY_TIMEOUT' } });
    await eventually(() => p.stats().closedBy.timeout === 1);
  });

  it.each([
    { name: 'no Keep-Alive: our keepAliveTimeout (default 4000 ms)', extra: [], limit: 4000 },
    { name: 'Keep-Alive: timeout=1 → half of it', extra: ['Keep-Alive: timeout=1'], limit: 500 },
    { name: 'Keep-Alive: timeout=3 → 1 s less', extra: ['Keep-Alive: timeout=3'], limit: 2000 },
    { name: 'Keep-Alive: timeout=10 → ours, shorter', extra: ['Keep-Alive: timeout=10'], limit: 4000 },
  ])('idle limit, $name: retired after $limit ms, not a millisecond early', async ({ extra, limit }) => {
    const server = await raw((req, conn) => conn.socket.write(ok(req.path, extra)));
    const clock = new ManualClock();
    const p = pool(server.origin, { clock, connections: 1 });
    expect(await (await p.request()).text()).toBe('/');
    expect(p.stats().connections.idle).toBe(1);
    clock.advance(limit - 1);
    await turn();
    expect(p.stats().connections.idle).toBe(1);
    clock.advance(1);
    expect(p.stats().connections.idle).toBe(0);
    await eventually(() => p.stats().closedBy['keep-alive-timeout'] === 1);
    expect(p.stats().closedBy['server-idle-close']).toBe(0);
  });

  it('after our FIN, a server that never sends its own is cut off after the linger period (2 s)', async () => {
    const origin = await neverEnding();
    const clock = new ManualClock();
    const p = pool(origin, { clock });
    expect(await (await p.request()).text()).toBe('fine');
    const closed = watch(p.close());
    clock.advance(1999);
    await new Promise((r) => setTimeout(r, 20));
    expect(p.stats().connections.open).toBe(1);
    expect(closed.settled()).toBe(false);
    clock.advance(1);
    expect(await closed.outcome).toEqual({ value: undefined });
    expect(p.stats().closedBy['client-close']).toBe(1);
  });
});

describe('a timeout of 2^31 ms or more does not fire early', () => {
  it('connectTimeout', async () => {
    const server = await raw(() => undefined);
    const clock = new NodeLikeClock();
    const p = pool(server.origin, { clock, connectTimeout: HUGE });
    const res = watch(p.request());
    await microtasks();
    clock.advance(OVERFLOW);
    await microtasks();
    expect(res.settled()).toBe(false);
    clock.advance(HUGE - OVERFLOW - 1);
    await microtasks();
    expect(res.settled()).toBe(false);
    clock.advance(1);
    expect(await res.outcome).toMatchObject({ error: { code: 'TETHER_CONNECT_TIMEOUT' } });
  });

  it('headersTimeout', async () => {
    const server = await raw(() => undefined);
    const clock = new NodeLikeClock();
    const p = pool(server.origin, { clock, headersTimeout: HUGE });
    const res = watch(p.request());
    await eventually(() => server.received.length === 1);
    clock.advance(OVERFLOW);
    await turn();
    expect(res.settled()).toBe(false);
    clock.advance(HUGE - OVERFLOW - 1);
    await turn();
    expect(res.settled()).toBe(false);
    clock.advance(1);
    expect(await res.outcome).toMatchObject({ error: { code: 'TETHER_HEADERS_TIMEOUT' } });
  });

  it('bodyTimeout', async () => {
    const server = await raw((_req, conn) => conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    const clock = new NodeLikeClock();
    const p = pool(server.origin, { clock, bodyTimeout: HUGE });
    const res = await p.request();
    const text = watch(res.text());
    clock.advance(OVERFLOW);
    await turn();
    expect(text.settled()).toBe(false);
    clock.advance(HUGE - OVERFLOW - 1);
    await turn();
    expect(text.settled()).toBe(false);
    clock.advance(1);
    expect(await text.outcome).toMatchObject({ error: { code: 'TETHER_BODY_TIMEOUT' } });
  });

  it('keepAliveTimeout', async () => {
    const server = await raw((req, conn) => conn.socket.write(ok(req.path)));
    const clock = new NodeLikeClock();
    const p = pool(server.origin, { clock, keepAliveTimeout: HUGE });
    await (await p.request()).text();
    clock.advance(OVERFLOW);
    await turn();
    expect(p.stats().connections.idle).toBe(1);
    clock.advance(HUGE - OVERFLOW - 1);
    await turn();
    expect(p.stats().connections.idle).toBe(1);
    clock.advance(1);
    await eventually(() => p.stats().closedBy['keep-alive-timeout'] === 1);
  });

  it('on the default clock too: a connection with every timeout at 2^32 ms is not cut off after 1 ms', async () => {
    const server = await raw((_req, conn) => {
      setTimeout(() => conn.socket.destroyed || conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'), 30);
      setTimeout(() => conn.socket.destroyed || conn.socket.write('defghij'), 60);
    });
    const p = pool(server.origin, { connectTimeout: HUGE, headersTimeout: HUGE, bodyTimeout: HUGE, keepAliveTimeout: HUGE });
    expect(await (await p.request()).text()).toBe('abcdefghij');
    await sleep(30);
    expect(p.stats().connections.idle).toBe(1);
    expect(p.stats().closedBy.timeout + p.stats().closedBy['keep-alive-timeout']).toBe(0);
  });
});

describe('timeout options', () => {
  const ORIGIN = 'http://127.0.0.1:1';
  it.each(['connectTimeout', 'headersTimeout', 'bodyTimeout', 'keepAliveTimeout'] as const)('%s: negative, NaN and -Infinity are RangeErrors naming it; 0, Infinity and 2^32 are accepted', (name) => {
    for (const bad of [-1, -0.5, Number.NaN, Number.NEGATIVE_INFINITY]) {
      expect(() => new Pool(ORIGIN, { [name]: bad })).toThrow(RangeError);
      expect(() => new Pool(ORIGIN, { [name]: bad })).toThrow(new RegExp(`^${name} `));
    }
    for (const good of [0, 1, HUGE, Number.POSITIVE_INFINITY]) expect(() => new Pool(ORIGIN, { [name]: good })).not.toThrow();
  });

  it('a clock without now(), setTimer() and clearTimer() is a TypeError', () => {
    expect(() => new Pool(ORIGIN, { clock: { now: () => 0 } as unknown as ManualClock })).toThrow(TypeError);
  });
});
