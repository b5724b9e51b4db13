/**
 * Meta Cloud API's row of the provider suite. The fake answers a chosen error code per
 * recipient; replies that must change between attempts (and a hang) are scripted per phone on
 * the fake itself. Meta's send produces: sent (wamid), deferred (131049), recipient_error
 * (131026, 131047, ...), opted_out (131050), template_error (132000, 132001, ...), account_error
 * (190, 131031, ...), account_limited (131042, 4, 80007), rate_limited (130429, 429), retry
 * (131000, 131056, 133004, 5xx, unknown codes) and ambiguous (hang). It has no accepted or
 * already_sent answer. (The deferral is meta.test.ts's own scenario.)
 */
import { metaErrorReply, startFakeMeta, type FakeMeta } from '../../fakes/meta-server.js';
import { createAccount } from '../support/provider-campaign.js';
import type { E2eEngine, ProviderCase } from '../support/provider-suite.js';

export const META_TEMPLATE = { name: 'aviso', language: 'es_AR', body: 'Hola {{1}}, tu pedido está listo' };

const digits = (phone: string): string => phone.slice(1);
const wamidOf = (fake: FakeMeta, phone: string): string => fake.deliveries.find((d) => d.to === phone)?.messageId ?? 'not delivered';
export const metaSent = (fake: FakeMeta, phone: string, attempts = 1) => ({ status: 'sent', attempts, errorCode: null, providerErrorCode: null, providerMessageId: wamidOf(fake, phone) });

export function metaAccount(engine: E2eEngine, fake: FakeMeta): Promise<string> {
  return createAccount(engine.ctx, { provider: 'meta', config: { baseUrl: fake.url, phoneNumberId: fake.phoneNumberId }, credentials: { accessToken: fake.token } });
}

/** Every send to these phones meets `code` until `fix` lifts it. */
async function refusedWith(engine: E2eEngine, fake: FakeMeta, phones: readonly string[], code: number) {
  for (const phone of phones) fake.recipientErrors.set(digits(phone), code);
  return { fake, accountId: await metaAccount(engine, fake), fix: () => phones.forEach((phone) => fake.recipientErrors.delete(digits(phone))) };
}

const LOCKED = ['+5491155190001', '+5491155190002', '+5491155190003'];
const UNPAID = ['+5491155200001', '+5491155200002', '+5491155200003'];

export const META: ProviderCase<FakeMeta, 'sent' | 'notOnWhatsApp' | 'optedOut' | 'retriedThenSent' | 'retriesExhausted' | 'rateLimitedThenSent' | 'timedOut'> = {
  label: 'Meta Cloud API',
  template: META_TEMPLATE,
  async startFake() {
    const fake = await startFakeMeta();
    fake.addTemplate({ name: META_TEMPLATE.name, language: META_TEMPLATE.language, body: META_TEMPLATE.body });
    return fake;
  },
  account: metaAccount,
  hang: (fake, phone) => fake.script({ hang: true }, { phone: digits(phone) }),
  requestsFor: (fake, phone) => fake.requests.filter((r) => (r.json as { to?: unknown } | undefined)?.to === phone).length,
  deliveredPhones: (fake) => fake.deliveries.map((d) => d.to),
  done: (fake, phone) => metaSent(fake, phone),
  outcomes: {
    phones: {
      sent: '+5491155170001',
      notOnWhatsApp: '+5491155170002',
      optedOut: '+5491155170003',
      retriedThenSent: '+5491155170004',
      retriesExhausted: '+5491155170005',
      rateLimitedThenSent: '+5491155170006',
      timedOut: '+5491155170007',
    },
    arrange(fake, P) {
      fake.recipientErrors.set(digits(P.notOnWhatsApp), 131026);
      fake.recipientErrors.set(digits(P.optedOut), 131050);
      fake.recipientErrors.set(digits(P.retriesExhausted), 133004);
      fake.failNext(131000, { phone: digits(P.retriedThenSent), times: 2 });
      const throughput = metaErrorReply(130429);
      fake.script({ ...throughput, headers: { ...throughput.headers, 'retry-after': '0' } }, { phone: digits(P.rateLimitedThenSent), times: 3 });
      fake.script({ hang: true }, { phone: digits(P.timedOut) });
    },
    expected: (fake, P) => ({
      sent: metaSent(fake, P.sent),
      notOnWhatsApp: { status: 'failed', attempts: 1, errorCode: 'RECIPIENT_NOT_ON_WHATSAPP', providerErrorCode: '131026', providerMessageId: null },
      optedOut: { status: 'failed', attempts: 1, errorCode: 'RECIPIENT_OPTED_OUT', providerErrorCode: '131050', providerMessageId: null },
      retriedThenSent: metaSent(fake, P.retriedThenSent, 3),
      retriesExhausted: { status: 'failed', attempts: 3, errorCode: 'PROVIDER_UNAVAILABLE', providerErrorCode: '133004', providerMessageId: null },
      // Three 130429s with maxAttempts 3: had a rate limit spent an attempt, this recipient would have failed.
      rateLimitedThenSent: metaSent(fake, P.rateLimitedThenSent),
      timedOut: { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_HEADERS_TIMEOUT', providerMessageId: null },
    }),
    errorTexts: { optedOut: { contains: 'User has stopped marketing messages' } },
    requests: { sent: 1, notOnWhatsApp: 1, optedOut: 1, retriedThenSent: 3, retriesExhausted: 3, rateLimitedThenSent: 4, timedOut: 1 },
    deliveries: { sent: 1, notOnWhatsApp: 0, optedOut: 0, retriedThenSent: 1, retriesExhausted: 0, rateLimitedThenSent: 1, timedOut: 0 },
  },
  templateError: {
    good: ['+5491155180001', '+5491155180002', '+5491155180003', '+5491155180004'],
    bad: '+5491155180005',
    inDoubt: '+5491155180006',
    // No body parameter for a one-parameter template: Meta answers 132000.
    badVariables: [],
    code: 'TEMPLATE_PARAMS_INVALID',
    providerCode: '132000',
    reasonIncludes: 'Number of parameters does not match the expected number of params',
  },
  accountError: {
    title: 'pauses the account when Meta locks it (131031), keeps its recipients queued, and sends them once on resume',
    phones: LOCKED,
    // Meta lifts the lock.
    arrange: (engine, fake) => refusedWith(engine, fake, LOCKED, 131031),
    code: 'ACCOUNT_RESTRICTED',
    providerCode: '131031',
    reasonIncludes: 'Business Account locked',
  },
  accountLimited: {
    title: 'limits the account on a payment problem (131042), defers its recipients, and sends them once on resume',
    phones: UNPAID,
    // The payment method is fixed.
    arrange: (engine, fake) => refusedWith(engine, fake, UNPAID, 131042),
    code: 'ACCOUNT_NO_BALANCE',
    providerCode: '131042',
    reasonIncludes: 'Business eligibility payment issue',
  },
};
