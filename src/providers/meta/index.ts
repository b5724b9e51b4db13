export { metaAdapter } from './adapter.js';
export {
  MARKETING_CAP_RETRY_MS,
  META_CLASSIFIED_CODES,
  PAIR_RATE_MAX_RETRY_MS,
  PAIR_RATE_RETRY_MS,
  classifyMetaError,
  metaErrorRule,
  pairRateRetryMs,
  type MetaErrorContext,
} from './classify-error.js';
export { graphRoot } from './endpoint.js';
export { metaFailure } from './response.js';
export {
  META_DEFAULT_API_VERSION,
  META_DEFAULT_BASE_URL,
  metaConfigSchema,
  metaCredentialsSchema,
  type MetaConfig,
  type MetaCredentials,
} from './schemas.js';
export { buildMetaSendRequest, metaTemplateObject, parseMetaSendResponse } from './send.js';
export {
  META_TEMPLATE_PAGE_SIZE,
  buildMetaListTemplatesRequest,
  parseMetaListTemplatesResponse,
  toMetaTemplateRecord,
  type MetaListTemplatesResult,
  type MetaTemplateButton,
  type MetaTemplateRecord,
} from './templates.js';
