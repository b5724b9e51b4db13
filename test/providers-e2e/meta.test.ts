/**
 * Meta Cloud API end to end: campaigns sent by the real engine (feeder, BullMQ worker, send
 * pipeline) through the Meta adapter to a local Graph API (test/fakes/meta-server.ts), with every
 * outcome kind its send can produce, and the final state of every recipient checked. The fake
 * answers a chosen error code per recipient; replies that must change between attempts (and a
 * hang) are scripted per phone on the fake itself.
 *
 * Meta's send produces: sent (wamid), deferred (131049), recipient_error (131026, 131047, ...),
 * opted_out (131050), template_error (132000, 132001, ...), account_error (190, 131031, ...),
 * account_limited (131042, 4, 80007), rate_limited (130429, 429), retry (131000, 131056, 133004,
 * 5xx, unknown codes) and ambiguous (hang). It has no accepted or already_sent answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metaErrorReply, startFakeMeta, type FakeMeta } from '../fakes/meta-server.js';
import { startEngine, type Engine } from './support/engine.js';
import { expectAccountStopped, expectCampaignPausedByTemplate, resumeAndComplete, resumeCampaignAndComplete } from './support/engine-expectations.js';
import { waitFor } from '../support/fixtures.js';
import {
  campaignState,
  createAccount,
  createCampaign,
  recipientErrorText,
  recipientNotBefore,
  recipientsByPhone,
  startCampaign,
  tally,
  waitForCampaignStatus,
} from './support/provider-campaign.js';

const TEMPLATE = { name: 'aviso', language: 'es_AR', body: 'Hola {{1}}, tu pedido está listo' };

let fake: FakeMeta;
let engine: Engine;

beforeAll(async () => {
  fake = await startFakeMeta();
  fake.addTemplate({ name: TEMPLATE.name, language: TEMPLATE.language, body: TEMPLATE.body });
  engine = await startEngine();
});

afterAll(async () => {
  await engine?.stop();
  await fake?.close();
});

const digits = (phone: string): string => phone.slice(1);
/** Send requests the fake saw for a phone, scripted or answered. */
const requestsFor = (phone: string): number => fake.requests.filter((r) => (r.json as { to?: unknown } | undefined)?.to === phone).length;
const deliveriesOf = (phones: readonly string[]): number[] => {
  const counts = tally(fake.deliveries.map((d) => d.to));
  return phones.map((phone) => counts.get(phone) ?? 0);
};
const wamidOf = (phone: string): string => fake.deliveries.find((d) => d.to === phone)?.messageId ?? 'not delivered';
const sent = (phone: string, attempts = 1) => ({ status: 'sent', attempts, errorCode: null, providerErrorCode: null, providerMessageId: wamidOf(phone) });

function account(baseUrl: string): Promise<string> {
  return createAccount(engine.ctx, { provider: 'meta', config: { baseUrl, phoneNumberId: fake.phoneNumberId }, credentials: { accessToken: fake.token } });
}

