/**
 * The contacto-multichat balance check before a start, against a local multichat: refused only
 * when the balance read is below the recipients to send, a warning (never a refusal) when the
 * balance cannot be read, and no query at all for other providers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkBalanceBeforeStart, requireBalanceForStart } from '../../src/accounts/balance-check.js';
import { AppError } from '../../src/errors.js';
import { startFakeMultichatServer, type FakeMultichatServer } from '../fakes/multichat-server.js';
import { createSandboxCampaign, insertRecipients } from '../support/fixtures.js';
import { createTestContext, type TestContext } from '../support/test-context.js';

const TOKEN = 'multichat-balance-token-8d21';

let ctx: TestContext;
let fake: FakeMultichatServer;
let accountId: string;

async function multichatAccount(config: Record<string, string>, credentials: Record<string, string>, name = 'multichat'): Promise<string> {
  const row = await ctx.db.prisma.providerAccount.create({ data: { tenantId: ctx.tenantId, provider: 'multichat', name, config, credentials } });
  return row.id;
}

const balanceRequests = () => fake.requests.filter((r) => r.path === '/bot/chat_wa/ws/balance/');

beforeAll(async () => {
  ctx = await createTestContext();
  fake = await startFakeMultichatServer({ login: 'empresa', token: TOKEN });
  accountId = await multichatAccount({ baseUrl: fake.url }, { login: 'empresa', token: TOKEN }, 'Multichat Bogotá');
});
afterAll(async () => {
  await fake.close();
  await ctx.close();
});
beforeEach(() => {
  fake.options.balance = 1000;
});

describe('checkBalanceBeforeStart', () => {
  it('passes when the balance covers every recipient, exactly or more, and says what it read', async () => {
    expect(await checkBalanceBeforeStart(ctx.db, accountId, 10)).toEqual({ ok: true, balance: 1000 });
    fake.options.balance = 10;
    expect(await checkBalanceBeforeStart(ctx.db, accountId, 10)).toEqual({ ok: true, balance: 10 });
    expect(balanceRequests().at(-1)?.form).toEqual({ login: 'empresa', token: TOKEN });
  });

  it('refuses with ACCOUNT_BALANCE_SHORT when the balance is below the recipients to send', async () => {
    fake.options.balance = 9;
    const check = await checkBalanceBeforeStart(ctx.db, accountId, 10);
    expect(check).toMatchObject({ ok: false, code: 'ACCOUNT_BALANCE_SHORT', balance: 9, needed: 10 });
    if (check.ok) throw new Error('expected a refusal');
    expect(check.message).toBe(
      'The balance of account "Multichat Bogotá" is 9, less than the 10 message(s) this campaign would send; top it up, then start again.',
    );
    expect(check.error).toBeInstanceOf(AppError);
    expect({ status: check.error.statusCode, code: check.error.code, message: check.error.message }).toEqual({ status: 409, code: check.code, message: check.message });

    fake.options.balance = 0;
    expect(await checkBalanceBeforeStart(ctx.db, accountId, 1)).toMatchObject({ ok: false, balance: 0, needed: 1 });
  });

  it('warns, and lets the start go ahead, when the credentials are refused (code 2), naming no secret', async () => {
    const wrong = await multichatAccount({ baseUrl: fake.url }, { login: 'empresa', token: 'expired-token-4411' });
    const check = await checkBalanceBeforeStart(ctx.db, wrong, 10);
    expect(check).toMatchObject({ ok: true, warning: { code: 'ACCOUNT_BALANCE_UNKNOWN' } });
    expect(JSON.stringify(check)).toContain('code 2');
    expect(JSON.stringify(check)).not.toContain('expired-token-4411');
    expect(check).not.toHaveProperty('balance');
  });

  it('warns when multichat does not answer in time, is unreachable, or answers something unreadable', async () => {
    fake.script({ hang: true }, { path: '/bot/chat_wa/ws/balance/' });
    // The 300 ms asked for, not the default BALANCE_CHECK_TIMEOUT_MS: the engine's own words say so
    // (a wall-clock bound here would depend on the machine's load).
    const slow = await checkBalanceBeforeStart(ctx.db, accountId, 10, { timeoutMs: 300 });
    expect(slow).toMatchObject({ ok: true, warning: { code: 'ACCOUNT_BALANCE_UNKNOWN', message: expect.stringContaining('did not answer within 300 ms') } });

    const gone = await multichatAccount({ baseUrl: 'http://127.0.0.1:9' }, { login: 'empresa', token: TOKEN });
    expect(await checkBalanceBeforeStart(ctx.db, gone, 10)).toMatchObject({ ok: true, warning: { message: expect.stringContaining('could not be reached') } });

    fake.script({ status: 200, body: '<html>saldo no disponible</html>' }, { path: '/bot/chat_wa/ws/balance/' });
    expect(await checkBalanceBeforeStart(ctx.db, accountId, 10)).toMatchObject({ ok: true, warning: { code: 'ACCOUNT_BALANCE_UNKNOWN' } });

    fake.script({ status: 503, body: 'Service Unavailable' }, { path: '/bot/chat_wa/ws/balance/' });
    expect(await checkBalanceBeforeStart(ctx.db, accountId, 10)).toMatchObject({ ok: true, warning: { message: expect.stringContaining('answered HTTP 503') } });
  });

  it('asks nothing for other providers, or when there is nobody to send to', async () => {
    const sandbox = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9' });
    const before = fake.requests.length;
    expect(await checkBalanceBeforeStart(ctx.db, sandbox.accountId, 1_000_000)).toEqual({ ok: true });
    expect(await checkBalanceBeforeStart(ctx.db, accountId, 0)).toEqual({ ok: true });
    expect(fake.requests.length).toBe(before);
  });

  it('an unknown account is ACCOUNT_NOT_FOUND', async () => {
    await expect(checkBalanceBeforeStart(ctx.db, '00000000-0000-4000-8000-000000000003', 1)).rejects.toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
  });
});

describe('requireBalanceForStart', () => {
  it('counts the campaign\'s pending recipients: throws 409 when they outnumber the balance, passes otherwise', async () => {
    const campaign = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9', accountId, name: 'cobranza' });
    await insertRecipients(ctx, campaign.campaignId, 25);
    fake.options.balance = 24;
    await expect(requireBalanceForStart(ctx.db, ctx.tenantId, campaign.campaignId)).rejects.toMatchObject({
      code: 'ACCOUNT_BALANCE_SHORT',
      statusCode: 409,
      details: { balance: 24, needed: 25 },
    });
    fake.options.balance = 25;
    expect(await requireBalanceForStart(ctx.db, ctx.tenantId, campaign.campaignId)).toEqual([]);

    // Only pending recipients would be sent by a start.
    await ctx.db.pool.query(`UPDATE recipients SET status = 'failed' WHERE campaign_id = $1 AND id IN (SELECT id FROM recipients WHERE campaign_id = $1 LIMIT 5)`, [campaign.campaignId]);
    fake.options.balance = 20;
    expect(await requireBalanceForStart(ctx.db, ctx.tenantId, campaign.campaignId)).toEqual([]);
  });

  it('returns the warning when the balance cannot be read', async () => {
    const campaign = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9', accountId, name: 'sin saldo legible' });
    await insertRecipients(ctx, campaign.campaignId, 3, 100);
    fake.script({ status: 200, body: 'not a balance' }, { path: '/bot/chat_wa/ws/balance/' });
    expect(await requireBalanceForStart(ctx.db, ctx.tenantId, campaign.campaignId)).toEqual([{ code: 'ACCOUNT_BALANCE_UNKNOWN', message: expect.stringMatching(/^The contacto-multichat balance of account "Multichat Bogotá" could not be read/) }]);
  });

  it('does not count or ask for a sandbox campaign, nor for another tenant\'s campaign', async () => {
    const sandbox = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9', name: 'sandbox' });
    await insertRecipients(ctx, sandbox.campaignId, 5, 200);
    const before = fake.requests.length;
    expect(await requireBalanceForStart(ctx.db, ctx.tenantId, sandbox.campaignId)).toEqual([]);
    const mine = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9', accountId, name: 'ajena' });
    await insertRecipients(ctx, mine.campaignId, 5, 300);
    fake.options.balance = 0;
    expect(await requireBalanceForStart(ctx.db, '00000000-0000-4000-8000-000000000004', mine.campaignId)).toEqual([]);
    expect(fake.requests.length).toBe(before);
  });
});
