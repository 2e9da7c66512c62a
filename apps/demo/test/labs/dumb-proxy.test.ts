import { describe, expect, it } from 'vitest';

import { runDumbProxy } from '../../src/labs/dumb-proxy.js';

describe('dumb-proxy lab', () => {
  it('hangs behind the dumb proxy until the timeout; the correct proxy and Proxy-Connection answer at once', async () => {
    const result = await runDumbProxy({ quick: true });
    const d = result.data;
    expect(d.timeoutMs).toBe(500);

    // The origin honoured the forwarded keep-alive; the browser reused the connection and hung.
    expect(d.dumbConnection.originSaw).toContain('connection: keep-alive');
    expect(d.dumbConnection.first).toMatchObject({ status: 200, keepAlive: true, timedOut: false });
    expect(d.dumbConnection.second).toMatchObject({ reused: true, timedOut: true, status: null });
    expect(d.dumbConnection.second.ms).toBeGreaterThanOrEqual(450);
    expect(d.dumbUpstreamOpenAtTimeout).toBe(true);
    expect(d.dumbIgnoredBytes).toBeGreaterThan(0);

    // Proxy-Connection through the dumb proxy: the origin ignores it and closes; no hang.
    expect(d.dumbProxyConnection.originSaw).toEqual(['proxy-connection: keep-alive']);
    for (const s of [d.dumbProxyConnection, d.correctConnection, d.correctProxyConnection]) {
      for (const e of [s.first, s.second]) {
        expect(e).toMatchObject({ status: 200, timedOut: false, keepAlive: false, reused: false });
        expect(e.ms).toBeLessThan(1_000);
      }
    }

    // The correct proxy forwards no hop-by-hop field.
    expect(d.correctConnection.originSaw).toEqual([]);
    expect(d.correctProxyConnection.originSaw).toEqual([]);
    expect(result.ok).toBe(true);
  }, 20_000);
});
