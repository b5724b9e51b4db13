/**
 * The real engine for an end-to-end provider test: an isolated test context (its own database
 * and queue prefix), a WorkerHost (feeder, one BullMQ worker per account, the send pipeline),
 * and a handle on the account queues, so a test can see a queue paused and resume an account
 * the way an operator does.
 */
import type { Config } from '../../../src/config.js';
import { redisConnection, SendQueues } from '../../../src/queue/queues.js';
import { WorkerHost } from '../../../src/queue/worker-host.js';
import { createTestContext, type TestContext } from '../../support/test-context.js';

/** Short intervals so retries, feeding and timeouts play out in a test's time. None is asserted on. */
export const E2E_CONFIG: Partial<Config> = {
  feederIntervalMs: 50,
  sweeperIntervalMs: 500,
  retryBaseDelayMs: 20,
  retryMaxDelayMs: 100,
  // Far above a local fake's answer time, so only a scripted hang times out.
  sendTimeoutMs: 2_000,
};

export type Engine = {
  ctx: TestContext;
  /** The engine's own account queues, seen through a separate Redis connection. */
  queues: SendQueues;
  stop(): Promise<void>;
};

export async function startEngine(overrides: Partial<Config> = {}): Promise<Engine> {
  const ctx = await createTestContext({ ...E2E_CONFIG, ...overrides });
  const host = new WorkerHost(ctx.config, ctx.db, ctx.logger);
  await host.start();
  const redis = redisConnection(ctx.config.redisUrl);
  const queues = new SendQueues(redis, ctx.config.queuePrefix);
  return {
    ctx,
    queues,
    async stop() {
      await host.stop();
      await queues.close();
      redis.disconnect();
      await ctx.close();
    },
  };
}
