/**
 * contacto-multichat webhook body -> the engine's events (its API manual's "Webhook
 * (POST)" section). The manual prints five "Estructura json" examples, copied from a document that lost
 * their colons and mixed in typographic quotes; read as JSON they are:
 * - message events: `{"type": "message-event", "type2": "failed" | " sent" | " delivered" |
 *   " read", "messageId" or "&messageId", ...}`; a failure carries `code` and `reason` (the
 *   asynchronous "sending error, return balance" codes), sent/delivered carry
 *   `messageId_whatsapp` and `fecha_envio_por_whatsapp`, read carries `fecha_lectura_usuario`;
 * - a reply: `{"mobile", "message", "custom_field", "official_number"}`, where `custom_field` is
 *   what the engine sent with the template (the recipient id).
 *
 * What the manual leaves open, and the reading chosen:
 * - Encoding: it says "json", yet the stray "&" in "&messageId" is what a form encoding leaves
 *   behind. A JSON content type is read as JSON; otherwise a body starting with "{" or "[" is
 *   JSON and anything else is application/x-www-form-urlencoded. A JSON array is a batch.
 * - Field names: trimmed, one leading "&" dropped, compared without letter case. Values are
 *   trimmed ("type2": " sent" is "sent").
 * - Times: the format is not shown ("xxxxx"). Unix seconds or milliseconds, ISO 8601, and
 *   "YYYY-MM-DD HH:MM[:SS]" or "DD/MM/YYYY HH:MM[:SS]" are read; a time without a zone is
 *   Colombia's (UTC-5, no daylight saving). Anything else, and every failure (it has no time),
 *   takes the receive time.
 * - A reply carries no id: its id is the sha256 of its fields (sorted, trimmed), so a retry of
 *   the same reply gets the same id, in either encoding. Two identical replies with no time
 *   field in them are therefore one reply.
 */
import { createHash } from 'node:crypto';
import { normalizePhone } from '../../phones/normalize-phone.js';
import { e164FromWaId } from '../../phones/wa-id-variants.js';
import { WebhookFormatError, type InboundEvent, type ParsedWebhook, type StatusEvent, type WebhookCapability, type WebhookItem } from '../types.js';
import { classifyMultichatAsyncFailure } from './multichat-codes.js';
import type { MultichatConfig, MultichatCredentials } from './send.js';

type Fields = ReadonlyMap<string, string>;

const STATUS_WORDS = new Set(['failed', 'sent', 'delivered', 'read']);
// Where an event's time may be, most specific first.
const TIME_FIELDS = ['fecha_lectura_usuario', 'fecha_envio_por_whatsapp', 'fecha', 'timestamp', 'date'];
// A reply's own id, should one be added. Not a bare "id": that may name the chat or contact,
// and every reply of that contact would then collapse into one.
const ID_FIELDS = ['messageid', 'message_id', 'id_mensaje'];
const BOGOTA_OFFSET = '-05:00';

/**
 * Parses a contacto-multichat webhook body. `contentType` is the request's Content-Type header;
 * `receivedAt` stands in for an event's time when it carries none (default: now).
 */
export function parseMultichatWebhook(body: string, contentType: string | undefined, receivedAt: Date = new Date()): ParsedWebhook {
  const events: WebhookItem[] = [];
  let ignored = 0;
  readRecords(body, contentType).forEach((fields, i) => {
    const where = `contacto-multichat webhook${i === 0 ? '' : ` (item ${i})`}`;
    const event = isMessageEvent(fields) ? toStatusEvent(fields, where, receivedAt) : toInboundEvent(fields, where, receivedAt);
    if (event) events.push(event);
    else ignored++;
  });
  return { events, ignored };
}

/** Unsigned (the URL secret is the proof) and unstamped: the manual shows no request time. */
export const multichatWebhook: WebhookCapability<MultichatConfig, MultichatCredentials> = {
  parse: ({ body, contentType, receivedAt }) => parseMultichatWebhook(body, contentType ?? undefined, receivedAt),
  // An event may carry only the phone (no messageId recorded at send, no custom_field).
  statusesByPhone: true,
};

function isMessageEvent(fields: Fields): boolean {
  return fields.has('type2') || fields.get('type')?.toLowerCase() === 'message-event';
}

function toStatusEvent(fields: Fields, where: string, receivedAt: Date): StatusEvent | undefined {
  const status = fields.get('type2')?.toLowerCase();
  if (status === undefined || !STATUS_WORDS.has(status)) return undefined;
  const messageId = fields.get('messageid') || null;
  const reference = fields.get('custom_field') || null;
  const mobile = fields.get('mobile');
  const phone = mobile ? phoneOf(mobile, where) : null;
  if (!messageId && !reference && !phone) {
    throw new WebhookFormatError(`${where}: a "${status}" event without messageId (nor custom_field or mobile) cannot be matched to a message.`);
  }
  const event: StatusEvent = {
    type: 'status',
    providerMessageId: messageId,
    reference,
    phone,
    status: status as StatusEvent['status'],
    occurredAt: timeOf(fields, receivedAt),
  };
  if (status === 'failed') {
    const reason = fields.get('reason') || undefined;
    // The code belongs in `code`; a reason like "131048 spam" is read when it is missing.
    const code = fields.get('code') || /\b\d{3,6}\b/.exec(reason ?? '')?.[0] || '';
    event.failure = classifyMultichatAsyncFailure(code, reason);
  }
  return event;
}

