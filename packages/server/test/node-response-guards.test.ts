/**
 * On node's objects, node frames the response; tether checks what the head announces before any
 * of it is written, so a handler's mistake cannot desynchronise the responses after it:
 * a Transfer-Encoding no recipient can frame, a 1xx as the final status and a first write longer
 * than the Content-Length are refused (the handler's call throws, and the server answers 500 in
 * its place); a body delimited by closing makes its response the last; a misused response's
 * 'error' is reported as the server's 'error' instead of ending the process. Each case is
 * followed by a pipelined request that must get its own, intact answer or a clean close.
 */
import type http from 'node:http';
import { afterEach, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import type { TetherServer } from '../src/index.js';
import { RawConnection, waitFor } from './tcp-helpers.js';

const servers: TetherServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close({ timeout: 500 });
});

type Misuse = (res: http.ServerResponse) => void;

async function serve(misuse: Misuse, errors: unknown[]): Promise<number> {
  const server = createServer({ nodeObjects: true }, (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url === '/misuse') misuse(res);
    else res.end('next');
  });
  server.on('error', (err: unknown) => errors.push(err));
  servers.push(server);
  return (await server.listen({ port: 0, host: '127.0.0.1' })).port;
}

const PIPELINE = 'GET /misuse HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n';

it.each<[string, Misuse]>([
  ['an empty Transfer-Encoding', (res) => res.setHeader('Transfer-Encoding', '').end()],
  ['two different Content-Lengths', (res) => res.writeHead(200, [['Content-Length', '1'], ['Content-Length', '2']]).end()],
  ['a 1xx as the final status', (res) => res.writeHead(101).end()],
  ['a first write longer than its Content-Length', (res) => res.setHeader('Content-Length', '5').write('123456')],
  ['a first write longer than a Content-Length set as a number', (res) => res.setHeader('Content-Length', 2).write('123')],
  ['a Content-Length list of two lengths, set with setHeader', (res) => res.setHeader('Content-Length', '5, 6').end('12345')],
  ['a first write under Content-Length: 0 (a forged response)', (res) => res.setHeader('Content-Length', '0').write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged')],
  ['a refused head whose throw the handler catches before ending', (res) => {
    try {
      res.writeHead(200, { 'Transfer-Encoding': 'chunked, chunked' });
    } catch {
      // the response has failed already: what follows writes nothing
    }
    res.end();
  }],
])('%s is refused before any of it is written: a 500 in its place, then a clean close', async (_name, misuse) => {
  const errors: unknown[] = [];
  const port = await serve(misuse, errors);
  const conn = await RawConnection.open(port);
  conn.send(PIPELINE);
  expect(await conn.closed(3000)).toBe(true);
  // The stream parses: nothing of the refused head or body went out.
  expect(conn.parseError).toBeNull();
  expect(conn.reader.headStarted).toBe(false);
  expect(conn.reader.responses.map((r) => [r.status, r.headers.connection])).toEqual([[500, 'close']]);
  expect(conn.ending).toBe('fin');
  expect(errors).toEqual([expect.objectContaining({ code: 'TETHER_RESPONSE_REFUSED', tetherCode: 'TETHER_RESPONSE_REFUSED' })]);
});

it('a body delimited by closing (Transfer-Encoding without chunked) is the last response', async () => {
  const errors: unknown[] = [];
  const port = await serve((res) => res.setHeader('Transfer-Encoding', 'gzip').end('zz'), errors);
  const conn = await RawConnection.open(port);
  conn.send(PIPELINE);
  expect(await conn.closed(3000)).toBe(true);
  expect(conn.parseError).toBeNull();
  expect(conn.reader.responses).toHaveLength(1);
  const r = conn.reader.responses[0]!;
  expect(r.headers.connection).toBe('close');
  expect(r.headers['keep-alive']).toBeUndefined();
  expect(r.body.toString()).toBe('zz');
  expect(errors).toEqual([]);
});

it('a write after end is reported as the server\'s error, and the process goes on', async () => {
  const errors: unknown[] = [];
  const port = await serve((res) => {
    res.end('first');
    // node emits 'error' on the response for this; with no listener of the handler's it would end the process.
    res.end('again');
  }, errors);
  const conn = await RawConnection.open(port);
  conn.send(PIPELINE);
  expect(await conn.until(() => conn.reader.responses.length === 2, 3000)).toBe(true);
  expect(conn.reader.responses.map((r) => r.body.toString())).toEqual(['first', 'next']);
  expect(await waitFor(() => errors.length === 1, 2000)).toBe(true);
  expect(errors[0]).toMatchObject({ code: 'ERR_STREAM_WRITE_AFTER_END' });
  conn.socket.destroy();
});
