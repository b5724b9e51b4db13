/**
 * Optiwe webhook body -> the engine's events.
 *
 * Optiwe's API manual does not describe webhooks; what is known (./optiwe-protocol.md) is the
 * envelope `{timestamp, version, type, payload}`, configured in Optiwe's dashboard. Optiwe's
 * public help page ("Notificaciones por webhook") shows the envelope nesting a second one:
 * `{"timestamp": int, "version": int, "type": "CONVERSATION_EVENT", "payload": {"type":
 * "NEW_CONVERSATION", "payload": {"conversation": {"id", "customer": {"phone", ...},
 * "customerChannel": {"type": "WHATSAPP|..."}}}}}`, and lists four notifications: new
 * conversation, updated conversation, failed outbound WhatsApp messages, and campaign status.
 * The exact names and fields of the last two were not available, so this parser reads:
 * - the event name: the inner `payload.type` when the payload nests `{type, payload}`, else the
 *   envelope's `type`;
 * - a failed outbound message: a name with FAIL in it next to MESSAGE or OUTBOUND
 *   ("OUTBOUND_MESSAGE_FAILED", "WHATSAPP_OUTBOUND_FAILED"). Its error key (`error.key`,
 *   `errorKey` or `error` as a string) is classified with OPTIWE_ERROR_RULES, the table the
 *   send responses use, so CUSTOMER_OPTED_OUT is an opt-out; a Meta numeric code (`error.code`)
 *   goes through classifyMetaError. Optiwe sends have no message id, so the event carries only
 *   the phone; a failure without a phone cannot be matched and is counted as ignored;
 * - a new message: NEW_MESSAGE (or MESSAGE_RECEIVED / INBOUND_MESSAGE), with the customer's phone
 *   and a `message` object (text, or media with a caption). A non-WhatsApp channel, an outgoing
 *   message, or a customer without a phone is ignored;
 * - phones wherever Optiwe's documents put them: `customerPhone` + `customerCountryCode` (its
 *   send API), `phone`, `customer.phone`, `conversation.customer.phone` ("+543442567890");
 * - times: unix seconds or milliseconds, or ISO 8601 (UTC when it names no zone).
 * Every other event (NEW_CONVERSATION, campaign status, ...) is counted as ignored.
 */
import { createHash } from 'node:crypto';
import { e164FromWaId } from '../../phones/wa-id-variants.js';
import { classifyMetaError } from '../meta/classify-error.js';
import { outcome } from '../outcome.js';
import { WebhookFormatError, type InboundEvent, type ParsedWebhook, type SendOutcome, type StatusEvent, type WebhookCapability } from '../types.js';
import { OPTIWE_ERROR_RULES } from './classify-error.js';
import type { OptiweConfig, OptiweCredentials } from './schemas.js';

type Json = Record<string, unknown>;

const FAILED_OUTBOUND = /(OUTBOUND|MESSAGE).*FAIL|FAIL.*(OUTBOUND|MESSAGE)/;
const NEW_MESSAGE = new Set(['NEW_MESSAGE', 'MESSAGE_RECEIVED', 'INBOUND_MESSAGE']);
const NOT_FROM_CUSTOMER = /^(OUTBOUND|OUTGOING|OUT|AGENT|BOT)$/i;

/**
 * Parses an Optiwe webhook body. `receivedAt` stands in for the event's time when it carries
 * none (default: now).
 */
export function parseOptiweWebhook(body: string, receivedAt: Date = new Date()): ParsedWebhook {
  const envelope = readEnvelope(body);
  const { name, data } = innerEvent(envelope);
  const envelopeTime = timeFrom(envelope.timestamp) ?? receivedAt;
  let event: StatusEvent | InboundEvent | undefined;
  if (FAILED_OUTBOUND.test(name)) event = toFailedStatus(data, envelopeTime);
  else if (NEW_MESSAGE.has(name)) event = toInboundEvent(name, data, envelopeTime);
  return event ? { events: [event], ignored: 0 } : { events: [], ignored: 1 };
}

/** When Optiwe says it sent the request: the envelope's `timestamp`; null without one (or when the body is not JSON: the parser says so). */
export function optiweWebhookSentAt(body: string): Date | null {
  try {
    return timeFrom(record(JSON.parse(body) as unknown)?.timestamp) ?? null;
  } catch {
    return null;
  }
}

/**
 * Optiwe signs nothing: the secret in the webhook URL is the only proof, and the envelope's
 * timestamp bounds how long a captured request can be replayed.
 */
export const optiweWebhook: WebhookCapability<OptiweConfig, OptiweCredentials> = {
  parse: ({ body, receivedAt }) => parseOptiweWebhook(body, receivedAt),
  sentAt: optiweWebhookSentAt,
  // Optiwe sends return no message id, so a failure is matched by the customer's phone.
  statusesByPhone: true,
};

function toFailedStatus(data: Json, envelopeTime: Date): StatusEvent | undefined {
  const phone = customerPhone(data);
  if (!phone) return undefined;
  return {
    type: 'status',
    // Optiwe returns no id for a send, so none could match: the phone does.
    providerMessageId: null,
    reference: null,
    phone,
    status: 'failed',
    occurredAt: timeFrom(data.timestamp ?? data.failedOn ?? data.createdOn) ?? envelopeTime,
    failure: classifyFailure(data),
  };
}

