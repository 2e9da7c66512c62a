/**
 * 'finish' as node:http emits it: once all of the response is with the socket, never inside
 * `end()` — so a listener that destroys the socket on 'finish' does not cut the answer, and
 * `end(cb)`'s callback runs after `end()` returns. Each runs on node:http beside tether.
 */

import { afterEach, expect, it } from 'vitest';
import { rawExchange, twins } from './node-twin.js';
import { Resources } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

const GET = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

it('a \'finish\' listener that destroys the socket does not cut the response', async () => {
  const body = 'x'.repeat(100_000);
  for (const twin of await twins(resources, (req, res) => {
    res.on('finish', () => req.socket.destroy());
    res.end(body);
  })) {
    const reply = await rawExchange(twin.port, GET);
    expect(reply.closed, twin.name).toBe(true);
    expect(reply.text.slice(reply.text.indexOf('\r\n\r\n') + 4).length, twin.name).toBe(body.length);
  }
});

it('end(cb): the callback and \'finish\' come after end() returns, in node\'s order', async () => {
  const byPort = new Map<number, string[]>();
  for (const twin of await twins(resources, (req, res) => {
    const events: string[] = [];
    byPort.set(req.socket.localPort!, events);
    res.on('finish', () => events.push('finish'));
    res.end('ok', () => events.push('end cb'));
    events.push('end returned');
    res.on('close', () => events.push('close (listener added after end)'));
  })) {
    await rawExchange(twin.port, GET, { done: (t) => t.endsWith('ok') });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(byPort.get(twin.port), twin.name).toEqual(['end returned', 'finish', 'end cb', 'close (listener added after end)']);
  }
});
