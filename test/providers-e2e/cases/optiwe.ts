/**
 * Optiwe's row of the provider suite. Transient replies are scripted per phone on the fake;
 * every other answer is the fake's own. Optiwe's single send produces: sent (201, no id),
 * recipient_error (INVALID_WHATSAPP_NUMBER), opted_out (CUSTOMER_OPTED_OUT), template_error
 * (TEMPLATE_NOT_FOUND, ...), account_error (WHATSAPP_OUTBOUND_NOT_ENABLED, NOT_AUTHENTICATED,
 * ...), account_limited (WHATSAPP_OUTBOUND_LIMIT_EXCEEDED), rate_limited
 * (REQUESTS_LIMIT_REACHED, 429), retry (5xx) and ambiguous (hang). Its `accepted` comes from the
 * bulk endpoint (optiwe.test.ts's own scenario), and it has no already_sent answer.
 */
import { startFakeOptiwe, type FakeOptiwe, type FakeOptiweOptions } from '../../fakes/optiwe-server.js';
import { createAccount } from '../support/provider-campaign.js';
import { ownFake, type E2eEngine, type ProviderCase } from '../support/provider-suite.js';

const TEMPLATE = { name: 'aviso', body: 'Hola {{1}}, tu pedido está listo' };
const JSON_HEADERS = { 'content-type': 'application/json' };
// Optiwe answers 201 with an empty body: sent, with no provider id to keep.
const SENT = { status: 'sent', attempts: 1, errorCode: null, providerErrorCode: null, providerMessageId: null };

export async function startOptiwe(options: FakeOptiweOptions = {}): Promise<FakeOptiwe> {
  const server = await startFakeOptiwe(options);
  server.addTemplate({ name: TEMPLATE.name, text: TEMPLATE.body });
  return server;
}

export function optiweAccount(engine: E2eEngine, server: FakeOptiwe): Promise<string> {
  return createAccount(engine.ctx, { provider: 'optiwe', config: { baseUrl: server.url }, credentials: { token: server.token } });
}

export const OPTIWE: ProviderCase<FakeOptiwe, 'sent' | 'invalidNumber' | 'optedOut' | 'retriedThenSent' | 'retriesExhausted' | 'rateLimitedThenSent' | 'timedOut'> = {
  label: 'Optiwe',
  template: TEMPLATE,
  startFake: () => startOptiwe(),
  account: optiweAccount,
  hang: (fake, phone) => fake.script({ hang: true }, { phone }),
  /** Single sends the fake saw for a phone, scripted or answered (Chilean numbers: no mobile 9 to strip). */
  requestsFor: (fake, phone) =>
    fake.requests.filter((r) => {
      const body = r.json as { customerCountryCode?: unknown; customerPhone?: unknown } | undefined;
      return typeof body?.customerCountryCode === 'string' && typeof body.customerPhone === 'string' && body.customerCountryCode + body.customerPhone === phone;
    }).length,
  deliveredPhones: (fake) => fake.deliveries.map((d) => d.phone),
  done: () => SENT,
  outcomes: {
    phones: {
      sent: '+56911190001',
      invalidNumber: '+56911190002',
      optedOut: '+56911190003',
      retriedThenSent: '+56911190004',
      retriesExhausted: '+56911190005',
      rateLimitedThenSent: '+56911190006',
      timedOut: '+56911190007',
    },
    arrange(fake, P) {
      fake.invalidNumbers.add(P.invalidNumber);
      fake.optedOut.add(P.optedOut);
      fake.script({ status: 500, body: 'Internal Server Error' }, { phone: P.retriedThenSent, times: 2 });
      fake.script({ status: 502, body: 'Bad Gateway' }, { phone: P.retriesExhausted, times: 3 });
      const quota = JSON.stringify({ error: { key: 'REQUESTS_LIMIT_REACHED', message: 'Maximum amount of HTTP request reached for endpoint /whatsapp-campaigns/customers/' } });
      fake.script({ status: 400, body: quota, headers: { ...JSON_HEADERS, 'retry-after': '0' } }, { phone: P.rateLimitedThenSent, times: 3 });
      fake.script({ hang: true }, { phone: P.timedOut });
    },
    expected: () => ({
      sent: SENT,
      invalidNumber: { status: 'failed', attempts: 1, errorCode: 'RECIPIENT_INVALID', providerErrorCode: 'INVALID_WHATSAPP_NUMBER', providerMessageId: null },
      optedOut: { status: 'failed', attempts: 1, errorCode: 'RECIPIENT_OPTED_OUT', providerErrorCode: 'CUSTOMER_OPTED_OUT', providerMessageId: null },
      retriedThenSent: { ...SENT, attempts: 3 },
      retriesExhausted: { status: 'failed', attempts: 3, errorCode: 'PROVIDER_UNAVAILABLE', providerErrorCode: '502', providerMessageId: null },
      // Three quota refusals with maxAttempts 3: had a rate limit spent an attempt, this recipient would have failed.
      rateLimitedThenSent: SENT,
      timedOut: { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_HEADERS_TIMEOUT', providerMessageId: null },
    }),
    errorTexts: { optedOut: 'Message will not be sent because the customer has opted out for outbound messages' },
    requests: { sent: 1, invalidNumber: 1, optedOut: 1, retriedThenSent: 3, retriesExhausted: 3, rateLimitedThenSent: 4, timedOut: 1 },
    deliveries: { sent: 1, invalidNumber: 0, optedOut: 0, retriedThenSent: 1, retriesExhausted: 0, rateLimitedThenSent: 1, timedOut: 0 },
  },
  templateError: {
    good: ['+56911200001', '+56911200002', '+56911200003', '+56911200004'],
    bad: '+56911200005',
    inDoubt: '+56911200006',
    // An empty variable renders a text that matches no Optiwe template.
    badVariables: [''],
    code: 'TEMPLATE_NOT_FOUND',
    providerCode: 'TEMPLATE_NOT_FOUND',
    reasonIncludes: 'The text sent do not match any template format.',
  },
  accountError: {
    title: 'pauses the account when outbound messages are not enabled, keeps its recipients queued, and sends them once on resume',
    phones: ['+56911210001', '+56911210002', '+56911210003'],
    async arrange(engine) {
      const own = await ownFake(engine, () => startOptiwe({ outboundEnabled: false }), optiweAccount);
      // Outbound is enabled in Optiwe.
      return { ...own, fix: () => (own.fake.options.outboundEnabled = true) };
    },
    code: 'ACCOUNT_MISCONFIGURED',
    providerCode: 'WHATSAPP_OUTBOUND_NOT_ENABLED',
    reasonIncludes: 'Whatsapp outbound config not enabled',
  },
  accountLimited: {
    title: 'limits the account at its WhatsApp tier limit, defers its recipients, and sends them once on resume',
    phones: ['+56911220001', '+56911220002', '+56911220003'],
    async arrange(engine) {
      const own = await ownFake(engine, () => startOptiwe({ tierLimit: 0 }), optiweAccount);
      // The tier clears.
      return { ...own, fix: () => (own.fake.options.tierLimit = Number.POSITIVE_INFINITY) };
    },
    code: 'ACCOUNT_TIER_LIMIT',
    providerCode: 'WHATSAPP_OUTBOUND_LIMIT_EXCEEDED',
    reasonIncludes: 'Outbound message exceeds available tier limit',
  },
};
