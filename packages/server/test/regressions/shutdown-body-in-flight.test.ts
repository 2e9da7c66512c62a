/**
 * Regression (fixed here): close() starves a handler that is still reading its request body.
 * drain() sets #draining, and #updateReading pauses the socket while draining, so the rest of a
 * body in flight is never read; the handler waits on `req.text()` until the deadline, the
 * connection is forced, and the client gets no response. Expected: while draining, keep reading
 * the current request's body (only stop parsing new requests).
 */
import { afterEach, expect, it } from 'vitest';
import { Resources, sleep } from '../tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

it('a POST whose body is still arriving when close() begins is answered, not forced', async () => {
  const { port, server } = await resources.server(async (req, res) => { res.end(`got ${await req.text()}`); });
  const conn = await resources.connect(port);
  conn.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello');
  await sleep(50);
  const closing = server.close({ timeout: 1000 });
  await sleep(50);
  conn.send('world');
  const report = await closing;
  await conn.closed(1000);
  expect(report).toMatchObject({ forced: 0, drained: 1 });
  expect(conn.reader.responses.map((r) => r.body.toString())).toEqual(['got helloworld']);
});
