/**
 * node's `server[Symbol.asyncDispose]()` (close, resolved on 'close'; `ERR_SERVER_NOT_RUNNING`
 * when not listening) and listening again after a close, each played on node:http beside tether.
 */

import http from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import type { TetherServer } from '../src/index.js';
import { rawExchange, responsesOf } from './node-twin.js';
import { Resources, sleep } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

type AnyServer = TetherServer | http.Server;

/** A tether server and a node one, neither listening, both answering with their `url` (`/slow` 80 ms later). */
function pair(): [AnyServer, AnyServer] {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (req.url === '/slow') setTimeout(() => res.end(req.url), 80);
    else res.end(req.url);
  };
  const tether = createServer(handler as never);
  const node = http.createServer(handler);
  resources.defer(async () => {
    node.closeAllConnections();
    if (node.listening) node.close();
    if (tether.listening) await tether.close({ timeout: 200 });
  });
  return [tether, node];
}

function listen(server: AnyServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

describe('Symbol.asyncDispose', () => {
  it('closes: waits for the busy connection to answer, and resolves after close', async () => {
    for (const server of pair()) {
      const name = server instanceof http.Server ? 'node' : 'tether';
      const port = await listen(server);
      const order: string[] = [];
      server.on('close', () => order.push('close'));
      // A request in flight when the dispose starts.
      const reply = rawExchange(port, 'GET /slow HTTP/1.1\r\nHost: a\r\n\r\n', { done: (text) => text.endsWith('/slow') });
      await sleep(30);
      const disposed = server[Symbol.asyncDispose]().then(() => order.push('disposed'));
      expect(server.listening, name).toBe(false);
      // tether's answer also says Connection: close (a shutdown drains); node's keeps it for the idle close.
      expect(responsesOf((await reply).text), name).toEqual([name === 'tether' ? '200 close "/slow"' : '200 "/slow"']);
      await disposed;
      expect(order, name).toEqual(['close', 'disposed']);
    }
  });

  it('rejects with ERR_SERVER_NOT_RUNNING when the server is not listening', async () => {
    for (const server of pair()) {
      await expect(server[Symbol.asyncDispose]()).rejects.toMatchObject({ code: 'ERR_SERVER_NOT_RUNNING' });
    }
  });
});

describe('listen after close', () => {
  it('a closed server listens again and answers, in each close form', async () => {
    for (const server of pair()) {
      const name = server instanceof http.Server ? 'node' : 'tether';
      const first = await listen(server);
      expect(responsesOf((await rawExchange(first, 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n', { done: (t) => t.endsWith('/1') })).text), name).toEqual(['200 "/1"']);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const second = await listen(server);
      expect(server.listening, name).toBe(true);
      expect(responsesOf((await rawExchange(second, 'GET /2 HTTP/1.1\r\nHost: a\r\n\r\n', { done: (t) => t.endsWith('/2') })).text), name).toEqual(['200 "/2"']);
      // And once more after a dispose.
      await server[Symbol.asyncDispose]();
      const third = await listen(server);
      expect(responsesOf((await rawExchange(third, 'GET /3 HTTP/1.1\r\nHost: a\r\n\r\n', { done: (t) => t.endsWith('/3') })).text), name).toEqual(['200 "/3"']);
    }
  });

  it('tether\'s promise forms too: close() resolves, listen() again, and stats go on counting', async () => {
    const server = createServer((req, res) => res.end(req.url));
    resources.defer(() => (server.listening ? server.close({ timeout: 200 }) : undefined));
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    await rawExchange(port, 'GET /a HTTP/1.1\r\nHost: a\r\n\r\n', { done: (t) => t.endsWith('/a') });
    await server.close({ timeout: 500 });
    const again = await server.listen({ port: 0, host: '127.0.0.1' });
    const reply = await rawExchange(again.port, 'GET /b HTTP/1.1\r\nHost: a\r\n\r\n', { done: (t) => t.endsWith('/b') });
    expect(responsesOf(reply.text)).toEqual(['200 "/b"']);
    expect(server.stats().requests).toBe(2);
  });
});
