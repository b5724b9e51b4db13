/**
 * The funnel at a bounded cost (src/campaigns/funnel-cache.ts): recomputed no sooner than 20 times
 * what it last took, shared by every API instance through Redis, one recompute at a time; and the
 * console's live hub no longer recomputes it on every tick of a paused campaign, nor the API on
 * every request for it.
 *
 * Two FunnelCache objects stand for two API processes: they share nothing but Redis. The costly
 * funnel is the real one behind a real `pg_sleep`, so its cost is measured, not declared; the
 * assertions read the cost each entry recorded, so a slower machine changes the period and not
 * the verdict.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { campaignFunnel } from '../../src/campaigns/campaign-funnel.js';
import { COST_FACTOR, FunnelCache, type TimedFunnel } from '../../src/campaigns/funnel-cache.js';
import { CampaignLiveHub } from '../../src/console/live-hub.js';
import type { Db } from '../../src/db/database.js';
import { redisConnection, type RedisClient } from '../../src/redis-client.js';
import { redisKeys } from '../../src/redis-keys.js';
import { apiForFile, createDraftCampaign, createSender, expectStatus, recipientObjects } from '../api/api-harness.js';
import { createSandboxCampaign, insertRecipients, waitFor } from '../support/fixtures.js';
import { contextForFile } from '../support/test-context.js';

const ctx = contextForFile();
let redis: RedisClient;
let campaignId: string;

/** The real funnel, made to cost at least 300 ms of Postgres time. */
async function slowFunnel(db: Db, id: string): ReturnType<typeof campaignFunnel> {
  await db.pool.query('SELECT pg_sleep(0.3)');
  return campaignFunnel(db, id);
}

function cache(compute = slowFunnel): FunnelCache {
  return new FunnelCache(ctx.db, redis, ctx.queuePrefix, compute);
}

async function sharedEntry(): Promise<TimedFunnel> {
  return JSON.parse((await redis.get(redisKeys.campaignFunnel(ctx.queuePrefix, campaignId))) ?? 'null') as TimedFunnel;
}

/** Rewrites the shared entry as if it had been computed `ageMs` ago. */
async function age(entry: TimedFunnel, ageMs: number): Promise<void> {
  await redis.set(redisKeys.campaignFunnel(ctx.queuePrefix, campaignId), JSON.stringify({ ...entry, computedAt: Date.now() - ageMs }), 'PX', 60_000);
}

