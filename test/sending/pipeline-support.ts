/**
 * A SendPipeline without a queue, for tests that hand it one job's data at a time: the engine's
 * Postgres store, Redis rate limiter, flow controls and campaign stop marks, with the test's own
 * ProviderCall and account control (src/queue/send-wiring.ts wires the real ones).
 */
import { CampaignStops } from '../../src/campaigns/campaign-stops.js';
import { AdaptiveRate } from '../../src/flow/adaptive-rate.js';
import { CircuitBreaker } from '../../src/flow/circuit-breaker.js';
import { ErrorBudget } from '../../src/flow/error-budget.js';
import { PairGap } from '../../src/flow/pair-gap.js';
import { AccountRateLimiter } from '../../src/queue/account-rate-limiter.js';
import type { RedisClient } from '../../src/redis-client.js';
import { CampaignContexts } from '../../src/sending/campaign-context.js';
import { postgresSendStore } from '../../src/sending/postgres-send-store.js';
import { SendPipeline } from '../../src/sending/send-pipeline.js';
import type { AccountControl, ProviderCall, SendStore } from '../../src/sending/send-ports.js';
import type { TestContext } from '../support/test-context.js';

export type QueuelessPipeline = { pipeline: SendPipeline; stops: CampaignStops };

export function queuelessPipeline(
  ctx: TestContext,
  redis: RedisClient,
  parts: {
    call: ProviderCall;
    accounts: AccountControl;
    /** Wraps the Postgres store (to watch a step); the store itself when absent. */
    store?: (postgres: SendStore) => SendStore;
    errorBudgetMinSample?: number;
  },
): QueuelessPipeline {
  const prefix = ctx.config.queuePrefix;
  const stops = new CampaignStops(redis, prefix, ctx.db.pool, ctx.logger);
  const postgres = postgresSendStore(ctx.db, stops);
  const pipeline = new SendPipeline({
    store: parts.store ? parts.store(postgres) : postgres,
    stops,
    call: parts.call,
    slots: new AccountRateLimiter(redis, prefix, { jitterMs: 25 }),
    accounts: parts.accounts,
    contexts: new CampaignContexts(ctx.db.prisma, async (accountId) => (await parts.accounts.read(accountId)).generation),
    flow: {
      adaptiveRate: new AdaptiveRate(redis, prefix),
      breaker: new CircuitBreaker(redis, prefix, { minCalls: 1_000, openMs: 5_000 }),
      pairGap: new PairGap(redis, prefix, Buffer.alloc(32, 7)),
      errorBudget: new ErrorBudget(redis, prefix, { minSample: parts.errorBudgetMinSample ?? 50 }),
    },
    redis,
    keyPrefix: prefix,
    settings: { sendTimeoutMs: 5_000, sendingLeaseMs: 60_000, retryBaseDelayMs: 50, retryMaxDelayMs: 200 },
    logger: ctx.logger,
  });
  return { pipeline, stops };
}
