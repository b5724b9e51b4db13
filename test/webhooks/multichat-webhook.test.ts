/**
 * parseMultichatWebhook against the manual's webhook examples (transcribed in payloads.ts): the
 * four message events, the reply with its custom_field, both encodings, the asynchronous failure
 * codes, and the stable id of a reply that has none.
 */
import { describe, expect, it } from 'vitest';
import { parseMultichatWebhook, parseProviderTime } from '../../src/providers/multichat/webhook.js';
import { WebhookFormatError, type InboundEvent, type StatusEvent } from '../../src/webhooks/types.js';
import {
  FORM_CONTENT_TYPE,
  JSON_CONTENT_TYPE,
  MULTICHAT_DELIVERED,
  MULTICHAT_FAILED,
  MULTICHAT_FAILED_FORM,
  MULTICHAT_MANUAL_VERBATIM,
  MULTICHAT_MESSAGE_ID,
  MULTICHAT_READ,
  MULTICHAT_REPLY,
  MULTICHAT_REPLY_FORM,
  MULTICHAT_SENT,
} from './payloads.js';

const RECEIVED_AT = new Date('2030-01-01T00:00:00Z');

/** `contentType` null: the request had no Content-Type header. */
function one(body: string, contentType: string | null = JSON_CONTENT_TYPE): StatusEvent | InboundEvent {
  const parsed = parseMultichatWebhook(body, contentType ?? undefined, RECEIVED_AT);
  expect(parsed.ignored).toBe(0);
  expect(parsed.events).toHaveLength(1);
  return parsed.events[0] as StatusEvent | InboundEvent;
}

function failureOf(fields: Record<string, string>): StatusEvent['failure'] {
  const event = one(JSON.stringify({ type: 'message-event', type2: 'failed', messageId: '1', ...fields }));
  if (event.type !== 'status') throw new Error('expected a status');
  return event.failure;
}

