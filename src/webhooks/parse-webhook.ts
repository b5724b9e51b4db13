/** One entry point from (provider, raw body) to the engine's webhook events. */
import { parseMetaWebhook } from '../providers/meta/webhook.js';
import { parseMultichatWebhook } from '../providers/multichat/webhook.js';
import { parseOptiweWebhook } from '../providers/optiwe/webhook.js';
import type { ProviderName } from '../providers/types.js';
import type { ParsedWebhook } from './types.js';

/**
 * Providers that push events to the engine. Adereso and AtomChat document no webhooks. The
 * sandbox speaks Meta's format (signed with the account's sandbox token), so the demo and tests
 * exercise the same path.
 */
export const WEBHOOK_PROVIDERS = ['meta', 'multichat', 'optiwe', 'sandbox'] as const satisfies readonly ProviderName[];
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

export function hasWebhooks(provider: ProviderName): provider is WebhookProvider {
  return (WEBHOOK_PROVIDERS as readonly string[]).includes(provider);
}

/** Throws WebhookFormatError when the body is not what the provider documents. */
export function parseWebhook(provider: WebhookProvider, body: string, contentType: string | null): ParsedWebhook {
  switch (provider) {
    case 'meta':
    case 'sandbox':
      return parseMetaWebhook(body);
    case 'multichat':
      return parseMultichatWebhook(body, contentType ?? undefined);
    case 'optiwe':
      return parseOptiweWebhook(body);
  }
}
