import { describe, expect, it } from 'vitest';

import { runReset } from '../../src/labs/reset.js';

describe('reset lab', () => {
  it('loses response bytes to a reset and delivers them all on a graceful close', async () => {
    const result = await runReset({ quick: true });
    const { reset, readAll, graceful } = result.data;

    // Closed with the upload unread: what the server's kernel had not delivered is gone.
    expect(reset.received).toBeLessThan(reset.sent);
    expect(reset.raw.received).toBeLessThan(reset.sent);
    expect(reset.outcome).toBe('TETHER_TRUNCATED_BODY');
    // The kernel counted the resets (namespace-wide: other traffic can only add to it).
    if (reset.abortOnClose !== null) expect(reset.abortOnClose).toBeGreaterThanOrEqual(2);

    // Nothing unread, or a half-close that drains: FIN, every byte.
    for (const v of [readAll, graceful]) {
      expect(v).toMatchObject({ received: v.sent, outcome: 'complete', errno: null });
      expect(v.raw).toEqual({ received: v.sent, ending: 'end of stream' });
    }
    expect(result.ok).toBe(true);
  }, 20_000);
});
