/**
 * Regression (fixed here): when the connection closed before a request's response was complete
 * and the request's body had fully arrived (any GET), tether's request emitted neither 'aborted'
 * nor 'close' and `req.aborted` stayed false, so Fastify's onRequestAbort hooks and
 * `request.signal` never fired. node:http destroys every request whose response has not
 * finished when its socket closes: 'aborted' (`req.aborted` true) unless the body was read to
 * its end, then 'close'. Expected: the same events, in the same order, as node:http's.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { createServer } from '../../src/index.js';
import type { TetherServer } from '../../src/index.js';
import { Gate } from '../http-helpers.js';

/** What the handler uses of node's request and of tether's. */
interface Req extends NodeJS.EventEmitter {
  readonly aborted: boolean;
  resume(): unknown;
}

const servers: (TetherServer | http.Server)[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/**
 * What the handler's `req` and `res` emit when the client closes its connection while the
 * handler waits (after reading the body to its end when `read`).
 */
async function eventsWhenClientLeaves(kind: 'tether' | 'node', request: string, read: boolean): Promise<string[]> {
  const events: string[] = [];
  const entered = new Gate();
  const settled = new Gate();
  let closes = 0;
  const handler = (req: Req, res: NodeJS.EventEmitter): void => {
    req.on('aborted', () => events.push(`req aborted (aborted=${req.aborted})`));
    req.on('close', () => {
      events.push(`req close (aborted=${req.aborted})`);
      if (++closes === 2) settled.open();
    });
    req.on('error', (err: Error) => events.push(`req error ${(err as NodeJS.ErrnoException).code} ${err.message}`));
    res.on('close', () => {
      events.push('res close');
      if (++closes === 2) settled.open();
    });
    if (!read) {
      entered.open();
      return;
    }
    req.on('end', () => {
      events.push('req end');
      entered.open();
    });
    req.resume();
  };
  let port: number;
  if (kind === 'tether') {
    const server = createServer(handler);
    servers.push(server);
    port = (await server.listen({ port: 0, host: '127.0.0.1' })).port;
  } else {
    const server = http.createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  }
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  socket.write(request);
  await entered.promise;
  events.push('client leaves');
  // A reset: the connection is gone. (After a FIN alone tether still answers: a client may
  // half-close once its requests are sent.)
  socket.resetAndDestroy();
  await settled.promise;
  return events;
}

const GET = 'GET / HTTP/1.1\r\nhost: x\r\n\r\n';
const POST = 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello';

it.each([
  ['a GET whose handler has not answered', GET, false],
  ['a POST whose complete body nobody read', POST, false],
  ['a POST whose body was read to its end', POST, true],
])('the client leaves during %s: the request emits what node:http\'s does', async (_name, request, read) => {
  const node = await eventsWhenClientLeaves('node', request, read);
  const tether = await eventsWhenClientLeaves('tether', request, read);
  expect(tether).toEqual(node);
  // What node emits, spelled out, so that the comparison cannot pass with both empty.
  if (read) expect(node).toEqual(['req end', 'req close (aborted=false)', 'client leaves', 'res close']);
  else expect(node).toEqual(['client leaves', 'req aborted (aborted=true)', 'res close', 'req error ECONNRESET aborted', 'req close (aborted=true)']);
});
