/**
 * fetch through a tether dispatcher against nginx (Debian's, started by the test with
 * `keepalive_requests 5`): every method and body kind arrives, a gzip response is decoded once,
 * and a thousand concurrent fetches over 6 pipelining connections all come back right while
 * nginx closes every connection after its fifth response — no error reaches fetch. Both Node's
 * global fetch and undici 7's, with a Pool and with an Agent.
 */
import { Readable } from 'node:stream';
import { FormData as UndiciFormData, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, Pool } from '../src/index.js';
import { startNginx } from './nginx.js';
import type { Nginx } from './nginx.js';

const TEXT = 'tether over nginx\n'.repeat(2000);

let nginx: Nginx;
beforeAll(async () => {
  nginx = await startNginx({ keepaliveRequests: 5, files: { 'text.txt': TEXT } });
});
afterAll(async () => {
  await nginx.stop();
});

type Fetch = (url: string, init: Record<string, unknown>) => Promise<Response>;
const FETCHES: readonly [string, Fetch][] = [
  ['Node global fetch', (url, init) => fetch(url, init)],
  ['undici 7 fetch', (url, init) => undiciFetch(url, init)],
];

for (const [which, doFetch] of FETCHES) {
  describe(`${which} through tether against nginx (keepalive_requests 5)`, () => {
    it('GET, HEAD, POST and PUT with string, Buffer, stream and FormData bodies', async () => {
      const dispatcher = new Pool(nginx.origin, { connections: 2, pipelining: 4 });
      try {
        expect(await (await doFetch(`${nginx.origin}/plain`, { dispatcher })).text()).toBe('hello /plain\n');
        const head = await doFetch(`${nginx.origin}/plain`, { dispatcher, method: 'HEAD' });
        expect(head.status).toBe(200);
        expect(await head.text()).toBe('');
        expect(await (await doFetch(`${nginx.origin}/body`, { dispatcher, method: 'POST', body: 'twelve bytes' })).text()).toBe('POST /body length=12 chunked=\n');
        expect(await (await doFetch(`${nginx.origin}/body`, { dispatcher, method: 'PUT', body: Buffer.alloc(1000) })).text()).toBe('PUT /body length=1000 chunked=\n');
        const streamed = await doFetch(`${nginx.origin}/body`, { dispatcher, method: 'POST', duplex: 'half', body: Readable.toWeb(Readable.from([Buffer.from('a'), Buffer.from('b')])) });
        expect(await streamed.text()).toBe('POST /body length= chunked=chunked\n');
        const form = which === 'undici 7 fetch' ? (new UndiciFormData() as unknown as FormData) : new FormData();
        form.append('field', 'value');
        expect(await (await doFetch(`${nginx.origin}/body`, { dispatcher, method: 'POST', body: form })).text()).toMatch(/^POST \/body length=\d+ chunked=\n$/);
      } finally {
        await dispatcher.close();
      }
    });

    it('a gzip response is decoded once, by fetch', async () => {
      const dispatcher = new Agent();
      try {
        const res = await doFetch(`${nginx.origin}/files/text.txt`, { dispatcher, headers: { 'accept-encoding': 'gzip' } });
        expect(res.headers.get('content-encoding')).toBe('gzip');
        expect(await res.text()).toBe(TEXT);
      } finally {
        await dispatcher.close();
      }
    });

    it('1,000 concurrent fetches, 6 connections pipelining 10, nginx closing after every 5th: all right, no error', { timeout: 60_000 }, async () => {
      const dispatcher = new Pool(nginx.origin, { connections: 6, pipelining: 10 });
      try {
        const results = await Promise.allSettled(Array.from({ length: 1000 }, async (_, i) => (await doFetch(`${nginx.origin}/r/${i}`, { dispatcher })).text()));
        const wrong = results.flatMap((r, i) => (r.status === 'fulfilled' && r.value === `hello /r/${i}\n` ? [] : [`/r/${i}: ${r.status === 'rejected' ? String(r.reason) : r.value}`]));
        expect(wrong).toEqual([]);
        const stats = dispatcher.stats();
        expect(stats.requests).toBe(1000);
        // nginx's announced closes: no connection carried more than 5; once the pool learned the
        // limit, its connections retire there.
        expect(Object.keys(stats.requestsPerConnection).map(Number).every((n) => n <= 5)).toBe(true);
        expect(stats.closedBy['server-close'] + stats.closedBy['learned-limit']).toBeGreaterThan(100);
        expect(stats.closedBy['learned-limit'], JSON.stringify(stats.closedBy)).toBeGreaterThan(stats.closedBy['server-close']);
      } finally {
        await dispatcher.close();
      }
    });
  });
}
