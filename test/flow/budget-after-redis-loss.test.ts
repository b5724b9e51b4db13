/**
 * The messaging limit survives Redis losing it (README, flow control: "The budget is rebuilt
 * from Postgres when Redis loses it"), end to end through the real feeder, workers and sandbox
 * provider. An account with a limit of N sends N phones of a longer list and defers the rest;
 * then its budget and the marker that says the budget was loaded vanish from Redis, and the
 * deferred recipients are made due at once. The feeder must rebuild the count from what Postgres
 * says was sent in the last 24 h before it reserves anything, so the due recipients are deferred
 * again (until the first send leaves the rolling window) and no phone past the first N ever
 * reaches the provider. daily-budget.test.ts covers `rebuild` and `loadFromPostgres` alone; this
 * file pins the feeder's use of them (Feeder.ensureBudgetLoaded). Only this file's own keys are
 * deleted, never anything outside its queue prefix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { feederRoundKey } from '../../src/observability/record.js';
import { redisKeys } from '../../src/redis-keys.js';
import { FAST_ENGINE_CONFIG, startEngine, type Engine } from '../support/engine-harness.js';
import { createSandboxCampaign, insertRecipients, statusCounts, waitFor, waitForNothingUnderWay } from '../support/fixtures.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const LIMIT = 4;
const TOTAL = 10;

let engine: Engine<{ sendWorkers: true; sandbox: true }>;

beforeAll(async () => {
  engine = await startEngine({ sendWorkers: true, sandbox: true, config: FAST_ENGINE_CONFIG });
});

afterAll(async () => {
  await engine?.close();
});

/** Waits until the feeder has finished a few more rounds after now (it stamps each round in Redis). */
async function feederRounds(): Promise<void> {
  const since = Date.now();
  const key = feederRoundKey(engine.ctx.config.queuePrefix);
  await waitFor('three feeder rounds', async () => Number((await engine.redis.get(key)) ?? 0) > since + 3 * (FAST_ENGINE_CONFIG.feederIntervalMs ?? 50));
}

type Row = { phone: string; status: string; error_code: string | null; not_before: Date | null; sent_at: Date | null };

async function rows(campaignId: string): Promise<Row[]> {
  const { rows: found } = await engine.ctx.db.pool.query<Row>(
    `SELECT phone, status::text, error_code, not_before, sent_at FROM recipients WHERE campaign_id = $1 ORDER BY phone`,
    [campaignId],
  );
  return found;
}

describe('the messaging limit after Redis loses the budget', () => {
  it('is rebuilt from Postgres by the feeder: the due recipients are deferred again and no phone past the limit reaches the provider', async () => {
    const { ctx, sandbox, redis } = engine;
    const prefix = ctx.config.queuePrefix;
    const { accountId, campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'over the limit, then Redis loses it' });
    await ctx.db.pool.query(`UPDATE provider_accounts SET messaging_limit = $2 WHERE id = $1`, [accountId, LIMIT]);
    const phones = await insertRecipients(ctx, campaignId, TOTAL, 7_000);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');

    // The limit is reached: N phones sent, the rest deferred a day out.
    await waitFor('the limit to be reached', async () => {
      const counts = await statusCounts(ctx, campaignId);
      return counts.sent === LIMIT && counts.deferred === TOTAL - LIMIT;
    });
    await waitForNothingUnderWay(ctx, campaignId);
    const before = await rows(campaignId);
    const sentBefore = before.filter((r) => r.status === 'sent').map((r) => r.phone);
    expect(sentBefore).toHaveLength(LIMIT);
    expect(Object.keys(sandbox.stats().perPhone).sort()).toEqual(sentBefore);
    for (const r of before.filter((x) => x.status === 'deferred')) {
      expect(r.error_code).toBe('DAILY_LIMIT_REACHED');
      expect(r.not_before?.getTime() ?? 0).toBeGreaterThan(Date.now() + DAY_MS - HOUR_MS);
    }
    const budgetKey = redisKeys.dailyBudget(prefix, accountId);
    const loadedKey = redisKeys.budgetLoaded(prefix, accountId);
    expect((await redis.zrange(budgetKey, '0', '-1')).sort()).toEqual(sentBefore);
    expect(await redis.exists(loadedKey)).toBe(1);

    // Redis loses this account's budget and its "loaded" marker (this test's two keys, nothing else).
    expect(await redis.del(budgetKey, loadedKey)).toBe(2);
    expect(await redis.exists(budgetKey, loadedKey)).toBe(0);
    // The deferred recipients are due now: had the feeder trusted the empty budget, it would grant N more.
    await ctx.db.pool.query(`UPDATE recipients SET not_before = now() WHERE campaign_id = $1 AND status = 'deferred'`, [campaignId]);

    // The feeder looks at them again (nothing due is left) and has loaded the budget again.
    await waitFor('the due recipients to be looked at again', async () => {
      const { rows: due } = await ctx.db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM recipients
          WHERE campaign_id = $1
            AND (status IN ('pending', 'queued', 'sending') OR (status = 'deferred' AND (not_before IS NULL OR not_before <= now() + interval '1 hour')))`,
        [campaignId],
      );
      return due[0]?.n === 0 && (await redis.exists(loadedKey)) === 1;
    });
    await feederRounds();
    await waitForNothingUnderWay(ctx, campaignId);

    // No more than N distinct phones ever reached the provider, and they are the first N.
    const stats = sandbox.stats();
    expect(Object.keys(stats.perPhone).sort()).toEqual(sentBefore);
    expect(stats.received).toBe(LIMIT);
    expect(await statusCounts(ctx, campaignId)).toEqual({ sent: LIMIT, deferred: TOTAL - LIMIT });

    // The count is Postgres's record: the N phones sent, each at its sent_at; the rest wait for the
    // first of them to leave the rolling window.
    const after = await rows(campaignId);
    const sent = after.filter((r) => r.status === 'sent');
    expect(sent.map((r) => r.phone)).toEqual(sentBefore);
    const flat = await redis.zrange(budgetKey, '0', '-1', 'WITHSCORES');
    const counted = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) counted.set(flat[i] ?? '', Number(flat[i + 1]));
    expect(new Map(sent.map((r) => [r.phone, r.sent_at?.getTime() ?? -1]))).toEqual(counted);
    const firstSent = Math.min(...sent.map((r) => r.sent_at?.getTime() ?? Infinity));
    const deferred = after.filter((r) => r.status === 'deferred');
    expect(deferred.map((r) => r.phone)).toEqual(phones.filter((p) => !sentBefore.includes(p)));
    for (const r of deferred) {
      expect(r.error_code, r.phone).toBe('DAILY_LIMIT_REACHED');
      expect(r.not_before?.getTime(), r.phone).toBe(firstSent + DAY_MS);
    }
  }, 120_000);
});
