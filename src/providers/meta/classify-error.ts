/**
 * Meta error codes -> normalized outcomes, in one table, from the error-code table in
 * ./meta-protocol.md ("act on `code`, not on the HTTP status"). Used for send responses and, later,
 * for webhook `statuses[].errors[]`, which carry the same codes.
 */
import { outcome, type OutcomeCode } from '../outcome.js';
import type { SendOutcome } from '../types.js';

type Rule = { code: OutcomeCode; sentence: string; retryAfterMs?: number };

/** Pair rate (131056): about one message per 6 s to one user, so no wait shorter than that can help. */
export const PAIR_RATE_RETRY_MS = 6_000;
/** Longest pair-rate wait: 4^n s grows past an hour by the 7th failure, when the campaign's attempts have long run out. */
export const PAIR_RATE_MAX_RETRY_MS = 60 * 60 * 1000;
/** Marketing per-user cap (131049): defer by a day. */
export const MARKETING_CAP_RETRY_MS = 24 * 60 * 60 * 1000;

/**
 * The wait after the `attempt`-th send (1 for the first) to one user failed with 131056: Meta's
 * 4^X s with X the failures before this one (1, 4, 16, 64 s...), never under one pair-rate
 * window and never over PAIR_RATE_MAX_RETRY_MS. So 6, 6, 16, 64, 256 s.
 */
export function pairRateRetryMs(attempt = 1): number {
  const failuresBefore = Math.max(0, Math.floor(attempt) - 1);
  return Math.min(PAIR_RATE_MAX_RETRY_MS, Math.max(PAIR_RATE_RETRY_MS, 4 ** failuresBefore * 1000));
}

const transient: Rule = { code: 'PROVIDER_UNAVAILABLE', sentence: 'Meta reported a temporary error; the message is retried later.' };
const auth: Rule = { code: 'ACCOUNT_AUTH_FAILED', sentence: 'Meta rejected the access token (expired or revoked); renew it and resume the account.' };
const permission: Rule = { code: 'ACCOUNT_MISCONFIGURED', sentence: 'The access token lacks a permission this send needs; fix the app permissions and resume the account.' };
const restricted: Rule = { code: 'ACCOUNT_RESTRICTED', sentence: 'Meta has restricted this WhatsApp account or number; see WhatsApp Manager before resuming.' };
// The notes: pause the account and alert. These limits clear on their own (within the hour), so
// the account is `limited` (stopped until the limit clears), not `paused` for an operator's fix.
const appRateLimit: Rule = { code: 'ACCOUNT_RATE_LIMIT', sentence: "Meta's API call limit for this app or business account was reached; the account's sends stop until it clears." };
const params: Rule = { code: 'TEMPLATE_PARAMS_INVALID', sentence: "Meta rejected the template's parameters; the campaign's variables do not fit the template." };
const pairRate: Rule = { code: 'RECIPIENT_PAIR_RATE', sentence: 'Too many messages to this user in a short time; this recipient is retried later.' };

