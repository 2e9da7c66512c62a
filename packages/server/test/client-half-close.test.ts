/**
 * A client's FIN with its request unanswered: node:http takes it as the client giving up, and so
 * does tether by default — the handler hears 'aborted' and 'close' on the request and 'close' on
 * the response, nothing more is written, requests queued behind it never start, and the server
 * ends the connection. On tether's objects, on node's objects, and on node:http beside them.
 * With `allowHalfOpen`, tether answers every request first (adversarial.test.ts).
 */
import http from 'node:http';
import type net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import type { ServerOptions } from '../src/index.js';
import { RawConnection, waitFor } from './tcp-helpers.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

type Kind = 'node:http' | 'tether' | 'tether, node objects';

interface Seen {
  events: string[];
  started: string[];
}

async function serve(kind: Kind, seen: Seen): Promise<number> {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    seen.started.push(req.url!);
    req.on('aborted', () => seen.events.push('req aborted'));
    req.on('close', () => seen.events.push('req close'));
    // As node's: when the response closes, its socket and itself are destroyed; a late end() emits no 'finish'.
    res.on('close', () => seen.events.push(`res close${req.socket.destroyed && res.destroyed ? '' : ' (not destroyed)'}`));
    res.on('finish', () => seen.events.push('res finish'));
    // Answers only after the FIN has arrived.
    setTimeout(() => res.end('late'), 100);
  };
  if (kind === 'node:http') {
    const server = http.createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => server.close(r)));
    return (server.address() as net.AddressInfo).port;
  }
  const options: ServerOptions = kind === 'tether' ? {} : { nodeObjects: true };
  const server = createServer(options, handler);
  closers.push(() => server.close({ timeout: 1000 }));
  return (await server.listen({ port: 0, host: '127.0.0.1' })).port;
}

it.each<Kind>(['node:http', 'tether', 'tether, node objects'])('%s: a FIN before the answer aborts the request and ends the connection', async (kind) => {
  const seen: Seen = { events: [], started: [] };
  const port = await serve(kind, seen);
  const conn = await RawConnection.open(port, { allowHalfOpen: true });
  conn.socket.end('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
  expect(await conn.closed(3000)).toBe(true);
  expect(await waitFor(() => seen.events.length >= 3, 2000)).toBe(true);
  // Give the handler's late end() its chance to (wrongly) reach the client.
  await new Promise((r) => setTimeout(r, 150));
  expect(conn.reader.responses).toHaveLength(0);
  expect(conn.ending).toBe('fin');
  expect(seen.events).toEqual(expect.arrayContaining(['req aborted', 'req close', 'res close']));
  expect(seen.events).not.toContain('res finish');
  expect(seen.events).not.toContain('res close (not destroyed)');
  if (kind !== 'node:http') {
    // tether runs one handler at a time: the request behind never starts.
    expect(seen.started).toEqual(['/1']);
  }
});
