/**
 * A pool account's room (src/queue/pool-share.ts), part by part: two seconds of its current rate
 * times its weight against the pool's heaviest member, less what it already holds, halved with
 * its rate after a rate-limited answer (AIMD), and nothing while its circuit breaker is open.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdaptiveRate } from '../../src/flow/adaptive-rate.js';
import { CircuitBreaker } from '../../src/flow/circuit-breaker.js';
import { PoolShare, type PoolSeat } from '../../src/queue/pool-share.js';
import { claimForSending, markQueued } from '../../src/recipients/index.js';
import { createSandboxCampaign, insertRecipients } from '../support/fixtures.js';
import { contextForFile } from '../support/test-context.js';

const ctx = contextForFile();
let redis: Redis;

beforeAll(() => {
  redis = new Redis(ctx.config.redisUrl, { maxRetriesPerRequest: null });
});

afterAll(() => {
  redis?.disconnect();
});

/** A running campaign on an account of its own at 100/s, as a pool seat of weight 1 out of 1. */
async function seat(name: string): Promise<PoolSeat> {
  const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9', ratePerSecond: 100, name });
  await ctx.db.pool.query(`UPDATE campaigns SET status = 'running', started_at = now() WHERE id = $1`, [campaignId]);
  return { campaignId, accountId, ratePerSecond: 100, weight: 1, maxWeight: 1 };
}

describe("a pool account's room", () => {
  it('is two seconds of its rate, times its weight against the heaviest member, and no more than the queue window', async () => {
    const share = new PoolShare(ctx.db.pool, redis, ctx.config.queuePrefix, 5);
    const s = await seat('weights');
    expect(await share.room(s)).toBe(200);
    expect(await share.room({ ...s, weight: 1, maxWeight: 4 })).toBe(50);
    expect(await share.room({ ...s, weight: 3, maxWeight: 4 })).toBe(150);
    // A queue window shorter than two seconds bounds it instead.
    expect(await new PoolShare(ctx.db.pool, redis, ctx.config.queuePrefix, 1).room(s)).toBe(100);
  });

  it('leaves out what the account already holds of the campaign, queued or sending', async () => {
    const share = new PoolShare(ctx.db.pool, redis, ctx.config.queuePrefix, 5);
    const s = await seat('held');
    await insertRecipients(ctx, s.campaignId, 30, 800_000);
    const ids = await markQueued(ctx.db.pool, s.campaignId, 30, { accountId: s.accountId, poolId: null, sticky: false });
    expect(ids).toHaveLength(30);
    expect(await share.room(s)).toBe(170);
    await claimForSending(ctx.db.pool, ids.slice(0, 10).map((id) => ({ id, accountId: s.accountId })));
    expect(await share.room(s)).toBe(170);
  });

  it("shrinks with the account's rate after a rate-limited answer, and is 0 while its breaker is open", async () => {
    const share = new PoolShare(ctx.db.pool, redis, ctx.config.queuePrefix, 5);
    const s = await seat('slowed');
    await new AdaptiveRate(redis, ctx.config.queuePrefix).onRateLimited(s.accountId, s.ratePerSecond);
    // Halved, then climbing back 5% of the rate a second: a little over 100 by the time it is read.
    const slowed = await share.room(s);
    expect(slowed).toBeGreaterThanOrEqual(100);
    expect(slowed).toBeLessThan(130);

    const other = await seat('broken');
    const breaker = new CircuitBreaker(redis, ctx.config.queuePrefix);
    for (let i = 0; i < 20; i += 1) await breaker.record(other.accountId, false);
    expect(await share.room(other)).toBe(0);
  });
});
