/**
 * Adereso's two free-text sends, beside the HSM one: a proactive conversation
 * (`POST /v2/message/create_conversation/`) and a reply inside a ticket (`POST /v2/message/`).
 * Pure build/parse pairs like the adapter's; the engine wires them where it needs them.
 */
import { outcome } from '../outcome.js';
import { MessageBuildError, type HttpRequest, type HttpResponse, type SendOutcome } from '../types.js';
import { aderesoHeaders, aderesoUrl, type AderesoAccount } from './send.js';
import { commonAderesoOutcome, providerFields, readAderesoReply } from './adereso-reply.js';
import { e164ToDigits, stringField, undocumentedReply } from '../response-helpers.js';

export type AderesoConversationInput = {
  /** E.164 with the leading +. */
  phone: string;
  /** The client's name, used by Adereso to create their profile. */
  userName: string;
  /** The free text to send. */
  message: string;
  /** Once closed, the ticket cannot be reopened by an agent. Omitted (provider default) when undefined. */
  noManualReopen?: boolean;
  /** The ticket cannot be merged into another (and so deleted) by an agent. Omitted when undefined. */
  noManualMerge?: boolean;
};

export function buildConversationRequest(input: AderesoConversationInput, account: AderesoAccount): HttpRequest {
  const accountId = account.config.accountId;
  if (!accountId) {
    throw new MessageBuildError('account', 'A proactive Adereso conversation needs the account\'s Adereso account_id; set accountId in the account settings.');
  }
  return {
    method: 'POST',
    url: aderesoUrl(account, '/v2/message/create_conversation/'),
    headers: aderesoHeaders(account),
    body: JSON.stringify({
      phone: e164ToDigits(input.phone),
      user_name: input.userName,
      account_id: accountId,
      message: input.message,
      ...(input.noManualReopen === undefined ? {} : { no_manual_reopen: input.noManualReopen }),
      ...(input.noManualMerge === undefined ? {} : { no_manual_merge: input.noManualMerge }),
    }),
  };
}

/** Success carries no message id, only the ticket's: read it with aderesoTicketId(). */
export function parseConversationResponse(response: HttpResponse): SendOutcome {
  const reply = readAderesoReply(response);
  const fields = providerFields(reply);
  switch (reply.status) {
    case 200:
      return stringField(reply.json, 'ticket_id')
        ? outcome('SENT', 'Adereso opened the conversation.')
        : undocumentedReply(response);
    case 202:
      if (reply.text !== undefined && /proactive/i.test(reply.text)) {
        return outcome(
          'ACCOUNT_MISCONFIGURED',
          'This Adereso WhatsApp account is not allowed to send proactive messages. An administrator must enable it in Administración / Canales, tab WhatsApp: on the account, Configuración > Opciones de WhatsApp > Activar mensajes proactivos.',
          fields,
        );
      }
      return undocumentedReply(response);
    case 400:
      return outcome('ACCOUNT_MISCONFIGURED', 'Adereso says a field is incomplete or missing (400): check the account_id configured for this account.', fields);
    default:
      return commonAderesoOutcome(reply) ?? undocumentedReply(response);
  }
}

export type AderesoTicketReplyInput = {
  ticketId: string;
  /** The client to answer; without it Adereso answers the ticket's first client. */
  clientId?: string;
  message: string;
  /**
   * Answer only a private message; default true. The manual recommends sending it explicitly
   * as true for automatic messages, so confidential data never goes out as a public reply.
   */
  privateOnly?: boolean;
};

export function buildTicketReplyRequest(input: AderesoTicketReplyInput, account: AderesoAccount): HttpRequest {
  return {
    method: 'POST',
    url: aderesoUrl(account, '/v2/message/'),
    headers: aderesoHeaders(account),
    body: JSON.stringify({
      ticket_id: input.ticketId,
      ...(input.clientId === undefined ? {} : { client_id: input.clientId }),
      message: input.message,
      private_only: input.privateOnly ?? true,
    }),
  };
}

export function parseTicketReplyResponse(response: HttpResponse): SendOutcome {
  const reply = readAderesoReply(response);
  const fields = providerFields(reply);
  switch (reply.status) {
    case 200:
      // The only text on success: "Message sent to carlos@soto.cl".
      return reply.text !== undefined
        ? outcome('SENT', 'Adereso posted the reply in the ticket.', fields)
        : undocumentedReply(response);
    case 403:
      return outcome('RECIPIENT_UNREACHABLE', 'Adereso found no private message from the client in this ticket to answer (403); send with privateOnly false to allow a public reply.', fields);
    case 404:
      return outcome('RECIPIENT_INVALID', 'Adereso found no message in this ticket to answer (404): the ticket or client does not exist or has no messages that went through Adereso.', fields);
    case 400:
      // This body has no account number in it, so a missing field is this reply's own.
      return outcome('RECIPIENT_INVALID', 'Adereso says a field of the reply is incomplete or missing (400): check the ticket id, client id and text.', fields);
    default:
      return commonAderesoOutcome(reply) ?? undocumentedReply(response);
  }
}
