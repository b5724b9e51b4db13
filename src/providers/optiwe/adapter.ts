/**
 * Optiwe (https://backend.optiwe.com), from its manual "Manejo y envío de plantillas de
 * WhatsApp" (examples in ./manual-examples.ts). Single sends match rendered text against
 * approved templates and return no id; bulk sends take up to OPTIWE_BULK_MAX_SIZE recipients.
 */
import { phoneVariants } from '../../phones/wa-id-variants.js';
import type { ProviderAdapter } from '../types.js';
import { optiweBatch } from './bulk.js';
import { optiweConfigSchema, optiweCredentialsSchema, type OptiweConfig, type OptiweCredentials } from './schemas.js';
import { buildOptiweSendRequest, parseOptiweSendResponse } from './send.js';
import { optiweTemplates } from './templates.js';
import { optiweWebhook } from './webhook.js';

export const optiweAdapter: ProviderAdapter<OptiweConfig, OptiweCredentials> = {
  provider: 'optiwe',
  label: 'Optiwe',
  configSchema: optiweConfigSchema,
  credentialsSchema: optiweCredentialsSchema,
  buildSendRequest: buildOptiweSendRequest,
  parseSendResponse: (response) => parseOptiweSendResponse(response),
  batch: optiweBatch,
  webhook: optiweWebhook,
  templates: optiweTemplates,
  // Optiwe reports Argentine mobiles without the 9 the engine sends with (+54 11... for +54 9 11...).
  waIdVariants: phoneVariants,
};
