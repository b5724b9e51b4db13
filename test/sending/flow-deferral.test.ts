/**
 * A per-user cap (Meta 131049) end to end, through the Meta adapter and a local Graph API: the
 * recipient is deferred by a day with no attempt spent, the campaign stays open for it, and once
 * its time comes the feeder sends it and the campaign completes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { startFakeMeta, type FakeMeta } from '../fakes/meta-server.js';
import { createSandboxCampaign, statusCounts, waitFor } from '../support/fixtures.js';
import { campaignRow, insertPhones, startFlowEngine, TEST_TIMEOUT_MS, waitForCampaign, type FlowEngine } from './flow-support.js';

const DAY_MS = 24 * 3_600_000;

let engine: FlowEngine;
let meta: FakeMeta;

beforeAll(async () => {
  engine = await startFlowEngine();
  meta = await startFakeMeta();
  meta.addTemplate({ name: 'greeting', language: 'es', body: 'Hola {{1}}' });
});

afterAll(async () => {
  await engine.close();
  await meta.close();
});

it('defers a recipient Meta holds back under its per-user cap, then sends it when due', async () => {
  const { ctx } = engine;
  const account = await ctx.db.prisma.providerAccount.create({
    data: {
      tenantId: ctx.tenantId,
      provider: 'meta',
      name: 'meta',
      config: { baseUrl: meta.url, phoneNumberId: meta.phoneNumberId },
      credentials: { accessToken: meta.token },
      ratePerSecond: 1000,
      pairGapSeconds: 0,
    },
  });
  const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: meta.url, accountId: account.id, name: 'capped' });
  const capped = '+56930000001';
  const others = ['+56930000002', '+56930000003', '+56930000004'];
  await insertPhones(ctx, campaignId, [capped, ...others]);
  meta.failNext(131049, { phone: capped.slice(1), times: 1 });
  const startedAt = Date.now();
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');

  await waitFor('the capped recipient deferred and the others sent', async () => {
    const counts = await statusCounts(ctx, campaignId);
    return counts.deferred === 1 && counts.sent === others.length;
  });
  const { rows } = await ctx.db.pool.query<{ attempts: number; error_code: string | null; provider_error_code: string | null; not_before: Date | null }>(
    `SELECT attempts, error_code, provider_error_code, not_before FROM recipients WHERE campaign_id = $1 AND phone = $2`,
    [campaignId, capped],
  );
  const deferred = rows[0];
  expect(deferred).toMatchObject({ attempts: 0, error_code: 'RECIPIENT_DAILY_CAP', provider_error_code: '131049' });
  expect(deferred?.not_before?.getTime() ?? 0).toBeGreaterThanOrEqual(startedAt + DAY_MS);
  expect(deferred?.not_before?.getTime() ?? Infinity).toBeLessThanOrEqual(Date.now() + DAY_MS);
  // Open until the deferred recipient is sent or fails.
  expect((await campaignRow(ctx, campaignId)).status).toBe('running');

  // A day later (moved in Postgres rather than waited for): fed again, sent, campaign complete.
  await ctx.db.pool.query(`UPDATE recipients SET not_before = now() WHERE campaign_id = $1 AND phone = $2`, [campaignId, capped]);
  await waitForCampaign(ctx, campaignId, 'completed');
  expect(await statusCounts(ctx, campaignId)).toEqual({ sent: 4 });
  expect(meta.deliveries.filter((d) => d.to === capped)).toHaveLength(1);
  const { rows: history } = await ctx.db.pool.query<{ status: string; error_code: string | null; provider_code: string | null }>(
    `SELECT e.status, e.error_code, e.provider_code FROM recipient_events e JOIN recipients r ON r.id = e.recipient_id
      WHERE r.campaign_id = $1 AND r.phone = $2 AND e.source = 'send' ORDER BY e.id`,
    [campaignId, capped],
  );
  expect(history).toEqual([
    { status: 'deferred', error_code: 'RECIPIENT_DAILY_CAP', provider_code: '131049' },
    { status: 'sent', error_code: null, provider_code: null },
  ]);
  const { rows: after } = await ctx.db.pool.query<{ attempts: number }>(`SELECT attempts FROM recipients WHERE campaign_id = $1 AND phone = $2`, [campaignId, capped]);
  expect(after[0]?.attempts).toBe(1);
}, TEST_TIMEOUT_MS);
