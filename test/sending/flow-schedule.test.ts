/**
 * When a campaign may send, end to end: not before its start, not after its validity, only
 * inside its window of the recipient's local time, and only within the account's messaging
 * limit (unique phones per rolling 24 h). Real worker host and sandbox provider; the clock is
 * never waited on: times are moved in Postgres instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { campaignProgress } from '../../src/campaigns/campaign-stats.js';
import { nextWindowOpen, timeZoneForPhone } from '../../src/flow/quiet-hours.js';
import { createSandboxCampaign, insertRecipients, runSentinelCampaign, statusCounts, waitFor } from '../support/fixtures.js';
import { insertPhones, localMinutes, startFlowEngine, TEST_TIMEOUT_MS, waitForCampaign, waitForSettled, type FlowEngine } from './flow-support.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

let engine: FlowEngine;

beforeAll(async () => {
  // Few sends under way at once: a claimed send waits for its rate slot and then goes out, so
  // with a low rate most of the list must still be waiting in Postgres for expiry to reach it.
  engine = await startFlowEngine({ workerConcurrency: 4 });
});

afterAll(async () => {
  await engine.close();
});


describe('start time', () => {
  it('sends nothing before start_at, and sends once it comes', async () => {
    const { ctx, sandbox } = engine;
    sandbox.reset();
    const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'scheduled' });
    await insertRecipients(ctx, campaignId, 30);
    await ctx.db.pool.query(`UPDATE campaigns SET start_at = now() + interval '1 hour' WHERE id = $1`, [campaignId]);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    // Feeder passes go by: a campaign on the same account is fed and sent meanwhile, this one is not.
    const sentinel = await runSentinelCampaign(ctx, { sandboxUrl: sandbox.url, accountId, offset: 90_000 });
    expect(sandbox.stats().received).toBe(sentinel.length);
    expect(await statusCounts(ctx, campaignId)).toEqual({ pending: 30 });
    expect((await waitForCampaign(ctx, campaignId, 'running')).status_code).toBeNull();

    await ctx.db.pool.query(`UPDATE campaigns SET start_at = now() WHERE id = $1`, [campaignId]);
    await waitForCampaign(ctx, campaignId, 'completed');
    expect(await statusCounts(ctx, campaignId)).toEqual({ sent: 30 });
    expect(sandbox.stats().accepted).toBe(30 + sentinel.length);
  }, TEST_TIMEOUT_MS);
});

describe('validity', () => {
  it('expires what is still unsent when the campaign runs past expires_at, and completes it', async () => {
    const { ctx, sandbox } = engine;
    sandbox.reset();
    const total = 60;
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, ratePerSecond: 5, name: 'expiring' });
    await insertRecipients(ctx, campaignId, total, 1_000);
    await ctx.db.pool.query(`UPDATE campaigns SET expires_at = now() + interval '1 hour' WHERE id = $1`, [campaignId]);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    await waitFor('a few sends', async () => sandbox.stats().accepted >= 3);
    await ctx.db.pool.query(`UPDATE campaigns SET expires_at = now() WHERE id = $1`, [campaignId]);
    await waitForCampaign(ctx, campaignId, 'completed');

    const counts = await statusCounts(ctx, campaignId);
    expect(Object.keys(counts).sort()).toEqual(['failed', 'sent']);
    expect((counts.sent ?? 0) + (counts.failed ?? 0)).toBe(total);
    // Sends already under way at the deadline finish; everything still waiting expired.
    expect(counts.failed ?? 0).toBeGreaterThan(total / 2);
    const { rows } = await ctx.db.pool.query<{ phone: string; error_code: string | null; attempts: number; events: number }>(
      `SELECT r.phone, r.error_code, r.attempts,
              (SELECT count(*)::int FROM recipient_events e WHERE e.recipient_id = r.id AND e.status = 'failed' AND e.error_code = 'MESSAGE_EXPIRED') AS events
         FROM recipients r WHERE r.campaign_id = $1 AND r.status = 'failed'`,
      [campaignId],
    );
    expect(new Set(rows.map((r) => r.error_code))).toEqual(new Set(['MESSAGE_EXPIRED']));
    expect(rows.every((r) => r.events === 1)).toBe(true);
    // An expired recipient was never sent.
    const perPhone = sandbox.stats().perPhone;
    expect(rows.filter((r) => perPhone[r.phone] !== undefined)).toEqual([]);
    expect(sandbox.stats().accepted).toBe(counts.sent);
  }, TEST_TIMEOUT_MS);
});

describe('quiet hours', () => {
  it('defers recipients outside their local window until it opens, and sends them inside it', async () => {
    const { ctx, sandbox } = engine;
    sandbox.reset();
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'quiet hours' });
    const phones = await insertRecipients(ctx, campaignId, 20, 2_000);
    const zone = timeZoneForPhone(phones[0] ?? '');
    expect(zone).toBe('America/Santiago');
    // A one-hour window starting two hours from now, Santiago time: closed now.
    const now = localMinutes(new Date(), zone);
    const closedStart = (now + 120) % 1440;
    const closedEnd = (closedStart + 60) % 1440;
    await ctx.db.pool.query(`UPDATE campaigns SET window_start = $2, window_end = $3 WHERE id = $1`, [campaignId, closedStart, closedEnd]);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');

    await waitFor('every recipient deferred', async () => (await statusCounts(ctx, campaignId)).deferred === 20);
    const expected = nextWindowOpen(new Date(), zone, closedStart, closedEnd);
    expect(expected).not.toBeNull();
    const { rows } = await ctx.db.pool.query<{ error_code: string | null; not_before: Date | null }>(
      `SELECT DISTINCT error_code, not_before FROM recipients WHERE campaign_id = $1`,
      [campaignId],
    );
    expect(rows).toEqual([{ error_code: 'QUIET_HOURS', not_before: expected }]);
    // About two hours away (an hour less if a DST change falls in between).
    expect((expected?.getTime() ?? 0) - Date.now()).toBeGreaterThan(HOUR_MS / 2);
    // Deferred two hours out, with nothing under way: nothing can reach the provider now.
    await waitForSettled(ctx, campaignId);
    expect(sandbox.stats().received).toBe(0);
    expect((await waitForCampaign(ctx, campaignId, 'running')).status_code).toBeNull();
    const { rows: history } = await ctx.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM recipient_events WHERE campaign_id = $1 AND status = 'deferred' AND error_code = 'QUIET_HOURS'`,
      [campaignId],
    );
    expect(history[0]?.n).toBe(20);

    // The window is open now (it began an hour ago) and the deferral is due: they go out.
    const openStart = (now + 1440 - 60) % 1440;
    const openEnd = (now + 120) % 1440;
    expect(nextWindowOpen(new Date(), zone, openStart, openEnd)).toBeNull();
    await ctx.db.pool.query(`UPDATE campaigns SET window_start = $2, window_end = $3 WHERE id = $1`, [campaignId, openStart, openEnd]);
    await ctx.db.pool.query(`UPDATE recipients SET not_before = now() WHERE campaign_id = $1`, [campaignId]);
    await waitForCampaign(ctx, campaignId, 'completed');
    expect(await statusCounts(ctx, campaignId)).toEqual({ sent: 20 });
    expect(Object.keys(sandbox.stats().perPhone).sort()).toEqual([...phones].sort());
  }, TEST_TIMEOUT_MS);
});

describe('messaging limit', () => {
  it('reaches at most the limit of unique phones per 24 h; phones counted already are free', async () => {
    const { ctx, sandbox } = engine;
    sandbox.reset();
    const limit = 5;
    const startedAt = Date.now();
    const first = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'over the daily limit' });
    await ctx.db.pool.query(`UPDATE provider_accounts SET messaging_limit = $2 WHERE id = $1`, [first.accountId, limit]);
    const phones = await insertRecipients(ctx, first.campaignId, 12, 3_000);
    await applyCampaignAction(ctx.db, ctx.tenantId, first.campaignId, 'start');

    await waitFor('the limit to be reached', async () => {
      const counts = await statusCounts(ctx, first.campaignId);
      return counts.sent === limit && counts.deferred === 12 - limit;
    });
    // Nothing under way, and the rest deferred a day out (checked below): no more can go out today.
    await waitForSettled(ctx, first.campaignId);
    expect(await statusCounts(ctx, first.campaignId)).toEqual({ sent: limit, deferred: 12 - limit });
    expect(sandbox.stats().accepted).toBe(limit);
    const { rows: deferred } = await ctx.db.pool.query<{ phone: string; error_code: string | null; not_before: Date | null }>(
      `SELECT phone, error_code, not_before FROM recipients WHERE campaign_id = $1 AND status = 'deferred'`,
      [first.campaignId],
    );
    expect(deferred).toHaveLength(12 - limit);
    for (const row of deferred) {
      expect(row.error_code).toBe('DAILY_LIMIT_REACHED');
      // When the first phone counted leaves the rolling window: a day after it was sent.
      expect(row.not_before?.getTime() ?? 0).toBeGreaterThanOrEqual(startedAt + DAY_MS - 60_000);
      expect(row.not_before?.getTime() ?? Infinity).toBeLessThanOrEqual(Date.now() + DAY_MS);
    }
    const progress = await campaignProgress(ctx.db, engine.redis, ctx.config.queuePrefix, first.campaignId);
    expect(progress.dailyLimit).toMatchObject({ limit, used: limit, remaining: 0 });
    expect(progress.dailyLimit?.extraDays ?? 0).toBeGreaterThanOrEqual(1);
    expect(progress.etaSeconds ?? 0).toBeGreaterThan(DAY_MS / 1000 - 3_600);

    // A second campaign on the account: its phones reached today go out (they cost nothing), the
    // others wait, including one the first campaign could not reach either.
    const sentPhones = new Set(Object.keys(sandbox.stats().perPhone));
    const counted = phones.filter((p) => sentPhones.has(p)).slice(0, 3);
    const uncounted = [phones.find((p) => !sentPhones.has(p)) ?? '', '+56920000001', '+56920000002'];
    const second = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, accountId: first.accountId, name: 'same phones' });
    await insertPhones(ctx, second.campaignId, [...counted, ...uncounted]);
    await applyCampaignAction(ctx.db, ctx.tenantId, second.campaignId, 'start');
    await waitFor('the second campaign to be fed', async () => {
      const counts = await statusCounts(ctx, second.campaignId);
      return counts.sent === 3 && counts.deferred === 3;
    });
    await waitForSettled(ctx, second.campaignId);
    const { rows: outcome } = await ctx.db.pool.query<{ phone: string; status: string; error_code: string | null }>(
      `SELECT phone, status::text, error_code FROM recipients WHERE campaign_id = $1 ORDER BY phone`,
      [second.campaignId],
    );
    expect(outcome).toEqual(
      [...counted.map((phone) => ({ phone, status: 'sent', error_code: null })), ...uncounted.map((phone) => ({ phone, status: 'deferred', error_code: 'DAILY_LIMIT_REACHED' }))].sort((a, b) =>
        a.phone.localeCompare(b.phone),
      ),
    );
    const stats = sandbox.stats();
    expect(stats.accepted).toBe(limit + 3);
    expect(counted).toHaveLength(3);
    for (const phone of counted) expect(stats.perPhone[phone], phone).toBe(2);
    expect(Object.keys(stats.perPhone)).toHaveLength(limit);
  }, TEST_TIMEOUT_MS);
});
