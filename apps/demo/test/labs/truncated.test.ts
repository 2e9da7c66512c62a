import { describe, expect, it } from 'vitest';

import { runTruncated } from '../../src/labs/truncated.js';

describe('truncated lab', () => {
  it('detects a body cut short under Content-Length and chunked, not when delimited by close', async () => {
    const result = await runTruncated({ quick: true });
    const { contentLength, chunked, closeDelimited } = result.data;
    expect(contentLength).toMatchObject({ received: 40, outcome: 'TETHER_TRUNCATED_BODY', retries: 0 });
    expect(contentLength.detail).toContain('40 of 100');
    expect(chunked).toMatchObject({ received: 40, outcome: 'TETHER_TRUNCATED_BODY', retries: 0 });
    expect(closeDelimited).toMatchObject({ received: 40, outcome: 'complete', retries: 0 });
    expect(result.ok).toBe(true);
  }, 20_000);
});
