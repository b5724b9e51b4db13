/**
 * The launch planner against a real run: a scheduled campaign with quiet hours and a messaging
 * limit is planned before it starts, then run by the real engine (feeder, workers, sandbox
 * provider). The plan's count per one-minute bucket must equal what the engine recorded as sent
 * in that minute (recipients.sent_at), and its deferrals and expiries what the engine recorded.
 *
 * A short window instead of a fake clock: the window is chosen so that one time zone
 * (America/Santiago) is closed now and opens at the next minute boundary, and another
 * (Asia/Tokyo, twelve hours away) is open. With a limit of 8 and 6 + 6 recipients: Tokyo's 6 go
 * now, Santiago's are deferred to the opening, where 2 go and 4 wait for the 24 h window, past
 * the campaign's expiry. The test starts between seconds 25 and 45 of a minute, so the engine's
 * own delays (a feeder pass, a send) cannot move a send across a minute boundary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { loadPlanInput, planOptions } from '../../src/queue/launch-plan-input.js';
import { planLaunch } from '../../src/queue/launch-plan.js';
import { launchPlanSchema } from '../../src/api/routes/campaign-plan.js';
import { createSandboxCampaign, waitFor } from '../support/fixtures.js';
import { localMinutes, startFlowEngine, TEST_TIMEOUT_MS, waitForSettled, type FlowEngine } from './flow-support.js';

let engine: FlowEngine;

beforeAll(async () => {
  engine = await startFlowEngine({ workerConcurrency: 4 });
});

afterAll(async () => {
  await engine.close();
});


const MINUTE_MS = 60_000;

describe('launch plan against a real run', () => {
  it('per-minute sends, deferrals and expiries of the plan are what the engine did', async () => {
    const { ctx, sandbox } = engine;
    sandbox.reset();
    // Start between seconds 25 and 45 of a minute: the opening is 15-35 s away.
    await waitFor('a second between 25 and 45', async () => {
      const s = new Date().getUTCSeconds();
      return s >= 25 && s <= 45;
    }, 70_000, 200);
    const now = new Date();
    const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, ratePerSecond: 10, name: 'planned' });
    const limit = 8;
    await ctx.db.pool.query(`UPDATE provider_accounts SET messaging_limit = $2, message_prices = $3 WHERE id = $1`, [accountId, limit, { MARKETING: { CL: 0.05, '*': 0.1 } }]);
    const santiago = localMinutes(now, 'America/Santiago');
    // Open every minute of the day but the current one, in each recipient's own zone.
    const windowStart = (santiago + 1) % 1440;
    const windowEnd = santiago;
    await ctx.db.pool.query(
      `UPDATE campaigns SET window_start = $2, window_end = $3, start_at = now() + interval '2 seconds', expires_at = now() + interval '2 hours' WHERE id = $1`,
      [campaignId, windowStart, windowEnd],
    );
    const phones = Array.from({ length: 12 }, (_, i) => `+5691234${String(5000 + i)}`);
    await ctx.db.pool.query(
      `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables, time_zone)
       SELECT $1, $2, p, p, n + 1, jsonb_build_array('Ana'), CASE WHEN n <= 6 THEN 'America/Santiago' ELSE 'Asia/Tokyo' END
         FROM unnest($3::text[]) WITH ORDINALITY AS t(p, n)`,
      [ctx.tenantId, campaignId, phones],
    );

    const plan = launchPlanSchema.parse(
      planLaunch(
        await loadPlanInput({ pool: ctx.db.pool, redis: engine.redis, prefix: ctx.queuePrefix }, ctx.tenantId, campaignId, planOptions(ctx.config, { bucketMinutes: 1 })),
      ),
    );
    const minute = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
    expect(plan.projection.map((b) => ({ from: b.from, sends: b.sends }))).toEqual([
      { from: new Date(minute).toISOString(), sends: 6 },
      { from: new Date(minute + MINUTE_MS).toISOString(), sends: 2 },
    ]);
    expect(plan.outcomes).toMatchObject({ willSend: 8, expire: 4, suppressed: 0, beyondHorizon: 0 });
    expect(plan.bounds.messagingLimit).toEqual({ limit, usedNow: 0, remainingNow: limit, deferrals: 4 });
    expect(plan.bounds.quietHours?.deferrals).toBe(6);
    expect(plan.bounds.binding).toEqual(['rate', 'messaging_limit', 'quiet_hours', 'start_at', 'expiry']);
    expect(plan.cost).toEqual({ total: 0.4, unpriced: 0, lines: [{ category: 'MARKETING', country: 'CL', count: 8, unitPrice: 0.05, total: 0.4 }] });

    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    await waitFor('two sends after the opening and four deferred by the limit', async () => {
      const { rows } = await ctx.db.pool.query<{ sent: number; limited: number }>(
        `SELECT count(*) FILTER (WHERE sent_at IS NOT NULL)::int AS sent,
                count(*) FILTER (WHERE status = 'deferred' AND error_code = 'DAILY_LIMIT_REACHED')::int AS limited
           FROM recipients WHERE campaign_id = $1`,
        [campaignId],
      );
      return rows[0]?.sent === 8 && rows[0].limited === 4;
    }, 90_000, 200);
    await waitForSettled(ctx, campaignId);

    // The engine's own record, bucketed as the plan is.
    const { rows: sent } = await ctx.db.pool.query<{ from: Date; sends: number }>(
      `SELECT to_timestamp(floor(extract(epoch FROM sent_at) / 60) * 60) AS from, count(*)::int AS sends
         FROM recipients WHERE campaign_id = $1 AND sent_at IS NOT NULL GROUP BY 1 ORDER BY 1`,
      [campaignId],
    );
    expect(sent.map((r) => ({ from: r.from.toISOString(), sends: r.sends }))).toEqual(plan.projection.map((b) => ({ from: b.from, sends: b.sends })));
    const { rows: history } = await ctx.db.pool.query<{ code: string; n: number }>(
      `SELECT error_code AS code, count(*)::int AS n FROM recipient_events WHERE campaign_id = $1 AND status = 'deferred' GROUP BY 1 ORDER BY 1`,
      [campaignId],
    );
    expect(history).toEqual([
      { code: 'DAILY_LIMIT_REACHED', n: plan.bounds.messagingLimit?.deferrals },
      { code: 'QUIET_HOURS', n: plan.bounds.quietHours?.deferrals },
    ]);
    // Those waiting for the limit wait past the expiry: the plan's expiring recipients.
    const { rows: expiring } = await ctx.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM recipients r JOIN campaigns c ON c.id = r.campaign_id WHERE r.campaign_id = $1 AND r.status = 'deferred' AND r.not_before >= c.expires_at`,
      [campaignId],
    );
    expect(expiring[0]?.n).toBe(plan.outcomes.expire);
    expect(sandbox.stats().accepted).toBe(plan.outcomes.willSend);

    // Planned again after start: the 4 left wait for the limit the engine's own window holds, past the expiry.
    const after = planLaunch(
      await loadPlanInput({ pool: ctx.db.pool, redis: engine.redis, prefix: ctx.queuePrefix }, ctx.tenantId, campaignId, planOptions(ctx.config, { bucketMinutes: 1 })),
    );
    expect(after.outcomes).toMatchObject({ willSend: 0, expire: 4, beyondHorizon: 0 });
    expect(Object.values(after.outcomes.settled).reduce((a, b) => a + b, 0)).toBe(8);
    expect(after.bounds.messagingLimit).toMatchObject({ limit, usedNow: limit, remainingNow: 0 });
    expect(after.projection).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
