/**
 * Adereso's row of the provider suite. Its HSM send produces: sent (with or without
 * message_id), retry (500, undocumented reply), rate_limited (429), template_error (404, 400
 * missing parameters), account_error (401, 400 unknown account number) and ambiguous (hang,
 * dropped connection). It has no accepted, already_sent, recipient_error, opted_out or
 * account_limited answer.
 */
import { startFakeAderesoServer, type FakeAderesoServer } from '../../fakes/adereso-server.js';
import { createAccount } from '../support/provider-campaign.js';
import type { E2eEngine, ProviderCase } from '../support/provider-suite.js';

export const BUSINESS_NUMBER = '56900000000';
const TEMPLATE = { name: 'aviso_pago', body: 'Hola {{1}}, su pago vence hoy' };
const JSON_HEADERS = { 'content-type': 'application/json' };

const digits = (phone: string): string => phone.slice(1);
const messageIdOf = (fake: FakeAderesoServer, phone: string): string => fake.deliveries.find((d) => d.phone === digits(phone))?.messageId ?? 'missing';
const sent = (attempts: number, providerMessageId: string | null) => ({ status: 'sent', attempts, errorCode: null, providerErrorCode: null, providerMessageId });

export function aderesoAccount(engine: E2eEngine, fake: FakeAderesoServer, businessNumber = BUSINESS_NUMBER): Promise<string> {
  return createAccount(engine.ctx, { provider: 'adereso', config: { baseUrl: fake.url, account: businessNumber }, credentials: { token: fake.token } });
}

export const ADERESO: ProviderCase<FakeAderesoServer, 'sent' | 'sentWithoutId' | 'retriedThenSent' | 'retriesExhausted' | 'rateLimitedThenSent' | 'timedOut' | 'dropped'> = {
  label: 'Adereso',
  template: TEMPLATE,
  startFake: () => startFakeAderesoServer({ templates: { [TEMPLATE.name]: 1 }, accounts: [BUSINESS_NUMBER] }),
  account: (engine, fake) => aderesoAccount(engine, fake),
  hang: (fake, phone) => fake.script({ hang: true }, { phone: digits(phone) }),
  requestsFor: (fake, phone) => fake.requests.filter((r) => (r.json as { phone?: unknown } | undefined)?.phone === digits(phone)).length,
  deliveredPhones: (fake) => fake.deliveries.map((d) => `+${d.phone}`),
  done: (fake, phone) => sent(1, messageIdOf(fake, phone)),
  outcomes: {
    phones: {
      sent: '+56911110001',
      sentWithoutId: '+56911110002',
      retriedThenSent: '+56911110003',
      retriesExhausted: '+56911110004',
      rateLimitedThenSent: '+56911110005',
      timedOut: '+56911110006',
      dropped: '+56911110007',
    },
    arrange(fake, P) {
      fake.script({ status: 200, body: '{"status":200}', headers: JSON_HEADERS }, { phone: digits(P.sentWithoutId) });
      fake.script({ status: 500, body: '{"status":500,"msg":"Error interno"}', headers: JSON_HEADERS }, { phone: digits(P.retriedThenSent) });
      fake.script({ status: 200, body: '<html>mantención</html>' }, { phone: digits(P.retriedThenSent) });
      fake.script({ status: 500, body: '{"status":500,"msg":"Error interno"}', headers: JSON_HEADERS }, { phone: digits(P.retriesExhausted), times: 3 });
      fake.script({ status: 429, body: 'Too Many Requests', headers: { 'retry-after': '0' } }, { phone: digits(P.rateLimitedThenSent), times: 3 });
      fake.script({ hang: true }, { phone: digits(P.timedOut) });
      fake.script({ drop: true }, { phone: digits(P.dropped) });
    },
    expected: (fake, P) => ({
      sent: sent(1, messageIdOf(fake, P.sent)),
      // Adereso said status 200 without a message_id: sent, since resending could deliver twice.
      sentWithoutId: sent(1, null),
      retriedThenSent: sent(3, messageIdOf(fake, P.retriedThenSent)),
      retriesExhausted: { status: 'failed', attempts: 3, errorCode: 'PROVIDER_UNAVAILABLE', providerErrorCode: '500', providerMessageId: null },
      // Three 429s with maxAttempts 3: had a rate limit spent an attempt, this recipient would have failed.
      rateLimitedThenSent: sent(1, messageIdOf(fake, P.rateLimitedThenSent)),
      timedOut: { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_HEADERS_TIMEOUT', providerMessageId: null },
      dropped: { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_SOCKET', providerMessageId: null },
    }),
    errorTexts: { retriesExhausted: 'Error interno' },
    // In doubt (timedOut, dropped): never resent without an operator.
    requests: { sent: 1, sentWithoutId: 1, retriedThenSent: 3, retriesExhausted: 3, rateLimitedThenSent: 4, timedOut: 1, dropped: 1 },
    deliveries: { sent: 1, sentWithoutId: 0, retriedThenSent: 1, retriesExhausted: 0, rateLimitedThenSent: 1, timedOut: 0, dropped: 0 },
  },
  templateError: {
    good: ['+56911120001', '+56911120002', '+56911120003', '+56911120004'],
    bad: '+56911120005',
    inDoubt: '+56911120006',
    // The HSM takes one parameter; this recipient has none, and Adereso refuses it.
    badVariables: [],
    code: 'TEMPLATE_PARAMS_INVALID',
    providerCode: '400',
    reasonIncludes: 'Missing parameters for selected HSM',
  },
  accountError: {
    title: 'pauses the account on an account error, keeps its recipients queued, and sends them once on resume',
    phones: ['+56911130001', '+56911130002', '+56911130003'],
    async arrange(engine, fake) {
      // A business number Adereso does not (yet) have: every send is refused with 400.
      const unknownNumber = '56922222222';
      const accountId = await aderesoAccount(engine, fake, unknownNumber);
      // Adereso enables the number.
      return { fake, accountId, fix: () => fake.options.accounts.push(unknownNumber) };
    },
    code: 'ACCOUNT_MISCONFIGURED',
    providerCode: '400',
    reasonIncludes: 'Incomplete or missing field',
  },
};
