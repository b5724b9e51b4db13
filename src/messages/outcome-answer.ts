/**
 * A single send's outcome as the API answers it (src/messages/adereso-messages.ts): the public
 * part of a taken outcome, or the error a caller can act on for one that was not taken.
 */
import { type AppError, errors } from '../errors.js';
import type { SendOutcome } from '../providers/types.js';

/** The outcome as the API shows it: no raw body, no timing. */
export type PublicOutcome = Pick<SendOutcome, 'kind' | 'code' | 'message' | 'providerCode' | 'providerText'>;

export function publicOutcome(result: SendOutcome): PublicOutcome {
  const { kind, code, message, providerCode, providerText } = result;
  return { kind, code, message, ...(providerCode === undefined ? {} : { providerCode }), ...(providerText === undefined ? {} : { providerText }) };
}

/** A failed outcome as the error a caller can act on; the normalized code rides in details.outcomeCode. */
export function failureError(provider: string, action: string, result: SendOutcome): AppError {
  const reason = result.providerText === undefined ? result.message : `${result.message} (${provider} said: ${result.providerText})`;
  const { code, providerCode } = result;
  switch (result.kind) {
    case 'account_error':
      return errors.providerAccountMisconfigured(provider, action, reason, code, providerCode);
    case 'recipient_error':
    case 'opted_out':
      return errors.providerRecipientRefused(provider, action, reason, code, providerCode);
    case 'ambiguous':
      return errors.providerOutcomeUnknown(provider, action, code, providerCode);
    case 'rate_limited':
    case 'deferred':
      return errors.providerRetryLater(provider, action, code, providerCode, result.retryAfterMs);
    case 'retry':
      // An answer the manual does not describe might be a success in disguise: not "try again".
      return code === 'PROVIDER_UNDOCUMENTED_RESPONSE'
        ? errors.providerRequestFailed(provider, action, reason, code, providerCode)
        : errors.providerRetryLater(provider, action, code, providerCode, result.retryAfterMs);
    default:
      return errors.providerRequestFailed(provider, action, reason, code, providerCode);
  }
}
