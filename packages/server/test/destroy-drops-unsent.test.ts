/**
 * `res.destroy()` drops what the response wrote in the same turn and is not yet with the socket,
 * as node:http's does (its first write corks the socket until the next tick): the client sees
 * the earlier answers and then the connection ending, never the start of this one.
 */
import { afterEach, expect, it } from 'vitest';
import { Resources } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

it('a response destroyed in the turn it wrote its head and a chunk sends neither; earlier answers arrive', async () => {
  const { port } = await resources.server((req, res) => {
    if (req.url === '/ok') {
      res.end('earlier');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial');
    res.destroy();
  });
  const conn = await resources.connect(port);
  conn.send('GET /ok HTTP/1.1\r\nHost: a\r\n\r\nGET /broken HTTP/1.1\r\nHost: a\r\n\r\n');
  expect(await conn.closed(3000)).toBe(true);
  expect(conn.reader.responses.map((r) => r.body.toString())).toEqual(['earlier']);
  expect(conn.reader.headStarted).toBe(false);
});

it('a response destroyed a turn after its head was sent is cut there, not before', async () => {
  const { port } = await resources.server((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('sent');
    setTimeout(() => {
      res.write('dropped');
      res.destroy();
    }, 30);
  });
  const conn = await resources.connect(port);
  conn.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  expect(await conn.closed(3000)).toBe(true);
  expect(conn.reader.responses).toHaveLength(0);
  // The head and the first chunk left in the first turn: the response is cut, not missing.
  expect(conn.reader.bodyStarted).toBe(true);
});
