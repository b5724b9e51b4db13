/**
 * AtomChat end to end: campaigns sent by the real engine (feeder, BullMQ worker, send pipeline)
 * through the AtomChat adapter to a local AtomChat (test/fakes/atomchat-server.ts), with every
 * outcome kind its template send can produce, and the final state of every recipient checked.
 *
 * AtomChat's send produces: sent ("Sent" in an existing conversation), accepted ("Pending" for a
 * new number, or 202), retry (500, undocumented reply), rate_limited (429), template_error
 * (missing params, no data to send), account_error (unknown public token, channel not
 * configured), account_limited (401, the plan's conversation limit) and ambiguous (hang,
 * dropped connection). It has no already_sent, recipient_error or opted_out answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAtomchatServer, type FakeAtomchatOptions, type FakeAtomchatServer } from '../fakes/atomchat-server.js';
import { startEngine, type Engine } from './support/engine.js';
import { expectAccountStopped, expectCampaignPausedByTemplate, resumeAndComplete, resumeCampaignAndComplete } from './support/engine-expectations.js';
import { createAccount, createCampaign, recipientErrorText, recipientsByPhone, startCampaign, tally, waitForCampaignStatus } from './support/provider-campaign.js';

const TEMPLATE_ID = 'tpl-aviso';
const TEMPLATE = { name: 'aviso', externalId: TEMPLATE_ID, body: 'Hola {{1}}, tu pedido está listo', paramNames: ['nombre'] };
const FAKE_OPTIONS: FakeAtomchatOptions = { templates: { [TEMPLATE_ID]: { paramNames: ['nombre'] } } };
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

let fake: FakeAtomchatServer;
let engine: Engine;

beforeAll(async () => {
  fake = await startFakeAtomchatServer(FAKE_OPTIONS);
  engine = await startEngine();
});

afterAll(async () => {
  await engine?.stop();
  await fake?.close();
});

const digits = (phone: string): string => phone.slice(1);
const requestsFor = (server: FakeAtomchatServer, phone: string): number =>
  server.requests.filter((r) => (r.json as { phoneNumber?: unknown } | undefined)?.phoneNumber === digits(phone)).length;
const deliveriesOf = (server: FakeAtomchatServer, phones: readonly string[]): number[] => {
  const counts = tally(server.deliveries.map((d) => `+${d.phoneNumber}`));
  return phones.map((phone) => counts.get(phone) ?? 0);
};
const done = (status: 'sent' | 'accepted', attempts: number, providerMessageId: string | null) => ({ status, attempts, errorCode: null, providerErrorCode: null, providerMessageId });

function account(server: FakeAtomchatServer): Promise<string> {
  return createAccount(engine.ctx, { provider: 'atomchat', config: { baseUrl: server.url }, credentials: { publicToken: server.token } });
}

describe('AtomChat through the engine', () => {
  it('gives each recipient the final state its outcome calls for, and sends no phone twice', async () => {
    const P = {
      sentInConversation: '+56911150001',
      acceptedPending: '+56911150002',
      accepted202: '+56911150003',
      retriedThenAccepted: '+56911150004',
      retriesExhausted: '+56911150005',
      rateLimitedThenAccepted: '+56911150006',
      timedOut: '+56911150007',
      dropped: '+56911150008',
    };
    // This number already talks to the business, so AtomChat sends at once and says "Sent".
    fake.conversations.set(digits(P.sentInConversation), 'conv-existing');
    fake.script({ status: 202, body: JSON.stringify({ success: false, conversationId: 'conv-202', status: 202 }), headers: JSON_HEADERS }, { phone: digits(P.accepted202) });
    fake.script({ status: 500, body: '{"success":false,"message":"Internal error"}', headers: JSON_HEADERS }, { phone: digits(P.retriedThenAccepted), times: 2 });
    fake.script({ status: 500, body: '{"success":false,"message":"Internal error"}', headers: JSON_HEADERS }, { phone: digits(P.retriesExhausted), times: 3 });
    fake.script({ status: 429, body: 'Too Many Requests', headers: { 'retry-after': '0' } }, { phone: digits(P.rateLimitedThenAccepted), times: 3 });
    fake.script({ hang: true }, { phone: digits(P.timedOut) });
    fake.script({ drop: true }, { phone: digits(P.dropped) });

    const campaignId = await createCampaign(engine.ctx, {
      accountId: await account(fake),
      template: TEMPLATE,
      maxAttempts: 3,
      recipients: Object.values(P).map((phone) => ({ phone, variables: ['Ana'] })),
    });
    await startCampaign(engine.ctx, campaignId);
    await waitForCampaignStatus(engine.ctx, campaignId, 'completed');

    expect(await recipientsByPhone(engine.ctx, campaignId)).toEqual({
      [P.sentInConversation]: done('sent', 1, 'conv-existing'),
      // A new number: AtomChat took it ("Pending") but WhatsApp has not confirmed; no id yet.
      [P.acceptedPending]: done('accepted', 1, null),
      [P.accepted202]: done('accepted', 1, 'conv-202'),
      [P.retriedThenAccepted]: done('accepted', 3, null),
      [P.retriesExhausted]: { status: 'failed', attempts: 3, errorCode: 'PROVIDER_UNAVAILABLE', providerErrorCode: '500', providerMessageId: null },
      // Three 429s with maxAttempts 3: had a rate limit spent an attempt, this recipient would have failed.
      [P.rateLimitedThenAccepted]: done('accepted', 1, null),
      [P.timedOut]: { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_HEADERS_TIMEOUT', providerMessageId: null },
      [P.dropped]: { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_SOCKET', providerMessageId: null },
    });
    expect(await recipientErrorText(engine.ctx, campaignId, P.retriesExhausted)).toBe('Internal error');

    expect(Object.values(P).map((phone) => requestsFor(fake, phone))).toEqual([1, 1, 1, 3, 3, 4, 1, 1]);
    expect(deliveriesOf(fake, Object.values(P))).toEqual([1, 1, 0, 1, 0, 1, 0, 0]);
  });

  it('fails the recipient a template error names, pauses the campaign with the reason, and sends the rest on resume', async () => {
    const good = ['+56911160001', '+56911160002', '+56911160003', '+56911160004'];
    const bad = '+56911160005';
    // Its send hangs, so a send is still under way when the pause comes.
    const inDoubt = '+56911160006';
    fake.script({ hang: true }, { phone: digits(inDoubt) });
    const campaignId = await createCampaign(engine.ctx, {
      accountId: await account(fake),
      template: TEMPLATE,
      // An empty "nombre": AtomChat answers "Missing params".
      recipients: [{ phone: bad, variables: [''] }, { phone: inDoubt, variables: ['Ana'] }, ...good.map((phone) => ({ phone, variables: ['Ana'] }))],
    });
    await startCampaign(engine.ctx, campaignId);

    const pending = await expectCampaignPausedByTemplate(engine, {
      campaignId,
      badPhone: bad,
      inDoubtPhone: inDoubt,
      code: 'TEMPLATE_PARAMS_INVALID',
      providerCode: '400',
      reasonIncludes: 'Missing params:[nombre]',
    });
    for (const phone of pending) expect(requestsFor(fake, phone)).toBe(0);

    const rows = await resumeCampaignAndComplete(engine, campaignId, inDoubt);
    for (const phone of good) expect(rows[phone]).toEqual(done('accepted', 1, null));
    expect(rows[bad]?.status).toBe('failed');
    expect([bad, inDoubt, ...good].map((phone) => requestsFor(fake, phone))).toEqual([1, 1, 1, 1, 1, 1]);
    expect(deliveriesOf(fake, good)).toEqual([1, 1, 1, 1]);
  });

  it('pauses the account when its channel is not configured, keeps its recipients queued, and sends them once on resume', async () => {
    const server = await startFakeAtomchatServer({ templates: { [TEMPLATE_ID]: { paramNames: ['nombre'], channelConfigured: false } } });
    try {
      const phones = ['+56911170001', '+56911170002', '+56911170003'];
      const accountId = await account(server);
      const campaignId = await createCampaign(engine.ctx, { accountId, template: TEMPLATE, recipients: phones.map((phone) => ({ phone, variables: ['Ana'] })) });
      await startCampaign(engine.ctx, campaignId);

      await expectAccountStopped(engine, {
        accountId,
        campaignId,
        status: 'paused',
        code: 'ACCOUNT_MISCONFIGURED',
        providerCode: '400',
        reasonIncludes: 'The channel associated to the template is not configured yet',
      });
      expect(deliveriesOf(server, phones)).toEqual([0, 0, 0]);

      // AtomChat support connects the channel; the operator resumes the account.
      server.options.templates[TEMPLATE_ID] = { paramNames: ['nombre'], channelConfigured: true };
      const rows = await resumeAndComplete(engine, accountId, campaignId);
      for (const phone of phones) expect(rows[phone]).toEqual(done('accepted', 1, null));
      expect(deliveriesOf(server, phones)).toEqual([1, 1, 1]);
    } finally {
      await server.close();
    }
  });

  it("limits the account at its plan's conversation limit (401), defers its recipients, and sends them once on resume", async () => {
    const server = await startFakeAtomchatServer({ ...FAKE_OPTIONS, conversationLimit: 0 });
    try {
      const phones = ['+56911180001', '+56911180002', '+56911180003'];
      const accountId = await account(server);
      const campaignId = await createCampaign(engine.ctx, { accountId, template: TEMPLATE, recipients: phones.map((phone) => ({ phone, variables: ['Ana'] })) });
      await startCampaign(engine.ctx, campaignId);

      await expectAccountStopped(engine, { accountId, campaignId, status: 'limited', code: 'ACCOUNT_PLAN_LIMIT', providerCode: '401', reasonIncludes: 'reached conversations limit' });
      expect(deliveriesOf(server, phones)).toEqual([0, 0, 0]);

      // The plan is upgraded; the operator resumes the account.
      server.options.conversationLimit = Number.POSITIVE_INFINITY;
      const rows = await resumeAndComplete(engine, accountId, campaignId);
      for (const phone of phones) expect(rows[phone]).toEqual(done('accepted', 1, null));
      expect(deliveriesOf(server, phones)).toEqual([1, 1, 1]);
    } finally {
      await server.close();
    }
  });
});
