/**
 * Regression (fixed here): `res.end(body)` answering a HEAD request made the protocol refuse the
 * response ("a 200 response to HEAD has no body"); the refusal left `res` marked as ended, so no
 * answer (not even a 500) ever went out and the connection hung, pipelined requests behind it
 * unanswered. node:http drops the body of a HEAD, 204 or 304 answer. Expected: the same here
 * (HEAD keeps the Content-Length a GET would get), and a response the protocol refuses to send
 * becomes a 500, never a hang.
 */
import { afterEach, expect, it } from 'vitest';
import { Resources } from '../tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

it('HEAD answered with res.end(body): the head says Content-Length, no body follows, the next request is answered', async () => {
  const { port } = await resources.server((req, res) => {
    res.setHeader('content-type', 'text/plain');
    if (req.url === '/stream') {
      res.write('part one ');
      res.end('part two');
    } else res.end('hello world');
  });
  const conn = await resources.connect(port);
  conn.send('HEAD / HTTP/1.1\r\nHost: a\r\n\r\nHEAD /stream HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
  conn.reader.expectBodyless(0);
  conn.reader.expectBodyless(1);
  expect(await conn.until(() => conn.reader.responses.length === 3, 2000)).toBe(true);
  const [head, streamed, get] = conn.reader.responses;
  expect(head!.headers['content-length']).toBe('11');
  expect(head!.body.length).toBe(0);
  expect(streamed!.body.length).toBe(0);
  expect(get!.body.toString()).toBe('hello world');
});

it('204 and 304 drop the body the handler passes', async () => {
  const { port } = await resources.server((req, res) => {
    res.statusCode = req.url === '/204' ? 204 : req.url === '/304' ? 304 : 200;
    res.end('ignored body');
  });
  const conn = await resources.connect(port);
  conn.send('GET /204 HTTP/1.1\r\nHost: a\r\n\r\nGET /304 HTTP/1.1\r\nHost: a\r\n\r\nGET /200 HTTP/1.1\r\nHost: a\r\n\r\n');
  conn.reader.expectBodyless(0);
  conn.reader.expectBodyless(1);
  expect(await conn.until(() => conn.reader.responses.length === 3, 2000)).toBe(true);
  expect(conn.reader.responses.map((r) => [r.status, r.body.toString()])).toEqual([
    [204, ''],
    [304, ''],
    [200, 'ignored body'],
  ]);
});

it('a response the protocol refuses (status 99) becomes a 500, and the connection does not hang', async () => {
  const errors: unknown[] = [];
  const { port, server } = await resources.server((req, res) => {
    res.statusCode = req.url === '/bad' ? 99 : 200;
    res.end('body');
  });
  server.on('error', (err) => errors.push(err));
  const conn = await resources.connect(port);
  conn.send('GET /bad HTTP/1.1\r\nHost: a\r\n\r\nGET /good HTTP/1.1\r\nHost: a\r\n\r\n');
  expect(await conn.until(() => conn.reader.responses.length >= 1, 2000)).toBe(true);
  expect(conn.reader.responses[0]!.status).toBe(500);
  expect(errors).toHaveLength(1);
});
