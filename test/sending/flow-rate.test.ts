/**
 * Flow control end to end, per send: a provider's 429 slows the account without spending
 * attempts, the pair gap keeps two messages to one phone apart across campaigns, and every
 * attempt of a retried recipient is in its history. Real worker host, sandbox provider over HTTP,
 * real Postgres and Redis; assertions are on states and counts, not on timings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { AdaptiveRate } from '../../src/flow/adaptive-rate.js';
import { createSandboxCampaign, insertRecipients, statusCounts, waitFor } from '../support/fixtures.js';
import { campaignRow, insertPhones, startFlowEngine, TEST_TIMEOUT_MS, waitForCampaign, type FlowEngine } from './flow-support.js';

let engine: FlowEngine;

beforeAll(async () => {
  engine = await startFlowEngine();
});

afterAll(async () => {
  await engine.close();
});

describe('rate-limited answers (429)', () => {
  it('spend no attempt, and lower the account rate shared by every process', async () => {
    const { ctx, sandbox } = engine;
    sandbox.reset();
    sandbox.settings.rateLimitedRate = 0.3;
    const rate = 200;
    const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, maxAttempts: 1, ratePerSecond: rate, name: '429s' });
    await insertRecipients(ctx, campaignId, 100);
    // cacheMs 0: read Redis every time, as a fresh process would.
    const adaptive = new AdaptiveRate(engine.redis, ctx.config.queuePrefix, { cacheMs: 0 });
    // A reader that adds no recovery sees the share as stored at the last decrease (kept for 10 s
    // and more after it), so a poll that comes late on a loaded machine still sees how low it went.
    const stored = new AdaptiveRate(engine.redis, ctx.config.queuePrefix, { cacheMs: 0, recoverPerSecond: 0 });
    let lowest = rate;
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    await waitFor('completion', async () => {
      lowest = Math.min(lowest, await stored.rateFor(accountId, rate));
      return (await campaignRow(ctx, campaignId)).status === 'completed';
    });
    const rightAfter = await adaptive.rateFor(accountId, rate);
    sandbox.settings.rateLimitedRate = 0;

    // maxAttempts 1: had a 429 cost an attempt, the recipients that drew one would have failed.
    expect(await statusCounts(ctx, campaignId)).toEqual({ sent: 100 });
    expect(sandbox.stats().byStatus['429'] ?? 0).toBeGreaterThan(0);
    const { rows } = await ctx.db.pool.query<{ m: number }>(`SELECT max(attempts)::int AS m FROM recipients WHERE campaign_id = $1`, [campaignId]);
    expect(rows[0]?.m).toBe(1);
    // The rate was halved by the 429s (and climbs back 5% of it per second, so it is still below).
    expect(lowest).toBeLessThanOrEqual(rate / 2);
    expect(rightAfter).toBeLessThan(rate);
  }, TEST_TIMEOUT_MS);
});

describe('pair gap', () => {
  it('never sends two messages to one phone within the gap, across two campaigns of one account', async () => {
    const { ctx, sandbox } = engine;
    sandbox.reset();
    const gapSeconds = 2;
    const first = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, pairGapSeconds: gapSeconds, name: 'pair gap A' });
    const second = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, accountId: first.accountId, name: 'pair gap B' });
    const phones = await insertRecipients(ctx, first.campaignId, 20, 10_000);
    await insertPhones(ctx, second.campaignId, phones);
    await applyCampaignAction(ctx.db, ctx.tenantId, first.campaignId, 'start');
    await applyCampaignAction(ctx.db, ctx.tenantId, second.campaignId, 'start');
    await waitForCampaign(ctx, first.campaignId, 'completed');
    await waitForCampaign(ctx, second.campaignId, 'completed');

    expect(await statusCounts(ctx, first.campaignId)).toEqual({ sent: 20 });
    expect(await statusCounts(ctx, second.campaignId)).toEqual({ sent: 20 });
    const arrivals = sandbox.stats().arrivalsPerPhone;
    expect(Object.keys(arrivals).sort()).toEqual([...phones].sort());
    for (const phone of phones) {
      const times = [...(arrivals[phone] ?? [])].sort((a, b) => a - b);
      expect(times, phone).toHaveLength(2);
      // Both campaigns were fed at once, so without the gap the two would arrive milliseconds
      // apart. The reservation is taken a little before the request leaves, hence the margin.
      expect((times[1] ?? 0) - (times[0] ?? 0), phone).toBeGreaterThanOrEqual(gapSeconds * 1000 - 500);
    }
    // A phone found busy goes back to the queue with its attempt refunded, and says why.
    const { rows } = await ctx.db.pool.query<{ m: number; waited: number }>(
      `SELECT (SELECT max(attempts)::int FROM recipients WHERE campaign_id = ANY($1::uuid[])) AS m,
              (SELECT count(*)::int FROM recipient_events WHERE campaign_id = ANY($1::uuid[]) AND error_code = 'RECIPIENT_PAIR_RATE') AS waited`,
      [[first.campaignId, second.campaignId]],
    );
    expect(rows[0]?.m).toBe(1);
    expect(rows[0]?.waited).toBeGreaterThan(0);
  }, TEST_TIMEOUT_MS);
});

describe('history', () => {
  it('records every attempt of a recipient that was retried and then sent', async () => {
    const { ctx, sandbox } = engine;
    sandbox.reset();
    sandbox.settings.failureRate = 0.5;
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, maxAttempts: 20, errorBudget: null, name: 'retried' });
    await insertRecipients(ctx, campaignId, 20, 20_000);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    await waitForCampaign(ctx, campaignId, 'completed');
    sandbox.settings.failureRate = 0;

    expect(await statusCounts(ctx, campaignId)).toEqual({ sent: 20 });
    const { rows: retried } = await ctx.db.pool.query<{ id: string; attempts: number }>(
      `SELECT id::text, attempts FROM recipients WHERE campaign_id = $1 AND attempts > 1 ORDER BY id`,
      [campaignId],
    );
    // Each send fails half the time: some of the 20 needed more than one attempt.
    expect(retried.length).toBeGreaterThan(0);
    for (const recipient of retried) {
      const { rows: events } = await ctx.db.pool.query<{ status: string; error_code: string | null; detail: string }>(
        `SELECT status, error_code, detail FROM recipient_events WHERE recipient_id = $1 AND source = 'send' ORDER BY id`,
        [recipient.id],
      );
      const failedAttempts = Array.from({ length: recipient.attempts - 1 }, () => ({ status: 'queued', error_code: 'PROVIDER_UNAVAILABLE' }));
      expect(events.map((e) => ({ status: e.status, error_code: e.error_code }))).toEqual([...failedAttempts, { status: 'sent', error_code: null }]);
      expect(events.map((e) => e.detail.split(':')[0])).toEqual(Array.from({ length: recipient.attempts }, (_, i) => `attempt ${i + 1}`));
    }
  }, TEST_TIMEOUT_MS);
});
