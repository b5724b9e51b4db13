/**
 * POST /v1/campaigns/:id/plan over HTTP: a read key may ask (it changes nothing), the answer
 * matches the route's zod schema, the account's prices give the cost, suppressed phones and
 * rows refused at upload are counted, and errors have stable codes.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPlanSchema } from '../../src/api/routes/campaign-plan.js';
import { apiClient } from '../support/api-client.js';
import { createDraftCampaign, createSender, expectError, expectStatus, phones, startApi, type ApiHarness } from './api-harness.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => {
  await h.close();
});

describe('POST /v1/campaigns/:id/plan', () => {
  it('plans a draft: rate-bound finish, cost by country, suppressed and rejected counted; a read key may ask', async () => {
    const sender = await createSender(h.api);
    expectStatus(await h.api.patch(`/v1/accounts/${sender.account.id}`, { ratePerSecond: 2, messagePrices: { MARKETING: { CL: 0.05, '*': 0.1 } } }), 200);
    const list = phones(10);
    const recipients = [...list.map((phone) => ({ phone, variables: ['Ana', '$1'] })), { phone: 'not a phone', variables: ['x', 'y'] }];
    const { campaign } = await createDraftCampaign(h.api, sender, { recipients });
    expectStatus(await h.api.post('/v1/suppressions', { phone: list[0] }), 201);

    const keyResponse = expectStatus<{ key: string }>(await h.api.post('/v1/api-keys', { name: 'planner', scope: 'read' }), 201);
    const read = apiClient(h.app, keyResponse.key);
    const plan = launchPlanSchema.parse(expectStatus(await read.post(`/v1/campaigns/${campaign.id}/plan`, {}), 200));
    expect(plan.openRecipients).toBe(10);
    expect(plan.outcomes).toMatchObject({ willSend: 9, suppressed: 1, expire: 0, rejectedAtUpload: 1, beyondHorizon: 0 });
    expect(plan.bounds.binding).toEqual(['rate']);
    expect(plan.bounds.rate.perSecond).toBe(2);
    // Nine sends one slot apart at 2/s (paced for the jitter allowance): about 4.6 s after the start.
    const span = new Date(plan.finishesAt ?? '').getTime() - new Date(plan.startsAt).getTime();
    expect(span).toBe(Math.round((8 * (1000 + h.ctx.config.rateJitterMs)) / 2));
    expect(plan.projection.reduce((n, b) => n + b.sends, 0)).toBe(9);
    expect(plan.cost).toMatchObject({ total: 0.45, unpriced: 0, lines: [{ category: 'MARKETING', country: 'CL', count: 9, unitPrice: 0.05, total: 0.45 }] });
    // A dry run: nothing changed.
    const { rows } = await h.ctx.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM recipients WHERE campaign_id = $1 AND status = 'pending'`, [campaign.id]);
    expect(rows[0]?.n).toBe(10);
  });

  it('answers 404 CAMPAIGN_NOT_FOUND and 400 VALIDATION_FAILED', async () => {
    expectError(await h.api.post(`/v1/campaigns/${randomUUID()}/plan`, {}), 404, 'CAMPAIGN_NOT_FOUND');
    expectError(await h.api.post('/v1/campaigns/not-a-uuid/plan', {}), 400, 'VALIDATION_FAILED');
    const sender = await createSender(h.api);
    const { campaign } = await createDraftCampaign(h.api, sender);
    expectError(await h.api.post(`/v1/campaigns/${campaign.id}/plan`, { bucketMinutes: 0 }), 400, 'VALIDATION_FAILED');
    // Another tenant's campaign is not found.
    const other = await h.newTenant('other tenant');
    expectError(await other.api.post(`/v1/campaigns/${campaign.id}/plan`, {}), 404, 'CAMPAIGN_NOT_FOUND');
  });

  it('refuses prices that are not a table of category and country', async () => {
    const sender = await createSender(h.api);
    expectError(await h.api.patch(`/v1/accounts/${sender.account.id}`, { messagePrices: { MARKETING: { chile: 1 } } }), 400, 'VALIDATION_FAILED');
    expectError(await h.api.patch(`/v1/accounts/${sender.account.id}`, { messagePrices: { PROMO: { CL: 1 } } }), 400, 'VALIDATION_FAILED');
    const cleared = expectStatus<{ messagePrices: unknown }>(await h.api.patch(`/v1/accounts/${sender.account.id}`, { messagePrices: null }), 200);
    expect(cleared.messagePrices).toBeNull();
  });
});
