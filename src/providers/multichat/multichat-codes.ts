/**
 * contacto-multichat's numeric codes (from its API manual; see ./multichat-protocol.md): the
 * synchronous reply codes 1-10 of a send, and the asynchronous "sending error, return balance"
 * codes that arrive later. Each maps to one normalized outcome code, in these two tables only.
 */
import { outcome, parseJson, type OutcomeCode } from '../outcome.js';
import type { HttpResponse, SendOutcome } from '../types.js';
import { classifyGenericStatus, redactSecrets, undocumentedReply } from '../response-helpers.js';

type CodeRow = { code: OutcomeCode; concept: string; message: string };

/** The manual's "Retorno" table for a send; `concept` is its English wording, kept as provider text. */
export const MULTICHAT_SEND_CODES: Readonly<Record<number, CodeRow>> = {
  1: { code: 'SENT', concept: 'Message sent', message: 'contacto-multichat sent the message.' },
  2: { code: 'ACCOUNT_AUTH_FAILED', concept: 'authentication error', message: 'contacto-multichat rejected the login or API token (code 2); check the account credentials (the API token is not the login password).' },
  3: { code: 'ACCOUNT_MISCONFIGURED', concept: 'user without multiagent/chatbot', message: 'The contacto-multichat user has no chatbot or multi-agent assigned (code 3); ask contacto-multichat support to assign one.' },
  4: { code: 'RECIPIENT_INVALID', concept: 'error in the cell phone number to send', message: 'contacto-multichat rejected the mobile number (code 4): it must be Colombian, 57 followed by 10 digits.' },
  5: { code: 'ACCOUNT_NO_BALANCE', concept: 'no balance or inactive chatbot/multiagent', message: 'The contacto-multichat account has no balance, or its chatbot/multi-agent is inactive (code 5); top it up before sending resumes.' },
  6: { code: 'TEMPLATE_PARAMS_INVALID', concept: 'empty message', message: 'contacto-multichat received an empty message (code 6); check the template text and its variables.' },
  7: { code: 'TEMPLATE_NOT_FOUND', concept: 'id_template does not correspond to the project', message: 'The id_template does not belong to this contacto-multichat project (code 7); check the template\'s id.' },
  8: { code: 'TEMPLATE_PARAMS_INVALID', concept: 'the number of variables received does not correspond to the number of variables created in the template', message: 'The number of variables sent does not match the template\'s (code 8); check the template and its variable columns.' },
  9: { code: 'ALREADY_SENT', concept: 'messages repeated 60 seconds', message: 'contacto-multichat already sent this same message to this mobile less than 60 s ago (code 9); it is not sent again.' },
  10: { code: 'RECIPIENT_MARKETING_CAP', concept: 'Error: The maximum number of sends to this mobile number in the marketing category has been exceeded.', message: 'This mobile reached its maximum of marketing messages (code 10).' },
};

// Where a JSON reply may carry the code, most specific first. The manual's screenshots are lost,
// so the exact shape is not known; see readMultichatCode.
const CODE_KEYS = ['code', 'codigo', 'código', 'respuesta', 'retorno', 'result', 'resultado', 'valor', 'value', 'response', 'status', 'estado'];
const TEXT_KEYS = ['message', 'mensaje', 'msg', 'descripcion', 'descripción', 'description', 'concepto', 'concept', 'detail'];
const ID_KEYS = ['messageId', 'message_id', 'idMessage', 'id_message', 'id_mensaje', 'id'];

export type MultichatReply = {
  /** The numeric code the body carries. */
  code: number;
  /** The provider's own text, when a JSON reply has one (redacted). */
  text?: string;
  /** A message id, when a JSON reply has one (the webhooks' `messageId`). */
  messageId?: string;
  /** The parsed body, for queries whose success is not a code. */
  json: unknown;
};

/**
 * Finds the numeric code in a reply. The manual only says the reply is a numeric code, so this
 * accepts, defensively:
 * - the whole body being an integer, with or without surrounding whitespace (`1`, `"1"` in JSON);
 * - a JSON object with the integer (or an integer string) under the first present key of
 *   code, codigo, respuesta, retorno, result, resultado, valor, value, response, status, estado
 *   (any letter case), with its text under message/mensaje/msg/descripcion/... and a message id
 *   under messageId/message_id/idMessage/id_message/id_mensaje/id;
 * - a JSON array whose only item is one of the above.
 * Anything else is undefined, and the caller treats the reply as undocumented.
 */
export function readMultichatCode(body: string): MultichatReply | undefined {
  const trimmed = body.trim();
  if (/^\d{1,9}$/.test(trimmed)) return { code: Number(trimmed), json: Number(trimmed) };
  return fromJson(parseJson(trimmed));
}

