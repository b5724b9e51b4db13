/**
 * AtomChat (./atomchat-protocol.md): template sends only. Its manual names a template listing
 * but does not document it, and documents no webhooks.
 */
import { REGISTER_TEMPLATES_BY_HAND, type ProviderAdapter } from '../types.js';
import { atomchatConfigSchema, atomchatCredentialsSchema, buildAtomchatSendRequest, parseAtomchatSendResponse, type AtomchatConfig, type AtomchatCredentials } from './send.js';

export const atomchatAdapter: ProviderAdapter<AtomchatConfig, AtomchatCredentials> = {
  provider: 'atomchat',
  label: 'AtomChat',
  configSchema: atomchatConfigSchema,
  credentialsSchema: atomchatCredentialsSchema,
  buildSendRequest: buildAtomchatSendRequest,
  parseSendResponse: parseAtomchatSendResponse,
  // The manual names a listing endpoint but does not document it, nor any webhook.
  templates: {
    listInstead: `its listing endpoint is not documented, so ${REGISTER_TEMPLATES_BY_HAND} (with paramNames)`,
    createInstead: `create the template in AtomChat, then ${REGISTER_TEMPLATES_BY_HAND} (with paramNames)`,
  },
};
