/**
 * The `idempotent` request option overrides the method's idempotency for pipelining, both ways,
 * through the protocol's pipelining predicate (RFC 9110 §9.2.2; undici's `idempotent`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ok } from './raw-server.js';
import { Resources } from './resources.js';

const resources = new Resources();
afterEach(() => resources.release());

/** A server answering in order, each response 30 ms after the one before; it records how many were unanswered when each request arrived. */
async function slowServer(): Promise<{ origin: string; unansweredAt: (path: string) => number | undefined }> {
  const arrivals = new Map<string, number>();
  let unanswered = 0;
  let chain = Promise.resolve();
  const server = await resources.raw((req, conn) => {
    arrivals.set(req.path, unanswered);
    unanswered++;
    chain = chain
      .then(() => new Promise((r) => setTimeout(r, 30)))
      .then(() => {
        unanswered--;
        if (!conn.socket.destroyed) conn.socket.write(ok(`body of ${req.path}`));
      });
  });
  return { origin: server.origin, unansweredAt: (path) => arrivals.get(path) };
}

describe('the idempotent option', () => {
  it('a POST marked idempotent: true is pipelined behind a GET, and a GET behind it', async () => {
    const { origin, unansweredAt } = await slowServer();
    const p = resources.pool(origin, { connections: 1, pipelining: 4 });
    await (await p.request({ path: '/warm' })).text();
    const results = await Promise.all([
      p.request({ path: '/a' }).then((r) => r.text()),
      p.request({ path: '/post', method: 'POST', body: 'x', idempotent: true }).then((r) => r.text()),
      p.request({ path: '/b' }).then((r) => r.text()),
    ]);
    expect(results).toEqual(['body of /a', 'body of /post', 'body of /b']);
    expect(unansweredAt('/post')).toBe(1);
    expect(unansweredAt('/b')).toBe(2);
    expect(p.stats().pipelinedRequests).toBe(2);
  });

  it('a POST without it waits for the connection to be quiet, and what follows waits for its response', async () => {
    const { origin, unansweredAt } = await slowServer();
    const p = resources.pool(origin, { connections: 1, pipelining: 4 });
    await (await p.request({ path: '/warm' })).text();
    await Promise.all([
      p.request({ path: '/a' }).then((r) => r.text()),
      p.request({ path: '/post', method: 'POST', body: 'x' }).then((r) => r.text()),
      p.request({ path: '/b' }).then((r) => r.text()),
    ]);
    expect(unansweredAt('/post')).toBe(0);
    expect(unansweredAt('/b')).toBe(0);
  });
});
