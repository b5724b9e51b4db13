/**
 * Optiwe end to end: campaigns sent by the real engine (feeder, BullMQ worker, send pipeline)
 * through the Optiwe adapter to a local Optiwe (test/fakes/optiwe-server.ts), with every outcome
 * kind its single send can produce, and the final state of every recipient checked. Transient
 * replies are scripted per phone on the fake; every other answer is the fake's own.
 *
 * Optiwe's single send produces: sent (201, no id), recipient_error (INVALID_WHATSAPP_NUMBER),
 * opted_out (CUSTOMER_OPTED_OUT), template_error (TEMPLATE_NOT_FOUND, ...), account_error
 * (WHATSAPP_OUTBOUND_NOT_ENABLED, NOT_AUTHENTICATED, ...), account_limited
 * (WHATSAPP_OUTBOUND_LIMIT_EXCEEDED), rate_limited (REQUESTS_LIMIT_REACHED, 429), retry (5xx)
 * and ambiguous (hang). Its `accepted` comes only from the bulk endpoint, which the engine does
 * not use, and it has no already_sent answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOptiwe, type FakeOptiwe, type FakeOptiweOptions } from '../fakes/optiwe-server.js';
import { startEngine, type Engine } from './support/engine.js';
import { expectAccountStopped, expectCampaignPausedByTemplate, resumeAndComplete, resumeCampaignAndComplete } from './support/engine-expectations.js';
import { createAccount, createCampaign, recipientErrorText, recipientsByPhone, startCampaign, tally, waitForCampaignStatus } from './support/provider-campaign.js';

const TEMPLATE = { name: 'aviso', body: 'Hola {{1}}, tu pedido está listo' };
const JSON_HEADERS = { 'content-type': 'application/json' };
const SENT = { status: 'sent', attempts: 1, errorCode: null, providerErrorCode: null, providerMessageId: null };

let fake: FakeOptiwe;
let engine: Engine;

async function startOptiwe(options: FakeOptiweOptions = {}): Promise<FakeOptiwe> {
  const server = await startFakeOptiwe(options);
  server.addTemplate({ name: TEMPLATE.name, text: TEMPLATE.body });
  return server;
}

beforeAll(async () => {
  fake = await startOptiwe();
  engine = await startEngine();
});

afterAll(async () => {
  await engine?.stop();
  await fake?.close();
});

/** Single sends the fake saw for a phone, scripted or answered (Chilean numbers: no mobile 9 to strip). */
const requestsFor = (phone: string): number =>
  fake.requests.filter((r) => {
    const body = r.json as { customerCountryCode?: unknown; customerPhone?: unknown } | undefined;
    return typeof body?.customerCountryCode === 'string' && typeof body.customerPhone === 'string' && body.customerCountryCode + body.customerPhone === phone;
  }).length;

const deliveriesOf = (server: FakeOptiwe, phones: readonly string[]): number[] => {
  const counts = tally(server.deliveries.map((d) => d.phone));
  return phones.map((phone) => counts.get(phone) ?? 0);
};

function account(baseUrl: string, token: string): Promise<string> {
  return createAccount(engine.ctx, { provider: 'optiwe', config: { baseUrl }, credentials: { token } });
}

