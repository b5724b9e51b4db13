export { atomchatAdapter } from './adapter.js';
export {
  ATOMCHAT_DEFAULT_BASE_URL,
  atomchatParams,
  atomchatTemplateProblem,
  buildAtomchatSendRequest,
  parseAtomchatSendResponse,
  type AtomchatAccount,
  type AtomchatConfig,
  type AtomchatCredentials,
} from './send.js';
