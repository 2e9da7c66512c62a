/**
 * Regressions (found in review, fixed here) of the change that writes output at the end of the
 * event-loop turn and of the prebuilt status lines:
 * - the idle timer counted from a clock value read earlier in the same turn, so after a long turn
 *   a connection was closed as idle while its client was about to send (10 ms into a 50 ms
 *   keepAliveTimeout);
 * - a status given as text (`res.statusCode = '204'`) found a prebuilt status line before the
 *   status was checked, and its body went out although a 204 ends at its head: the bytes were
 *   read as the start of the next response. Expected, as before: refused, so the answer is 500;
 * - a 'drain' listener that threw stranded the output of every other connection of that turn;
 * - one `write()` that returned false was followed by two 'drain' events.
 */
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { Resources, sleep } from '../tcp-helpers.js';
import type { ServerResponse } from '../../src/index.js';

const resources = new Resources();
afterEach(() => resources.release());

/** A raw client that keeps all it receives as text. */
async function rawClient(port: number): Promise<{ socket: net.Socket; text: () => string; ended: () => boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  resources.defer(() => socket.destroy());
  let text = '';
  let ended = false;
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('end', () => (ended = true));
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  return { socket, text: () => text, ended: () => ended };
}

/** Two clients: A sends `pathA`, then 5 ms later B sends `pathB` (so the server holds A's first). */
async function aThenB(port: number, pathA: string, pathB: string): Promise<Awaited<ReturnType<typeof rawClient>>> {
  const a = await rawClient(port);
  const b = await rawClient(port);
  a.socket.write(`GET ${pathA} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await sleep(5);
  b.socket.write(`GET ${pathB} HTTP/1.1\r\nHost: x\r\n\r\n`);
  return b;
}

async function until(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(2);
  }
  return true;
}

it('a connection idle for 10 ms of a 50 ms keepAliveTimeout stays open after a 100 ms turn', async () => {
  const held: ServerResponse[] = [];
  const { port } = await resources.server((req, res) => {
    if (req.url !== '/first') {
      res.end('second ok');
      return;
    }
    held.push(res);
    if (held.length === 2) {
      setTimeout(() => {
        // One turn: answer A, 100 ms of other work, then answer B.
        held[0]!.end('a');
        const start = performance.now();
        while (performance.now() - start < 100);
        held[1]!.end('b');
      }, 5);
    }
  }, { keepAliveTimeout: 50 });
  const b = await aThenB(port, '/first', '/first');
  expect(await until(() => b.text().endsWith('\r\n\r\nb'), 2000)).toBe(true);
  await sleep(10);
  b.socket.write('GET /second HTTP/1.1\r\nHost: x\r\n\r\n');
  expect(await until(() => b.text().includes('second ok') || b.ended(), 1000)).toBe(true);
  expect(b.text()).toContain('second ok');
});

it.each(['204', '304'])('res.statusCode = %j (text) is refused: 500, and no body bytes leak into the stream', async (status) => {
  const { port } = await resources.server((req, res) => {
    if (req.url === '/bad') (res as { statusCode: unknown }).statusCode = status;
    res.end(req.url === '/bad' ? 'SMUGGLED-BODY' : 'next');
  });
  const c = await rawClient(port);
  c.socket.write('GET /bad HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n');
  expect(await until(() => c.ended(), 2000)).toBe(true);
  expect(c.text()).toMatch(/^HTTP\/1\.1 500 /);
  expect(c.text()).not.toContain('SMUGGLED');
});

it("a 'drain' listener that throws fails its own response, not the process or another connection's answer", async () => {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => void uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    const held: [string, ServerResponse][] = [];
    const errors: string[] = [];
    const { server, port } = await resources.server((req, res) => {
      held.push([req.url, res]);
      if (held.length < 2) return;
      setTimeout(() => {
        // Both in one turn: A first (its drain listener throws), then B.
        for (const [url, r] of held) {
          if (url === '/a') {
            r.on('drain', () => {
              throw new Error('a drain listener fails');
            });
            r.write(Buffer.alloc(70_000, 97));
          } else {
            r.end('B answered');
          }
        }
      }, 5);
    });
    server.on('error', (err: Error) => errors.push(err.message));
    const b = await aThenB(port, '/a', '/b');
    expect(await until(() => b.text().includes('B answered'), 2000)).toBe(true);
    expect(await until(() => errors.length > 0, 2000)).toBe(true);
    expect(errors).toEqual(['a drain listener fails']);
    expect(uncaught).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});

it("one write() that returns false is followed by one 'drain'", async () => {
  let drains = 0;
  let returned: boolean | undefined;
  const { port } = await resources.server((_req, res) => {
    res.on('drain', () => drains++);
    returned = res.write(Buffer.alloc(70_000, 97));
    setTimeout(() => res.end(), 200);
  });
  const c = await rawClient(port);
  c.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await sleep(400);
  expect(returned).toBe(false);
  expect(drains).toBe(1);
});
