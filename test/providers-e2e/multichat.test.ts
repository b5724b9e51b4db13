/**
 * contacto-multichat end to end: campaigns sent by the real engine (feeder, BullMQ worker, send
 * pipeline) through the multichat adapter to a local multichat (test/fakes/multichat-server.ts),
 * with every outcome kind its send can produce, and the final state of every recipient checked.
 *
 * multichat's send produces: sent (code 1), already_sent (9), recipient_error (4, 10),
 * template_error (6, 7, 8), account_error (2, 3), account_limited (5), rate_limited (429),
 * retry (5xx, undocumented reply) and ambiguous (hang). It has no accepted or opted_out answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeMultichatServer, type FakeMultichatOptions, type FakeMultichatServer } from '../fakes/multichat-server.js';
import { startEngine, type Engine } from './support/engine.js';
import { expectAccountStopped, expectCampaignPausedByTemplate, resumeAndComplete, resumeCampaignAndComplete } from './support/engine-expectations.js';
import { createAccount, createCampaign, recipientErrorText, recipientsByPhone, startCampaign, tally, waitForCampaignStatus } from './support/provider-campaign.js';

const TEMPLATE = { name: 'saludo', externalId: '201', body: 'Hola {{1}}, tenemos novedades' };
const FAKE_OPTIONS: FakeMultichatOptions = {
  templates: { '201': { name: 'saludo', body: TEMPLATE.body, paramCount: 1, status: 'APROBADA' } },
  // The JSON shape carries a messageId, so sent recipients can be matched to what the fake took.
  replyFormat: 'json',
};

let fake: FakeMultichatServer;
let engine: Engine;

beforeAll(async () => {
  fake = await startFakeMultichatServer({ ...FAKE_OPTIONS, marketingCapped: ['573001000004'] });
  engine = await startEngine();
});

afterAll(async () => {
  await engine?.stop();
  await fake?.close();
});

const mobile = (phone: string): string => phone.slice(1);
const requestsFor = (server: FakeMultichatServer, phone: string): number => server.requests.filter((r) => r.form.mobile === mobile(phone)).length;
const deliveriesOf = (server: FakeMultichatServer, phones: readonly string[]): number[] => {
  const counts = tally(server.deliveries.map((d) => `+${d.mobile}`));
  return phones.map((phone) => counts.get(phone) ?? 0);
};
const messageIdOf = (server: FakeMultichatServer, phone: string): string =>
  server.deliveries.find((d) => d.mobile === mobile(phone))?.messageId ?? 'not delivered';
const sent = (attempts: number, providerMessageId: string | null) => ({ status: 'sent', attempts, errorCode: null, providerErrorCode: null, providerMessageId });

function account(server: FakeMultichatServer): Promise<string> {
  return createAccount(engine.ctx, { provider: 'multichat', config: { baseUrl: server.url }, credentials: { login: server.login, token: server.token } });
}

describe('contacto-multichat through the engine', () => {
  it('gives each recipient the final state its outcome calls for, and sends no phone twice', async () => {
    const P = {
      sent: '+573001000001',
      alreadySent: '+573001000002',
      notColombian: '+56911140003',
      marketingCapped: '+573001000004',
      retriedThenSent: '+573001000005',
      retriesExhausted: '+573001000006',
      rateLimitedThenSent: '+573001000007',
      timedOut: '+573001000008',
    };
    // The same message went to this mobile moments ago (another campaign): multichat answers 9.
    fake.deliveries.push({ mobile: mobile(P.alreadySent), idTemplate: '201', variables: ['Ana'], customField: undefined, media: undefined, mediaName: undefined, messageId: 'earlier', at: Date.now() });
    fake.script({ status: 500, body: 'Internal Server Error' }, { mobile: mobile(P.retriedThenSent), times: 2 });
    fake.script({ status: 503, body: 'Service Unavailable' }, { mobile: mobile(P.retriesExhausted), times: 3 });
    fake.script({ status: 429, body: '', headers: { 'retry-after': '0' } }, { mobile: mobile(P.rateLimitedThenSent), times: 3 });
    fake.script({ hang: true }, { mobile: mobile(P.timedOut) });

    const campaignId = await createCampaign(engine.ctx, {
      accountId: await account(fake),
      template: TEMPLATE,
      maxAttempts: 3,
      recipients: Object.values(P).map((phone) => ({ phone, variables: ['Ana'] })),
    });
    await startCampaign(engine.ctx, campaignId);
    await waitForCampaignStatus(engine.ctx, campaignId, 'completed');

    expect(await recipientsByPhone(engine.ctx, campaignId)).toEqual({
      [P.sent]: sent(1, messageIdOf(fake, P.sent)),
      // Code 9: multichat already sent this exact message; recorded as sent, not sent again.
      [P.alreadySent]: sent(1, null),
      [P.notColombian]: { status: 'failed', attempts: 1, errorCode: 'RECIPIENT_INVALID', providerErrorCode: '4', providerMessageId: null },
      [P.marketingCapped]: { status: 'failed', attempts: 1, errorCode: 'RECIPIENT_MARKETING_CAP', providerErrorCode: '10', providerMessageId: null },
      [P.retriedThenSent]: sent(3, messageIdOf(fake, P.retriedThenSent)),
      [P.retriesExhausted]: { status: 'failed', attempts: 3, errorCode: 'PROVIDER_UNAVAILABLE', providerErrorCode: '503', providerMessageId: null },
      // Three 429s with maxAttempts 3: had a rate limit spent an attempt, this recipient would have failed.
      [P.rateLimitedThenSent]: sent(1, messageIdOf(fake, P.rateLimitedThenSent)),
      [P.timedOut]: { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_HEADERS_TIMEOUT', providerMessageId: null },
    });
    expect(await recipientErrorText(engine.ctx, campaignId, P.notColombian)).toBe('error in the cell phone number to send');
    expect(await recipientErrorText(engine.ctx, campaignId, P.retriesExhausted)).toBe('Service Unavailable');

    expect(Object.values(P).map((phone) => requestsFor(fake, phone))).toEqual([1, 1, 1, 1, 3, 3, 4, 1]);
    // alreadySent's one delivery is the earlier one.
    expect(deliveriesOf(fake, Object.values(P))).toEqual([1, 1, 0, 0, 1, 0, 1, 0]);
  });

  it('fails the recipient a template error names, pauses the campaign with the reason, and sends the rest on resume', async () => {
    const good = ['+573001100001', '+573001100002', '+573001100003', '+573001100004'];
    const bad = '+573001100005';
    // Its send hangs, so a send is still under way when the pause comes.
    const inDoubt = '+573001100006';
    fake.script({ hang: true }, { mobile: mobile(inDoubt) });
    const campaignId = await createCampaign(engine.ctx, {
      accountId: await account(fake),
      template: TEMPLATE,
      // Two variables for a one-variable template: multichat answers code 8.
      recipients: [{ phone: bad, variables: ['Ana', 'sobra'] }, { phone: inDoubt, variables: ['Ana'] }, ...good.map((phone) => ({ phone, variables: ['Ana'] }))],
    });
    await startCampaign(engine.ctx, campaignId);

    const pending = await expectCampaignPausedByTemplate(engine, {
      campaignId,
      badPhone: bad,
      inDoubtPhone: inDoubt,
      code: 'TEMPLATE_PARAMS_INVALID',
      providerCode: '8',
      reasonIncludes: 'the number of variables received does not correspond',
    });
    for (const phone of pending) expect(requestsFor(fake, phone)).toBe(0);

    const rows = await resumeCampaignAndComplete(engine, campaignId, inDoubt);
    for (const phone of good) expect(rows[phone]).toEqual(sent(1, messageIdOf(fake, phone)));
    expect(rows[bad]?.status).toBe('failed');
    expect([bad, inDoubt, ...good].map((phone) => requestsFor(fake, phone))).toEqual([1, 1, 1, 1, 1, 1]);
    expect(deliveriesOf(fake, good)).toEqual([1, 1, 1, 1]);
  });

  it('pauses the account on an account error (code 3), keeps its recipients queued, and sends them once on resume', async () => {
    const server = await startFakeMultichatServer({ ...FAKE_OPTIONS, chatbotAssigned: false });
    try {
      const phones = ['+573001200001', '+573001200002', '+573001200003'];
      const accountId = await account(server);
      const campaignId = await createCampaign(engine.ctx, { accountId, template: TEMPLATE, recipients: phones.map((phone) => ({ phone, variables: ['Ana'] })) });
      await startCampaign(engine.ctx, campaignId);

      await expectAccountStopped(engine, { accountId, campaignId, status: 'paused', code: 'ACCOUNT_MISCONFIGURED', providerCode: '3', reasonIncludes: 'user without multiagent/chatbot' });
      expect(deliveriesOf(server, phones)).toEqual([0, 0, 0]);

      // multichat support assigns a chatbot; the operator resumes the account.
      server.options.chatbotAssigned = true;
      const rows = await resumeAndComplete(engine, accountId, campaignId);
      for (const phone of phones) expect(rows[phone]).toEqual(sent(1, messageIdOf(server, phone)));
      expect(deliveriesOf(server, phones)).toEqual([1, 1, 1]);
    } finally {
      await server.close();
    }
  });

  it('limits the account when its balance runs out (code 5), defers its recipients, and sends them once on resume', async () => {
    const server = await startFakeMultichatServer({ ...FAKE_OPTIONS, balance: 0 });
    try {
      const phones = ['+573001300001', '+573001300002', '+573001300003'];
      const accountId = await account(server);
      const campaignId = await createCampaign(engine.ctx, { accountId, template: TEMPLATE, recipients: phones.map((phone) => ({ phone, variables: ['Ana'] })) });
      await startCampaign(engine.ctx, campaignId);

      await expectAccountStopped(engine, { accountId, campaignId, status: 'limited', code: 'ACCOUNT_NO_BALANCE', providerCode: '5', reasonIncludes: 'no balance' });
      expect(deliveriesOf(server, phones)).toEqual([0, 0, 0]);

      // The account is topped up; the operator resumes it.
      server.options.balance = 100;
      const rows = await resumeAndComplete(engine, accountId, campaignId);
      for (const phone of phones) expect(rows[phone]).toEqual(sent(1, messageIdOf(server, phone)));
      expect(deliveriesOf(server, phones)).toEqual([1, 1, 1]);
    } finally {
      await server.close();
    }
  });
});
