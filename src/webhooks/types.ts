/**
 * What a provider's webhook means, in the engine's words. The types belong to the adapter
 * contract (src/providers/types.ts): each provider folder has one pure parser from the raw
 * request body to these events. The processor (./webhook-processor.ts) applies them to
 * recipients, replies and the suppression list.
 */
export { WebhookFormatError, type InboundEvent, type ParsedWebhook, type StatusEvent, type WebhookItem } from '../providers/types.js';
