/**
 * The chaos test (test/chaos/) stops and starts the local Postgres and Redis that every other
 * test uses, so it runs alone: after the main suite (vitest.config.ts excludes it), one file at
 * a time, in one fork.
 */
import { defineConfig } from 'vitest/config';
import { testEnv } from './test/support/test-env.js';

export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Operator settings the tests need (sandbox on, local fake providers allowed, a credentials key).
    env: testEnv,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
