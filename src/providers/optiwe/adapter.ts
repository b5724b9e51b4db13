/**
 * Optiwe (https://backend.optiwe.com), from its manual "Manejo y envío de plantillas de
 * WhatsApp" (examples in ./manual-examples.ts). Single sends match rendered text against
 * approved templates and return no id; bulk sends take up to OPTIWE_BULK_MAX_SIZE recipients.
 */
import type { ProviderAdapter } from '../types.js';
import { optiweBatch } from './bulk.js';
import { optiweConfigSchema, optiweCredentialsSchema, type OptiweConfig, type OptiweCredentials } from './schemas.js';
import { buildOptiweSendRequest, parseOptiweSendResponse } from './send.js';

export const optiweAdapter: ProviderAdapter<OptiweConfig, OptiweCredentials> = {
  provider: 'optiwe',
  configSchema: optiweConfigSchema,
  credentialsSchema: optiweCredentialsSchema,
  buildSendRequest: buildOptiweSendRequest,
  parseSendResponse: (response) => parseOptiweSendResponse(response),
  batch: optiweBatch,
};
