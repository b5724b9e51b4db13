export { multichatAdapter } from './adapter.js';
export {
  buildMultichatSendRequest,
  formatTemplateVariables,
  MULTICHAT_CUSTOM_FIELD_MAX,
  MULTICHAT_DEFAULT_BASE_URL,
  multichatMediaProblem,
  multichatPhoneRule,
  parseMultichatSendResponse,
  type MultichatAccount,
  type MultichatConfig,
  type MultichatCredentials,
} from './send.js';
export {
  classifyMultichatAsyncFailure,
  MULTICHAT_ASYNC_FAILURES,
  MULTICHAT_SEND_CODES,
  readMultichatCode,
  type MultichatReply,
} from './multichat-codes.js';
export { buildBalanceRequest, parseBalanceResponse, type MultichatBalanceResult } from './balance.js';
export {
  buildTemplateListRequest,
  countPlaceholders,
  normalizeStatus,
  parseTemplateListResponse,
  type MultichatTemplatesResult,
  type NormalizedTemplate,
  type NormalizedTemplateStatus,
} from './templates.js';
