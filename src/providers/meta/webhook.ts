/**
 * Meta Cloud API webhook body -> the engine's events. Pure: the caller has already checked the
 * signature (./signature.ts) against the raw body.
 *
 * `{object: "whatsapp_business_account", entry: [{id, changes: [{field: "messages", value}]}]}`:
 * - `value.statuses[]`: delivery statuses of messages we sent, by wamid. A failed one carries
 *   `errors[]` with the same codes as a send error, classified by classifyMetaError.
 * - `value.messages[]`: messages users sent us (text, a quick-reply tap, media, ...).
 * - `phone_number_quality_update` and `account_update` changes: the account's quality rating,
 *   messaging tier and restrictions (./account-webhook.ts), returned as `accountHealth`.
 * Anything else (other fields, other statuses, system notices, `value.errors`) is counted as
 * ignored. A body of another shape is a WebhookFormatError, naming where it went wrong.
 *
 * One Meta app has one callback URL for every number it serves, so a correctly signed body can
 * be about another number or another WhatsApp Business Account than the account whose URL
 * received it. Given the account's ids, a change whose `metadata.phone_number_id` (or an entry
 * whose `id`, the WABA id) is not the account's is dropped and counted in `otherAccount`:
 * applying it would file another account's replies and opt-outs under this one.
 */
import { z } from 'zod';
import { e164FromWaId } from '../../phones/wa-id-variants.js';
import { WebhookFormatError, type AccountHealthUpdate, type InboundEvent, type ParsedWebhook, type StatusEvent, type WebhookItem } from '../types.js';
import { outcome } from '../outcome.js';
import type { SendOutcome } from '../types.js';
import { META_ACCOUNT_FIELDS, parseMetaAccountChange } from './account-webhook.js';
import { classifyMetaError } from './classify-error.js';

const STATUSES = ['sent', 'delivered', 'read', 'failed'] as const;
type DeliveryStatus = (typeof STATUSES)[number];

// Message types that are not something the user said to us: "system" (the user changed
// number) and "request_welcome" (the user opened the chat for the first time).
const NOT_A_REPLY = new Set(['system', 'request_welcome']);

// Graph sends unix seconds as a string; a number is accepted too.
const unixSeconds = z.union([z.string().regex(/^\d{1,12}$/), z.number().int().nonnegative()]).transform(Number);

const envelopeSchema = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(z.object({ id: z.union([z.string(), z.number()]).optional(), time: unixSeconds.optional(), changes: z.array(z.object({ field: z.string(), value: z.unknown() })) })),
});

const valueSchema = z.object({
  messaging_product: z.string().optional(),
  metadata: z.object({ phone_number_id: z.union([z.string(), z.number()]).optional() }).optional(),
  statuses: z.array(z.unknown()).optional(),
  messages: z.array(z.unknown()).optional(),
  errors: z.array(z.unknown()).optional(),
});

const errorSchema = z.object({
  code: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]),
  title: z.string().optional(),
  message: z.string().optional(),
  error_data: z.object({ details: z.string().optional() }).optional(),
});

const statusSchema = z.object({
  id: z.string().min(1),
  status: z.string(),
  timestamp: unixSeconds.optional(),
  recipient_id: z.string().optional(),
  errors: z.array(errorSchema).optional(),
});

const captioned = z.object({ caption: z.string().optional() }).optional();
const reply = z.object({ id: z.string().optional(), title: z.string().optional() }).optional();

const messageSchema = z.object({
  from: z.string().min(1),
  id: z.string().min(1),
  timestamp: unixSeconds.optional(),
  type: z.string(),
  context: z.object({ id: z.string().optional() }).optional(),
  text: z.object({ body: z.string() }).optional(),
  button: z.object({ payload: z.string().optional(), text: z.string().optional() }).optional(),
  interactive: z.object({ type: z.string().optional(), button_reply: reply, list_reply: reply }).optional(),
  image: captioned,
  video: captioned,
  document: captioned,
});

/** The sender ids a body must name to be applied to an account; an absent id is not checked. */
export type MetaSenderIds = { phoneNumberId?: string | undefined; wabaId?: string | undefined };

/**
 * Parses a Meta webhook body. `receivedAt` stands in for an event's time when it carries none
 * (default: now). `account`: the receiving account's ids; parts naming others are dropped.
 */