beforeAll(async () => {
  redis = redisConnection(ctx.config);
  ({ campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9' }));
  await insertRecipients(ctx, campaignId, 25);
});

afterAll(() => {
  redis.disconnect();
});

describe('the funnel cache', () => {
  it('computes once for every API instance, and records what it cost', async () => {
    await redis.del(redisKeys.campaignFunnel(ctx.queuePrefix, campaignId));
    const first = cache();
    const second = cache();
    const a = await first.get(campaignId, { minPeriodMs: 1_000 });
    const b = await second.get(campaignId, { minPeriodMs: 1_000 });
    expect(a.funnel.total).toBe(25);
    expect(a.costMs).toBeGreaterThanOrEqual(300);
    expect(b).toEqual(a);
    expect([first.computed, second.computed]).toEqual([1, 0]);
    // Callers of one process share its memory: no further computation, no Redis read needed.
    await Promise.all(Array.from({ length: 10 }, () => first.get(campaignId, { minPeriodMs: 1_000 })));
    expect(first.computed).toBe(1);
  });

  it(`is recomputed no sooner than ${COST_FACTOR} times its cost, however short the caller's own period`, async () => {
    const entry = await sharedEntry();
    const period = FunnelCache.periodMs(entry.costMs, 1_000);
    expect(period).toBe(COST_FACTOR * entry.costMs);
    // Half its period old: still fresh for a new instance, although far past the caller's 1 s.
    await age(entry, period / 2);
    const fresh = cache();
    await fresh.get(campaignId, { minPeriodMs: 1_000 });
    expect(fresh.computed).toBe(0);
    // Past its period: recomputed.
    await age(entry, period + 1_000);
    const stale = cache();
    const again = await stale.get(campaignId, { minPeriodMs: 1_000 });
    expect(stale.computed).toBe(1);
    expect(again.computedAt).toBeGreaterThan(entry.computedAt);
  });

  it('lets one instance recompute a stale funnel while the others answer with the stale one', async () => {
    const entry = await sharedEntry();
    await age(entry, FunnelCache.periodMs(entry.costMs, 1_000) + 1_000);
    const stale = await sharedEntry();
    // Another instance holds the recompute lock.
    await redis.set(redisKeys.campaignFunnelLock(ctx.queuePrefix, campaignId), 'another instance', 'PX', 30_000);
    const waiting = cache();
    expect(await waiting.get(campaignId, { minPeriodMs: 1_000 })).toEqual(stale);
    expect(waiting.computed).toBe(0);
    // Once it lets go, the next stale read recomputes, and gives the lock back when done.
    await redis.del(redisKeys.campaignFunnelLock(ctx.queuePrefix, campaignId));
    const next = cache();
    expect((await next.get(campaignId, { minPeriodMs: 1_000 })).computedAt).toBeGreaterThan(stale.computedAt);
    expect(next.computed).toBe(1);
    expect(await redis.exists(redisKeys.campaignFunnelLock(ctx.queuePrefix, campaignId))).toBe(0);
  });

  it('computes at once when asked for a fresh one (a status change), and sees new figures', async () => {
    const own = cache(campaignFunnel);
    const before = await own.get(campaignId, { minPeriodMs: 60_000 });
    await insertRecipients(ctx, campaignId, 5, 1_000);
    expect((await own.get(campaignId, { minPeriodMs: 60_000 })).funnel.total).toBe(before.funnel.total);
    expect((await own.get(campaignId, { minPeriodMs: 60_000, fresh: true })).funnel.total).toBe(before.funnel.total + 5);
  });

  it('comes from Postgres while Redis does not answer (Redis only shares the work)', async () => {
    const away = redisConnection('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    away.on('error', () => undefined);
    try {
      const alone = new FunnelCache(ctx.db, away, ctx.queuePrefix);
      const { funnel } = await alone.get(campaignId, { minPeriodMs: 1_000 });
      expect(funnel.total).toBe((await campaignFunnel(ctx.db, campaignId)).total);
      expect(alone.computed).toBe(1);
    } finally {
      away.disconnect();
    }
  });
});

describe("the console's live hub", () => {
  it("recomputes a paused campaign's funnel at most once per funnel period, not on every tick", async () => {
    const { campaignId: paused } = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9', name: 'paused' });
    await insertRecipients(ctx, paused, 10, 5_000);
    await applyCampaignAction(ctx.db, ctx.tenantId, paused, 'start');
    await applyCampaignAction(ctx.db, ctx.tenantId, paused, 'pause');
    const intervalMs = 100;
    const hub = new CampaignLiveHub(ctx.db, redis, ctx.queuePrefix, intervalMs, ctx.logger);
    const startedAt = Date.now();
    const stop = hub.subscribe(paused, () => undefined);
    try {
      await waitFor('twenty ticks', async () => hub.ticks >= 20, 30_000, 20);
      const elapsed = Date.now() - startedAt;
      // The hub's own floor is five ticks (500 ms); a cheap funnel is due that often and no more,
      // however slowly the ticks came (the former cadence computed one on every tick).
      expect(hub.funnels.computed).toBeLessThanOrEqual(1 + Math.ceil(elapsed / (5 * intervalMs)));
    } finally {
      stop();
      hub.close();
    }
  });
});

describe('GET /v1/campaigns/:id/funnel', () => {
  const h = apiForFile();

  it('answers with the shared funnel while it is due, and says when it was computed', async () => {
    const sender = await createSender(h.api);
    const { campaign } = await createDraftCampaign(h.api, sender, { recipients: recipientObjects(3) });
    const first = expectStatus<{ total: number; computedAt: string }>(await h.api.get(`/v1/campaigns/${campaign.id}/funnel`), 200);
    expect(first.total).toBe(3);
    const shared = JSON.parse((await h.redis.get(redisKeys.campaignFunnel(h.ctx.config.queuePrefix, campaign.id))) ?? 'null') as TimedFunnel;
    expect(new Date(shared.computedAt).toISOString()).toBe(first.computedAt);

    // Another campaign, whose funnel another instance computed a second ago in 10 s (a big
    // campaign): due again in 200 s, so a client polling meanwhile gets those figures and their time.
    const { campaign: big } = await createDraftCampaign(h.api, sender, { recipients: recipientObjects(2, 100) });
    const costly = { funnel: { ...shared.funnel, total: 12_345 }, computedAt: Date.now() - 1_000, costMs: 10_000 };
    await h.redis.set(redisKeys.campaignFunnel(h.ctx.config.queuePrefix, big.id), JSON.stringify(costly), 'PX', 60_000);
    for (let i = 0; i < 3; i += 1) {
      const polled = expectStatus<{ total: number; computedAt: string }>(await h.api.get(`/v1/campaigns/${big.id}/funnel`), 200);
      expect(polled).toMatchObject({ total: 12_345, computedAt: new Date(costly.computedAt).toISOString() });
    }
  });
});
