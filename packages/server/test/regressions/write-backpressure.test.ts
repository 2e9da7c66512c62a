/**
 * Regression (fixed here): writeHighWaterMark gates reading the socket, not answering requests already read.
 * 2,000 small pipelined GETs (58 KB) arrive in one or two reads; the server then answers every
 * one of them although the client reads nothing, queueing 2,000 x 64 KiB = 128 MiB in the
 * socket's write buffer. Each #responseDone -> #pump -> #dispatch runs the next handler whatever
 * socket.writableLength is. Expected: dispatch waits for 'drain' once writableLength passes
 * writeHighWaterMark, so the buffer stays near writeHighWaterMark + one response.
 */
import type { Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { Resources, sleep } from '../tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

it('a client that never reads cannot make the server buffer more than a few responses', async () => {
  const big = Buffer.alloc(64 * 1024, 'x');
  const seen: { socket: Socket | null; handled: number; maxQueued: number } = { socket: null, handled: 0, maxQueued: 0 };
  const { port } = await resources.server(async (req, res) => {
    seen.handled++;
    seen.socket = req.socket;
    await Promise.resolve();
    res.end(big);
    seen.maxQueued = Math.max(seen.maxQueued, req.socket.writableLength);
  }, { keepAliveMax: 100_000 });
  const greedy = await resources.connect(port, { read: false });
  greedy.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(2000));
  await sleep(1500);
  expect(seen.maxQueued).toBeLessThan(2 * 1024 * 1024);
  expect(seen.handled).toBeLessThan(100);
}, 10_000);
