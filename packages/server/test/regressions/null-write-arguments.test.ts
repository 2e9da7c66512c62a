/**
 * Regression (fixed here): `res.end(payload, null, null)` — how Fastify ends every reply — sent
 * the response but then threw (`once('finish', null)`), so 'finish' never came and Fastify's
 * onResponse hooks never ran; `res.write(chunk, null, null)` threw from `process.nextTick(null)`.
 * node's ServerResponse takes a null (or any non-function) encoding or callback as absent.
 * Expected: null arguments are ignored, 'finish' follows `end()`, the handler sees no throw.
 */
import { afterEach, expect, it } from 'vitest';
import type { ServerResponse } from '../../src/index.js';
import { Resources } from '../tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

it.each([
  ['end(text, null, null)', (res: ServerResponse) => res.end('whole', null, null), 'whole'],
  ['end(bytes, null, null)', (res: ServerResponse) => res.end(Buffer.from('bytes'), null, null), 'bytes'],
  ['write(text, null, null) then end(null, null, null)', (res: ServerResponse) => {
    res.write('streamed', null, null);
    res.end(null, null, null);
  }, 'streamed'],
])('%s: the response arrives, "finish" follows, nothing throws', async (_name, answer, body) => {
  const seen: string[] = [];
  const { port } = await resources.server((_req, res) => {
    res.on('finish', () => seen.push('finish'));
    try {
      answer(res);
    } catch (err) {
      seen.push(`threw ${String(err)}`);
    }
  });
  const conn = await resources.connect(port);
  conn.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  expect(await conn.until(() => conn.reader.responses.length === 1, 3000)).toBe(true);
  expect(conn.reader.responses[0]!.body.toString()).toBe(body);
  expect(seen).toEqual(['finish']);
});