function toInboundEvent(name: string, data: Json, envelopeTime: Date): InboundEvent | undefined {
  const message = record(data.message) ?? {};
  const channel = text(record(record(data.conversation)?.customerChannel)?.type) ?? text(record(data.customerChannel)?.type);
  if (channel !== undefined && !/WHATSAPP/i.test(channel)) return undefined;
  const direction = text(message.direction) ?? text(message.origin);
  if (direction !== undefined && NOT_FROM_CUSTOMER.test(direction)) return undefined;
  const phone = customerPhone(data);
  if (!phone) return undefined;
  const id = message.id ?? data.messageId;
  return {
    type: 'inbound',
    providerMessageId: typeof id === 'string' || typeof id === 'number' ? String(id) : contentId(name, data),
    reference: null,
    phone,
    text:
      text(message.text) ?? text(record(message.text)?.body) ?? text(message.body) ?? text(message.caption) ?? text(record(message.media)?.caption) ?? null,
    buttonPayload: text(message.payload) ?? text(message.buttonPayload) ?? text(record(message.button)?.payload) ?? null,
    occurredAt: timeFrom(message.createdOn ?? message.timestamp ?? data.createdOn) ?? envelopeTime,
  };
}

function classifyFailure(data: Json): SendOutcome {
  const error = record(data.error);
  const key = text(error?.key) ?? text(data.error) ?? text(data.errorKey) ?? text(data.error_key);
  const message = text(error?.message) ?? text(data.errorMessage) ?? text(data.reason);
  const provider = { ...(key === undefined ? {} : { providerCode: key }), ...(message === undefined ? {} : { providerText: message }) };
  if (key !== undefined && Object.hasOwn(OPTIWE_ERROR_RULES, key)) {
    const rule = OPTIWE_ERROR_RULES[key];
    if (rule) return outcome(rule.code, rule.sentence, provider);
  }
  const metaCode = error?.code ?? data.code;
  if (typeof metaCode === 'number' || (typeof metaCode === 'string' && /^\d+$/.test(metaCode))) {
    return classifyMetaError(Number(metaCode), message, key);
  }
  return outcome(
    'PROVIDER_UNDOCUMENTED_RESPONSE',
    `Optiwe reported a failed outbound message${key === undefined ? ' without an error key' : ` with the error key ${key}, which the engine does not classify`}.`,
    provider,
  );
}

/** The customer's phone in E.164 from wherever the event carries it; undefined when it does not. */
function customerPhone(data: Json): string | undefined {
  const conversationCustomer = record(record(data.conversation)?.customer);
  const national = text(data.customerPhone);
  const candidates = [
    national === undefined ? undefined : `${text(data.customerCountryCode) ?? ''}${national}`,
    text(data.phone),
    text(record(data.customer)?.phone),
    text(conversationCustomer?.phone),
  ];
  const raw = candidates.find((candidate) => candidate !== undefined);
  if (raw === undefined) return undefined;
  const e164 = e164FromWaId(raw);
  if (!e164) throw new WebhookFormatError(`Optiwe webhook: the customer phone "${raw.slice(0, 32)}" is not an international number.`);
  return e164;
}

// --- Envelope -----------------------------------------------------------------------------

type Envelope = { type: string; timestamp?: unknown; payload: Json };

function readEnvelope(body: string): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body) as unknown;
  } catch {
    throw new WebhookFormatError('Optiwe webhook: the body is not JSON.');
  }
  const envelope = record(parsed);
  if (!envelope) throw new WebhookFormatError('Optiwe webhook: the body is not a JSON object.');
  const type = text(envelope.type);
  const payload = record(envelope.payload);
  if (type === undefined || !payload) {
    throw new WebhookFormatError('Optiwe webhook: the body is not the {timestamp, version, type, payload} envelope (type or payload missing).');
  }
  return { type, timestamp: envelope.timestamp, payload };
}

/** `{type: "CONVERSATION_EVENT", payload: {type: "NEW_MESSAGE", payload: {...}}}` -> NEW_MESSAGE and its payload. */
function innerEvent(envelope: Envelope): { name: string; data: Json } {
  const innerName = text(envelope.payload.type);
  const innerData = record(envelope.payload.payload);
  if (innerName !== undefined && innerData) return { name: innerName.toUpperCase(), data: innerData };
  return { name: envelope.type.toUpperCase(), data: envelope.payload };
}

// --- Values -------------------------------------------------------------------------------

function record(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** Unix seconds or milliseconds (number or digits), or ISO 8601; undefined for anything else. */
function timeFrom(value: unknown): Date | undefined {
  let date: Date | undefined;
  if (typeof value === 'number' || (typeof value === 'string' && /^\d{9,13}$/.test(value))) {
    const n = Number(value);
    date = new Date(n > 1e11 ? n : n * 1000);
  } else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) {
    date = new Date(/(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`);
  }
  if (!date || Number.isNaN(date.getTime())) return undefined;
  const year = date.getUTCFullYear();
  return year < 2000 || year > 2100 ? undefined : date;
}

/** A stable id for a message that has none: the sha256 of the event, keys sorted. */
function contentId(name: string, data: Json): string {
  return createHash('sha256').update(`optiwe-inbound\n${name}\n${canonicalJson(data)}`).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const object = record(value);
  if (object) {
    const keys = Object.keys(object).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
