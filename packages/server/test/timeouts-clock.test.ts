/**
 * The server's timeouts on an injected clock (`clock: ManualClock`): tests move time instead of
 * sleeping, over real sockets. Idle connections close `keepAliveTimeoutBuffer` after the
 * advertised `keepAliveTimeout`; a connection that has sent nothing yet has `headersTimeout`; timeouts past what a host timer holds (2^31 ms) and `Infinity`
 * never fire early; `close({ timeout })` takes Infinity and 0 and refuses what is not a duration.
 */
import { ManualClock } from '@tether/protocol/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Resources, sleep, waitFor } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

const GET = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
const BIG = 2 ** 32;

describe('idle connections', () => {
  it('advertise keepAliveTimeout and close keepAliveTimeoutBuffer later (default 1000 ms)', async () => {
    const clock = new ManualClock();
    const { port } = await resources.server((_req, res) => res.end('ok'), { clock, keepAliveTimeout: 1000 });
    const conn = await resources.connect(port);
    conn.send(GET);
    expect(await conn.until(() => conn.reader.responses.length === 1, 2000)).toBe(true);
    expect(conn.reader.responses[0]!.headers['keep-alive']).toBe('timeout=1, max=999');
    clock.advance(1999);
    await sleep(30);
    expect(conn.isClosed).toBe(false);
    clock.advance(1);
    expect(await conn.closed(2000)).toBe(true);
    expect(conn.ending).toBe('fin');
  });

  it('keepAliveTimeoutBuffer: 0 closes at the advertised timeout', async () => {
    const clock = new ManualClock();
    const { port } = await resources.server((_req, res) => res.end('ok'), { clock, keepAliveTimeout: 1000, keepAliveTimeoutBuffer: 0 });
    const conn = await resources.connect(port);
    conn.send(GET);
    expect(await conn.until(() => conn.reader.responses.length === 1, 2000)).toBe(true);
    clock.advance(999);
    await sleep(30);
    expect(conn.isClosed).toBe(false);
    clock.advance(1);
    expect(await conn.closed(2000)).toBe(true);
  });

  it('a request on the connection moves the deadline', async () => {
    const clock = new ManualClock();
    const { port } = await resources.server((_req, res) => res.end('ok'), { clock, keepAliveTimeout: 1000, keepAliveTimeoutBuffer: 0 });
    const conn = await resources.connect(port);
    conn.send(GET);
    expect(await conn.until(() => conn.reader.responses.length === 1, 2000)).toBe(true);
    clock.advance(900);
    conn.send(GET);
    expect(await conn.until(() => conn.reader.responses.length === 2, 2000)).toBe(true);
    clock.advance(900);
    await sleep(30);
    expect(conn.isClosed).toBe(false);
    clock.advance(100);
    expect(await conn.closed(2000)).toBe(true);
  });

  it('a keepAliveTimeout past 2^31 ms does not fire early', async () => {
    const clock = new ManualClock();
    const { port } = await resources.server((_req, res) => res.end('ok'), { clock, keepAliveTimeout: BIG, keepAliveTimeoutBuffer: 0 });
    const conn = await resources.connect(port);
    conn.send(GET);
    expect(await conn.until(() => conn.reader.responses.length === 1, 2000)).toBe(true);
    clock.advance(2 ** 31);
    await sleep(30);
    expect(conn.isClosed).toBe(false);
    clock.advance(BIG - 2 ** 31);
    expect(await conn.closed(2000)).toBe(true);
  });
});

describe('a connection that has sent nothing yet', () => {
  const options = { keepAliveTimeout: 100, keepAliveTimeoutBuffer: 0, headersTimeout: 1000 };

  it('waits headersTimeout for its first request, not keepAliveTimeout, then is answered 408 and closed (as on node:http)', async () => {
    const clock = new ManualClock();
    const { port } = await resources.server((_req, res) => res.end('ok'), { clock, ...options });
    const conn = await resources.connect(port);
    clock.advance(999);
    await sleep(30);
    expect(conn.isClosed).toBe(false);
    clock.advance(1);
    expect(await conn.closed(2000)).toBe(true);
    expect(conn.reader.responses.map((r) => r.status)).toEqual([408]);
  });

  it('a first request just before headersTimeout is answered, and then the keep-alive timeout applies', async () => {
    const clock = new ManualClock();
    const { port } = await resources.server((_req, res) => res.end('ok'), { clock, ...options });
    const conn = await resources.connect(port);
    clock.advance(900);
    conn.send(GET);
    expect(await conn.until(() => conn.reader.responses.length === 1, 2000)).toBe(true);
    expect(conn.reader.responses[0]!.status).toBe(200);
    clock.advance(99);
    await sleep(30);
    expect(conn.isClosed).toBe(false);
    clock.advance(1);
    expect(await conn.closed(2000)).toBe(true);
    expect(conn.reader.responses).toHaveLength(1);
  });

  it('with headersTimeout and requestTimeout 0 (none), stays open', async () => {
    const clock = new ManualClock();
    const { port } = await resources.server((_req, res) => res.end('ok'), { clock, ...options, headersTimeout: 0, requestTimeout: 0 });
    const conn = await resources.connect(port);
    clock.advance(24 * 3600 * 1000);
    await sleep(30);
    expect(conn.isClosed).toBe(false);
    conn.send(GET);
    expect(await conn.until(() => conn.reader.responses.length === 1, 2000)).toBe(true);
  });
});