function fromJson(json: unknown): MultichatReply | undefined {
  if (typeof json === 'number') return Number.isInteger(json) ? { code: json, json } : undefined;
  if (typeof json === 'string') return /^\s*\d{1,9}\s*$/.test(json) ? { code: Number(json.trim()), json } : undefined;
  if (Array.isArray(json)) return json.length === 1 ? fromJson(json[0]) : undefined;
  if (typeof json !== 'object' || json === null) return undefined;
  const byKey = new Map(Object.entries(json as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
  const codeKey = CODE_KEYS.find((k) => byKey.has(k));
  if (codeKey === undefined) return undefined;
  const value = byKey.get(codeKey);
  const code = typeof value === 'number' && Number.isInteger(value) ? value : typeof value === 'string' && /^\s*\d{1,9}\s*$/.test(value) ? Number(value.trim()) : undefined;
  if (code === undefined) return undefined;
  const text = TEXT_KEYS.map((k) => byKey.get(k)).find((v): v is string => typeof v === 'string' && v !== '');
  const id = ID_KEYS.map((k) => byKey.get(k.toLowerCase())).find((v) => (typeof v === 'string' && v !== '') || typeof v === 'number');
  return {
    code,
    json,
    ...(text === undefined ? {} : { text: redactSecrets(text) }),
    ...(id === undefined ? {} : { messageId: String(id) }),
  };
}

/** A send reply code as an outcome; undefined when the code is not in the manual's table. */
export function sendCodeOutcome(reply: MultichatReply): SendOutcome | undefined {
  const row = MULTICHAT_SEND_CODES[reply.code];
  if (!row) return undefined;
  const extra = {
    providerCode: String(reply.code),
    providerText: reply.text ?? row.concept,
    ...(reply.messageId === undefined ? {} : { messageId: reply.messageId }),
  };
  return outcome(row.code, row.message, extra);
}

type AsyncRow = { codes: readonly string[]; code: OutcomeCode; message: string };

/**
 * The manual's asynchronous failures ("sending error, return balance": the balance is given
 * back). Codes 1002-1011 are the underlying WhatsApp gateway's; 13xxxx are Meta's, classified as
 * in ../meta/classify-error.ts. 471/131048 and 470/131047 are two names of one failure each.
 */
export const MULTICHAT_ASYNC_FAILURES: readonly AsyncRow[] = [
  { codes: ['402'], code: 'PROVIDER_UNAVAILABLE', message: 'WhatsApp failed the message without saying why (402); it can be retried.' },
  { codes: ['471', '131048'], code: 'ACCOUNT_RESTRICTED', message: 'WhatsApp flagged the sending number for spam (131048); pause the account and review its messages.' },
  { codes: ['470', '131047'], code: 'RECIPIENT_UNREACHABLE', message: 'More than 24 hours passed since the recipient last wrote (131047); only a template can reach them.' },
  { codes: ['1002'], code: 'RECIPIENT_NOT_ON_WHATSAPP', message: 'The mobile is not active on WhatsApp (1002).' },
  { codes: ['1003'], code: 'ACCOUNT_NO_BALANCE', message: 'The message could not be sent: the account\'s wallet has no balance (1003).' },
  { codes: ['1004'], code: 'ACCOUNT_MISCONFIGURED', message: 'The user is outside the session window and template messaging is disabled for the account (1004).' },
  { codes: ['1005'], code: 'TEMPLATE_NOT_APPROVED', message: 'The message did not match an approved template (1005).' },
  { codes: ['1006'], code: 'RECIPIENT_UNREACHABLE', message: 'The user is outside the session window and has not opted in to template messages (1006).' },
  { codes: ['1007'], code: 'TEMPLATE_NOT_APPROVED', message: 'The user has not opted in to template messages and the message did not match an approved template (1007).' },
  { codes: ['1008'], code: 'TEMPLATE_PARAMS_INVALID', message: 'The template is missing required parameters (1008).' },
  { codes: ['1010'], code: 'TEMPLATE_PARAMS_INVALID', message: 'The media URL is not valid (1010).' },
  { codes: ['1011'], code: 'TEMPLATE_PARAMS_INVALID', message: 'The message size is not valid (1011).' },
  { codes: ['131021'], code: 'RECIPIENT_INVALID', message: 'The sending and receiving numbers are the same (131021).' },
  { codes: ['132005'], code: 'TEMPLATE_PARAMS_INVALID', message: 'The message is too long once its variables are filled in (132005).' },
  { codes: ['132007'], code: 'TEMPLATE_REJECTED', message: 'The template breaks Meta\'s policy (132007).' },
  { codes: ['132015'], code: 'TEMPLATE_PAUSED', message: 'Meta paused the template (132015).' },
  { codes: ['132016'], code: 'TEMPLATE_REJECTED', message: 'Meta disabled the template (132016).' },
  { codes: ['131031'], code: 'ACCOUNT_RESTRICTED', message: 'Meta blocked the sending number (131031).' },
];

/**
 * Classifies an asynchronous failure (a webhook `failed` event's code and reason). The code may
 * come as "471", "131048" or "471 - 131048": every number in it is looked up. An unknown code is
 * retried, with its text kept, like any undocumented reply.
 */
export function classifyMultichatAsyncFailure(code: string | number, reason?: string): SendOutcome {
  const providerCode = String(code).trim();
  const numbers = providerCode.match(/\d+/g) ?? [];
  const row = MULTICHAT_ASYNC_FAILURES.find((r) => numbers.some((n) => r.codes.includes(n)));
  const extra = { providerCode, ...(reason ? { providerText: redactSecrets(reason) } : {}) };
  if (!row) {
    return outcome('PROVIDER_UNDOCUMENTED_RESPONSE', `contacto-multichat reported a sending failure with a code its manual does not list (${providerCode}).`, extra);
  }
  return outcome(row.code, row.message, extra);
}

/** Codes 2 and 3 mean the same on every query (balance, template list) as on a send. */
export function queryAuthOutcome(code: number, text: string | undefined): SendOutcome | undefined {
  if (code !== 2 && code !== 3) return undefined;
  const row = MULTICHAT_SEND_CODES[code];
  return row ? outcome(row.code, row.message, { providerCode: String(code), providerText: text ?? row.concept }) : undefined;
}

/** A query's answer that is neither a success nor a documented code: the generic 429 / 5xx rule, else undocumented. */
export function queryFailure(response: HttpResponse): { ok: false; outcome: SendOutcome } {
  return { ok: false, outcome: classifyGenericStatus(response) ?? undocumentedReply(response) };
}
