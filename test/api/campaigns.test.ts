/** Campaigns: create (with recipients and start in one call), and the state machine's answers over HTTP. */
import { describe, expect, it } from 'vitest';
import {
  apiForFile,
  beforeAllValue,
  createAccount,
  createDraftCampaign,
  createSender,
  createTemplate,
  expectError,
  expectStatus,
  recipientCount,
  recipientObjects,
  type CreateCampaignResponse,
  type PublicCampaign,
} from './api-harness.js';

const h = apiForFile();
const sender = beforeAllValue(() => createSender(h.api));

type ActionResult = { campaignId: string; status: string; affected: number };
const UNKNOWN_ID = '3f1e2d4c-0000-4000-8000-00000000abcd';

const statusOf = async (id: string) => (await h.ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id } })).status;
const campaignCount = () => h.ctx.db.prisma.campaign.count();

describe('create', () => {
  it('creates, stores inline recipients and starts in one call: 201 with the upload counts, status running', async () => {
    const recipients = [...recipientObjects(4), recipientObjects(1)[0], { phone: '12', nombre: 'Short', saldo: '1' }];
    const response = await h.api.post('/v1/campaigns', {
      name: 'Cobranza junio',
      accountId: sender.account.id,
      templateId: sender.template.id,
      priority: 5,
      maxAttempts: 3,
      recipients,
      start: true,
    });
    const created = expectStatus<CreateCampaignResponse>(response, 201);
    expect(created.replayed).toBe(false);
    expect(created.campaign).toMatchObject({
      name: 'Cobranza junio',
      accountId: sender.account.id,
      templateId: sender.template.id,
      status: 'running',
      priority: 5,
      maxAttempts: 3,
      defaultCountry: 'CL',
      startedAt: expect.any(String),
    });
    expect(created.upload).toEqual({
      uploadId: expect.any(String),
      totalRows: 6,
      accepted: 4,
      rejected: 1,
      duplicates: 1,
      encoding: 'utf-8',
      delimiter: null,
      rejectedByReason: { PHONE_INVALID: 1 },
    });
    const { rows } = await h.ctx.db.pool.query<{ phone: string; variables: string[]; status: string }>(
      'SELECT phone, variables, status FROM recipients WHERE campaign_id = $1 ORDER BY line',
      [created.campaign.id],
    );
    expect(rows).toEqual(recipientObjects(4).map((r) => ({ phone: r.phone, variables: [r.nombre, r.saldo], status: 'pending' })));
  });

  it('creates a draft when start is not asked for, with no upload when no recipients are sent', async () => {
    const created = await createDraftCampaign(h.api, sender, { name: 'later' });
    expect(created).toMatchObject({ campaign: { status: 'draft', startedAt: null }, upload: null, replayed: false });
  });

  it('maps variables from named columns when asked', async () => {
    const created = await createDraftCampaign(h.api, sender, {
      recipients: [{ celular: '+56987001234', a: 'ignored', monto: '500', cliente: 'Ana' }],
      variables: ['cliente', 'monto'],
    });
    expect(created.upload).toMatchObject({ accepted: 1 });
    const { rows } = await h.ctx.db.pool.query<{ variables: string[] }>('SELECT variables FROM recipients WHERE campaign_id = $1', [created.campaign.id]);
    expect(rows).toEqual([{ variables: ['Ana', '500'] }]);
  });

  it('inline recipients that cannot fill the template are 422 TEMPLATE_VARIABLE_MISMATCH', async () => {
    const response = await h.api.post('/v1/campaigns', {
      name: 'one variable short',
      accountId: sender.account.id,
      templateId: sender.template.id,
      recipients: [{ phone: '+56987001235', nombre: 'Ana' }],
    });
    const error = expectError(response, 422, 'TEMPLATE_VARIABLE_MISMATCH');
    expect(error.details).toEqual({ expected: 2, found: 1, columns: ['nombre'] });
  });

  it('a template that is not approved cannot start: 409 TEMPLATE_NOT_APPROVED, and no campaign is created', async () => {
    const pending = await createTemplate(h.api, sender.account.id, { name: 'awaiting_review', status: 'pending' });
    const before = await campaignCount();
    const response = await h.api.post('/v1/campaigns', {
      name: 'too soon',
      accountId: sender.account.id,
      templateId: pending.id,
      recipients: recipientObjects(2, 500),
      start: true,
    });
    expect(expectError(response, 409, 'TEMPLATE_NOT_APPROVED').details).toEqual({ template: 'awaiting_review', status: 'pending' });
    expect(await campaignCount()).toBe(before);
  });

  it('a template of another account is 400 TEMPLATE_ACCOUNT_MISMATCH; unknown ids are 404', async () => {
    const otherAccount = await createAccount(h.api, 'other');
    const mismatch = await h.api.post('/v1/campaigns', { name: 'x', accountId: otherAccount.id, templateId: sender.template.id });
    expectError(mismatch, 400, 'TEMPLATE_ACCOUNT_MISMATCH');
    const noTemplate = await h.api.post('/v1/campaigns', { name: 'x', accountId: sender.account.id, templateId: UNKNOWN_ID });
    expect(expectError(noTemplate, 404, 'TEMPLATE_NOT_FOUND').details).toEqual({ templateId: UNKNOWN_ID });
  });

  it('a malformed body is 400 VALIDATION_FAILED listing each field', async () => {
    const response = await h.api.post('/v1/campaigns', { name: '', accountId: 'x', templateId: sender.template.id, maxAttempts: 0, recipients: 'a.csv' });
    const problems = expectError(response, 400, 'VALIDATION_FAILED').details?.problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^name: /),
        expect.stringMatching(/^accountId: /),
        expect.stringMatching(/^maxAttempts: /),
        expect.stringMatching(/^recipients: /),
      ]),
    );
  });

  it('lists campaigns newest first', async () => {
    const a = await createDraftCampaign(h.api, sender, { name: 'older' });
    const b = await createDraftCampaign(h.api, sender, { name: 'newer' });
    const { campaigns } = expectStatus<{ campaigns: PublicCampaign[] }>(await h.api.get('/v1/campaigns?limit=2'), 200);
    expect(campaigns.map((c) => c.id)).toEqual([b.campaign.id, a.campaign.id]);
  });
});

