/**
 * Regression (fixed here): with `writeHighWaterMark` below the socket's own mark (16 KiB), answers
 * to a pipelined batch stalled. Synchronous answers to one read passed our mark, so dispatch
 * waited for 'drain'; the socket took the batch in full without passing its own mark, so it never
 * said 'drain', and the rest of the batch was never answered (2 of 10 here). Expected: once the
 * output is written and below the mark, answering goes on.
 */
import { afterEach, expect, it } from 'vitest';
import { Resources } from '../tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

it.each([
  ['synchronous', false],
  ['asynchronous', true],
])('writeHighWaterMark 1000: all 10 pipelined %s answers of 600 bytes arrive', async (_name, later) => {
  const body = 'x'.repeat(600);
  const { port } = await resources.server(async (_req, res) => {
    if (later) await Promise.resolve();
    res.end(body);
  }, { writeHighWaterMark: 1000 });
  const conn = await resources.connect(port);
  conn.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(10));
  expect(await conn.until(() => conn.reader.responses.length === 10, 3000)).toBe(true);
  expect(conn.reader.responses.every((r) => r.body.toString() === body)).toBe(true);
});

it('a streaming handler that waits for drain under a small mark finishes', async () => {
  const chunk = Buffer.alloc(800, 'y');
  const { port } = await resources.server(async (_req, res) => {
    for (let i = 0; i < 20; i++) {
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  }, { writeHighWaterMark: 1000 });
  const conn = await resources.connect(port);
  conn.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  expect(await conn.until(() => conn.reader.responses.length === 1, 3000)).toBe(true);
  expect(conn.reader.responses[0]!.body.length).toBe(20 * 800);
});
