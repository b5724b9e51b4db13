/**
 * Adereso end to end: campaigns sent by the real engine (feeder, BullMQ worker, send pipeline)
 * through the Adereso adapter to a local Adereso (test/fakes/adereso-server.ts), with every
 * outcome kind Adereso's HSM send can produce, and the final state of every recipient checked.
 *
 * Adereso's HSM send produces: sent (with or without message_id), retry (500, undocumented
 * reply), rate_limited (429), template_error (404, 400 missing parameters), account_error (401,
 * 400 unknown account number) and ambiguous (hang, dropped connection). It has no accepted,
 * already_sent, recipient_error, opted_out or account_limited answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAderesoServer, type FakeAderesoServer } from '../fakes/adereso-server.js';
import { startEngine, type Engine } from './support/engine.js';
import { expectAccountStopped, expectCampaignPausedByTemplate, resumeAndComplete, resumeCampaignAndComplete } from './support/engine-expectations.js';
import { createAccount, createCampaign, recipientErrorText, recipientsByPhone, startCampaign, tally, waitForCampaignStatus } from './support/provider-campaign.js';

const BUSINESS_NUMBER = '56900000000';
const TEMPLATE = { name: 'aviso_pago', body: 'Hola {{1}}, su pago vence hoy' };
const JSON_HEADERS = { 'content-type': 'application/json' };

let fake: FakeAderesoServer;
let engine: Engine;

beforeAll(async () => {
  fake = await startFakeAderesoServer({ templates: { [TEMPLATE.name]: 1 }, accounts: [BUSINESS_NUMBER] });
  engine = await startEngine();
});

afterAll(async () => {
  await engine?.stop();
  await fake?.close();
});

const digits = (phone: string): string => phone.slice(1);
const requestsFor = (phone: string): number => fake.requests.filter((r) => (r.json as { phone?: unknown } | undefined)?.phone === digits(phone)).length;
const deliveriesByPhone = (): Map<string, number> => tally(fake.deliveries.map((d) => `+${d.phone}`));
const messageIdOf = (phone: string): string | undefined => fake.deliveries.find((d) => d.phone === digits(phone))?.messageId;

function account(businessNumber = BUSINESS_NUMBER): Promise<string> {
  return createAccount(engine.ctx, { provider: 'adereso', config: { baseUrl: fake.url, account: businessNumber }, credentials: { token: fake.token } });
}

describe('Adereso through the engine', () => {
  it('gives each recipient the final state its outcome calls for, and sends no phone twice', async () => {
    const P = {
      sent: '+56911110001',
      sentWithoutId: '+56911110002',
      retriedThenSent: '+56911110003',
      retriesExhausted: '+56911110004',
      rateLimitedThenSent: '+56911110005',
      timedOut: '+56911110006',
      dropped: '+56911110007',
    };
    fake.script({ status: 200, body: '{"status":200}', headers: JSON_HEADERS }, { phone: digits(P.sentWithoutId) });
    fake.script({ status: 500, body: '{"status":500,"msg":"Error interno"}', headers: JSON_HEADERS }, { phone: digits(P.retriedThenSent) });
    fake.script({ status: 200, body: '<html>mantención</html>' }, { phone: digits(P.retriedThenSent) });
    fake.script({ status: 500, body: '{"status":500,"msg":"Error interno"}', headers: JSON_HEADERS }, { phone: digits(P.retriesExhausted), times: 3 });
    fake.script({ status: 429, body: 'Too Many Requests', headers: { 'retry-after': '0' } }, { phone: digits(P.rateLimitedThenSent), times: 3 });
    fake.script({ hang: true }, { phone: digits(P.timedOut) });
    fake.script({ drop: true }, { phone: digits(P.dropped) });

    const campaignId = await createCampaign(engine.ctx, {
      accountId: await account(),
      template: TEMPLATE,
      maxAttempts: 3,
      recipients: Object.values(P).map((phone) => ({ phone, variables: ['Ana'] })),
    });
    await startCampaign(engine.ctx, campaignId);
    await waitForCampaignStatus(engine.ctx, campaignId, 'completed');

    const sent = (attempts: number, providerMessageId: string | null) => ({ status: 'sent', attempts, errorCode: null, providerErrorCode: null, providerMessageId });
    expect(await recipientsByPhone(engine.ctx, campaignId)).toEqual({
      [P.sent]: sent(1, messageIdOf(P.sent) ?? 'missing'),
      // Adereso said status 200 without a message_id: sent, since resending could deliver twice.
      [P.sentWithoutId]: sent(1, null),
      [P.retriedThenSent]: sent(3, messageIdOf(P.retriedThenSent) ?? 'missing'),
      [P.retriesExhausted]: { status: 'failed', attempts: 3, errorCode: 'PROVIDER_UNAVAILABLE', providerErrorCode: '500', providerMessageId: null },
      // Three 429s with maxAttempts 3: had a rate limit spent an attempt, this recipient would have failed.
      [P.rateLimitedThenSent]: sent(1, messageIdOf(P.rateLimitedThenSent) ?? 'missing'),
      [P.timedOut]: { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_HEADERS_TIMEOUT', providerMessageId: null },
      [P.dropped]: { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_SOCKET', providerMessageId: null },
    });
    expect(await recipientErrorText(engine.ctx, campaignId, P.retriesExhausted)).toBe('Error interno');

    expect(Object.fromEntries(Object.entries(P).map(([name, phone]) => [name, requestsFor(phone)]))).toEqual({
      sent: 1,
      sentWithoutId: 1,
      retriedThenSent: 3,
      retriesExhausted: 3,
      rateLimitedThenSent: 4,
      // In doubt: never resent without an operator.
      timedOut: 1,
      dropped: 1,
    });
    const delivered = deliveriesByPhone();
    expect(Object.values(P).map((phone) => delivered.get(phone) ?? 0)).toEqual([1, 0, 1, 0, 1, 0, 0]);
  });

  it('fails the recipient a template error names, pauses the campaign with the reason, and sends the rest on resume', async () => {
    const good = ['+56911120001', '+56911120002', '+56911120003', '+56911120004'];
    const bad = '+56911120005';
    // Its send hangs, so a send is still under way when the pause comes.
    const inDoubt = '+56911120006';
    fake.script({ hang: true }, { phone: digits(inDoubt) });
    const campaignId = await createCampaign(engine.ctx, {
      accountId: await account(),
      template: TEMPLATE,
      // The HSM takes one parameter; this recipient has none, and Adereso refuses it.
      recipients: [{ phone: bad, variables: [] }, { phone: inDoubt, variables: ['Ana'] }, ...good.map((phone) => ({ phone, variables: ['Ana'] }))],
    });
    await startCampaign(engine.ctx, campaignId);

    const pending = await expectCampaignPausedByTemplate(engine, {
      campaignId,
      badPhone: bad,
      inDoubtPhone: inDoubt,
      code: 'TEMPLATE_PARAMS_INVALID',
      providerCode: '400',
      reasonIncludes: 'Missing parameters for selected HSM',
    });
    for (const phone of pending) expect(requestsFor(phone)).toBe(0);

    const rows = await resumeCampaignAndComplete(engine, campaignId, inDoubt);
    for (const phone of good) expect(rows[phone]).toEqual({ status: 'sent', attempts: 1, errorCode: null, providerErrorCode: null, providerMessageId: messageIdOf(phone) ?? 'missing' });
    expect(rows[bad]?.status).toBe('failed');
    expect([bad, inDoubt, ...good].map(requestsFor)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(good.map((phone) => deliveriesByPhone().get(phone))).toEqual([1, 1, 1, 1]);
  });

  it('pauses the account on an account error, keeps its recipients queued, and sends them once on resume', async () => {
    // A business number Adereso does not (yet) have: every send is refused with 400.
    const unknownNumber = '56922222222';
    const phones = ['+56911130001', '+56911130002', '+56911130003'];
    const accountId = await account(unknownNumber);
    const campaignId = await createCampaign(engine.ctx, { accountId, template: TEMPLATE, recipients: phones.map((phone) => ({ phone, variables: ['Ana'] })) });
    await startCampaign(engine.ctx, campaignId);

    await expectAccountStopped(engine, {
      accountId,
      campaignId,
      status: 'paused',
      code: 'ACCOUNT_MISCONFIGURED',
      providerCode: '400',
      reasonIncludes: 'Incomplete or missing field',
    });
    expect(phones.map((phone) => deliveriesByPhone().get(phone) ?? 0)).toEqual([0, 0, 0]);

    // Adereso enables the number; the operator resumes the account.
    fake.options.accounts.push(unknownNumber);
    const rows = await resumeAndComplete(engine, accountId, campaignId);
    for (const phone of phones) expect(rows[phone]).toEqual({ status: 'sent', attempts: 1, errorCode: null, providerErrorCode: null, providerMessageId: messageIdOf(phone) ?? 'missing' });
    expect(phones.map((phone) => deliveriesByPhone().get(phone))).toEqual([1, 1, 1]);
  });
});