describe('actions', () => {
  it('starting a campaign with no recipients is 409 CAMPAIGN_EMPTY and leaves it a draft', async () => {
    const { campaign } = await createDraftCampaign(h.api, sender);
    const error = expectError(await h.api.post(`/v1/campaigns/${campaign.id}/start`), 409, 'CAMPAIGN_EMPTY');
    expect(error.details).toEqual({ campaignId: campaign.id });
    expect(await statusOf(campaign.id)).toBe('draft');
  });

  it('pausing a draft is 409 CAMPAIGN_STATE_CONFLICT saying which states allow it', async () => {
    const { campaign } = await createDraftCampaign(h.api, sender);
    const error = expectError(await h.api.post(`/v1/campaigns/${campaign.id}/pause`), 409, 'CAMPAIGN_STATE_CONFLICT');
    expect(error.details).toEqual({ campaignId: campaign.id, state: 'draft', action: 'pause', allowed: ['running'] });
    expect(error.message).toBe(`Campaign ${campaign.id} is draft; "pause" needs it to be running.`);
  });

  it('an unknown campaign is 404 CAMPAIGN_NOT_FOUND for reads and actions; a malformed id is 400', async () => {
    for (const response of [
      await h.api.get(`/v1/campaigns/${UNKNOWN_ID}`),
      await h.api.post(`/v1/campaigns/${UNKNOWN_ID}/start`),
      await h.api.post(`/v1/campaigns/${UNKNOWN_ID}/cancel`),
      await h.api.get(`/v1/campaigns/${UNKNOWN_ID}/recipients`),
      await h.api.get(`/v1/campaigns/${UNKNOWN_ID}/export.csv`),
    ]) {
      expect(expectError(response, 404, 'CAMPAIGN_NOT_FOUND').details).toEqual({ campaignId: UNKNOWN_ID });
    }
    expectError(await h.api.post('/v1/campaigns/not-a-uuid/start'), 400, 'VALIDATION_FAILED');
  });

  it('a draft whose template is not approved cannot start: 409 TEMPLATE_NOT_APPROVED', async () => {
    const pending = await createTemplate(h.api, sender.account.id, { name: 'in_review', status: 'pending' });
    const { campaign } = await createDraftCampaign(h.api, { account: sender.account, template: pending }, { recipients: recipientObjects(2, 600) });
    expectError(await h.api.post(`/v1/campaigns/${campaign.id}/start`), 409, 'TEMPLATE_NOT_APPROVED');
    expect(await statusOf(campaign.id)).toBe('draft');
  });

  it('start, pause, resume and cancel move the campaign along and report what they touched', async () => {
    const { campaign } = await createDraftCampaign(h.api, sender, { recipients: recipientObjects(5, 700) });
    const base = `/v1/campaigns/${campaign.id}`;
    expect(expectStatus<ActionResult>(await h.api.post(`${base}/start`), 200)).toEqual({ campaignId: campaign.id, status: 'running', affected: 5 });
    expectError(await h.api.post(`${base}/start`), 409, 'CAMPAIGN_STATE_CONFLICT');
    expect(expectStatus<ActionResult>(await h.api.post(`${base}/pause`), 200)).toMatchObject({ status: 'paused' });
    expectError(await h.api.post(`${base}/pause`), 409, 'CAMPAIGN_STATE_CONFLICT');
    expect(expectStatus<ActionResult>(await h.api.post(`${base}/resume`), 200)).toMatchObject({ status: 'running' });
    expect(expectStatus<ActionResult>(await h.api.post(`${base}/cancel`), 200)).toEqual({ campaignId: campaign.id, status: 'cancelled', affected: 5 });
    expectError(await h.api.post(`${base}/resume`), 409, 'CAMPAIGN_STATE_CONFLICT');
    const { rows } = await h.ctx.db.pool.query<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM recipients WHERE campaign_id = $1 GROUP BY status',
      [campaign.id],
    );
    expect(rows).toEqual([{ status: 'cancelled', n: '5' }]);
    expect(await recipientCount(h.ctx, campaign.id)).toBe(5);
  });
});
