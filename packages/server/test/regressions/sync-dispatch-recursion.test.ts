/**
 * Regression (fixed here): a synchronous handler and many pipelined requests overflow the stack.
 * res.end() -> sendWhole -> #responseDone -> #pump -> #dispatch -> handler -> res.end() -> ...
 * recurses once per buffered request. With ~1,200 small pipelined GETs in the buffer (one read),
 * RangeError: Maximum call stack size exceeded is thrown; it surfaces as an 'error' event (a
 * "handler failure") and the connection then stalls with the rest unanswered. Depending on which
 * frame overflows it could escape the try/catch and reach the socket's 'data' listener.
 * Expected: the next request is dispatched from a fresh stack (queueMicrotask/setImmediate, or a
 * loop in #dispatch), and all are answered.
 */
import { afterEach, expect, it } from 'vitest';
import { Resources } from '../tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

it('20,000 tiny pipelined GETs with a sync handler are all answered, with no error', async () => {
  const errors: unknown[] = [];
  const { port, server } = await resources.server((req, res) => { res.end(); }, { keepAliveMax: 1_000_000 });
  server.on('error', (err: unknown) => errors.push(err));
  const conn = await resources.connect(port);
  conn.send('GET / HTTP/1.1\r\nHost:\r\n\r\n'.repeat(20_000));
  await conn.until(() => conn.reader.responses.length === 20_000, 5000);
  expect(errors.map(String)).toEqual([]);
  expect(conn.reader.responses.length).toBe(20_000);
}, 10_000);
