/**
 * contacto-multichat (./multichat-protocol.md): template sends as form posts answered with a
 * numeric code, a template listing, a prepaid balance, and webhooks for statuses and replies.
 * Its numbers are Colombian only, which ingest checks with the phone rule.
 */
import type { ProviderAdapter } from '../types.js';
import { multichatBalance } from './balance.js';
import {
  buildMultichatSendRequest,
  multichatConfigSchema,
  multichatCredentialsSchema,
  multichatPhoneRule,
  parseMultichatSendResponse,
  type MultichatConfig,
  type MultichatCredentials,
} from './send.js';
import { multichatTemplates } from './templates.js';
import { multichatWebhook } from './webhook.js';

export const multichatAdapter: ProviderAdapter<MultichatConfig, MultichatCredentials> = {
  provider: 'multichat',
  label: 'contacto-multichat',
  configSchema: multichatConfigSchema,
  credentialsSchema: multichatCredentialsSchema,
  phoneRule: multichatPhoneRule,
  buildSendRequest: buildMultichatSendRequest,
  parseSendResponse: parseMultichatSendResponse,
  webhook: multichatWebhook,
  templates: multichatTemplates,
  balance: multichatBalance,
};
