/**
 * What a provider's webhook means, in the engine's words. Each provider has one pure parser
 * (src/providers/<provider>/webhook.ts) from the raw request body to these events; the
 * processor (./webhook-processor.ts) applies them to recipients, replies and the suppression list.
 */
import type { SendOutcome } from '../providers/types.js';

/** A delivery status for a message the engine sent. */
export type StatusEvent = {
  type: 'status';
  /** The provider's message id (Meta wamid), when the event carries one. */
  providerMessageId: string | null;
  /** The engine's own reference echoed back (multichat custom_field = recipient id), when there is one. */
  reference: string | null;
  /** The recipient's phone in E.164, when the event carries it (for providers with neither id nor reference). */
  phone: string | null;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  /** The provider's time for the event; the receive time when it gives none. */
  occurredAt: Date;
  /** For `failed`: the failure classified like a synchronous one (kind, normalized code, provider code and text). */
  failure?: SendOutcome;
};

/** A message from a recipient to the business: a reply, or a quick-reply button tap. */
export type InboundEvent = {
  type: 'inbound';
  /** The provider's id for the inbound message; a stable hash of the event when it gives none. */
  providerMessageId: string;
  /** The engine's reference echoed back (multichat custom_field), when there is one. */
  reference: string | null;
  /** The sender's phone in E.164 (as the provider reports it: Meta's wa_id may differ from what was sent). */
  phone: string;
  text: string | null;
  /** A quick-reply button's payload. */
  buttonPayload: string | null;
  /**
   * The provider's id of the message this one answers, when it says (Meta `context.id`: for a
   * quick-reply tap, the wamid of the template message whose button was tapped).
   */
  inReplyTo?: string;
  occurredAt: Date;
};

export type WebhookItem = StatusEvent | InboundEvent;

/** A parsed webhook request: the events it carries, and how many parts were of no interest to the engine. */
export type ParsedWebhook = { events: WebhookItem[]; ignored: number };

/** The body is not what the provider's manual describes; the receiver answers 400 and counts it. */
export class WebhookFormatError extends Error {
  override name = 'WebhookFormatError';
}
