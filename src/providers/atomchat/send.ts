/**
 * AtomChat's template send: `POST {baseUrl}/api/Template/SendMessage`
 * (summary of its manual and the judgment calls: ./atomchat-protocol.md).
 */
import { z } from 'zod';
import { outcome, parseJson } from '../outcome.js';
import { MessageBuildError, type AccountSettings, type HttpRequest, type HttpResponse, type OutboundMessage, type SendOutcome, type TemplateRef } from '../types.js';
import { classifyGenericStatus, e164ToDigits, providerTextOf, rawOf, redactSecrets, stringField, undocumentedReply } from '../response-helpers.js';

export const ATOMCHAT_DEFAULT_BASE_URL = 'https://us-central1-atomchat-io.cloudfunctions.net';

export const atomchatConfigSchema = z.object({
  /** API host; default https://us-central1-atomchat-io.cloudfunctions.net. Override for tests. */
  baseUrl: z.url().default(ATOMCHAT_DEFAULT_BASE_URL),
  /** Group the conversation is assigned to (`groupName`); omitted means AtomChat's default, the integration's first group. */
  groupName: z.string().min(1).optional(),
  /** true assigns the conversation to an agent, false to the bot (`assign`); omitted means AtomChat's default, false. */
  assign: z.boolean().optional(),
});

export const atomchatCredentialsSchema = z.object({
  /** The channel's public token, sent as `Authorization: Bearer <token>`. */
  publicToken: z.string().min(1),
});

export type AtomchatConfig = z.infer<typeof atomchatConfigSchema>;
export type AtomchatCredentials = z.infer<typeof atomchatCredentialsSchema>;
export type AtomchatAccount = AccountSettings<AtomchatConfig, AtomchatCredentials>;

/**
 * Why this template cannot be sent with this many variables, or null. AtomChat takes `params`
 * as a map by name, so every position needs a distinct name (TemplateRef.paramNames).
 */
export function atomchatTemplateProblem(template: TemplateRef, variableCount: number): string | null {
  if (!template.externalId) return `template "${template.name}" has no AtomChat templateId (externalId)`;
  const names = template.paramNames;
  for (let i = 0; i < variableCount; i += 1) {
    if (!names[i]?.trim()) {
      return `template "${template.name}" has no parameter name for {{${i + 1}}}; AtomChat takes parameters by name, so set the template's parameter names in order`;
    }
  }
  if (names.length !== variableCount) {
    return `template "${template.name}" names ${names.length} parameter(s) but the message has ${variableCount} value(s)`;
  }
  if (new Set(names).size !== names.length) return `template "${template.name}" repeats a parameter name (${names.join(', ')})`;
  return null;
}

/** message.variables[i] under message.template.paramNames[i]. */
export function atomchatParams(message: OutboundMessage): Record<string, string> {
  const problem = atomchatTemplateProblem(message.template, message.variables.length);
  // Every problem found is the template's (its id, its parameter names): each recipient would hit it.
  if (problem) throw new MessageBuildError('template', `AtomChat cannot send this message: ${problem}.`);
  const params: Record<string, string> = {};
  message.variables.forEach((value, i) => {
    params[message.template.paramNames[i] as string] = value;
  });
  return params;
}

