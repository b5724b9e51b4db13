/**
 * Builds the send pipeline with the engine's real collaborators: Postgres as its store, HTTP as
 * its provider call, the Redis rate limiter and flow controls, and account stops that pause the
 * account's queue. Lives on the queue side, so src/sending/ never imports src/queue/.
 */
import { securitySettings } from '../security/security-settings.js';
import type { RedisClient } from '../redis-client.js';
import { AccountStates } from '../accounts/account-state.js';
import { CampaignStops } from '../campaigns/campaign-stops.js';
import { stopAccount, stopStatus } from '../accounts/account-actions.js';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { AdaptiveRate } from '../flow/adaptive-rate.js';
import { CircuitBreaker } from '../flow/circuit-breaker.js';
import { ErrorBudget } from '../flow/error-budget.js';
import { PairGap } from '../flow/pair-gap.js';
import type { Logger } from '../logger.js';
import { sendHttpNoticingWire } from '../providers/http.js';
import { CampaignContexts } from '../sending/campaign-context.js';
import { postgresSendStore } from '../sending/postgres-send-store.js';
import { ERROR_BUDGET_MIN_SAMPLE } from '../sending/result-writer.js';
import { SendPipeline } from '../sending/send-pipeline.js';
import type { AccountControl, ProviderCall } from '../sending/send-ports.js';
import { AccountRateLimiter } from './account-rate-limiter.js';
import type { SendQueues } from './queues.js';

export type SendWiring = { config: Config; db: Db; redis: RedisClient; queues: SendQueues; logger: Logger; call?: ProviderCall };

/** Account stops as the engine makes them: Redis at once, then Postgres and the account's queue. */
export function accountControl(db: Db, queues: SendQueues): AccountControl {
  const states = new AccountStates(queues.connection, queues.prefix);
  return {
    read: (accountId) => states.read(accountId),
    markStopped: (accountId, outcome, generation) => states.markStopped(accountId, stopStatus(outcome), outcome.code, generation),
    stop: async (accountId, outcome, log, startedAt) => {
      await stopAccount(db, queues, accountId, outcome, log, { marked: true, ...(startedAt ? { startedAt } : {}) });
    },
  };
}

export function buildSendPipeline({ config, db, redis, queues, logger, call = sendHttpNoticingWire }: SendWiring): SendPipeline {
  const prefix = queues.prefix;
  const states = new AccountStates(redis, prefix);
  const stops = new CampaignStops(redis, prefix, db.pool, logger);
  return new SendPipeline({
    store: postgresSendStore(db, stops),
    stops,
    call,
    slots: new AccountRateLimiter(redis, prefix, { jitterMs: config.rateJitterMs, departureLog: config.rateDepartureLog }),
    accounts: accountControl(db, queues),
    contexts: new CampaignContexts(db.prisma, async (accountId) => (await states.read(accountId)).generation),
    flow: {
      adaptiveRate: new AdaptiveRate(redis, prefix),
      breaker: new CircuitBreaker(redis, prefix, { minCalls: config.breakerMinCalls, openMs: config.breakerOpenMs }),
      pairGap: new PairGap(redis, prefix, securitySettings().vault.derivedKey('pair-gap')),
      errorBudget: new ErrorBudget(redis, prefix, { minSample: ERROR_BUDGET_MIN_SAMPLE }),
    },
    redis,
    keyPrefix: prefix,
    settings: {
      sendTimeoutMs: config.sendTimeoutMs,
      sendingLeaseMs: config.sendingLeaseMs,
      retryBaseDelayMs: config.retryBaseDelayMs,
      retryMaxDelayMs: config.retryMaxDelayMs,
    },
    logger,
  });
}
