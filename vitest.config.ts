import { configDefaults, defineConfig } from 'vitest/config';
import { testEnv } from './test/support/test-env.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The chaos test restarts the shared Postgres and Redis, so it runs on its own, after this
    // suite (vitest.chaos.config.ts).
    exclude: [...configDefaults.exclude, 'test/chaos/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // Operator settings the tests need (sandbox on, local fake providers allowed, a credentials key).
    env: testEnv,
    // Each file gets its own database and queue prefix, so files run in parallel safely.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
