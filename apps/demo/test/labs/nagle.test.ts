import { describe, expect, it } from 'vitest';

import { runNagle } from '../../src/labs/nagle.js';

describe('nagle lab', () => {
  it('stalls ~40 ms per request with Nagle on and not with TCP_NODELAY or one write', async () => {
    const result = await runNagle({ quick: true });
    const { nagle, noDelay, oneWrite } = result.data;
    expect(nagle.count).toBe(20);
    expect(nagle.median).toBeGreaterThanOrEqual(20);
    expect(noDelay.median).toBeLessThan(10);
    expect(oneWrite.median).toBeLessThan(10);
    expect(result.ok).toBe(true);
    expect(result.measured).toHaveLength(4);
  }, 20_000);
});
