export { aderesoAdapter } from './adapter.js';
export {
  ADERESO_DEFAULT_BASE_URL,
  aderesoHeaders,
  aderesoUrl,
  buildHsmRequest,
  parseHsmResponse,
  type AderesoAccount,
  type AderesoConfig,
  type AderesoCredentials,
} from './send.js';
export {
  buildConversationRequest,
  buildTicketReplyRequest,
  parseConversationResponse,
  parseTicketReplyResponse,
  type AderesoConversationInput,
  type AderesoTicketReplyInput,
} from './adereso-conversation.js';
export { aderesoTicketId, readAderesoReply, type AderesoReply } from './adereso-reply.js';
export {
  classifyGenericStatus,
  e164ToDigits,
  parseRetryAfter,
  redactOutcome,
  redactSecrets,
  undocumentedReply,
} from '../response-helpers.js';
