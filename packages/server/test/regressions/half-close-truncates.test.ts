/**
 * Regression (fixed here): a client that half-closes after its last request gets a truncated response.
 * When the response is complete before the server sees the client's FIN (a sync handler), the
 * server has already called #finish() (socket.end(), FIN queued behind the unsent body); the
 * FIN's 'end' then hits `#onEnd` -> `if (this.#finished) socket.destroy()`, which throws away
 * everything still in the socket's write buffer. Any response larger than the kernel's send
 * buffer is cut off. For a close-delimited body (a streamed response to HTTP/1.0) the client
 * cannot even tell. Expected: on 'end' while finished, let the pending writes flush (destroy on
 * 'finish', or rely on the linger timer), never drop written bytes.
 */
import { afterEach, expect, it } from 'vitest';
import { Resources } from '../tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

const big = Buffer.alloc(4 * 1024 * 1024, 'x');

it.each([
  ['HTTP/1.1 with Connection: close', 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'],
  ['HTTP/1.0', 'GET / HTTP/1.0\r\n\r\n'],
])('%s, then the client half-closes: the whole 4 MiB body arrives', async (_name, request) => {
  const { port } = await resources.server((req, res) => { res.end(big); });
  const conn = await resources.connect(port, { allowHalfOpen: true });
  conn.socket.end(request);
  await conn.closed(5000);
  expect(conn.reader.bodyStarted).toBe(false);
  expect(conn.reader.responses.map((r) => r.body.length)).toEqual([big.length]);
});

it('HTTP/1.0 with a streamed (close-delimited) body: the client cannot tell it was truncated', async () => {
  const { port } = await resources.server((req, res) => { res.write(big); res.end(); });
  const conn = await resources.connect(port, { allowHalfOpen: true });
  conn.socket.end('GET / HTTP/1.0\r\n\r\n');
  await conn.closed(5000);
  expect(conn.reader.responses.map((r) => r.body.length)).toEqual([big.length]);
});
