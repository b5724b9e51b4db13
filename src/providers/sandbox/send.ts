/** The sandbox's send: one JSON POST per message, answered with an id or an error code (./sandbox-protocol.md). */
import { z } from 'zod';
import { outcome, parseJson, undocumented } from '../outcome.js';
import type { AccountSettings, HttpRequest, HttpResponse, OutboundMessage, SendOutcome } from '../types.js';

export const sandboxConfigSchema = z.object({ baseUrl: z.string().url() });
export const sandboxCredentialsSchema = z.object({ token: z.string().min(1) });

export type SandboxConfig = z.infer<typeof sandboxConfigSchema>;
export type SandboxCredentials = z.infer<typeof sandboxCredentialsSchema>;

type ErrorBody = { error?: { code?: unknown; message?: unknown; retry_after_ms?: unknown } };

export function buildSandboxSendRequest(message: OutboundMessage, account: AccountSettings<SandboxConfig, SandboxCredentials>): HttpRequest {
  return {
    method: 'POST',
    url: `${account.config.baseUrl.replace(/\/$/, '')}/v1/messages`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${account.credentials.token}` },
    body: JSON.stringify({
      to: message.phone,
      template: message.template.name,
      language: message.template.language,
      parameters: message.variables,
      reference: message.reference,
    }),
  };
}

export function parseSandboxSendResponse(response: HttpResponse): SendOutcome {
  const json = parseJson(response.body);
  if (response.status === 200) {
    const id = (json as { id?: unknown } | undefined)?.id;
    return typeof id === 'string' && id
      ? outcome('SENT', 'The sandbox accepted the message.', { messageId: id })
      : undocumented(response.status, response.body);
  }
  const error = (json as ErrorBody | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : undefined;
  const text = typeof error?.message === 'string' ? error.message : undefined;
  const raw = { providerCode: code ?? String(response.status), providerText: text };
  switch (code) {
    case 'rate_limited': {
      const retryAfterMs = typeof error?.retry_after_ms === 'number' ? error.retry_after_ms : 1000;
      return outcome('RATE_LIMITED', 'The sandbox asked to slow down.', { ...raw, retryAfterMs });
    }
    case 'tier_limit':
      return outcome('ACCOUNT_TIER_LIMIT', 'The account reached its messaging limit (unique recipients per 24 h).', raw);
    case 'unauthorized':
      return outcome('ACCOUNT_AUTH_FAILED', 'The sandbox rejected the account token; check the account credentials.', raw);
    case 'template_not_found':
      return outcome('TEMPLATE_NOT_FOUND', 'The provider does not know this template.', raw);
    case 'invalid_parameters':
      return outcome('TEMPLATE_PARAMS_INVALID', 'The template parameters are empty or their count is wrong.', raw);
    case 'invalid_recipient':
      return outcome('RECIPIENT_INVALID', 'The provider says this phone cannot receive messages.', raw);
    case 'internal':
      return outcome('PROVIDER_UNAVAILABLE', 'The provider had an internal error; the send will be retried.', raw);
    default:
      if (response.status >= 500) return outcome('PROVIDER_UNAVAILABLE', `The provider answered HTTP ${response.status}; the send will be retried.`, raw);
      return undocumented(response.status, response.body);
  }
}
