/**
 * Adereso's HSM (template) send: `POST {baseUrl}/v2/message/hsm/`
 * (summary of its manual and the judgment calls: ./adereso-protocol.md).
 */
import { z } from 'zod';
import { outcome } from '../outcome.js';
import { MessageBuildError, type AccountSettings, type HttpRequest, type HttpResponse, type OutboundMessage, type SendOutcome } from '../types.js';
import { commonAderesoOutcome, providerFields, readAderesoReply } from './adereso-reply.js';
import { e164ToDigits, rawOf, undocumentedReply } from '../response-helpers.js';

export const ADERESO_DEFAULT_BASE_URL = 'https://api-cluster.postcenter.io';

export const aderesoConfigSchema = z.object({
  /** API host; default https://api-cluster.postcenter.io. Override for on-premise hosts and tests. */
  baseUrl: z.url().default(ADERESO_DEFAULT_BASE_URL),
  /** The WhatsApp Business number sending the HSM (`account`), country code first, e.g. 56900000000; a leading + is dropped. */
  account: z.string().regex(/^\+?\d{8,15}$/, 'the WhatsApp Business number, digits with country code').transform(e164ToDigits),
  /** Adereso's id of the WhatsApp account (`account_id`) for proactive free-text conversations, e.g. au2geg72gs. */
  accountId: z.string().min(1).optional(),
  /** Default for proactive conversations: once closed, agents cannot reopen the ticket. A campaign's option overrides it. */
  noManualReopen: z.boolean().optional(),
  /** Default for proactive conversations: agents cannot merge the ticket into another. A campaign's option overrides it. */
  noManualMerge: z.boolean().optional(),
});

export const aderesoCredentialsSchema = z.object({
  /** API token, sent as `Authorization: Key <token>`. */
  token: z.string().min(1),
});

export type AderesoConfig = z.infer<typeof aderesoConfigSchema>;
export type AderesoCredentials = z.infer<typeof aderesoCredentialsSchema>;
export type AderesoAccount = AccountSettings<AderesoConfig, AderesoCredentials>;

/** `{baseUrl}{path}` with exactly one slash between; Adereso paths end with `/`. */
export function aderesoUrl(account: AderesoAccount, path: string): string {
  return `${account.config.baseUrl.replace(/\/+$/, '')}${path}`;
}

export function aderesoHeaders(account: AderesoAccount): Record<string, string> {
  return { 'content-type': 'application/json', authorization: `Key ${account.credentials.token}` };
}

export function buildHsmRequest(message: OutboundMessage, account: AderesoAccount): HttpRequest {
  if (message.media || (message.buttonParams && message.buttonParams.length > 0)) {
    // The HSM endpoint has no field for header media or button parameters; dropping them would
    // send a message WhatsApp rejects after a 200.
    throw new MessageBuildError('template', `Adereso's HSM endpoint takes only body parameters; template "${message.template.name}" is sent with media or button parameters.`);
  }
  // The manual: each parameter "debe ser no vacío", or WhatsApp may drop the message after a 200.
  const empty = message.variables.findIndex((value) => value.trim() === '');
  if (empty >= 0) {
    throw new MessageBuildError('recipient', `Variable ${empty + 1} is empty; Adereso answers 200 for an empty HSM parameter but WhatsApp drops the message.`);
  }
  return {
    method: 'POST',
    url: aderesoUrl(account, '/v2/message/hsm/'),
    headers: aderesoHeaders(account),
    body: JSON.stringify({
      account: account.config.account,
      phone: e164ToDigits(message.phone),
      name: message.template.name,
      parameters: message.variables,
    }),
  };
}

export function parseHsmResponse(response: HttpResponse): SendOutcome {
  const reply = readAderesoReply(response);
  const fields = providerFields(reply);
  switch (reply.status) {
    case 200: {
      const id = typeof reply.json === 'object' && reply.json !== null ? (reply.json as { message_id?: unknown }).message_id : undefined;
      if (typeof id === 'string' && id !== '') return outcome('SENT', 'Adereso accepted the HSM.', { messageId: id });
      // `status: 200` is the manual's own word for success: resending could deliver twice, so
      // a success without its message_id is recorded as sent, with the body kept for a human.
      if (reply.bodyStatus === 200) {
        return outcome('SENT', 'Adereso reported success but returned no message_id; delivery cannot be tracked for this recipient.', { raw: rawOf(response.body) });
      }
      return undocumentedReply(response);
    }
    case 400:
      if (reply.text !== undefined && /missing parameters/i.test(reply.text)) {
        return outcome('TEMPLATE_PARAMS_INVALID', 'Adereso says the HSM got fewer parameters than it needs; check the template and its variable columns.', fields);
      }
      // The manual: "Campo incompleto o faltante": check every field is present and the account
      // number is right. This adapter always sends every field, so what is left is the account.
      return outcome('ACCOUNT_MISCONFIGURED', 'Adereso says a field is incomplete or missing (400): check the account number (the WhatsApp Business number) configured for this account.', fields);
    case 404:
      return outcome('TEMPLATE_NOT_FOUND', 'Adereso does not have this HSM registered (404). If WhatsApp approved it, notify Adereso with its name, text, language and namespace so they load it.', fields);
    default:
      return commonAderesoOutcome(reply) ?? undocumentedReply(response);
  }
}