function toInboundEvent(fields: Fields, where: string, receivedAt: Date): InboundEvent {
  const mobile = fields.get('mobile');
  if (!mobile) throw new WebhookFormatError(`${where}: the body is neither a message event (type2) nor a reply (mobile).`);
  return {
    type: 'inbound',
    providerMessageId: ID_FIELDS.map((key) => fields.get(key)).find((id) => id) ?? contentId(fields),
    reference: fields.get('custom_field') || null,
    phone: phoneOf(mobile, where),
    text: fields.get('message') || null,
    buttonPayload: null,
    occurredAt: timeOf(fields, receivedAt),
  };
}

/** Colombian national ("3002222222") or 57-prefixed ("573002222222"); any other wa_id as it is. */
function phoneOf(mobile: string, where: string): string {
  const colombian = normalizePhone(mobile, 'CO');
  if (colombian.ok) return colombian.e164;
  const international = mobile.replace(/\D/g, '').length >= 11 ? e164FromWaId(mobile) : undefined;
  if (international) return international;
  throw new WebhookFormatError(`${where}: mobile "${mobile.slice(0, 32)}" is not a phone number.`);
}

/** A stable id for an event that has none: the sha256 of its fields, sorted and trimmed. */
function contentId(fields: Fields): string {
  const canonical = JSON.stringify([...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(`multichat-inbound\n${canonical}`).digest('hex');
}

function timeOf(fields: Fields, receivedAt: Date): Date {
  for (const key of TIME_FIELDS) {
    const value = fields.get(key);
    const time = value ? parseProviderTime(value) : undefined;
    if (time) return time;
  }
  return receivedAt;
}

/** See the file comment for the formats read; undefined for anything else. */
export function parseProviderTime(value: string): Date | undefined {
  let iso: string | undefined;
  if (/^\d{10}$/.test(value)) return plausible(new Date(Number(value) * 1000));
  if (/^\d{13}$/.test(value)) return plausible(new Date(Number(value)));
  const ymd = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(value);
  if (ymd) {
    const [, y, mo, d, h, mi, s = '00', fraction = '', zone] = ymd;
    iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction.slice(0, 4)}${zone ?? BOGOTA_OFFSET}`;
  }
  const dmy = /^(\d{2})\/(\d{2})\/(\d{4})[ ,]+(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (dmy) {
    const [, d, mo, y, h, mi, s = '00'] = dmy;
    iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${BOGOTA_OFFSET}`;
  }
  return iso === undefined ? undefined : plausible(new Date(iso));
}

// Rejects NaN and dates no webhook can carry (a garbled field read as 1970 or 2999).
function plausible(date: Date): Date | undefined {
  const year = date.getUTCFullYear();
  return Number.isNaN(date.getTime()) || year < 2000 || year > 2100 ? undefined : date;
}

// --- Body decoding ------------------------------------------------------------------------

function readRecords(body: string, contentType: string | undefined): Fields[] {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const trimmed = body.trim();
  if (trimmed === '') throw new WebhookFormatError('contacto-multichat webhook: the body is empty.');
  if (mediaType === 'multipart/form-data') {
    throw new WebhookFormatError('contacto-multichat webhook: multipart/form-data bodies are not supported; the manual documents JSON.');
  }
  const json = mediaType === 'application/json' || mediaType.endsWith('+json') || trimmed.startsWith('{') || trimmed.startsWith('[');
  return json ? fromJson(trimmed) : [fromForm(trimmed)];
}

function fromJson(text: string): Fields[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    throw new WebhookFormatError('contacto-multichat webhook: the body is not valid JSON.');
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  if (items.length === 0) throw new WebhookFormatError('contacto-multichat webhook: the body is an empty list.');
  return items.map((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new WebhookFormatError(`contacto-multichat webhook: item ${i} is not a JSON object.`);
    }
    return toFields(Object.entries(item as Record<string, unknown>));
  });
}

function fromForm(text: string): Fields {
  if (!text.includes('=')) throw new WebhookFormatError('contacto-multichat webhook: the body is neither JSON nor a form.');
  return toFields([...new URLSearchParams(text)]);
}

/** Keys trimmed, one leading "&" dropped, lower case; scalar values as trimmed strings. */
function toFields(entries: Iterable<[string, unknown]>): Fields {
  const fields = new Map<string, string>();
  for (const [rawKey, value] of entries) {
    const key = rawKey.trim().replace(/^&/, '').toLowerCase();
    if (typeof value === 'string') fields.set(key, value.trim());
    else if (typeof value === 'number' || typeof value === 'boolean') fields.set(key, String(value));
  }
  return fields;
}
