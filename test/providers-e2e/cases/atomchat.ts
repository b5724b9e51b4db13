/**
 * AtomChat's row of the provider suite. Its send produces: sent ("Sent" in an existing
 * conversation), accepted ("Pending" for a new number, or 202), retry (500, undocumented
 * reply), rate_limited (429), template_error (missing params, no data to send), account_error
 * (unknown public token, channel not configured), account_limited (401, the plan's conversation
 * limit) and ambiguous (hang, dropped connection). It has no already_sent, recipient_error or
 * opted_out answer.
 */
import { startFakeAtomchatServer, type FakeAtomchatOptions, type FakeAtomchatServer } from '../../fakes/atomchat-server.js';
import { createAccount } from '../support/provider-campaign.js';
import { ownFake, type E2eEngine, type ProviderCase } from '../support/provider-suite.js';

const TEMPLATE_ID = 'tpl-aviso';
const TEMPLATE = { name: 'aviso', externalId: TEMPLATE_ID, body: 'Hola {{1}}, tu pedido está listo', paramNames: ['nombre'] };
const FAKE_OPTIONS: FakeAtomchatOptions = { templates: { [TEMPLATE_ID]: { paramNames: ['nombre'] } } };
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

const digits = (phone: string): string => phone.slice(1);
const done = (status: 'sent' | 'accepted', attempts: number, providerMessageId: string | null) => ({ status, attempts, errorCode: null, providerErrorCode: null, providerMessageId });

function account(engine: E2eEngine, server: FakeAtomchatServer): Promise<string> {
  return createAccount(engine.ctx, { provider: 'atomchat', config: { baseUrl: server.url }, credentials: { publicToken: server.token } });
}

export const ATOMCHAT: ProviderCase<
  FakeAtomchatServer,
  'sentInConversation' | 'acceptedPending' | 'accepted202' | 'retriedThenAccepted' | 'retriesExhausted' | 'rateLimitedThenAccepted' | 'timedOut' | 'dropped'
> = {
  label: 'AtomChat',
  template: TEMPLATE,
  startFake: () => startFakeAtomchatServer(FAKE_OPTIONS),
  account,
  hang: (fake, phone) => fake.script({ hang: true }, { phone: digits(phone) }),
  requestsFor: (fake, phone) => fake.requests.filter((r) => (r.json as { phoneNumber?: unknown } | undefined)?.phoneNumber === digits(phone)).length,
  deliveredPhones: (fake) => fake.deliveries.map((d) => `+${d.phoneNumber}`),
  // A new number: AtomChat took it ("Pending") but WhatsApp has not confirmed; no id yet.
  done: () => done('accepted', 1, null),
  outcomes: {
    phones: {
      sentInConversation: '+56911150001',
      acceptedPending: '+56911150002',
      accepted202: '+56911150003',
      retriedThenAccepted: '+56911150004',
      retriesExhausted: '+56911150005',
      rateLimitedThenAccepted: '+56911150006',
      timedOut: '+56911150007',
      dropped: '+56911150008',
    },
    arrange(fake, P) {
      // This number already talks to the business, so AtomChat sends at once and says "Sent".
      fake.conversations.set(digits(P.sentInConversation), 'conv-existing');
      fake.script({ status: 202, body: JSON.stringify({ success: false, conversationId: 'conv-202', status: 202 }), headers: JSON_HEADERS }, { phone: digits(P.accepted202) });
      fake.script({ status: 500, body: '{"success":false,"message":"Internal error"}', headers: JSON_HEADERS }, { phone: digits(P.retriedThenAccepted), times: 2 });
      fake.script({ status: 500, body: '{"success":false,"message":"Internal error"}', headers: JSON_HEADERS }, { phone: digits(P.retriesExhausted), times: 3 });
      fake.script({ status: 429, body: 'Too Many Requests', headers: { 'retry-after': '0' } }, { phone: digits(P.rateLimitedThenAccepted), times: 3 });
      fake.script({ hang: true }, { phone: digits(P.timedOut) });
      fake.script({ drop: true }, { phone: digits(P.dropped) });
    },
    expected: () => ({
      sentInConversation: done('sent', 1, 'conv-existing'),
      acceptedPending: done('accepted', 1, null),
      accepted202: done('accepted', 1, 'conv-202'),
      retriedThenAccepted: done('accepted', 3, null),
      retriesExhausted: { status: 'failed', attempts: 3, errorCode: 'PROVIDER_UNAVAILABLE', providerErrorCode: '500', providerMessageId: null },
      // Three 429s with maxAttempts 3: had a rate limit spent an attempt, this recipient would have failed.
      rateLimitedThenAccepted: done('accepted', 1, null),
      timedOut: { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_HEADERS_TIMEOUT', providerMessageId: null },
      dropped: { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_SOCKET', providerMessageId: null },
    }),
    errorTexts: { retriesExhausted: 'Internal error' },
    requests: { sentInConversation: 1, acceptedPending: 1, accepted202: 1, retriedThenAccepted: 3, retriesExhausted: 3, rateLimitedThenAccepted: 4, timedOut: 1, dropped: 1 },
    deliveries: { sentInConversation: 1, acceptedPending: 1, accepted202: 0, retriedThenAccepted: 1, retriesExhausted: 0, rateLimitedThenAccepted: 1, timedOut: 0, dropped: 0 },
  },
  templateError: {
    good: ['+56911160001', '+56911160002', '+56911160003', '+56911160004'],
    bad: '+56911160005',
    inDoubt: '+56911160006',
    // An empty "nombre": AtomChat answers "Missing params".
    badVariables: [''],
    code: 'TEMPLATE_PARAMS_INVALID',
    providerCode: '400',
    reasonIncludes: 'Missing params:[nombre]',
  },
  accountError: {
    title: 'pauses the account when its channel is not configured, keeps its recipients queued, and sends them once on resume',
    phones: ['+56911170001', '+56911170002', '+56911170003'],
    async arrange(engine) {
      const own = await ownFake(engine, () => startFakeAtomchatServer({ templates: { [TEMPLATE_ID]: { paramNames: ['nombre'], channelConfigured: false } } }), account);
      // AtomChat support connects the channel.
      return { ...own, fix: () => (own.fake.options.templates[TEMPLATE_ID] = { paramNames: ['nombre'], channelConfigured: true }) };
    },
    code: 'ACCOUNT_MISCONFIGURED',
    providerCode: '400',
    reasonIncludes: 'The channel associated to the template is not configured yet',
  },
  accountLimited: {
    title: "limits the account at its plan's conversation limit (401), defers its recipients, and sends them once on resume",
    phones: ['+56911180001', '+56911180002', '+56911180003'],
    async arrange(engine) {
      const own = await ownFake(engine, () => startFakeAtomchatServer({ ...FAKE_OPTIONS, conversationLimit: 0 }), account);
      // The plan is upgraded.
      return { ...own, fix: () => (own.fake.options.conversationLimit = Number.POSITIVE_INFINITY) };
    },
    code: 'ACCOUNT_PLAN_LIMIT',
    providerCode: '401',
    reasonIncludes: 'reached conversations limit',
  },
};