const RULES: ReadonlyMap<number, Rule> = new Map<number, Rule>([
  // Retry with backoff.
  [130429, { code: 'RATE_LIMITED', sentence: "The phone number's Cloud API throughput was exceeded; sending slows down." }],
  [131056, pairRate],
  [131057, { code: 'PROVIDER_UNAVAILABLE', sentence: 'The business account is in maintenance mode; the message is retried later.' }],
  [1, transient],
  [2, transient],
  [131000, transient],
  [131016, transient],
  [133004, transient],
  // Pause the account and alert.
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
  // Defer 24 h: not a failure, and no attempt spent.
  [131049, { code: 'RECIPIENT_DAILY_CAP', sentence: "Meta held back this marketing message under the user's per-user cap; it is sent again in a day.", retryAfterMs: MARKETING_CAP_RETRY_MS }],
  // Fail the recipient.
  [131026, { code: 'RECIPIENT_NOT_ON_WHATSAPP', sentence: 'The message could not be delivered: the number is not on WhatsApp or cannot receive it.' }],
  [131050, { code: 'RECIPIENT_OPTED_OUT', sentence: 'The user stopped marketing messages from this business; recorded as an opt-out.' }],
  [130403, { code: 'RECIPIENT_UNREACHABLE', sentence: 'Meta will not deliver to this recipient (130403).' }],
  [131021, { code: 'RECIPIENT_INVALID', sentence: "The recipient is the business's own number." }],
  [131047, { code: 'RECIPIENT_UNREACHABLE', sentence: 'More than 24 hours have passed since the user last replied; only a template can reach them.' }],
  // Fail the template. 100 is refined by its text (classifyInvalidParameter).
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

/** Graph's subcode for "Object with ID ... does not exist, cannot be loaded due to missing permissions, or does not support this operation". */
const OBJECT_MISSING_SUBCODE = 33;
/** Code 100 about the id in the request's URL, which comes from the account (phoneNumberId, wabaId). */
const NAMES_ACCOUNT_OBJECT = /object with id\b[^.]*\b(does not exist|cannot be loaded)|phone[\s_-]*number[\s_-]*id/i;
/** Code 100 about one parameter's text (Meta refuses a newline, a tab or more than 4 spaces in a row). */
const NAMES_PARAM_TEXT = /param(eter)? text cannot have new-?line/i;

/**
 * Code 100 ("Invalid parameter") names many things. When it names the sender's phone number id, or
 * the object the URL points at does not exist, the account's settings are wrong; when it names a
 * parameter's text, that recipient's value is; anything else is the template's parameters.
 */
function classifyInvalidParameter(text: string, subcode: number | undefined): Rule {
  if (subcode === OBJECT_MISSING_SUBCODE || NAMES_ACCOUNT_OBJECT.test(text)) {
    return {
      code: 'ACCOUNT_MISCONFIGURED',
      sentence: "Meta does not know the id this request was sent to: check the account's phoneNumberId (or wabaId for template sync) and that the token may use it.",
    };
  }
  if (NAMES_PARAM_TEXT.test(text)) {
    return { code: 'RECIPIENT_VARIABLES_INVALID', sentence: "Meta refused this recipient's variables: a parameter may not hold a newline, a tab or more than 4 spaces in a row." };
  }
  return params;
}

/** The rule for a Meta code, or undefined for a code the notes do not classify. */
export function metaErrorRule(code: number): Rule | undefined {
  return RULES.get(code) ?? (code >= 200 && code <= 299 ? permission : undefined);
}

/** Every code the table names explicitly (200-299 are a range, not listed). */
export const META_CLASSIFIED_CODES: readonly number[] = [...RULES.keys()];

export type MetaErrorContext = {
  /** Graph's `error_subcode`, when the error carries one. */
  subcode?: number | undefined;
  /** Which attempt of this recipient's send failed, 1 for the first (sets the 131056 wait). */
  attempt?: number | undefined;
};

/**
 * What a Meta error code means for the engine. A code the table does not know is retried later
 * (PROVIDER_UNDOCUMENTED_RESPONSE) with its code and text kept for a person to classify.
 */
export function classifyMetaError(code: number, message?: string, details?: string, context: MetaErrorContext = {}): SendOutcome {
  const providerCode = String(code);
  const providerText = [message, details].filter((part) => part).join(' | ');
  const rule = code === 100 ? classifyInvalidParameter(providerText, context.subcode) : metaErrorRule(code);
  if (!rule) {
    return outcome('PROVIDER_UNDOCUMENTED_RESPONSE', `Meta answered error code ${code}, which the engine does not classify; the message is retried later.`, {
      providerCode,
      providerText,
    });
  }
  const retryAfterMs = code === 131056 ? pairRateRetryMs(context.attempt) : rule.retryAfterMs;
  return outcome(rule.code, rule.sentence, { providerCode, providerText, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
}
