export { optiweAdapter } from './adapter.js';
export {
  OPTIWE_BULK_MAX_SIZE,
  buildOptiweBulkRequest,
  optiweBatch,
  optiweBulkAccepts,
  optiweBulkBody,
  parseOptiweBulkResponse,
  type OptiweBulkCustomer,
} from './bulk.js';
export { OPTIWE_ERROR_RULES, OPTIWE_INVALID_CUSTOMER_RULES, optiweFailure } from './classify-error.js';
export { renderOptiweText, templateButtons, withOptiweButtons, type OptiweTemplateRef } from './message-text.js';
export { phoneMatchKey, splitPhone, type OptiwePhone } from './phone.js';
export {
  OPTIWE_DEFAULT_BASE_URL,
  optiweConfigSchema,
  optiweCredentialsSchema,
  type OptiweButton,
  type OptiweConfig,
  type OptiweCredentials,
} from './schemas.js';
export { buildOptiweSendRequest, optiweCustomerBody, parseOptiweSendResponse, type OptiweCustomerInput } from './send.js';
export {
  buildCreateTemplateRequest,
  buildOptiweListTemplatesRequest,
  countPositionalParams,
  parseCreateTemplateResponse,
  parseOptiweListTemplatesResponse,
  toOptiweTemplateRecord,
  validateOptiweTemplate,
  type CreateTemplateRequestResult,
  type CreateTemplateResult,
  type ListTemplatesResult,
  type OptiweButtonDraft,
  type OptiweTemplateDraft,
  type OptiweTemplateRecord,
} from './templates.js';
