export {
  ATOMCHAT_DEFAULT_BASE_URL,
  atomchatAdapter,
  atomchatParams,
  atomchatTemplateProblem,
  buildAtomchatSendRequest,
  parseAtomchatSendResponse,
  type AtomchatAccount,
  type AtomchatConfig,
  type AtomchatCredentials,
} from './atomchat-adapter.js';
