/**
 * One file, whose beforeAll packs and installs once for every test; each test runs child
 * processes that carry their own time limits, so the vitest limits only back those up.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
