/**
 * requestTimeout covers a request's head as well as its body (node:http's meaning: the whole
 * request must arrive within it): a head that stalls is answered 408 at whichever of
 * headersTimeout and requestTimeout is shorter. On the injected clock, over real sockets.
 */
import { ManualClock } from '@tether/protocol/testing';
import { afterEach, expect, it } from 'vitest';
import { Resources, sleep } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

it.each([
  ['requestTimeout shorter', { headersTimeout: 60_000, requestTimeout: 300 }, 300],
  ['headersTimeout shorter', { headersTimeout: 200, requestTimeout: 300_000 }, 200],
])('a stalled head is answered 408 at the shorter timeout (%s)', async (_name, timeouts, at) => {
  const clock = new ManualClock();
  const { port } = await resources.server((_req, res) => res.end('never'), { clock, ...timeouts });
  const conn = await resources.connect(port);
  conn.send('GET / HTTP/1.1\r\nHost: a\r\n');
  await sleep(30);
  clock.advance(at - 1);
  await sleep(30);
  expect(conn.reader.responses).toHaveLength(0);
  expect(conn.isClosed).toBe(false);
  clock.advance(1);
  expect(await conn.until(() => conn.reader.responses.length === 1, 2000)).toBe(true);
  expect(conn.reader.responses[0]!.status).toBe(408);
  expect(await conn.closed(2000)).toBe(true);
});
