/**
 * Meta's WhatsApp Cloud API, directly: the layer under every other provider (./meta-protocol.md). One template message per request; no batch endpoint.
 */
import { phoneVariants } from '../../phones/wa-id-variants.js';
import type { ProviderAdapter } from '../types.js';
import { metaConfigSchema, metaCredentialsSchema, type MetaConfig, type MetaCredentials } from './schemas.js';
import { buildMetaSendRequest, parseMetaSendResponse } from './send.js';
import { metaTemplates } from './templates.js';
import { metaFormatWebhook } from './webhook-capability.js';

export const metaAdapter: ProviderAdapter<MetaConfig, MetaCredentials> = {
  provider: 'meta',
  label: 'Meta Cloud API',
  configSchema: metaConfigSchema,
  credentialsSchema: metaCredentialsSchema,
  buildSendRequest: buildMetaSendRequest,
  parseSendResponse: (response, message) => parseMetaSendResponse(response, message.attempt),
  webhook: metaFormatWebhook<MetaConfig, MetaCredentials>({
    appSecret: (account) => account.credentials.appSecret,
    verifyToken: (account) => account.credentials.webhookVerifyToken,
    senderIds: (config) => ({ phoneNumberId: config.phoneNumberId, wabaId: config.wabaId }),
  }),
  templates: metaTemplates,
  // Meta reports a recipient by wa_id, which may differ from the E.164 sent to.
  waIdVariants: phoneVariants,
};