describe('Optiwe through the engine', () => {
  it('gives each recipient the final state its outcome calls for, and sends no phone twice', async () => {
    const P = {
      sent: '+56911190001',
      invalidNumber: '+56911190002',
      optedOut: '+56911190003',
      retriedThenSent: '+56911190004',
      retriesExhausted: '+56911190005',
      rateLimitedThenSent: '+56911190006',
      timedOut: '+56911190007',
    };
    fake.invalidNumbers.add(P.invalidNumber);
    fake.optedOut.add(P.optedOut);
    fake.script({ status: 500, body: 'Internal Server Error' }, { phone: P.retriedThenSent, times: 2 });
    fake.script({ status: 502, body: 'Bad Gateway' }, { phone: P.retriesExhausted, times: 3 });
    const quota = JSON.stringify({ error: { key: 'REQUESTS_LIMIT_REACHED', message: 'Maximum amount of HTTP request reached for endpoint /whatsapp-campaigns/customers/' } });
    fake.script({ status: 400, body: quota, headers: { ...JSON_HEADERS, 'retry-after': '0' } }, { phone: P.rateLimitedThenSent, times: 3 });
    fake.script({ hang: true }, { phone: P.timedOut });

    const campaignId = await createCampaign(engine.ctx, {
      accountId: await account(fake.url, fake.token),
      template: TEMPLATE,
      maxAttempts: 3,
      recipients: Object.values(P).map((phone) => ({ phone, variables: ['Ana'] })),
    });
    await startCampaign(engine.ctx, campaignId);
    await waitForCampaignStatus(engine.ctx, campaignId, 'completed');

    expect(await recipientsByPhone(engine.ctx, campaignId)).toEqual({
      // Optiwe answers 201 with an empty body: sent, with no provider id to keep.
      [P.sent]: SENT,
      [P.invalidNumber]: { status: 'failed', attempts: 1, errorCode: 'RECIPIENT_INVALID', providerErrorCode: 'INVALID_WHATSAPP_NUMBER', providerMessageId: null },
      [P.optedOut]: { status: 'failed', attempts: 1, errorCode: 'RECIPIENT_OPTED_OUT', providerErrorCode: 'CUSTOMER_OPTED_OUT', providerMessageId: null },
      [P.retriedThenSent]: { ...SENT, attempts: 3 },
      [P.retriesExhausted]: { status: 'failed', attempts: 3, errorCode: 'PROVIDER_UNAVAILABLE', providerErrorCode: '502', providerMessageId: null },
      // Three quota refusals with maxAttempts 3: had a rate limit spent an attempt, this recipient would have failed.
      [P.rateLimitedThenSent]: SENT,
      [P.timedOut]: { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_HEADERS_TIMEOUT', providerMessageId: null },
    });
    expect(await recipientErrorText(engine.ctx, campaignId, P.optedOut)).toBe('Message will not be sent because the customer has opted out for outbound messages');

    expect(Object.values(P).map(requestsFor)).toEqual([1, 1, 1, 3, 3, 4, 1]);
    expect(deliveriesOf(fake, Object.values(P))).toEqual([1, 0, 0, 1, 0, 1, 0]);
  });

  it('fails the recipient a template error names, pauses the campaign with the reason, and sends the rest on resume', async () => {
    const good = ['+56911200001', '+56911200002', '+56911200003', '+56911200004'];
    const bad = '+56911200005';
    // Its send hangs, so a send is still under way when the pause comes.
    const inDoubt = '+56911200006';
    fake.script({ hang: true }, { phone: inDoubt });
    const campaignId = await createCampaign(engine.ctx, {
      accountId: await account(fake.url, fake.token),
      template: TEMPLATE,
      // An empty variable renders a text that matches no Optiwe template.
      recipients: [{ phone: bad, variables: [''] }, { phone: inDoubt, variables: ['Ana'] }, ...good.map((phone) => ({ phone, variables: ['Ana'] }))],
    });
    await startCampaign(engine.ctx, campaignId);

    const pending = await expectCampaignPausedByTemplate(engine, {
      campaignId,
      badPhone: bad,
      inDoubtPhone: inDoubt,
      code: 'TEMPLATE_NOT_FOUND',
      providerCode: 'TEMPLATE_NOT_FOUND',
      reasonIncludes: 'The text sent do not match any template format.',
    });
    for (const phone of pending) expect(requestsFor(phone)).toBe(0);

    const rows = await resumeCampaignAndComplete(engine, campaignId, inDoubt);
    for (const phone of good) expect(rows[phone]).toEqual(SENT);
    expect(rows[bad]?.status).toBe('failed');
    expect([bad, inDoubt, ...good].map(requestsFor)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(deliveriesOf(fake, good)).toEqual([1, 1, 1, 1]);
  });

  it('pauses the account when outbound messages are not enabled, keeps its recipients queued, and sends them once on resume', async () => {
    const server = await startOptiwe({ outboundEnabled: false });
    try {
      const phones = ['+56911210001', '+56911210002', '+56911210003'];
      const accountId = await account(server.url, server.token);
      const campaignId = await createCampaign(engine.ctx, { accountId, template: TEMPLATE, recipients: phones.map((phone) => ({ phone, variables: ['Ana'] })) });
      await startCampaign(engine.ctx, campaignId);

      await expectAccountStopped(engine, {
        accountId,
        campaignId,
        status: 'paused',
        code: 'ACCOUNT_MISCONFIGURED',
        providerCode: 'WHATSAPP_OUTBOUND_NOT_ENABLED',
        reasonIncludes: 'Whatsapp outbound config not enabled',
      });
      expect(deliveriesOf(server, phones)).toEqual([0, 0, 0]);

      // Outbound is enabled in Optiwe; the operator resumes the account.
      server.options.outboundEnabled = true;
      const rows = await resumeAndComplete(engine, accountId, campaignId);
      for (const phone of phones) expect(rows[phone]).toEqual(SENT);
      expect(deliveriesOf(server, phones)).toEqual([1, 1, 1]);
    } finally {
      await server.close();
    }
  });

  it('limits the account at its WhatsApp tier limit, defers its recipients, and sends them once on resume', async () => {
    const server = await startOptiwe({ tierLimit: 0 });
    try {
      const phones = ['+56911220001', '+56911220002', '+56911220003'];
      const accountId = await account(server.url, server.token);
      const campaignId = await createCampaign(engine.ctx, { accountId, template: TEMPLATE, recipients: phones.map((phone) => ({ phone, variables: ['Ana'] })) });
      await startCampaign(engine.ctx, campaignId);

      await expectAccountStopped(engine, {
        accountId,
        campaignId,
        status: 'limited',
        code: 'ACCOUNT_TIER_LIMIT',
        providerCode: 'WHATSAPP_OUTBOUND_LIMIT_EXCEEDED',
        reasonIncludes: 'Outbound message exceeds available tier limit',
      });
      expect(deliveriesOf(server, phones)).toEqual([0, 0, 0]);

      // The tier clears; the operator resumes the account.
      server.options.tierLimit = Number.POSITIVE_INFINITY;
      const rows = await resumeAndComplete(engine, accountId, campaignId);
      for (const phone of phones) expect(rows[phone]).toEqual(SENT);
      expect(deliveriesOf(server, phones)).toEqual([1, 1, 1]);
    } finally {
      await server.close();
    }
  });
  it('sends a campaign whose template has a numeric Optiwe id through the bulk endpoint, many recipients per request', async () => {
    const server = await startOptiwe();
    try {
      const bulkTemplate = server.addTemplate({ name: 'aviso_bulk', text: 'Hola {{1}}, tu pedido está listo' });
      const phones = Array.from({ length: 40 }, (_, i) => `+5691123${String(i).padStart(4, '0')}`);
      const invalid = phones[7] ?? '';
      server.invalidNumbers.add(invalid);
      const accountId = await account(server.url, server.token);
      const campaignId = await createCampaign(engine.ctx, {
        accountId,
        template: { name: bulkTemplate.name, body: bulkTemplate.text, externalId: String(bulkTemplate.id) },
        recipients: phones.map((phone, i) => ({ phone, variables: [`Cliente ${i}`] })),
      });
      await startCampaign(engine.ctx, campaignId);
      await waitForCampaignStatus(engine.ctx, campaignId, 'completed');

      const bulkRequests = server.requests.filter((r) => r.path === '/whatsapp-campaigns/bulk/customers/');
      const singleRequests = server.requests.filter((r) => r.path === '/whatsapp-campaigns/customers/');
      expect(singleRequests).toHaveLength(0);
      // Concurrent jobs share requests: fewer requests than recipients, every recipient in exactly one.
      expect(bulkRequests.length).toBeLessThan(phones.length);
      const sentPhones = bulkRequests.flatMap((r) => ((r.json as { customers: { countryCode: string; phone: string }[] }).customers).map((c) => c.countryCode + c.phone));
      expect(sentPhones.sort()).toEqual([...phones].sort());

      const rows = await recipientsByPhone(engine.ctx, campaignId);
      expect(rows[invalid]).toMatchObject({ status: 'failed', errorCode: 'RECIPIENT_INVALID' });
      const others = phones.filter((p) => p !== invalid);
      expect(others.map((p) => rows[p]?.status)).toEqual(others.map(() => 'accepted'));
      expect(deliveriesOf(server, others)).toEqual(others.map(() => 1));
    } finally {
      await server.close();
    }
  });
});
