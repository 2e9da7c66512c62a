import { describe, expect, it } from 'vitest';

import { runKeepAliveRace } from '../../src/labs/keep-alive-race.js';

describe('keep-alive-race lab', () => {
  it('hides the race from an idempotent GET by re-sending it, and surfaces it for a POST', async () => {
    const result = await runKeepAliveRace({ quick: true });
    const { get, post, advertised } = result.data;

    // GET: every raced request was re-sent on a new connection; the caller saw no failure.
    expect(get.raced).toBeGreaterThan(0);
    expect(get.failures).toEqual([]);
    expect(get.retries).toBe(get.raced);

    // POST: never re-sent; each raced one fails "may have been processed" though the server never handled it.
    expect(post.raced).toBeGreaterThan(0);
    expect(post.retries).toBe(0);
    expect(new Set(post.failures)).toEqual(new Set(['TETHER_CONNECTION_LOST']));
    expect(post.flaggedMaybeProcessed).toBe(post.failures.length);
    expect(post.processedByServer).toBe(0);

    // An advertised Keep-Alive: timeout lets the pool retire the connection first: no race.
    expect(advertised).toMatchObject({ raced: 0, failures: [], retries: 0 });
    expect(advertised.retiredIdle).toBe(advertised.trials);
    expect(result.ok).toBe(true);
  }, 20_000);
});
