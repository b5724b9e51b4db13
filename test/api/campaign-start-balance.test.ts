/**
 * The contacto-multichat balance check as a user meets it, through POST /v1/campaigns/:id/start
 * and /resume against a local multichat (test/fakes/multichat-server.ts). README, "Providers":
 * before a contacto-multichat campaign starts (or resumes) the engine reads the account's
 * balance and refuses with ACCOUNT_BALANCE_SHORT when it is clearly below the recipients left to
 * send; a balance it cannot read is a warning in the response, not a refusal. So: a start on a
 * short balance is 409 and leaves the campaign a draft; a start on an unreadable balance is 200,
 * running, with the warning; a resume on a balance that fell short after a pause is 409 and
 * leaves the campaign paused, and goes through once the balance covers what is left. No send
 * workers run here, so every recipient stays pending and the count the check needs is exact.
 * The same holds for a campaign created and started in one call (POST /v1/campaigns, start: true).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeMultichatServer, type FakeMultichatServer } from '../fakes/multichat-server.js';
import { apiForFile, beforeAllValue, expectError, expectStatus, type CreateCampaignResponse, type PublicAccount, type PublicTemplate } from './api-harness.js';

const h = apiForFile();
const LOGIN = 'empresa-saldo';
const TOKEN = 'multichat-balance-api-token-5c3e';
const ACCOUNT_NAME = 'Multichat Medellín';
const BALANCE_PATH = '/bot/chat_wa/ws/balance/';

let fake: FakeMultichatServer;
beforeAll(async () => {
  fake = await startFakeMultichatServer({ login: LOGIN, token: TOKEN });
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => {
  fake.options.balance = 1000;
});

/** A multichat account on the fake and an approved template with its id_template, made through the API. */
const sender = beforeAllValue(async () => {
  const account = expectStatus<PublicAccount>(
    await h.api.post('/v1/accounts', { provider: 'multichat', name: ACCOUNT_NAME, config: { baseUrl: fake.url }, credentials: { login: LOGIN, token: TOKEN } }),
    201,
  );
  const template = expectStatus<PublicTemplate>(await h.api.post('/v1/templates', { accountId: account.id, name: 'recordatorio_pago', externalId: '101', body: 'Hola {{1}}' }), 201);
  return { account, template };
});

type ActionResult = { campaignId: string; status: string; affected: number; warnings?: { code: string; message: string }[] };

let offset = 0;
/** A draft campaign on the multichat account with `count` Colombian recipients (distinct across the file). */
async function draftCampaign(count: number): Promise<string> {
  const recipients = Array.from({ length: count }, (_, i) => ({ phone: `+57310${String(4_000_000 + offset + i)}`, nombre: `Cliente ${offset + i}` }));
  offset += count;
  const created = expectStatus<CreateCampaignResponse>(
    await h.api.post('/v1/campaigns', { name: 'cobranza', accountId: sender.account.id, templateId: sender.template.id, defaultCountry: 'CO', recipients }),
    201,
  );
  expect(created.upload).toMatchObject({ accepted: count, rejected: 0 });
  expect(created.campaign.status).toBe('draft');
  return created.campaign.id;
}

const statusOf = async (id: string) => (await h.ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id } })).status;
const balanceQueries = () => fake.requests.filter((r) => r.path === BALANCE_PATH);
const shortMessage = (balance: number, needed: number) =>
  `The balance of account "${ACCOUNT_NAME}" is ${balance}, less than the ${needed} message(s) this campaign would send; top it up, then start again.`;

describe('POST /v1/campaigns/:id/start on a contacto-multichat account', () => {
  it('refuses a start the balance clearly cannot cover: 409 ACCOUNT_BALANCE_SHORT, the campaign still a draft', async () => {
    const id = await draftCampaign(12);
    fake.options.balance = 3;
    const before = balanceQueries().length;

    const error = expectError(await h.api.post(`/v1/campaigns/${id}/start`), 409, 'ACCOUNT_BALANCE_SHORT');
    expect(error).toEqual({ code: 'ACCOUNT_BALANCE_SHORT', message: shortMessage(3, 12), details: { balance: 3, needed: 12 } });
    // The balance was read from multichat with the account's credentials.
    expect(balanceQueries().slice(before).map((r) => r.form)).toEqual([{ login: LOGIN, token: TOKEN }]);
    expect(await statusOf(id)).toBe('draft');
    expect(fake.deliveries).toHaveLength(0);

    // Once the balance covers the recipients the same start goes through, with no warning.
    fake.options.balance = 12;
    expect(expectStatus<ActionResult>(await h.api.post(`/v1/campaigns/${id}/start`), 200)).toEqual({ campaignId: id, status: 'running', affected: 12 });
    expect(await statusOf(id)).toBe('running');
  });

  it('starts when the balance cannot be read: 200, running, with an ACCOUNT_BALANCE_UNKNOWN warning in the response', async () => {
    const id = await draftCampaign(5);
    // multichat answers something that is not a balance.
    fake.script({ status: 200, body: '<html>saldo no disponible</html>' }, { path: BALANCE_PATH });

    const result = expectStatus<ActionResult>(await h.api.post(`/v1/campaigns/${id}/start`), 200);
    expect(result).toEqual({
      campaignId: id,
      status: 'running',
      affected: 5,
      warnings: [{ code: 'ACCOUNT_BALANCE_UNKNOWN', message: expect.stringMatching(/^The contacto-multichat balance of account "Multichat Medellín" could not be read \(.+\); the campaign starts anyway/) }],
    });
    expect(await statusOf(id)).toBe('running');
  });

  it('starts with the warning, naming the HTTP status, when multichat answers an error', async () => {
    const id = await draftCampaign(2);
    fake.script({ status: 503, body: 'Service Unavailable' }, { path: BALANCE_PATH });

    const result = expectStatus<ActionResult>(await h.api.post(`/v1/campaigns/${id}/start`), 200);
    expect(result).toMatchObject({ status: 'running', warnings: [{ code: 'ACCOUNT_BALANCE_UNKNOWN', message: expect.stringContaining('answered HTTP 503') }] });
    expect(result.warnings).toHaveLength(1);
    expect(await statusOf(id)).toBe('running');
  });
});