describe('Meta Cloud API through the engine', () => {
  it('gives each recipient the final state its outcome calls for, and sends no phone twice', async () => {
    const P = {
      sent: '+5491155170001',
      notOnWhatsApp: '+5491155170002',
      optedOut: '+5491155170003',
      retriedThenSent: '+5491155170004',
      retriesExhausted: '+5491155170005',
      rateLimitedThenSent: '+5491155170006',
      timedOut: '+5491155170007',
    };
    fake.recipientErrors.set(digits(P.notOnWhatsApp), 131026);
    fake.recipientErrors.set(digits(P.optedOut), 131050);
    fake.recipientErrors.set(digits(P.retriesExhausted), 133004);
    fake.failNext(131000, { phone: digits(P.retriedThenSent), times: 2 });
    const throughput = metaErrorReply(130429);
    fake.script({ ...throughput, headers: { ...throughput.headers, 'retry-after': '0' } }, { phone: digits(P.rateLimitedThenSent), times: 3 });
    fake.script({ hang: true }, { phone: digits(P.timedOut) });

    const campaignId = await createCampaign(engine.ctx, {
      accountId: await account(fake.url),
      template: TEMPLATE,
      maxAttempts: 3,
      recipients: Object.values(P).map((phone) => ({ phone, variables: ['Ana'] })),
    });
    await startCampaign(engine.ctx, campaignId);
    await waitForCampaignStatus(engine.ctx, campaignId, 'completed');

    expect(await recipientsByPhone(engine.ctx, campaignId)).toEqual({
      [P.sent]: sent(P.sent),
      [P.notOnWhatsApp]: { status: 'failed', attempts: 1, errorCode: 'RECIPIENT_NOT_ON_WHATSAPP', providerErrorCode: '131026', providerMessageId: null },
      [P.optedOut]: { status: 'failed', attempts: 1, errorCode: 'RECIPIENT_OPTED_OUT', providerErrorCode: '131050', providerMessageId: null },
      [P.retriedThenSent]: sent(P.retriedThenSent, 3),
      [P.retriesExhausted]: { status: 'failed', attempts: 3, errorCode: 'PROVIDER_UNAVAILABLE', providerErrorCode: '133004', providerMessageId: null },
      // Three 130429s with maxAttempts 3: had a rate limit spent an attempt, this recipient would have failed.
      [P.rateLimitedThenSent]: sent(P.rateLimitedThenSent),
      [P.timedOut]: { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_HEADERS_TIMEOUT', providerMessageId: null },
    });
    expect(await recipientErrorText(engine.ctx, campaignId, P.optedOut)).toContain('User has stopped marketing messages');

    expect(Object.values(P).map(requestsFor)).toEqual([1, 1, 1, 3, 3, 4, 1]);
    expect(deliveriesOf(Object.values(P))).toEqual([1, 0, 0, 1, 0, 1, 0]);
  });

  it('fails the recipient a template error names, pauses the campaign with the reason, and sends the rest on resume', async () => {
    const good = ['+5491155180001', '+5491155180002', '+5491155180003', '+5491155180004'];
    const bad = '+5491155180005';
    // Its send hangs, so a send is still under way when the pause comes.
    const inDoubt = '+5491155180006';
    fake.script({ hang: true }, { phone: digits(inDoubt) });
    const campaignId = await createCampaign(engine.ctx, {
      accountId: await account(fake.url),
      template: TEMPLATE,
      // No body parameter for a one-parameter template: Meta answers 132000.
      recipients: [{ phone: bad, variables: [] }, { phone: inDoubt, variables: ['Ana'] }, ...good.map((phone) => ({ phone, variables: ['Ana'] }))],
    });
    await startCampaign(engine.ctx, campaignId);

    const pending = await expectCampaignPausedByTemplate(engine, {
      campaignId,
      badPhone: bad,
      inDoubtPhone: inDoubt,
      code: 'TEMPLATE_PARAMS_INVALID',
      providerCode: '132000',
      reasonIncludes: 'Number of parameters does not match the expected number of params',
    });
    for (const phone of pending) expect(requestsFor(phone)).toBe(0);

    const rows = await resumeCampaignAndComplete(engine, campaignId, inDoubt);
    for (const phone of good) expect(rows[phone]).toEqual(sent(phone));
    expect(rows[bad]?.status).toBe('failed');
    expect([bad, inDoubt, ...good].map(requestsFor)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(deliveriesOf(good)).toEqual([1, 1, 1, 1]);
  });

  it('pauses the account when Meta locks it (131031), keeps its recipients queued, and sends them once on resume', async () => {
    const phones = ['+5491155190001', '+5491155190002', '+5491155190003'];
    for (const phone of phones) fake.recipientErrors.set(digits(phone), 131031);
    const accountId = await account(fake.url);
    const campaignId = await createCampaign(engine.ctx, { accountId, template: TEMPLATE, recipients: phones.map((phone) => ({ phone, variables: ['Ana'] })) });
    await startCampaign(engine.ctx, campaignId);

    await expectAccountStopped(engine, { accountId, campaignId, status: 'paused', code: 'ACCOUNT_RESTRICTED', providerCode: '131031', reasonIncludes: 'Business Account locked' });
    expect(deliveriesOf(phones)).toEqual([0, 0, 0]);

    // Meta lifts the lock; the operator resumes the account.
    for (const phone of phones) fake.recipientErrors.delete(digits(phone));
    const rows = await resumeAndComplete(engine, accountId, campaignId);
    for (const phone of phones) expect(rows[phone]).toEqual(sent(phone));
    expect(deliveriesOf(phones)).toEqual([1, 1, 1]);
  });

  it('limits the account on a payment problem (131042), defers its recipients, and sends them once on resume', async () => {
    const phones = ['+5491155200001', '+5491155200002', '+5491155200003'];
    for (const phone of phones) fake.recipientErrors.set(digits(phone), 131042);
    const accountId = await account(fake.url);
    const campaignId = await createCampaign(engine.ctx, { accountId, template: TEMPLATE, recipients: phones.map((phone) => ({ phone, variables: ['Ana'] })) });
    await startCampaign(engine.ctx, campaignId);

    await expectAccountStopped(engine, { accountId, campaignId, status: 'limited', code: 'ACCOUNT_NO_BALANCE', providerCode: '131042', reasonIncludes: 'Business eligibility payment issue' });
    expect(deliveriesOf(phones)).toEqual([0, 0, 0]);

    // The payment method is fixed; the operator resumes the account.
    for (const phone of phones) fake.recipientErrors.delete(digits(phone));
    const rows = await resumeAndComplete(engine, accountId, campaignId);
    for (const phone of phones) expect(rows[phone]).toEqual(sent(phone));
    expect(deliveriesOf(phones)).toEqual([1, 1, 1]);
  });

  it('defers a recipient over its marketing per-user cap (131049) by a day, spending no attempt, and sends the others', async () => {
    const capped = '+5491155210001';
    const others = ['+5491155210002', '+5491155210003'];
    fake.recipientErrors.set(digits(capped), 131049);
    try {
      const campaignId = await createCampaign(engine.ctx, {
        accountId: await account(fake.url),
        template: TEMPLATE,
        recipients: [capped, ...others].map((phone) => ({ phone, variables: ['Ana'] })),
      });
      const startedAt = Date.now();
      await startCampaign(engine.ctx, campaignId);

      const rows = await waitFor(
        'the capped recipient deferred and the others sent',
        async () => {
          const byPhone = await recipientsByPhone(engine.ctx, campaignId);
          return byPhone[capped]?.status === 'deferred' && others.every((phone) => byPhone[phone]?.status === 'sent') ? byPhone : null;
        },
        30_000,
        50,
      );
      expect(rows[capped]).toEqual({ status: 'deferred', attempts: 0, errorCode: 'RECIPIENT_DAILY_CAP', providerErrorCode: '131049', providerMessageId: null });
      for (const phone of others) expect(rows[phone]).toEqual(sent(phone));
      const notBefore = (await recipientNotBefore(engine.ctx, campaignId, capped))?.getTime() ?? 0;
      expect(notBefore).toBeGreaterThanOrEqual(startedAt + 24 * 3_600_000);
      expect(notBefore).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000);
      // Not due for a day: the campaign stays open, and the capped phone is not tried again meanwhile.
      expect((await campaignState(engine.ctx, campaignId)).status).toBe('running');
      expect([capped, ...others].map(requestsFor)).toEqual([1, 1, 1]);
      expect(deliveriesOf([capped, ...others])).toEqual([0, 1, 1]);
    } finally {
      fake.recipientErrors.delete(digits(capped));
    }
  });
});