describe('close({ timeout })', () => {
  /** A server with one request whose handler answers only when `answer()` is called. */
  async function busy(clock: ManualClock, lingerTimeout?: number) {
    let answer: () => void = () => undefined;
    const { server, port } = await resources.server(
      (_req, res) => {
        answer = () => res.end('late');
      },
      { clock, ...(lingerTimeout === undefined ? {} : { lingerTimeout }) },
    );
    const conn = await resources.connect(port);
    conn.send(GET);
    await waitFor(() => server.stats().requests === 1, 2000);
    return { server, conn, answer: () => answer() };
  }

  it('Infinity waits for ever (past 2^31 ms), then drains', async () => {
    const clock = new ManualClock();
    const { server, conn, answer } = await busy(clock);
    let settled = false;
    const closing = server.close({ timeout: Number.POSITIVE_INFINITY }).then((r) => ((settled = true), r));
    clock.advance(BIG);
    await sleep(30);
    expect(settled).toBe(false);
    answer();
    const report = await closing;
    expect(report).toMatchObject({ forced: 0, drained: 1 });
    expect(conn.reader.responses.map((r) => r.body.toString())).toEqual(['late']);
  });

  it('a timeout past 2^31 ms forces at its time, not before', async () => {
    const clock = new ManualClock();
    const { server } = await busy(clock);
    let settled = false;
    const closing = server.close({ timeout: BIG }).then((r) => ((settled = true), r));
    clock.advance(2 ** 31);
    await sleep(30);
    expect(settled).toBe(false);
    clock.advance(BIG - 2 ** 31);
    expect((await closing).forced).toBe(1);
  });

  it('0 forces at once', async () => {
    const clock = new ManualClock();
    const { server, conn } = await busy(clock);
    expect((await server.close({ timeout: 0 })).forced).toBe(1);
    expect(await conn.closed(2000)).toBe(true);
  });

  it.each([-1, Number.NaN, Number.NEGATIVE_INFINITY])('%s is a RangeError', async (timeout) => {
    const { server } = await resources.server((_req, res) => res.end());
    await expect(server.close({ timeout })).rejects.toThrow(RangeError);
  });

  it('a lingerTimeout past 2^31 ms does not destroy the connection early', async () => {
    const clock = new ManualClock();
    const { server, port } = await resources.server((_req, res) => res.end('ok'), { clock, keepAliveMax: 1, lingerTimeout: BIG });
    const conn = await resources.connect(port, { allowHalfOpen: true });
    conn.send(GET);
    expect(await conn.until(() => conn.events.includes('end'), 2000)).toBe(true);
    clock.advance(2 ** 31);
    await sleep(30);
    // Still lingering: the server reads and drops what we send, no reset.
    expect(conn.send('more')).toBe(true);
    await sleep(30);
    expect(conn.events.some((e) => e.startsWith('error'))).toBe(false);
    expect(server.stats().connections.open).toBe(1);
    clock.advance(BIG);
    expect(await waitFor(() => server.stats().connections.open === 0, 2000)).toBe(true);
  });
});

describe('options', () => {
  it.each(['keepAliveTimeout', 'keepAliveTimeoutBuffer', 'headersTimeout', 'requestTimeout', 'lingerTimeout'] as const)('%s: negative and NaN are RangeErrors naming it; Infinity and 2^32 are accepted', async (name) => {
    for (const bad of [-1, Number.NaN]) await expect(resources.server((_r, res) => res.end(), { [name]: bad })).rejects.toThrow(new RegExp(name));
    for (const good of [Number.POSITIVE_INFINITY, BIG]) await expect(resources.server((_r, res) => res.end(), { [name]: good })).resolves.toBeDefined();
  });
});
