/**
 * Each file's beforeAll builds its throwaway projects once for all its tests (consumers.test.ts:
 * the packed tarballs; release.test.ts: the local registry); every child process carries its own
 * time limit, so the vitest limits only back those up.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
