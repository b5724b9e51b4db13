/**
 * Every Redis key the engine writes, named in one place, with the hash tag that decides its
 * Redis Cluster slot (the part between the first `{` and the next `}`; a key without one is
 * hashed on its whole name).
 *
 * The rule: keys that one script, MULTI or pipeline touches together share a tag, and nothing
 * else does, so work spreads over every shard of a cluster.
 * - An account's keys (its BullMQ queue, rate slots, departures, flow limits, state, probe,
 *   epoch) share `{a.<accountId>}`: accounts spread over the shards, and every multi-key script
 *   of one account runs on one. BullMQ names its keys `<prefix>:<queue name>:<suffix>`, so the tag
 *   sits in the queue name (`send-{a.<id>}`); BullMQ refuses `:` in a queue name, hence the dot.
 * - A campaign's keys (per-second sent counters, read ten at a time by MGET; its error budget; its
 *   shared funnel) share `{c.<campaignId>}`.
 * - The engine's own keys (the leader lease, the feeder's last round) share `{engine}`; the
 *   cluster-wide metric hashes, flushed in one MULTI, share `{metrics}`.
 * - Keys always used alone (API key cache, API and webhook rate limits, console sessions,
 *   idempotency of single messages) carry no tag: hashed on their whole name, they spread.
 *
 * QUEUE_PREFIX may not contain braces (src/config.ts): a tag there would put every key in one slot.
 */

/** The hash tag of an account's keys. */
export function accountTag(accountId: string): string {
  return `{a.${accountId}}`;
}

/** The hash tag of a campaign's keys. */
export function campaignTag(campaignId: string): string {
  return `{c.${campaignId}}`;
}

const ENGINE_TAG = '{engine}';
const METRICS_TAG = '{metrics}';

/** An account's key: `<prefix>:{a.<id>}:<name>`. */
function accountKey(prefix: string, accountId: string, name: string): string {
  return `${prefix}:${accountTag(accountId)}:${name}`;
}

function campaignKey(prefix: string, campaignId: string, name: string): string {
  return `${prefix}:${campaignTag(campaignId)}:${name}`;
}

export const redisKeys = {
  // --- per account: tag {a.<accountId>} ---
  /** The account's BullMQ queue name; BullMQ's keys are `<prefix>:send-{a.<id>}:<suffix>`. */
  sendQueueName: (accountId: string): string => `send-${accountTag(accountId)}`,
  /** The queue name before Redis Cluster support (untagged); only read to drop what it holds. */
  legacySendQueueName: (accountId: string): string => `send-${accountId}`,
  /** Present while this shard holds the account's work; missing after its data was lost (src/queue/sweeper.ts). */
  accountEpoch: (prefix: string, accountId: string): string => accountKey(prefix, accountId, 'engine:epoch'),
  accountState: (prefix: string, accountId: string): string => accountKey(prefix, accountId, 'engine:account'),
  probe: (prefix: string, accountId: string): string => accountKey(prefix, accountId, 'engine:probe'),
  budgetLoaded: (prefix: string, accountId: string): string => accountKey(prefix, accountId, 'engine:budget-loaded'),
  rateSlots: (prefix: string, accountId: string): string => accountKey(prefix, accountId, 'rate'),
  departures: (prefix: string, accountId: string): string => accountKey(prefix, accountId, 'departures'),
  /** The timeline of sends the departure gate turned away, one slot apart (src/queue/account-rate-limiter.ts). */
  departureLog: (prefix: string, accountId: string): string => accountKey(prefix, accountId, 'departure-log'),
  /**
   * A campaign paused or cancelled, as the departure gate of this account reads it (src/campaigns/campaign-stops.ts).
   * Per account, not per campaign: the gate's script reads it beside the account's other keys, in one slot.
   */
  campaignStop: (prefix: string, accountId: string, campaignId: string): string => accountKey(prefix, accountId, `campaign-stop:${campaignId}`),
  adaptiveRate: (prefix: string, accountId: string): string => accountKey(prefix, accountId, 'flow:adaptive-rate'),
  breaker: (prefix: string, accountId: string, part: 'state' | 'window' | 'probe'): string => accountKey(prefix, accountId, `flow:breaker:${part}`),
  dailyBudget: (prefix: string, accountId: string): string => accountKey(prefix, accountId, 'flow:daily-budget'),
  /** A rebuild's staging set, merged into the budget by one script: same tag. */
  dailyBudgetStaging: (prefix: string, accountId: string, id: string): string => accountKey(prefix, accountId, `flow:daily-budget:rebuild:${id}`),
  pairGap: (prefix: string, accountId: string, phoneHash: string): string => accountKey(prefix, accountId, `flow:pair-gap:h:${phoneHash}`),

  // --- per campaign: tag {c.<campaignId>} ---
  sentCounter: (prefix: string, campaignId: string, second: number): string => campaignKey(prefix, campaignId, `stats:sent:${second}`),
  errorBudget: (prefix: string, campaignId: string): string => campaignKey(prefix, campaignId, 'flow:error-budget'),
  /** The campaign's funnel as last computed, shared by every API instance, and the lock of its recompute (src/campaigns/funnel-cache.ts). */
  campaignFunnel: (prefix: string, campaignId: string): string => campaignKey(prefix, campaignId, 'funnel'),
  campaignFunnelLock: (prefix: string, campaignId: string): string => campaignKey(prefix, campaignId, 'funnel:computing'),

  // --- the engine's own: tag {engine}, {metrics} ---
  leader: (prefix: string): string => `${prefix}:${ENGINE_TAG}:leader`,
  feederLastRound: (prefix: string): string => `${prefix}:${ENGINE_TAG}:feeder-last-round`,
  metricsFamily: (prefix: string, family: string): string => `${prefix}:${METRICS_TAG}:${family}`,

  // --- used alone: no tag, hashed on the whole name ---
  apiKeyCache: (prefix: string, keyHash: string): string => `${prefix}:apikey:${keyHash}`,
  apiKeyUsed: (prefix: string, keyId: string): string => `${prefix}:apikey-used:${keyId}`,
  /** A pub/sub channel, not a key: revoked keys' hashes, for API processes to drop from memory. */
  apiKeyRevocations: (prefix: string): string => `${prefix}:apikey-revoked`,
  /** How many API processes have dropped one revoked key so far. */
  apiKeyRevocationAck: (prefix: string, id: string): string => `${prefix}:apikey-revoked:ack:${id}`,
  /** The rate limiters append `:<id>` (API key id, webhook account). */
  apiRateLimit: (prefix: string): string => `${prefix}:rl:api`,
  webhookRateLimit: (prefix: string): string => `${prefix}:rl:webhook`,
  consoleSession: (prefix: string, sessionHash: string): string => `${prefix}:console:session:${sessionHash}`,
  aderesoIdempotency: (prefix: string, tenantId: string, key: string): string => `${prefix}:idempotency:adereso-message:${tenantId}:${key}`,
} as const;
