/** Idempotency-Key on campaign creation: a retried call gets the first call's campaign, never a second one. */
import { describe, expect, it } from 'vitest';
import {
  apiForFile,
  beforeAllValue,
  createSender,
  expectError,
  expectStatus,
  recipientCount,
  recipientObjects,
  type CreateCampaignResponse,
} from './api-harness.js';

const h = apiForFile();
const sender = beforeAllValue(() => createSender(h.api));

const campaignsWithKey = (key: string) => h.ctx.db.prisma.campaign.findMany({ where: { idempotencyKey: key } });

function body(name: string, offset: number, extra: Record<string, unknown> = {}) {
  return { name, accountId: sender.account.id, templateId: sender.template.id, recipients: recipientObjects(10, offset), start: true, ...extra };
}

describe('Idempotency-Key', () => {
  it('the same key and body answers 200 replayed with the same campaign, storing no recipient twice', async () => {
    const key = { 'idempotency-key': 'create-june-1' };
    const first = expectStatus<CreateCampaignResponse>(await h.api.post('/v1/campaigns', body('june', 0), key), 201);
    expect(first).toMatchObject({ replayed: false, campaign: { status: 'running' }, upload: { accepted: 10 } });

    const again = expectStatus<CreateCampaignResponse>(await h.api.post('/v1/campaigns', body('june', 0), key), 200);
    expect(again).toMatchObject({ replayed: true, campaign: { id: first.campaign.id, status: 'running' } });
    expect(await campaignsWithKey('create-june-1')).toHaveLength(1);
    expect(await recipientCount(h.ctx, first.campaign.id)).toBe(10);
    expect(await h.ctx.db.prisma.upload.count({ where: { campaignId: first.campaign.id } })).toBe(1);
  });

  it('the same body with its fields in another order and defaults spelled out is still a replay', async () => {
    const key = { 'idempotency-key': 'create-reordered' };
    const original = body('reordered', 100);
    const first = expectStatus<CreateCampaignResponse>(await h.api.post('/v1/campaigns', original, key), 201);
    const reordered = { start: true, recipients: original.recipients, templateId: original.templateId, accountId: original.accountId, name: 'reordered', priority: 0 };
    const again = expectStatus<CreateCampaignResponse>(await h.api.post('/v1/campaigns', reordered, key), 200);
    expect(again.campaign.id).toBe(first.campaign.id);
  });

  it('the same key with another body is 409 IDEMPOTENCY_KEY_REUSED and creates nothing', async () => {
    const key = { 'idempotency-key': 'create-july' };
    const first = expectStatus<CreateCampaignResponse>(await h.api.post('/v1/campaigns', body('july', 200), key), 201);
    const changed = await h.api.post('/v1/campaigns', body('july', 300), key);
    const error = expectError(changed, 409, 'IDEMPOTENCY_KEY_REUSED');
    expect(error.message).toContain('create-july');
    expect((await campaignsWithKey('create-july')).map((c) => c.id)).toEqual([first.campaign.id]);
    expect(await recipientCount(h.ctx, first.campaign.id)).toBe(10);
    const { rows } = await h.ctx.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM recipients WHERE phone = ANY($1)', [
      recipientObjects(10, 300).map((r) => r.phone),
    ]);
    expect(rows[0]?.n).toBe('0');
  });

  it('a replay of a draft whose first call stored nothing yet finishes the job', async () => {
    const key = { 'idempotency-key': 'create-resume' };
    const first = expectStatus<CreateCampaignResponse>(await h.api.post('/v1/campaigns', body('half done', 400, { start: false }), key), 201);
    // As if the first call died after creating the campaign but before its recipients committed.
    for (const table of ['recipients', 'rejected_rows', 'uploads']) {
      await h.ctx.db.pool.query(`DELETE FROM ${table} WHERE campaign_id = $1`, [first.campaign.id]);
    }
    expect(await recipientCount(h.ctx, first.campaign.id)).toBe(0);
    const again = expectStatus<CreateCampaignResponse>(await h.api.post('/v1/campaigns', body('half done', 400, { start: false }), key), 200);
    expect(again).toMatchObject({ replayed: true, campaign: { id: first.campaign.id }, upload: { accepted: 10 } });
    expect(await recipientCount(h.ctx, first.campaign.id)).toBe(10);
  });

  it('identical calls at once create exactly one campaign, store its recipients once, and all answer with it', async () => {
    const key = { 'idempotency-key': 'create-concurrent' };
    const payload = body('concurrent', 500, { recipients: recipientObjects(2000, 500) });
    const responses = await Promise.all([1, 2, 3].map(() => h.api.post('/v1/campaigns', payload, key)));
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 200, 201]);
    const answers = responses.map((r) => r.json<CreateCampaignResponse>());
    expect(answers.map((a) => a.replayed).sort()).toEqual([false, true, true]);
    const stored = await campaignsWithKey('create-concurrent');
    expect(stored.map((c) => c.status)).toEqual(['running']);
    expect(answers.map((a) => a.campaign.id)).toEqual([1, 2, 3].map(() => stored[0]?.id));
    expect(await recipientCount(h.ctx, stored[0]?.id ?? '')).toBe(2000);
    expect(await h.ctx.db.prisma.upload.count({ where: { campaignId: stored[0]?.id } })).toBe(1);
  });

  it('without a key, the same call twice creates two campaigns (the control for the tests above)', async () => {
    const payload = body('no key', 600, { recipients: undefined, start: false });
    const a = expectStatus<CreateCampaignResponse>(await h.api.post('/v1/campaigns', payload), 201);
    const b = expectStatus<CreateCampaignResponse>(await h.api.post('/v1/campaigns', payload), 201);
    expect(a.campaign.id).not.toBe(b.campaign.id);
  });
});
