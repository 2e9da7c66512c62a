/**
 * The timing tests measure delays to a few ms: run test files one after another so that they
 * do not compete with each other for the CPU (tests within a file already run in sequence).
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    fileParallelism: false,
  },
});
