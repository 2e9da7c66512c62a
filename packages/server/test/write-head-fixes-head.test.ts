/**
 * `writeHead()` fixes the head, as node:http's does: `headersSent` is true from then on (though
 * nothing is written until the first write or end) and the headers can no longer change.
 * The same handler runs on node:http and on tether.
 */
import http from 'node:http';
import type net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { createServer } from '../src/index.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

interface Seen {
  before: boolean;
  after: boolean;
  setHeader: string;
  status: number;
  header: string | undefined;
}

type AnyRes = Pick<http.ServerResponse, 'headersSent' | 'writeHead' | 'setHeader' | 'end'>;

function handler(seen: Seen[]) {
  return (_req: unknown, res: AnyRes): void => {
    const before = res.headersSent;
    res.writeHead(201, { 'x-a': '1' });
    const after = res.headersSent;
    let setHeader = 'no throw';
    try {
      res.setHeader('x-b', '2');
    } catch (err) {
      setHeader = (err as { code?: string }).code ?? 'threw';
    }
    seen.push({ before, after, setHeader, status: 0, header: undefined });
    res.end('done');
  };
}

async function run(kind: 'node' | 'tether'): Promise<Seen> {
  const seen: Seen[] = [];
  const h = handler(seen);
  let port: number;
  if (kind === 'node') {
    const server = http.createServer(h);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    closers.push(() => new Promise((r) => server.close(() => r())));
  } else {
    const server = createServer(h);
    port = (await server.listen({ port: 0, host: '127.0.0.1' })).port;
    closers.push(async () => void (await server.close()));
  }
  const reply = await new Promise<{ status: number; header: string | undefined }>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, header: res.headers['x-b'] as string | undefined }));
    }).on('error', reject);
  });
  return { ...seen[0]!, ...reply };
}

it('headersSent is true after writeHead, and setHeader then throws ERR_HTTP_HEADERS_SENT, on both servers', async () => {
  const node = await run('node');
  const tether = await run('tether');
  expect(node).toEqual({ before: false, after: true, setHeader: 'ERR_HTTP_HEADERS_SENT', status: 201, header: undefined });
  expect(tether).toEqual(node);
});
