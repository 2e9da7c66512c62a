/**
 * Regression (fixed here): a malformed chunked body (bad chunk size) is not answered 400.
 * The whole input is parsed before dispatch, so the error is known before the handler runs, yet
 * the handler is run anyway: a handler that does not read the body answers 200 (then close); one
 * that reads it gets the RemoteProtocolError thrown from `req.text()` and the server answers 500
 * and emits 'error' (a handler failure) instead of 'clientError'. (Since 'clientError' became
 * node's `(err, socket)` event, its listener answers in the server's place.)
 */
import type { Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { Resources } from '../tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

const PAYLOAD = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n';

it('non-reading handler: 400', async () => {
  const { port } = await resources.server((req, res) => { res.end('ok'); });
  const conn = await resources.connect(port);
  conn.send(PAYLOAD);
  await conn.closed(2000);
  expect(conn.reader.responses.map((r) => r.status)).toEqual([400]); // Actual: [200]
});

it('body-reading handler: 400, not reported as a handler failure', async () => {
  const errors: unknown[] = [];
  const { port, server } = await resources.server(async (req, res) => { await req.text(); res.end('ok'); });
  server.on('error', (err: unknown) => errors.push(err));
  const conn = await resources.connect(port);
  conn.send(PAYLOAD);
  await conn.closed(2000);
  expect(conn.reader.responses.map((r) => r.status)).toEqual([400]); // Actual: [500]
  expect(errors).toHaveLength(0); // Actual: 1
});

it('body-reading handler: a clientError, not an error, whose listener answers', async () => {
  const errors: unknown[] = [];
  const clientErrors: unknown[] = [];
  const { port, server } = await resources.server(async (req, res) => { await req.text(); res.end('ok'); });
  server.on('error', (err: unknown) => errors.push(err));
  server.on('clientError', (err: unknown, socket: Socket) => {
    clientErrors.push(err);
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  const conn = await resources.connect(port);
  conn.send(PAYLOAD);
  await conn.closed(2000);
  expect(conn.reader.responses.map((r) => r.status)).toEqual([400]);
  expect(clientErrors).toMatchObject([{ code: 'HPE_INVALID_CHUNK_SIZE', tetherCode: 'H1_INVALID_CHUNK_SIZE' }]);
  expect(errors).toHaveLength(0);
});
