/**
 * Optiwe error keys -> normalized outcomes, in one table. Optiwe puts almost every error behind
 * HTTP 400 and names it in `error.key`, so the key decides; the status only decides when the
 * body carries no key we know.
 */
import { outcome, parseJson, undocumented, type OutcomeCode } from '../outcome.js';
import type { HttpResponse, SendOutcome } from '../types.js';
import { retryAfterMs } from '../response-helpers.js';
import { optiweErrorBodySchema } from './schemas.js';

type Rule = { code: OutcomeCode; sentence: string };

export const OPTIWE_ERROR_RULES: Readonly<Record<string, Rule>> = {
  NOT_AUTHENTICATED: { code: 'ACCOUNT_AUTH_FAILED', sentence: 'Optiwe rejected the API token; update the account credentials.' },
  REQUESTS_LIMIT_REACHED: {
    code: 'RATE_LIMITED',
    sentence: "Optiwe's API request quota for this endpoint was reached; sending slows down and the message is retried.",
  },
  WHATSAPP_OUTBOUND_LIMIT_EXCEEDED: {
    code: 'ACCOUNT_TIER_LIMIT',
    sentence: "The WhatsApp messaging tier limit of this Optiwe account is used up; sends resume when it clears.",
  },
  WHATSAPP_OUTBOUND_NOT_ENABLED: {
    code: 'ACCOUNT_MISCONFIGURED',
    sentence: 'Outbound WhatsApp messages are not enabled for this Optiwe workspace; enable them in Optiwe.',
  },
  // Customer fields are workspace settings: every send carrying the same fields fails alike, so
  // failing recipients one by one would burn the list. An operator fixes the workspace.
  INVALID_CUSTOMER_FIELDS: {
    code: 'ACCOUNT_MISCONFIGURED',
    sentence: 'Optiwe says the customer fields sent do not exist in the workspace; define them in Optiwe or stop sending them.',
  },
  TEMPLATE_NOT_FOUND: {
    code: 'TEMPLATE_NOT_FOUND',
    sentence: 'Optiwe found no template matching the message; check that the template (text and buttons) is the one Optiwe has.',
  },
  TEMPLATE_NOT_APPROVED: { code: 'TEMPLATE_NOT_APPROVED', sentence: 'Optiwe says the template is not approved.' },
  INVALID_TEMPLATE_PLACEHOLDER: {
    code: 'TEMPLATE_PARAMS_INVALID',
    sentence: "Optiwe rejected the template placeholders; the campaign's variables do not fit the template.",
  },
  INVALID_WHATSAPP_NUMBER: { code: 'RECIPIENT_INVALID', sentence: 'Optiwe says this is not a valid WhatsApp number.' },
  CUSTOMER_OPTED_OUT: { code: 'RECIPIENT_OPTED_OUT', sentence: 'The customer opted out of outbound messages in Optiwe.' },
};

/** Reasons a bulk 201 gives for a customer it skipped; each is about that customer only. */
export const OPTIWE_INVALID_CUSTOMER_RULES: Readonly<Record<string, Rule>> = {
  INVALID_NUMBER: { code: 'RECIPIENT_INVALID', sentence: 'Optiwe skipped this customer: the number is not valid.' },
  INVALID_EXTRA_FIELDS: { code: 'RECIPIENT_INVALID', sentence: "Optiwe skipped this customer: its extra fields are not valid." },
};


/**
 * The outcome of a response that is not a success, or undefined for a success (a 2xx whose
 * body is not an error envelope). A 2xx carrying `{"error": ...}` is an error.
 */
export function optiweFailure(response: HttpResponse): SendOutcome | undefined {
  const envelope = optiweErrorBodySchema.safeParse(parseJson(response.body));
  if (envelope.success) {
    const { key, message = '' } = envelope.data.error;
    const rule = OPTIWE_ERROR_RULES[key];
    if (rule) return outcome(rule.code, rule.sentence, withRetryAfter(response, { providerCode: key, providerText: message }));
    return byStatus(response, { providerCode: key, providerText: message });
  }
  if (response.status >= 200 && response.status < 300) return undefined;
  return byStatus(response, {});
}

type Provider = { providerCode?: string; providerText?: string };

/** For bodies without a key we know: the generic meaning of the HTTP status. */
function byStatus(response: HttpResponse, provider: Provider): SendOutcome {
  const { status, body } = response;
  const codeAndText = { providerCode: provider.providerCode ?? String(status), ...(provider.providerText === undefined ? {} : { providerText: provider.providerText }) };
  const raw = body.slice(0, 2000);
  if (status === 401) return outcome('ACCOUNT_AUTH_FAILED', 'Optiwe answered 401 Unauthorized; update the account credentials.', { ...codeAndText, raw });
  if (status === 429) {
    return outcome('RATE_LIMITED', 'Optiwe answered 429 Too Many Requests; sending slows down.', withRetryAfter(response, { ...codeAndText, raw }));
  }
  if (status >= 500) {
    return outcome('PROVIDER_UNAVAILABLE', `Optiwe answered HTTP ${status}; the message is retried later.`, withRetryAfter(response, { ...codeAndText, raw }));
  }
  return { ...undocumented(status, body), ...codeAndText };
}

function withRetryAfter<T extends object>(response: HttpResponse, extra: T): T & { retryAfterMs?: number } {
  const ms = retryAfterMs(response.headers);
  return ms === undefined ? extra : { ...extra, retryAfterMs: ms };
}
