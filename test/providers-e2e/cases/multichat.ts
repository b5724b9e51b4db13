/**
 * contacto-multichat's row of the provider suite. Its send produces: sent (code 1),
 * already_sent (9), recipient_error (4, 10), template_error (6, 7, 8), account_error (2, 3),
 * account_limited (5), rate_limited (429), retry (5xx, undocumented reply) and ambiguous (hang).
 * It has no accepted or opted_out answer.
 */
import { startFakeMultichatServer, type FakeMultichatOptions, type FakeMultichatServer } from '../../fakes/multichat-server.js';
import { createAccount } from '../support/provider-campaign.js';
import { ownFake, type E2eEngine, type ProviderCase } from '../support/provider-suite.js';

const TEMPLATE = { name: 'saludo', externalId: '201', body: 'Hola {{1}}, tenemos novedades' };
const FAKE_OPTIONS: FakeMultichatOptions = {
  templates: { '201': { name: 'saludo', body: TEMPLATE.body, paramCount: 1, status: 'APROBADA' } },
  // The JSON shape carries a messageId, so sent recipients can be matched to what the fake took.
  replyFormat: 'json',
};

const mobile = (phone: string): string => phone.slice(1);
const messageIdOf = (server: FakeMultichatServer, phone: string): string => server.deliveries.find((d) => d.mobile === mobile(phone))?.messageId ?? 'not delivered';
const sent = (attempts: number, providerMessageId: string | null) => ({ status: 'sent', attempts, errorCode: null, providerErrorCode: null, providerMessageId });

function account(engine: E2eEngine, server: FakeMultichatServer): Promise<string> {
  return createAccount(engine.ctx, { provider: 'multichat', config: { baseUrl: server.url }, credentials: { login: server.login, token: server.token } });
}

export const MULTICHAT: ProviderCase<
  FakeMultichatServer,
  'sent' | 'alreadySent' | 'notColombian' | 'marketingCapped' | 'retriedThenSent' | 'retriesExhausted' | 'rateLimitedThenSent' | 'timedOut'
> = {
  label: 'contacto-multichat',
  template: TEMPLATE,
  startFake: () => startFakeMultichatServer({ ...FAKE_OPTIONS, marketingCapped: ['573001000004'] }),
  account,
  hang: (fake, phone) => fake.script({ hang: true }, { mobile: mobile(phone) }),
  requestsFor: (fake, phone) => fake.requests.filter((r) => r.form.mobile === mobile(phone)).length,
  deliveredPhones: (fake) => fake.deliveries.map((d) => `+${d.mobile}`),
  done: (fake, phone) => sent(1, messageIdOf(fake, phone)),
  outcomes: {
    phones: {
      sent: '+573001000001',
      alreadySent: '+573001000002',
      notColombian: '+56911140003',
      marketingCapped: '+573001000004',
      retriedThenSent: '+573001000005',
      retriesExhausted: '+573001000006',
      rateLimitedThenSent: '+573001000007',
      timedOut: '+573001000008',
    },
    arrange(fake, P) {
      // The same message went to this mobile moments ago (another campaign): multichat answers 9.
      fake.deliveries.push({ mobile: mobile(P.alreadySent), idTemplate: '201', variables: ['Ana'], customField: undefined, media: undefined, mediaName: undefined, messageId: 'earlier', at: Date.now() });
      fake.script({ status: 500, body: 'Internal Server Error' }, { mobile: mobile(P.retriedThenSent), times: 2 });
      fake.script({ status: 503, body: 'Service Unavailable' }, { mobile: mobile(P.retriesExhausted), times: 3 });
      fake.script({ status: 429, body: '', headers: { 'retry-after': '0' } }, { mobile: mobile(P.rateLimitedThenSent), times: 3 });
      fake.script({ hang: true }, { mobile: mobile(P.timedOut) });
    },
    expected: (fake, P) => ({
      sent: sent(1, messageIdOf(fake, P.sent)),
      // Code 9: multichat already sent this exact message; recorded as sent, not sent again.
      alreadySent: sent(1, null),
      notColombian: { status: 'failed', attempts: 1, errorCode: 'RECIPIENT_INVALID', providerErrorCode: '4', providerMessageId: null },
      marketingCapped: { status: 'failed', attempts: 1, errorCode: 'RECIPIENT_MARKETING_CAP', providerErrorCode: '10', providerMessageId: null },
      retriedThenSent: sent(3, messageIdOf(fake, P.retriedThenSent)),
      retriesExhausted: { status: 'failed', attempts: 3, errorCode: 'PROVIDER_UNAVAILABLE', providerErrorCode: '503', providerMessageId: null },
      // Three 429s with maxAttempts 3: had a rate limit spent an attempt, this recipient would have failed.
      rateLimitedThenSent: sent(1, messageIdOf(fake, P.rateLimitedThenSent)),
      timedOut: { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_HEADERS_TIMEOUT', providerMessageId: null },
    }),
    errorTexts: { notColombian: 'error in the cell phone number to send', retriesExhausted: 'Service Unavailable' },
    requests: { sent: 1, alreadySent: 1, notColombian: 1, marketingCapped: 1, retriedThenSent: 3, retriesExhausted: 3, rateLimitedThenSent: 4, timedOut: 1 },
    // alreadySent's one delivery is the earlier one.
    deliveries: { sent: 1, alreadySent: 1, notColombian: 0, marketingCapped: 0, retriedThenSent: 1, retriesExhausted: 0, rateLimitedThenSent: 1, timedOut: 0 },
  },
  templateError: {
    good: ['+573001100001', '+573001100002', '+573001100003', '+573001100004'],
    bad: '+573001100005',
    inDoubt: '+573001100006',
    // Two variables for a one-variable template: multichat answers code 8.
    badVariables: ['Ana', 'sobra'],
    code: 'TEMPLATE_PARAMS_INVALID',
    providerCode: '8',
    reasonIncludes: 'the number of variables received does not correspond',
  },
  accountError: {
    title: 'pauses the account on an account error (code 3), keeps its recipients queued, and sends them once on resume',
    phones: ['+573001200001', '+573001200002', '+573001200003'],
    async arrange(engine) {
      const own = await ownFake(engine, () => startFakeMultichatServer({ ...FAKE_OPTIONS, chatbotAssigned: false }), account);
      // multichat support assigns a chatbot.
      return { ...own, fix: () => (own.fake.options.chatbotAssigned = true) };
    },
    code: 'ACCOUNT_MISCONFIGURED',
    providerCode: '3',
    reasonIncludes: 'user without multiagent/chatbot',
  },
  accountLimited: {
    title: 'limits the account when its balance runs out (code 5), defers its recipients, and sends them once on resume',
    phones: ['+573001300001', '+573001300002', '+573001300003'],
    async arrange(engine) {
      const own = await ownFake(engine, () => startFakeMultichatServer({ ...FAKE_OPTIONS, balance: 0 }), account);
      // The account is topped up.
      return { ...own, fix: () => (own.fake.options.balance = 100) };
    },
    code: 'ACCOUNT_NO_BALANCE',
    providerCode: '5',
    reasonIncludes: 'no balance',
  },
};
