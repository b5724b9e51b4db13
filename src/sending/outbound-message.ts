/** Turning a claimed recipient into the adapter's message, and build errors into outcomes. */
import { messageExtras } from '../campaigns/campaign-options.js';
import { outcome } from '../providers/outcome.js';
import { MessageBuildError, type OutboundMessage, type SendOutcome } from '../providers/types.js';
import type { ClaimedRecipient } from '../recipients/index.js';
import type { CampaignContext } from './campaign-context.js';

export function toMessage(recipient: ClaimedRecipient, context: CampaignContext): OutboundMessage {
  return {
    reference: recipient.id,
    phone: recipient.phone,
    template: context.template,
    variables: recipient.variables,
    // This attempt, 1 for the first: waits that grow per attempt read it (Meta's pair rate, 4^n s).
    attempt: recipient.attempts,
    ...messageExtras(context.options),
  };
}

/**
 * A message the adapter cannot express in the provider's format. The adapter says whose fault it
 * is: the template (stop the campaign), this recipient's data (fail it alone), or the account's
 * settings (stop the account). An untyped error is taken as the template's, as before.
 */
export function buildFailure(error: unknown): SendOutcome {
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof MessageBuildError) {
    if (error.scope === 'recipient') return outcome('RECIPIENT_INVALID', `This recipient's message could not be built for the provider: ${text}`);
    if (error.scope === 'account') return outcome('ACCOUNT_MISCONFIGURED', `The account's settings cannot express this message: ${text}`);
  }
  return outcome('TEMPLATE_PARAMS_INVALID', `The message could not be built for this provider: ${text}`);
}