describe('parseMultichatWebhook: message events', () => {
  it('failed: the manual\'s code classified by the asynchronous table (132015 pauses the template)', () => {
    expect(one(MULTICHAT_FAILED)).toEqual({
      type: 'status',
      providerMessageId: MULTICHAT_MESSAGE_ID,
      reference: null,
      phone: null,
      status: 'failed',
      occurredAt: RECEIVED_AT,
      failure: expect.objectContaining({ kind: 'template_error', code: 'TEMPLATE_PAUSED', providerCode: '132015', providerText: 'La plantilla pausada por meta' }),
    });
  });

  it.each([
    ['sent', MULTICHAT_SENT, '2025-03-14T10:15:00Z'],
    ['delivered', MULTICHAT_DELIVERED, '2025-03-14T10:15:04Z'],
    ['read', MULTICHAT_READ, '2025-03-14T10:16:05Z'],
  ] as const)('%s: type2 trimmed, "&messageId" read, the zone-less time read as Colombia\'s (UTC-5)', (status, body, utc) => {
    expect(one(body)).toEqual({ type: 'status', providerMessageId: MULTICHAT_MESSAGE_ID, reference: null, phone: null, status, occurredAt: new Date(utc) });
  });

  it('a form-encoded failure with the manual\'s "471 - 131048" pair restricts the account', () => {
    const event = one(MULTICHAT_FAILED_FORM, FORM_CONTENT_TYPE);
    expect(event).toMatchObject({ type: 'status', status: 'failed', providerMessageId: MULTICHAT_MESSAGE_ID });
    expect(event.type === 'status' && event.failure).toMatchObject({ kind: 'account_error', code: 'ACCOUNT_RESTRICTED', providerCode: '471 - 131048' });
  });

  it.each([
    ['132005', 'template_error'],
    ['132007', 'template_error'],
    ['132015', 'template_error'],
    ['132016', 'template_error'],
    ['1005', 'template_error'],
    ['1008', 'template_error'],
    ['402', 'retry'],
    ['470', 'recipient_error'],
    ['131047', 'recipient_error'],
    ['1002', 'recipient_error'],
    ['131021', 'recipient_error'],
    ['471', 'account_error'],
    ['131031', 'account_error'],
    ['1003', 'account_limited'],
  ])('failure code %s -> %s', (code, kind) => {
    expect(failureOf({ code, reason: 'sending error, return balance' })).toMatchObject({ kind, providerCode: code });
  });

  it('a failure whose code is only in its reason is still classified; without any code it is kept unclassified', () => {
    expect(failureOf({ reason: '132016 La plantilla desactivada por meta' })).toMatchObject({ kind: 'template_error', providerCode: '132016' });
    expect(failureOf({ reason: 'sending error, return balance' })).toMatchObject({ code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
  });

  it('custom_field and mobile on an event are used when present', () => {
    const event = one(JSON.stringify({ type: 'message-event', type2: 'delivered', messageId: '9', custom_field: '1234', mobile: '573002222222' }));
    expect(event).toMatchObject({ providerMessageId: '9', reference: '1234', phone: '+573002222222' });
  });

  it('an event type it does not know is ignored', () => {
    expect(parseMultichatWebhook(JSON.stringify({ type: 'message-event', type2: 'deleted', messageId: '1' }), JSON_CONTENT_TYPE)).toEqual({ events: [], ignored: 1 });
  });

  it('an event with nothing to match it by is a format error', () => {
    expect(() => parseMultichatWebhook(JSON.stringify({ type: 'message-event', type2: 'read' }), JSON_CONTENT_TYPE)).toThrow(/without messageId/);
  });
});

describe('parseMultichatWebhook: replies', () => {
  it('the manual\'s reply: custom_field as the reference, the mobile in E.164', () => {
    const event = one(MULTICHAT_REPLY);
    expect(event).toEqual({
      type: 'inbound',
      providerMessageId: expect.stringMatching(/^[0-9a-f]{64}$/),
      reference: '1020-3040-5060-7089',
      phone: '+573002222222',
      text: 'Hola, respondiendo mensaje desde el whatsapp',
      buttonPayload: null,
      occurredAt: RECEIVED_AT,
    });
  });

  it('a retry of the same reply has the same id, in either encoding and any key order or spacing', () => {
    const id = one(MULTICHAT_REPLY).providerMessageId;
    expect(one(MULTICHAT_REPLY_FORM, FORM_CONTENT_TYPE).providerMessageId).toBe(id);
    const reordered = JSON.stringify({ official_number: 573005202020, custom_field: '1020-3040-5060-7089', message: 'Hola, respondiendo mensaje desde el whatsapp', mobile: 573002222222 });
    expect(one(reordered).providerMessageId).toBe(id);
    expect(one(` ${MULTICHAT_REPLY}\n`, null).providerMessageId).toBe(id);
  });

  it('a different reply has a different id', () => {
    const id = one(MULTICHAT_REPLY).providerMessageId;
    expect(one(MULTICHAT_REPLY.replace('Hola,', 'Hola!')).providerMessageId).not.toBe(id);
    expect(one(MULTICHAT_REPLY.replace('1020-3040', '1020-3041')).providerMessageId).not.toBe(id);
  });

  it('an id the provider sends is used as it is', () => {
    expect(one(JSON.stringify({ mobile: '573002222222', message: 'hola', messageId: 'm-77' })).providerMessageId).toBe('m-77');
  });

  it.each([
    ['573002222222', '+573002222222'],
    ['3002222222', '+573002222222'],
    ['+57 300 222 2222', '+573002222222'],
    ['5215512345678', '+5215512345678'],
  ])('mobile %s -> %s', (mobile, e164) => {
    expect(one(JSON.stringify({ mobile, message: 'hola' })).phone).toBe(e164);
  });

  it('an empty message or custom_field is null', () => {
    expect(one(JSON.stringify({ mobile: '573002222222', message: '', custom_field: ' ' }))).toMatchObject({ text: null, reference: null });
  });

  it('a mobile that is not a phone number is a format error', () => {
    expect(() => parseMultichatWebhook(JSON.stringify({ mobile: '12345', message: 'x' }), JSON_CONTENT_TYPE)).toThrow(/mobile "12345"/);
  });
});

describe('parseMultichatWebhook: encodings and shapes', () => {
  it('without a Content-Type, JSON and form bodies are told apart by their first character', () => {
    expect(one(MULTICHAT_REPLY, null)).toMatchObject({ type: 'inbound', phone: '+573002222222' });
    expect(one(MULTICHAT_REPLY_FORM, null)).toMatchObject({ type: 'inbound', phone: '+573002222222' });
    expect(one(MULTICHAT_SENT, 'text/plain; charset=utf-8')).toMatchObject({ type: 'status', status: 'sent' });
  });

  it('a JSON body labelled as a form is still read as JSON', () => {
    expect(one(MULTICHAT_FAILED, FORM_CONTENT_TYPE)).toMatchObject({ type: 'status', status: 'failed' });
  });

  it('a JSON array is a batch, in order', () => {
    const { events, ignored } = parseMultichatWebhook(`[${MULTICHAT_SENT}, ${MULTICHAT_READ}, ${MULTICHAT_REPLY}]`, 'application/json; charset=utf-8', RECEIVED_AT);
    expect(ignored).toBe(0);
    expect(events.map((e) => (e.type === 'status' ? e.status : e.type))).toEqual(['sent', 'read', 'inbound']);
  });

  it.each(Object.entries(MULTICHAT_MANUAL_VERBATIM))('the manual\'s printed "%s" example (not JSON) is refused', (_name, body) => {
    expect(() => parseMultichatWebhook(body, JSON_CONTENT_TYPE)).toThrow(WebhookFormatError);
  });

  it.each([
    ['an empty body', '', JSON_CONTENT_TYPE, /empty/],
    ['broken JSON', '{"mobile": ', JSON_CONTENT_TYPE, /not valid JSON/],
    ['a JSON string', '"hola"', JSON_CONTENT_TYPE, /not a JSON object/],
    ['an empty list', '[]', JSON_CONTENT_TYPE, /empty list/],
    ['neither event nor reply', JSON.stringify({ hello: 'world' }), JSON_CONTENT_TYPE, /neither a message event/],
    ['plain text', 'hola', undefined, /neither JSON nor a form/],
    ['multipart', '--x\r\n', 'multipart/form-data; boundary=x', /multipart/],
  ])('%s is a WebhookFormatError', (_name, body, contentType, message) => {
    expect(() => parseMultichatWebhook(body, contentType)).toThrow(WebhookFormatError);
    expect(() => parseMultichatWebhook(body, contentType)).toThrow(message);
  });
});

describe('parseProviderTime', () => {
  it.each([
    ['1741947300', '2025-03-14T10:15:00.000Z'],
    ['1741947300123', '2025-03-14T10:15:00.123Z'],
    ['2025-03-14 05:15:00', '2025-03-14T10:15:00.000Z'],
    ['2025-03-14T05:15', '2025-03-14T10:15:00.000Z'],
    ['2025-03-14 10:15:00Z', '2025-03-14T10:15:00.000Z'],
    ['2025-03-14T05:15:00.250-05:00', '2025-03-14T10:15:00.250Z'],
    ['14/03/2025 05:15:00', '2025-03-14T10:15:00.000Z'],
    ['14/03/2025 05:15', '2025-03-14T10:15:00.000Z'],
  ])('%s -> %s', (text, iso) => {
    expect(parseProviderTime(text)?.toISOString()).toBe(iso);
  });

  it.each(['xxxxx', '', '2025-13-45 99:99:99', '0000000000', '14/03/25 05:15', 'ayer'])('%j is not a time', (text) => {
    expect(parseProviderTime(text)).toBeUndefined();
  });
});
