/**
 * Adereso (./adereso-protocol.md): HSM template sends, and free-text proactive conversations
 * for text campaigns. Its templates are loaded by Adereso's support team and it documents no
 * webhooks, so the adapter has neither capability.
 */
import { renderPlaceholders } from '../placeholders.js';
import { REGISTER_TEMPLATES_BY_HAND, type ProviderAdapter } from '../types.js';
import { buildConversationRequest, parseConversationResponse } from './adereso-conversation.js';
import { aderesoConfigSchema, aderesoCredentialsSchema, buildHsmRequest, parseHsmResponse, type AderesoConfig, type AderesoCredentials } from './send.js';

export const aderesoAdapter: ProviderAdapter<AderesoConfig, AderesoCredentials> = {
  provider: 'adereso',
  label: 'Adereso',
  configSchema: aderesoConfigSchema,
  credentialsSchema: aderesoCredentialsSchema,
  buildSendRequest: buildHsmRequest,
  parseSendResponse: parseHsmResponse,
  // Text campaigns: one proactive conversation per recipient, the campaign's text filled in.
  text: {
    buildTextRequest: (message, account, options) => {
      // The campaign's choice first, then the account's default, else Adereso's own default.
      const noManualReopen = options.noManualReopen ?? account.config.noManualReopen;
      const noManualMerge = options.noManualMerge ?? account.config.noManualMerge;
      return buildConversationRequest(
        {
          phone: message.phone,
          userName: message.recipientName ?? message.phone,
          message: renderPlaceholders(message.template.body, message.variables),
          ...(noManualReopen === undefined ? {} : { noManualReopen }),
          ...(noManualMerge === undefined ? {} : { noManualMerge }),
        },
        account,
      );
    },
    parseTextResponse: (response) => parseConversationResponse(response),
  },
  // Adereso's manual: templates are loaded by its support team, by hand; it documents no webhooks.
  templates: {
    listInstead: `ask Adereso support to load the template, then ${REGISTER_TEMPLATES_BY_HAND}`,
    createInstead: `ask Adereso support to load the template, then ${REGISTER_TEMPLATES_BY_HAND}`,
  },
};
