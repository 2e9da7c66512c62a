/** listenNodeUpstream: a node:http upstream on 127.0.0.1 that counts its connections and closes them all. */
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';

import { listenNodeUpstream } from '../src/index.js';

/** GET `/` on a fresh connection; resolves with the body. */
function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

describe('listenNodeUpstream', () => {
  it('counts each connection it accepts and ends idle keep-alive ones on close', async () => {
    const upstream = await listenNodeUpstream(http.createServer((_req, res) => res.end('hi')));
    expect(await get(upstream.port)).toBe('hi');
    expect(await get(upstream.port)).toBe('hi');
    expect(upstream.connections()).toBe(2);

    // An idle keep-alive connection of a raw client: close() must end it, not wait for it.
    const socket = net.connect(upstream.port, '127.0.0.1');
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve));
    expect(upstream.connections()).toBe(3);

    await upstream.close();
    await ended;
    await expect(upstream.close()).resolves.toBeUndefined();
    await expect(get(upstream.port)).rejects.toThrow(/ECONNREFUSED/);
  });
});
