/**
 * Normalized outcome codes and their constructors. One table, so a code means the same thing
 * whichever provider produced it. Adapters pick from these; the provider's own code rides along.
 */
import type { OutcomeKind, SendOutcome } from './types.js';

export const OUTCOME_CODES = {
  SENT: 'sent',
  ACCEPTED_PENDING: 'accepted',
  ALREADY_SENT: 'already_sent',
  PROVIDER_UNAVAILABLE: 'retry',
  PROVIDER_UNREACHABLE: 'retry',
  PROVIDER_UNDOCUMENTED_RESPONSE: 'retry',
  RECIPIENT_PAIR_RATE: 'retry',
  RECIPIENT_DAILY_CAP: 'deferred',
  RATE_LIMITED: 'rate_limited',
  /** An API call limit of the app or business account (Meta 4, 80007): stops the account until it clears. */
  ACCOUNT_RATE_LIMIT: 'account_limited',
  ACCOUNT_TIER_LIMIT: 'account_limited',
  ACCOUNT_PLAN_LIMIT: 'account_limited',
  ACCOUNT_NO_BALANCE: 'account_limited',
  ACCOUNT_AUTH_FAILED: 'account_error',
  ACCOUNT_MISCONFIGURED: 'account_error',
  ACCOUNT_RESTRICTED: 'account_error',
  TEMPLATE_NOT_FOUND: 'template_error',
  TEMPLATE_NOT_APPROVED: 'template_error',
  TEMPLATE_PARAMS_INVALID: 'template_error',
  TEMPLATE_PAUSED: 'template_error',
  TEMPLATE_REJECTED: 'template_error',
  RECIPIENT_INVALID: 'recipient_error',
  /** A value of this recipient's that the provider cannot carry (Meta: a newline in a parameter). */
  RECIPIENT_VARIABLES_INVALID: 'recipient_error',
  RECIPIENT_NOT_ON_WHATSAPP: 'recipient_error',
  RECIPIENT_MARKETING_CAP: 'recipient_error',
  RECIPIENT_UNREACHABLE: 'recipient_error',
  RECIPIENT_OPTED_OUT: 'opted_out',
  PROVIDER_TIMEOUT: 'ambiguous',
  /** A 2xx/3xx answer over the read limit (64 KB): the message may have been taken, so never resent blindly. */
  PROVIDER_ANSWER_TOO_LARGE: 'ambiguous',
} as const satisfies Record<string, OutcomeKind>;

export type OutcomeCode = keyof typeof OUTCOME_CODES;

type Extra = Omit<SendOutcome, 'kind' | 'code' | 'message'>;

/** Builds an outcome from a normalized code; the kind follows from the code. */
export function outcome(code: OutcomeCode, message: string, extra: Extra = {}): SendOutcome {
  return { kind: OUTCOME_CODES[code], code, message, ...extra };
}

/** A response the manual does not describe: retry later, keeping the body for a human to read. */
export function undocumented(status: number, body: string): SendOutcome {
  return outcome('PROVIDER_UNDOCUMENTED_RESPONSE', `The provider answered HTTP ${status} in a form its manual does not describe.`, {
    providerCode: String(status),
    raw: body.slice(0, 2000),
  });
}

/** Parses a JSON body without throwing; undefined when it is not JSON. */
export function parseJson(body: string): unknown {
  if (!body) return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}
