/**
 * Regression (fixed here): a valid request pipelined ahead of malformed bytes.
 * (a) handler that does not read the body: the 200 is sent, then nothing: no 400, no FIN, and no
 *     timer ever closes the connection (#pump returns early while #pendingError is set, so
 *     #dispatch never runs to answer it; #armIdle is skipped while #pendingError !== null).
 * (b) handler that reads the body: #protocolError calls failBody() on the last queued request,
 *     which is the complete, valid GET; its async iterator checks #error before #ended, so
 *     `await req.text()` throws and the valid request is answered 500 (and 'error' is emitted).
 */
import { afterEach, expect, it } from 'vitest';
import { Resources } from '../tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

const PAYLOAD = 'GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n';

it('(a) non-reading handler: answers 200 then 400, then FIN', async () => {
  const { port, server } = await resources.server((req, res) => { res.end(`ok ${req.url}`); }, { keepAliveTimeout: 200, headersTimeout: 200 });
  const conn = await resources.connect(port);
  conn.send(PAYLOAD);
  const closed = await conn.closed(2000);
  // The server's side closes once the client's FIN arrives (it lingers until then).
  for (let i = 0; i < 50 && server.stats().connections.open > 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect({ statuses: conn.reader.responses.map((r) => r.status), closed, open: server.stats().connections.open }).toEqual({ statuses: [200, 400], closed: true, open: 0 });
});

it('(b) body-reading handler: the valid request still gets its 200', async () => {
  const errors: unknown[] = [];
  const { port, server } = await resources.server(async (req, res) => { await req.text(); res.end(`ok ${req.url}`); });
  server.on('error', (err: unknown) => errors.push(err));
  const conn = await resources.connect(port);
  conn.send(PAYLOAD);
  await conn.closed(2000);
  expect(conn.reader.responses.map((r) => r.status)).toEqual([200, 400]);
  expect(errors).toEqual([]);
});