export function parseMetaWebhook(body: string, receivedAt: Date = new Date(), account: MetaSenderIds = {}): ParsedWebhook {
  const envelope = parseWith(envelopeSchema, readJson(body), 'body');
  const events: WebhookItem[] = [];
  const accountHealth: AccountHealthUpdate[] = [];
  let ignored = 0;
  const other = { count: 0, ids: new Set<string>() };
  const foreign = (id: string | number | undefined, expected: string | undefined): boolean => {
    if (id === undefined || expected === undefined || String(id) === expected) return false;
    other.count++;
    other.ids.add(String(id).slice(0, 64));
    return true;
  };
  envelope.entry.forEach((entry, e) => {
    if (foreign(entry.id, account.wabaId)) return;
    entry.changes.forEach((change, c) => {
      const where = `entry[${e}].changes[${c}]`;
      if ((META_ACCOUNT_FIELDS as readonly string[]).includes(change.field)) {
        const at = entry.time === undefined ? receivedAt : new Date(entry.time * 1000);
        let update: AccountHealthUpdate | null;
        try {
          update = parseMetaAccountChange(change.field, change.value, at);
        } catch (error) {
          if (error instanceof z.ZodError) throw formatError(error, `${where}.value`);
          throw error;
        }
        if (update) accountHealth.push(update);
        else ignored++;
        return;
      }
      if (change.field !== 'messages') {
        ignored++;
        return;
      }
      const value = parseWith(valueSchema, change.value, `${where}.value`);
      if (foreign(value.metadata?.phone_number_id, account.phoneNumberId)) return;
      (value.statuses ?? []).forEach((raw, i) => {
        const event = toStatusEvent(parseWith(statusSchema, raw, `${where}.value.statuses[${i}]`), receivedAt);
        if (event) events.push(event);
        else ignored++;
      });
      (value.messages ?? []).forEach((raw, i) => {
        const path = `${where}.value.messages[${i}]`;
        const event = toInboundEvent(parseWith(messageSchema, raw, path), path, receivedAt);
        if (event) events.push(event);
        else ignored++;
      });
      // Errors about the number or the app as a whole, not about a message of ours.
      ignored += value.errors?.length ?? 0;
      // A "messages" change with nothing in it still counts, so every change is accounted for.
      if (!value.statuses?.length && !value.messages?.length && !value.errors?.length) ignored++;
    });
  });
  const parsed: ParsedWebhook = accountHealth.length > 0 ? { events, ignored, accountHealth } : { events, ignored };
  return other.count === 0 ? parsed : { ...parsed, otherAccount: { count: other.count, ids: [...other.ids] } };
}

/**
 * The newest event time in a body (statuses' and messages' unix seconds), or null when it names
 * none or is not JSON (the parser reports that). Meta retries an unacknowledged request for up to
 * 7 days, so a body whose newest event is older than that is a replay, not a retry.
 */
export function metaWebhookSentAt(body: string): Date | null {
  let newest = -1;
  const visit = (value: unknown, depth: number): void => {
    if (depth > 6 || typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) return value.forEach((item) => visit(item, depth + 1));
    const record = value as Record<string, unknown>;
    for (const key of ['statuses', 'messages'] as const) {
      const list = record[key];
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        const seconds = Number((item as { timestamp?: unknown } | null)?.timestamp);
        if (Number.isFinite(seconds) && seconds > newest) newest = seconds;
      }
    }
    for (const key of ['entry', 'changes', 'value']) visit(record[key], depth + 1);
  };
  try {
    visit(JSON.parse(body) as unknown, 0);
  } catch {
    return null;
  }
  return newest < 0 ? null : new Date(newest * 1000);
}

function toStatusEvent(status: z.infer<typeof statusSchema>, receivedAt: Date): StatusEvent | undefined {
  if (!(STATUSES as readonly string[]).includes(status.status)) return undefined;
  const event: StatusEvent = {
    type: 'status',
    providerMessageId: status.id,
    reference: null,
    // A group message's recipient_id is a group id, not a phone: then the wamid alone matches.
    phone: status.recipient_id === undefined ? null : (e164FromWaId(status.recipient_id) ?? null),
    status: status.status as DeliveryStatus,
    occurredAt: fromUnixSeconds(status.timestamp, receivedAt),
  };
  if (event.status === 'failed') event.failure = failureOf(status.errors?.[0]);
  return event;
}

function failureOf(error: z.infer<typeof errorSchema> | undefined): SendOutcome {
  if (!error) {
    return outcome('PROVIDER_UNDOCUMENTED_RESPONSE', 'Meta reported the message as failed without an error code; it is retried later.');
  }
  return classifyMetaError(error.code, error.message ?? error.title, error.error_data?.details);
}

function toInboundEvent(message: z.infer<typeof messageSchema>, path: string, receivedAt: Date): InboundEvent | undefined {
  if (NOT_A_REPLY.has(message.type)) return undefined;
  const phone = e164FromWaId(message.from);
  if (!phone) throw new WebhookFormatError(`Meta webhook: ${path}.from is not a phone number ("${message.from.slice(0, 32)}").`);
  const interactiveReply = message.interactive?.button_reply ?? message.interactive?.list_reply;
  const text =
    message.text?.body ?? message.button?.text ?? interactiveReply?.title ?? message.image?.caption ?? message.video?.caption ?? message.document?.caption ?? null;
  const event: InboundEvent = {
    type: 'inbound',
    providerMessageId: message.id,
    reference: null,
    phone,
    text,
    buttonPayload: message.button?.payload ?? interactiveReply?.id ?? null,
    occurredAt: fromUnixSeconds(message.timestamp, receivedAt),
  };
  if (message.context?.id) event.inReplyTo = message.context.id;
  return event;
}

function fromUnixSeconds(seconds: number | undefined, fallback: Date): Date {
  return seconds === undefined ? fallback : new Date(seconds * 1000);
}

function readJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new WebhookFormatError('Meta webhook: the body is not JSON.');
  }
}

function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw formatError(result.error, where);
}

function formatError(error: z.ZodError, where: string): WebhookFormatError {
  const issue = error.issues[0];
  const at = (issue?.path ?? []).map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('');
  return new WebhookFormatError(`Meta webhook: ${where}${at} is not what Meta documents (${issue?.message ?? 'invalid'}).`);
}
