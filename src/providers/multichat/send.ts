/**
 * contacto-multichat's send: a form post to `{baseUrl}/bot/chat_wa/ws/send/`
 * answered with a numeric code (summary of its manual and the
 * judgment calls: ./multichat-protocol.md).
 */
import { z } from 'zod';
import { MessageBuildError, type AccountSettings, type HttpRequest, type HttpResponse, type MediaRef, type OutboundMessage, type SendOutcome } from '../types.js';
import { classifyGenericStatus, e164ToDigits, undocumentedReply } from '../response-helpers.js';
import { readMultichatCode, sendCodeOutcome } from './multichat-codes.js';

export const MULTICHAT_DEFAULT_BASE_URL = 'https://contacto-multichat.com';
export const MULTICHAT_API_PATH = '/bot/chat_wa/ws';
/** The manual's limit for custom_field, in characters. */
export const MULTICHAT_CUSTOM_FIELD_MAX = 1000;

export const multichatConfigSchema = z.object({
  /** API host; default https://contacto-multichat.com. Override for on-premise hosts and tests. */
  baseUrl: z.url().default(MULTICHAT_DEFAULT_BASE_URL),
});

export const multichatCredentialsSchema = z.object({
  /** Platform user (`login`). Kept with the token: the two authenticate together. */
  login: z.string().min(1),
  /** API token (`token`); not the login password. */
  token: z.string().min(1),
});

export type MultichatConfig = z.infer<typeof multichatConfigSchema>;
export type MultichatCredentials = z.infer<typeof multichatCredentialsSchema>;
export type MultichatAccount = AccountSettings<MultichatConfig, MultichatCredentials>;

export function multichatUrl(account: MultichatAccount, endpoint: 'send' | 'balance' | 'template'): string {
  return `${account.config.baseUrl.replace(/\/+$/, '')}${MULTICHAT_API_PATH}/${endpoint}/`;
}

/** A form post carrying the credentials first, as every multichat endpoint expects. */
export function multichatFormRequest(account: MultichatAccount, endpoint: 'send' | 'balance' | 'template', fields: [string, string][] = []): HttpRequest {
  const form = new URLSearchParams([['login', account.credentials.login], ['token', account.credentials.token], ...fields]);
  return {
    method: 'POST',
    url: multichatUrl(account, endpoint),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  };
}

/**
 * `[Carlos] [$100] [miércoles]`: each variable in brackets, separated by one space. A bracket
 * inside a variable would split it in two, so it is replaced by its full-width twin (［ ］),
 * which reads the same on a phone.
 */
export function formatTemplateVariables(variables: readonly string[]): string {
  return variables.map((v) => `[${v.replace(/\[/g, '［').replace(/\]/g, '］')}]`).join(' ');
}

/** Why this media cannot be sent through multichat, or null. */
export function multichatMediaProblem(media: MediaRef): string | null {
  if (media.link !== undefined) {
    return /^https?:\/\/\S+$/i.test(media.link) ? null : 'the media link must be an http(s) URL';
  }
  const content = media.base64 ?? media.id;
  if (!content) return 'the media needs a link or base64 content';
  const name = media.filename ?? '';
  // Outside 10-60 characters the provider silently renames the file to something.pdf.
  if (name.length < 10 || name.length > 60) {
    return `a base64 media file needs a name (media_name) of 10 to 60 characters; got ${name.length}`;
  }
  return null;
}

function mediaFields(media: MediaRef): [string, string][] {
  if (media.link !== undefined) return [['media', media.link]];
  return [['media', media.base64 ?? media.id ?? ''], ['media_name', media.filename ?? '']];
}

export function buildMultichatSendRequest(message: OutboundMessage, account: MultichatAccount): HttpRequest {
  const idTemplate = message.template.externalId;
  if (!idTemplate) {
    throw new MessageBuildError('template', `Template "${message.template.name}" has no contacto-multichat id_template (externalId); set it from the template listing.`);
  }
  if (message.buttonParams && message.buttonParams.length > 0) {
    throw new MessageBuildError('template', 'contacto-multichat takes no button parameters; the template\'s buttons must be fixed.');
  }
  if (message.reference.length > MULTICHAT_CUSTOM_FIELD_MAX) {
    throw new MessageBuildError('recipient', `The recipient reference is longer than the ${MULTICHAT_CUSTOM_FIELD_MAX} characters custom_field holds.`);
  }
  const mediaProblem = message.media ? multichatMediaProblem(message.media) : null;
  // Header media is the campaign's, the same for every recipient: a problem with it is the template's.
  if (mediaProblem) throw new MessageBuildError('template', `contacto-multichat cannot send this media: ${mediaProblem}.`);

  const fields: [string, string][] = [['id_template', idTemplate]];
  if (message.variables.length > 0) fields.push(['template_variables', formatTemplateVariables(message.variables)]);
  fields.push(['mobile', e164ToDigits(message.phone)]);
  if (message.media) fields.push(...mediaFields(message.media));
  // Echoed back on the recipient's reply, so the reply finds its recipient.
  fields.push(['custom_field', message.reference]);
  return multichatFormRequest(account, 'send', fields);
}

/**
 * The documented code decides, whatever the HTTP status (the code is the provider's contract);
 * a reply with no code falls back to the generic 429 / 5xx rule, then to undocumented.
 */
export function parseMultichatSendResponse(response: HttpResponse): SendOutcome {
  const reply = readMultichatCode(response.body);
  const documented = reply ? sendCodeOutcome(reply) : undefined;
  if (documented) return documented;
  return classifyGenericStatus(response) ?? undocumentedReply(response);
}

/**
 * The ingest rule for a multichat account: the provider sends only to Colombian numbers,
 * 57 followed by 10 digits (its code 4). Null when the number passes.
 */
export function multichatPhoneRule(e164: string): { code: string; message: string } | null {
  if (/^57\d{10}$/.test(e164ToDigits(e164.trim()))) return null;
  return {
    code: 'PHONE_NOT_COLOMBIAN',
    message: 'contacto-multichat sends only to Colombian numbers: 57 followed by 10 digits (e.g. +573102111111).',
  };
}