export function buildAtomchatSendRequest(message: OutboundMessage, account: AtomchatAccount): HttpRequest {
  if (message.media || (message.buttonParams && message.buttonParams.length > 0)) {
    throw new MessageBuildError('template', 'AtomChat\'s template send takes only named body parameters, not media or button parameters.');
  }
  const params = atomchatParams(message);
  const phoneNumber = e164ToDigits(message.phone);
  const { groupName, assign } = account.config;
  return {
    method: 'POST',
    url: `${account.config.baseUrl.replace(/\/+$/, '')}/api/Template/SendMessage`,
    headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${account.credentials.publicToken}` },
    body: JSON.stringify({
      templateId: message.template.externalId,
      phoneNumber,
      clientName: message.recipientName?.trim() || phoneNumber,
      ...(groupName === undefined ? {} : { groupName }),
      ...(assign === undefined ? {} : { assign }),
      ...(message.variables.length === 0 ? {} : { params }),
    }),
  };
}

/**
 * The text a reply's outcome is decided on: `message` at the top (token error, 401, 500, 200s),
 * or `body.message` (the nested 400s). When the body is not JSON (the manual prints its bodies as
 * JavaScript literals), the raw text is searched instead.
 */
function replyText(json: unknown, raw: string): string {
  const top = stringField(json, 'message');
  if (top !== undefined) return top;
  const nested = typeof json === 'object' && json !== null ? stringField((json as { body?: unknown }).body, 'message') : undefined;
  return nested ?? (json === undefined ? raw : '');
}

function conversationId(json: unknown): string | undefined {
  const data = typeof json === 'object' && json !== null ? (json as { data?: unknown }).data : undefined;
  return stringField(data, 'conversation_id') ?? stringField(data, 'conversationId') ?? stringField(json, 'conversationId');
}

/** The 400 texts the manual lists, by what each means; also used for a 200 with success:false. */
function classifyErrorText(text: string, fields: Pick<SendOutcome, 'providerCode' | 'providerText'>): SendOutcome | undefined {
  if (/cannot find a channel associated with the public token/i.test(text)) {
    return outcome('ACCOUNT_AUTH_FAILED', 'AtomChat found no channel for the public token (it answers a bad token with 400); check the account\'s public token.', fields);
  }
  if (/channel associated to the template is not configured/i.test(text)) {
    return outcome('ACCOUNT_MISCONFIGURED', 'The AtomChat channel behind this template is not connected yet; AtomChat support must configure it.', fields);
  }
  if (/missing params/i.test(text)) {
    return outcome('TEMPLATE_PARAMS_INVALID', 'AtomChat says required template parameters are missing; check the template\'s parameter names against AtomChat\'s.', fields);
  }
  if (/no data to send/i.test(text)) {
    return outcome('TEMPLATE_NOT_FOUND', 'AtomChat has this template without an app id or without a message; check the template in AtomChat.', fields);
  }
  if (/no hay datos para enviar/i.test(text)) {
    return outcome('TEMPLATE_PARAMS_INVALID', 'AtomChat says the request parameters are wrong ("No hay datos para enviar"); check the template id and parameters.', fields);
  }
  return undefined;
}

export function parseAtomchatSendResponse(response: HttpResponse): SendOutcome {
  const json = parseJson(response.body);
  const text = replyText(json, response.body);
  const success = typeof json === 'object' && json !== null ? (json as { success?: unknown }).success : undefined;
  const fields = { providerCode: String(response.status), providerText: json === undefined ? providerTextOf(response.body) : redactSecrets(text) || undefined };
  switch (response.status) {
    case 200: {
      if (success === true && /^sent$/i.test(text)) {
        const id = conversationId(json);
        return outcome('SENT', 'AtomChat sent the template in the recipient\'s existing conversation.', id ? { messageId: id } : { raw: rawOf(response.body) });
      }
      if (success === true && /^pending$/i.test(text)) {
        return outcome('ACCEPTED_PENDING', 'AtomChat took the template for a new number; WhatsApp has not confirmed the send yet.', fields);
      }
      // success:true is AtomChat's own word that it took the message: never resend it.
      if (success === true) return outcome('ACCEPTED_PENDING', 'AtomChat reported success in a form its manual does not describe; the send is not confirmed.', { ...fields, raw: rawOf(response.body) });
      // A 200 that does not say success:true is an error, classified by its text when known.
      return classifyErrorText(text, fields) ?? undocumentedReply(response);
    }
    case 202: {
      const id = conversationId(json);
      return outcome('ACCEPTED_PENDING', 'AtomChat queued the template; the send is pending.', { ...fields, ...(id ? { messageId: id } : {}) });
    }
    case 400:
      return classifyErrorText(text, fields) ?? undocumentedReply(response);
    case 401:
      return outcome('ACCOUNT_PLAN_LIMIT', 'The AtomChat account reached its plan\'s conversation limit (401); sends stop until the plan allows more.', fields);
    case 500:
      return outcome('PROVIDER_UNAVAILABLE', 'AtomChat had an internal error (500); the send will be retried.', fields);
    default:
      return classifyGenericStatus(response) ?? undocumentedReply(response);
  }
}
