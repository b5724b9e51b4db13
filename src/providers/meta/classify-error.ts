/**
 * Meta error codes -> normalized outcomes, in one table, from the error-code table of
 * PLATFORM-NOTES ("act on `code`, not on the HTTP status"). Used for send responses and, later,
 * for webhook `statuses[].errors[]`, which carry the same codes.
 */
import { outcome, type OutcomeCode } from '../outcome.js';
import type { SendOutcome } from '../types.js';

type Rule = { code: OutcomeCode; sentence: string; retryAfterMs?: number };

/**
 * Pair rate (131056): about one message per 6 s to one user. One window is the least wait that
 * can help; the notes' 4^n s backoff on repeats is the retry policy's to apply on top.
 */
export const PAIR_RATE_RETRY_MS = 6_000;
/** Marketing per-user cap (131049): defer by a day. */
export const MARKETING_CAP_RETRY_MS = 24 * 60 * 60 * 1000;

const transient: Rule = { code: 'PROVIDER_UNAVAILABLE', sentence: 'Meta reported a temporary error; the message is retried later.' };
const auth: Rule = { code: 'ACCOUNT_AUTH_FAILED', sentence: 'Meta rejected the access token (expired or revoked); renew it and resume the account.' };
const permission: Rule = { code: 'ACCOUNT_MISCONFIGURED', sentence: 'The access token lacks a permission this send needs; fix the app permissions and resume the account.' };
const restricted: Rule = { code: 'ACCOUNT_RESTRICTED', sentence: 'Meta has restricted this WhatsApp account or number; see WhatsApp Manager before resuming.' };
// App- and WABA-level call limits clear on their own within the hour, so they slow the account
// rather than pause it: a pause needs a person to resume, and would stall campaigns overnight.
const appRateLimit: Rule = { code: 'RATE_LIMITED', sentence: "Meta's API call rate limit for this app or business account was reached; sending slows down." };
const params: Rule = { code: 'TEMPLATE_PARAMS_INVALID', sentence: "Meta rejected the template's parameters; the campaign's variables do not fit the template." };

const RULES: ReadonlyMap<number, Rule> = new Map<number, Rule>([
  // Retry with backoff.
  [130429, { code: 'RATE_LIMITED', sentence: "The phone number's Cloud API throughput was exceeded; sending slows down." }],
  [131056, { code: 'RECIPIENT_PAIR_RATE', sentence: 'Too many messages to this user in a short time; this recipient is retried later.', retryAfterMs: PAIR_RATE_RETRY_MS }],
  [131057, { code: 'PROVIDER_UNAVAILABLE', sentence: 'The business account is in maintenance mode; the message is retried later.' }],
  [1, transient],
  [2, transient],
  [131000, transient],
  [131016, transient],
  [133004, transient],
  // Pause the account (or, for call limits, slow it) and alert.
  [4, appRateLimit],
  [80007, appRateLimit],
  [131048, { code: 'ACCOUNT_RESTRICTED', sentence: "Meta's spam rate limit for this number was hit (messages blocked or reported); check its quality in WhatsApp Manager." }],
  [131064, restricted],
  [0, auth],
  [190, auth],
  [3, permission],
  [10, permission],
  [131042, { code: 'ACCOUNT_NO_BALANCE', sentence: "Meta reports a payment problem on the business account; fix its payment method in Business Manager." }],
  [368, restricted],
  [131031, restricted],
  // Defer 24 h.
  [131049, { code: 'RECIPIENT_MARKETING_CAP', sentence: "Meta held back this marketing message under the user's per-user cap; retry in a day.", retryAfterMs: MARKETING_CAP_RETRY_MS }],
  // Fail the recipient.
  [131026, { code: 'RECIPIENT_NOT_ON_WHATSAPP', sentence: 'The message could not be delivered: the number is not on WhatsApp or cannot receive it.' }],
  [131050, { code: 'RECIPIENT_OPTED_OUT', sentence: 'The user stopped marketing messages from this business; recorded as an opt-out.' }],
  [130403, { code: 'RECIPIENT_UNREACHABLE', sentence: 'Meta will not deliver to this recipient (130403).' }],
  [131021, { code: 'RECIPIENT_INVALID', sentence: "The recipient is the business's own number." }],
  [131047, { code: 'RECIPIENT_UNREACHABLE', sentence: 'More than 24 hours have passed since the user last replied; only a template can reach them.' }],
  // Fail the template.
  [132000, { code: 'TEMPLATE_PARAMS_INVALID', sentence: "The number of parameters does not match the template's placeholders." }],
  [132001, { code: 'TEMPLATE_NOT_FOUND', sentence: 'The template does not exist in that language, or is not approved.' }],
  [132005, { code: 'TEMPLATE_PARAMS_INVALID', sentence: 'The template text with its parameters is too long.' }],
  [132007, { code: 'TEMPLATE_PARAMS_INVALID', sentence: "The template's parameters break WhatsApp's format or content policy." }],
  [132012, { code: 'TEMPLATE_PARAMS_INVALID', sentence: "A parameter's format does not match the template (for example a media header)." }],
  [132015, { code: 'TEMPLATE_PAUSED', sentence: 'Meta paused the template for low quality.' }],
  [132016, { code: 'TEMPLATE_NOT_APPROVED', sentence: 'Meta disabled the template for low quality; it can no longer be sent.' }],
  [100, params],
  [131008, { code: 'TEMPLATE_PARAMS_INVALID', sentence: 'A required parameter is missing.' }],
  [131009, params],
]);

/** The rule for a Meta code, or undefined for a code the notes do not classify. */
export function metaErrorRule(code: number): Rule | undefined {
  return RULES.get(code) ?? (code >= 200 && code <= 299 ? permission : undefined);
}

/** Every code the table names explicitly (200-299 are a range, not listed). */
export const META_CLASSIFIED_CODES: readonly number[] = [...RULES.keys()];

/**
 * What a Meta error code means for the engine. A code the table does not know is retried later
 * (PROVIDER_UNDOCUMENTED_RESPONSE) with its code and text kept for a person to classify.
 */
export function classifyMetaError(code: number, message?: string, details?: string): SendOutcome {
  const providerCode = String(code);
  const providerText = [message, details].filter((part) => part).join(' | ');
  const rule = metaErrorRule(code);
  if (!rule) {
    return outcome('PROVIDER_UNDOCUMENTED_RESPONSE', `Meta answered error code ${code}, which the engine does not classify; the message is retried later.`, {
      providerCode,
      providerText,
    });
  }
  return outcome(rule.code, rule.sentence, { providerCode, providerText, ...(rule.retryAfterMs === undefined ? {} : { retryAfterMs: rule.retryAfterMs }) });
}
