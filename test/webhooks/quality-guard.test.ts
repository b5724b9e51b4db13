/**
 * The quality guard end to end: Meta's signed account-level webhooks (phone_number_quality_update,
 * account_update) through the real receiver and processor, recorded on the account, shown by
 * GET /v1/accounts/:id, raising account.quality_changed in the outbox, and pausing the account's
 * running marketing campaigns (utility ones keep running; a pool campaign only once no member can
 * send). Out-of-order and repeated notices are
 * ordered by Meta's own time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackText } from '../../src/events/catalog.js';
import { parseMetaWebhook } from '../../src/providers/meta/webhook.js';
import { WebhookFormatError } from '../../src/providers/types.js';
import { expectStatus } from '../api/api-harness.js';
import { createWebhookAccount, deliver, unixNow, type WebhookAccount, type WebhookWorld, startWebhookWorld } from './support/webhook-world.js';

const APP_SECRET = 'meta-app-secret-quality';
const WABA_ID = '102290129340398';

let world: WebhookWorld;

beforeAll(async () => {
  world = await startWebhookWorld();
  // An endpoint subscribed to the quality event, so the outbox stores it.
  const created = await world.api.post('/v1/event-endpoints', { url: 'https://hooks.example.com/wce', events: ['account.quality_changed', 'campaign.paused'] });
  expect(created.statusCode).toBe(201);
});

afterAll(async () => {
  await world?.close();
});

function qualityNotice(time: number, value: Record<string, unknown>, field = 'phone_number_quality_update'): string {
  return JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: WABA_ID, time, changes: [{ value, field }] }] });
}

async function runningCampaign(accountId: string, category: 'MARKETING' | 'UTILITY'): Promise<string> {
  const { prisma, pool } = world.ctx.db;
  const tenantId = world.tenant.tenantId;
  const template = await prisma.template.create({
    data: { tenantId, accountId, name: `t_${category.toLowerCase()}_${Math.random().toString(36).slice(2, 8)}`, language: 'es', body: 'Hola {{1}}', paramCount: 1, category, status: 'approved' },
  });
  const campaign = await prisma.campaign.create({ data: { tenantId, accountId, templateId: template.id, name: `${category} campaign` } });
  await pool.query(
    `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables) VALUES ($1, $2, '+56911111111', '+56911111111', 2, '["Ana"]'::jsonb)`,
    [tenantId, campaign.id],
  );
  await pool.query(`UPDATE campaigns SET status = 'running', started_at = now() WHERE id = $1`, [campaign.id]);
  return campaign.id;
}

async function campaignState(id: string): Promise<{ status: string; status_code: string | null }> {
  const { rows } = await world.ctx.db.pool.query<{ status: string; status_code: string | null }>(`SELECT status::text, status_code FROM campaigns WHERE id = $1`, [id]);
  return rows[0] ?? { status: 'missing', status_code: null };
}

type QualityEvent = { quality: { qualityRating: string | null; flagged: boolean; tier: string | null; messagingLimit: number | null; restriction: { code: string } | null }; barsMarketing: boolean; pausesMarketing: boolean; pausedCampaigns: string[] };

async function qualityEvents(accountId: string): Promise<QualityEvent[]> {
  const { rows } = await world.ctx.db.pool.query<{ data: QualityEvent }>(
    `SELECT data FROM outbound_events WHERE type = 'account.quality_changed' AND order_key = $1 ORDER BY created_at, id`,
    [`account:${accountId}`],
  );
  return rows.map((r) => r.data);
}

type AccountView = { messagingLimit: number | null; quality: { rating: string | null; flagged: boolean; tier: string | null; restriction: { code: string } | null; updatedAt: string | null } };

async function accountView(id: string): Promise<AccountView> {
  return expectStatus<AccountView>(await world.api.get(`/v1/accounts/${id}`), 200);
}

async function metaAccount(): Promise<WebhookAccount> {
  return createWebhookAccount(world, 'meta', { appSecret: APP_SECRET });
}

describe('Meta account-level webhooks: parsing', () => {
  it('reads tiers, flags and restrictions, and refuses a malformed value by its path', () => {
    const at = new Date('2026-12-01T12:00:00Z');
    const flagged = parseMetaWebhook(qualityNotice(1_764_590_400, { display_phone_number: '15550783881', event: 'FLAGGED', current_limit: 'TIER_10K' }), at);
    expect(flagged.events).toEqual([]);
    expect(flagged.accountHealth).toEqual([
      { event: 'FLAGGED', occurredAt: new Date(1_764_590_400_000), flagged: true, qualityRating: 'RED', tier: { name: 'TIER_10K', messagingLimit: 10_000 } },
    ]);
    const unlimited = parseMetaWebhook(qualityNotice(1, { event: 'THROUGHPUT_UPGRADE', current_limit: 'TIER_UNLIMITED' }));
    expect(unlimited.accountHealth?.[0]?.tier).toEqual({ name: 'TIER_UNLIMITED', messagingLimit: null });
    // Meta's replacement field wins over the one it retires.
    const replaced = parseMetaWebhook(qualityNotice(1, { event: 'UPGRADE', current_limit: 'TIER_1K', max_daily_conversations_per_business: 'TIER_2K' }));
    expect(replaced.accountHealth?.[0]?.tier).toEqual({ name: 'TIER_2K', messagingLimit: 2_000 });
    const restricted = parseMetaWebhook(
      qualityNotice(1, { event: 'ACCOUNT_RESTRICTION', restriction_info: [{ restriction_type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expiration: 1_765_000_000 }] }, 'account_update'),
    );
    expect(restricted.accountHealth?.[0]?.restriction).toEqual({ code: 'RESTRICTED_BIZ_INITIATED_MESSAGING', until: new Date(1_765_000_000_000) });
    const reinstated = parseMetaWebhook(qualityNotice(1, { event: 'DISABLED_UPDATE', ban_info: { waba_ban_state: 'REINSTATE' } }, 'account_update'));
    expect(reinstated.accountHealth?.[0]?.restriction).toBeNull();
    // Account events the engine does not act on are counted as ignored.
    expect(parseMetaWebhook(qualityNotice(1, { event: 'PARTNER_ADDED' }, 'account_update'))).toEqual({ events: [], ignored: 1 });
    expect(() => parseMetaWebhook(qualityNotice(1, { current_limit: 'TIER_1K' }))).toThrow(WebhookFormatError);
    expect(() => parseMetaWebhook(qualityNotice(1, { current_limit: 'TIER_1K' }))).toThrow(/entry\[0\]\.changes\[0\]\.value\.event/);
  });
});

describe('quality guard', () => {
  it('a signed FLAGGED notice pauses running marketing campaigns, keeps utility ones running, records the rating and raises the event', async () => {
    const account = await metaAccount();
    const marketing = await runningCampaign(account.id, 'MARKETING');
    const utility = await runningCampaign(account.id, 'UTILITY');
    const t0 = unixNow(-600);

    await deliver(world, account, qualityNotice(t0, { display_phone_number: '15550783881', event: 'FLAGGED', current_limit: 'TIER_1K' }), APP_SECRET);
    await world.processor.drainBacklog();

    expect(await campaignState(marketing)).toEqual({ status: 'paused', status_code: 'QUALITY_GUARD_LOW' });
    expect(await campaignState(utility)).toEqual({ status: 'running', status_code: null });
    const view = await accountView(account.id);
    expect(view.quality).toMatchObject({ rating: 'RED', flagged: true, tier: 'TIER_1K', restriction: null, updatedAt: new Date(t0 * 1000).toISOString() });
    expect(view.messagingLimit).toBe(1_000);
    const events = await qualityEvents(account.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ quality: { qualityRating: 'RED', flagged: true, tier: 'TIER_1K', messagingLimit: 1_000 }, pausesMarketing: true });
    const slack = slackText({ id: 'e', type: 'account.quality_changed', createdAt: '', data: events[0] as unknown as Record<string, unknown> });
    expect(slack).toBe(':chart_with_downwards_trend: Account "meta account": quality RED, flagged, tier TIER_1K; its marketing campaigns paused.');
    // The pause itself went through the campaign actions: campaign.paused with the reason.
    const { rows } = await world.ctx.db.pool.query<{ data: { reason: { code: string } | null } }>(
      `SELECT data FROM outbound_events WHERE type = 'campaign.paused' AND order_key = $1`,
      [`campaign:${marketing}`],
    );
    expect(rows.map((r) => r.data.reason?.code)).toEqual(['QUALITY_GUARD_LOW']);
  });

  it('a new tier sets messagingLimit; a repeat and an older notice arriving late change nothing', async () => {
    const account = await metaAccount();
    const marketing = await runningCampaign(account.id, 'MARKETING');
    const t0 = unixNow(-3_600);
    const upgrade = qualityNotice(t0 + 60, { event: 'UPGRADE', old_limit: 'TIER_1K', current_limit: 'TIER_10K' });
    await deliver(world, account, upgrade, APP_SECRET);
    await world.processor.drainBacklog();
    expect((await accountView(account.id)).messagingLimit).toBe(10_000);

    // Meta retries the same notice, and an older FLAGGED (sent before the upgrade) arrives late.
    await deliver(world, account, upgrade, APP_SECRET);
    await deliver(world, account, qualityNotice(t0, { event: 'FLAGGED', current_limit: 'TIER_1K' }), APP_SECRET);
    await world.processor.drainBacklog();
    const view = await accountView(account.id);
    expect(view.messagingLimit).toBe(10_000);
    expect(view.quality).toMatchObject({ tier: 'TIER_10K', flagged: false, rating: null, updatedAt: new Date((t0 + 60) * 1000).toISOString() });
    expect(await campaignState(marketing)).toEqual({ status: 'running', status_code: null });
    expect((await qualityEvents(account.id)).map((e) => e.quality.tier)).toEqual(['TIER_10K']);

    // Unlimited: no messaging limit at all.
    await deliver(world, account, qualityNotice(t0 + 120, { event: 'THROUGHPUT_UPGRADE', current_limit: 'TIER_UNLIMITED' }), APP_SECRET);
    await world.processor.drainBacklog();
    expect((await accountView(account.id)).messagingLimit).toBeNull();
  });

  it('an account restriction pauses marketing with QUALITY_GUARD_RESTRICTED; reinstatement lifts the record', async () => {
    const account = await metaAccount();
    const marketing = await runningCampaign(account.id, 'MARKETING');
    const t0 = unixNow(-300);
    await deliver(world, account, qualityNotice(t0, { event: 'DISABLED_UPDATE', ban_info: { waba_ban_state: 'DISABLE', waba_ban_date: 'December 1, 2026' } }, 'account_update'), APP_SECRET);
    await world.processor.drainBacklog();
    expect(await campaignState(marketing)).toEqual({ status: 'paused', status_code: 'QUALITY_GUARD_RESTRICTED' });
    expect((await accountView(account.id)).quality.restriction).toMatchObject({ code: 'WABA_DISABLE' });

    await deliver(world, account, qualityNotice(t0 + 10, { event: 'DISABLED_UPDATE', ban_info: { waba_ban_state: 'REINSTATE' } }, 'account_update'), APP_SECRET);
    await world.processor.drainBacklog();
    expect((await accountView(account.id)).quality.restriction).toBeNull();
    // Lifting raises the event but resumes nothing by itself: an operator decides.
    expect((await qualityEvents(account.id)).map((e) => e.pausesMarketing)).toEqual([true, false]);
    expect((await qualityEvents(account.id)).map((e) => [e.barsMarketing, e.pausedCampaigns])).toEqual([[true, [marketing]], [false, []]]);
    expect((await campaignState(marketing)).status).toBe('paused');
  });
  it('a pool marketing campaign is not paused for one low member, only when no member is left able to send', async () => {
    const x = await metaAccount();
    const y = await metaAccount();
    const marketing = await runningCampaign(x.id, 'MARKETING');
    const { pool, prisma } = world.ctx.db;
    const senderPool = await prisma.senderPool.create({ data: { tenantId: world.tenant.tenantId, name: `pool ${marketing}`, members: { create: [{ accountId: x.id }, { accountId: y.id }] } } });
    // A pool campaign keeps account_id set to one member (here X).
    await pool.query(`UPDATE campaigns SET pool_id = $2 WHERE id = $1`, [marketing, senderPool.id]);
    const t0 = unixNow(-900);

    // X flagged: Y can still send, so the campaign keeps running (the feeder hands X's share to Y).
    await deliver(world, x, qualityNotice(t0, { event: 'FLAGGED', current_limit: 'TIER_1K' }), APP_SECRET);
    await world.processor.drainBacklog();
    expect(await campaignState(marketing)).toEqual({ status: 'running', status_code: null });

    // Y restricted too: no member is left able to send, and the campaign pauses.
    await deliver(world, y, qualityNotice(t0 + 10, { event: 'ACCOUNT_RESTRICTION', restriction_info: [{ restriction_type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expiration: t0 + 86_400 }] }, 'account_update'), APP_SECRET);
    await world.processor.drainBacklog();
    expect(await campaignState(marketing)).toEqual({ status: 'paused', status_code: 'QUALITY_GUARD_RESTRICTED' });
  });
});