describe('POST /v1/campaigns with start: true on a contacto-multichat account', () => {
  it('creates and starts when the balance cannot be read: 201, running, with the warning (it used to be dropped)', async () => {
    fake.script({ status: 200, body: '<html>saldo no disponible</html>' }, { path: BALANCE_PATH });
    const recipients = [{ phone: '+573104999001', nombre: 'Ana' }];
    const response = await h.api.post('/v1/campaigns', { name: 'cobranza ya', accountId: sender.account.id, templateId: sender.template.id, defaultCountry: 'CO', recipients, start: true });
    const created = expectStatus<CreateCampaignResponse & { warnings?: { code: string; message: string }[] }>(response, 201);
    expect(created.campaign.status).toBe('running');
    expect(created.warnings).toEqual([{ code: 'ACCOUNT_BALANCE_UNKNOWN', message: expect.stringContaining('the campaign starts anyway') }]);
  });

  it('refuses a start the balance clearly cannot cover, as the start route does', async () => {
    fake.options.balance = 0;
    const recipients = [{ phone: '+573104999002', nombre: 'Luis' }];
    expectError(await h.api.post('/v1/campaigns', { name: 'cobranza corta', accountId: sender.account.id, templateId: sender.template.id, defaultCountry: 'CO', recipients, start: true }), 409, 'ACCOUNT_BALANCE_SHORT');
  });
});

describe('POST /v1/campaigns/:id/resume on a contacto-multichat account', () => {
  it('refuses a resume once the balance fell below the recipients left: 409 ACCOUNT_BALANCE_SHORT, the campaign still paused', async () => {
    const id = await draftCampaign(8);
    expect(expectStatus<ActionResult>(await h.api.post(`/v1/campaigns/${id}/start`), 200)).toEqual({ campaignId: id, status: 'running', affected: 8 });
    expect(expectStatus<ActionResult>(await h.api.post(`/v1/campaigns/${id}/pause`), 200)).toMatchObject({ campaignId: id, status: 'paused' });

    // Another campaign spent the balance meanwhile.
    fake.options.balance = 7;
    const before = balanceQueries().length;
    const error = expectError(await h.api.post(`/v1/campaigns/${id}/resume`), 409, 'ACCOUNT_BALANCE_SHORT');
    expect(error).toEqual({ code: 'ACCOUNT_BALANCE_SHORT', message: shortMessage(7, 8), details: { balance: 7, needed: 8 } });
    expect(balanceQueries().length).toBe(before + 1);
    expect(await statusOf(id)).toBe('paused');

    // Topped up to exactly the recipients left: the resume goes through.
    fake.options.balance = 8;
    expect(expectStatus<ActionResult>(await h.api.post(`/v1/campaigns/${id}/resume`), 200)).toEqual({ campaignId: id, status: 'running', affected: 0 });
    expect(await statusOf(id)).toBe('running');
  });
  it('counts every recipient still to send, deferred and queued ones too, not only the pending', async () => {
    const id = await draftCampaign(9);
    expect(expectStatus<ActionResult>(await h.api.post(`/v1/campaigns/${id}/start`), 200)).toMatchObject({ status: 'running', affected: 9 });
    expect(expectStatus<ActionResult>(await h.api.post(`/v1/campaigns/${id}/pause`), 200)).toMatchObject({ status: 'paused' });
    // As an account limit leaves them: five deferred, one queued, one sent, two still pending.
    const ids = (await h.ctx.db.pool.query<{ id: string }>(`SELECT id FROM recipients WHERE campaign_id = $1 ORDER BY id`, [id])).rows.map((r) => r.id);
    await h.ctx.db.pool.query(`UPDATE recipients SET status = 'deferred' WHERE id = ANY($1::bigint[])`, [ids.slice(0, 5)]);
    await h.ctx.db.pool.query(`UPDATE recipients SET status = 'queued' WHERE id = $1`, [ids[5]]);
    for (const status of ['queued', 'sending', 'sent']) await h.ctx.db.pool.query(`UPDATE recipients SET status = $2 WHERE id = $1`, [ids[6], status]);

    fake.options.balance = 7;
    const error = expectError(await h.api.post(`/v1/campaigns/${id}/resume`), 409, 'ACCOUNT_BALANCE_SHORT');
    expect(error).toEqual({ code: 'ACCOUNT_BALANCE_SHORT', message: shortMessage(7, 8), details: { balance: 7, needed: 8 } });
    expect(await statusOf(id)).toBe('paused');
    fake.options.balance = 8;
    expect(expectStatus<ActionResult>(await h.api.post(`/v1/campaigns/${id}/resume`), 200)).toMatchObject({ status: 'running' });
  });
});
