/**
 * Meta's WhatsApp Cloud API, directly: the layer under every other provider (PLATFORM-NOTES,
 * "WhatsApp Business Platform"). One template message per request; no batch endpoint.
 */
import type { ProviderAdapter } from '../types.js';
import { metaConfigSchema, metaCredentialsSchema, type MetaConfig, type MetaCredentials } from './schemas.js';
import { buildMetaSendRequest, parseMetaSendResponse } from './send.js';

export const metaAdapter: ProviderAdapter<MetaConfig, MetaCredentials> = {
  provider: 'meta',
  configSchema: metaConfigSchema,
  credentialsSchema: metaCredentialsSchema,
  buildSendRequest: buildMetaSendRequest,
  parseSendResponse: (response, message) => parseMetaSendResponse(response, message.attempt),
};
