/**
 * The sandbox (./sandbox-protocol.md): a local stand-in provider for the demo and the tests,
 * served by ./sandbox-server.ts. It reports deliveries in Meta's format, signed with the
 * account's own token, so the demo and the tests exercise Meta's webhook path.
 */
import { metaFormatWebhook } from '../meta/webhook-capability.js';
import type { ProviderAdapter } from '../types.js';
import { buildSandboxSendRequest, parseSandboxSendResponse, sandboxConfigSchema, sandboxCredentialsSchema, type SandboxConfig, type SandboxCredentials } from './send.js';

export const sandboxAdapter: ProviderAdapter<SandboxConfig, SandboxCredentials> = {
  provider: 'sandbox',
  label: 'The sandbox',
  standIn: true,
  configSchema: sandboxConfigSchema,
  credentialsSchema: sandboxCredentialsSchema,
  buildSendRequest: buildSandboxSendRequest,
  parseSendResponse: (response) => parseSandboxSendResponse(response),
  // It names no real sender ids: none are checked. No verify token: the URL's secret is the token.
  webhook: metaFormatWebhook<SandboxConfig, SandboxCredentials>({
    appSecret: (account) => account.credentials.token,
    verifyToken: () => undefined,
    senderIds: () => ({}),
  }),
};
