/**
 * parseOptiweWebhook: the {timestamp, version, type, payload} envelope, a failed outbound message
 * matched by phone and classified with Optiwe's error keys, a customer's new message, and the
 * events it ignores or refuses.
 */
import { describe, expect, it } from 'vitest';
import { parseOptiweWebhook } from '../../src/providers/optiwe/webhook.js';
import { WebhookFormatError, type InboundEvent, type StatusEvent } from '../../src/webhooks/types.js';
import { OPTIWE_FAILED_OUTBOUND, OPTIWE_NEW_CONVERSATION, OPTIWE_NEW_MESSAGE, OPTIWE_STAMP } from './payloads.js';

const RECEIVED_AT = new Date('2030-01-01T00:00:00Z');

function one(body: string): StatusEvent | InboundEvent {
  const parsed = parseOptiweWebhook(body, RECEIVED_AT);
  expect(parsed.ignored).toBe(0);
  expect(parsed.events).toHaveLength(1);
  return parsed.events[0] as StatusEvent | InboundEvent;
}

function nested(type: string, payload: Record<string, unknown>, timestamp: unknown = 1741947330): string {
  return JSON.stringify({ timestamp, version: 1, type: 'SOME_EVENT', payload: { type, payload } });
}

function failureOf(error: Record<string, unknown>): StatusEvent['failure'] {
  const event = one(nested('OUTBOUND_MESSAGE_FAILED', { phone: '+573002222222', ...error }));
  if (event.type !== 'status') throw new Error('expected a status');
  return event.failure;
}

describe('parseOptiweWebhook: failed outbound messages', () => {
  it('CUSTOMER_OPTED_OUT is an opt-out, matched by the phone (Optiwe sends have no id)', () => {
    expect(one(OPTIWE_FAILED_OUTBOUND)).toEqual({
      type: 'status',
      providerMessageId: null,
      reference: null,
      phone: '+541155174499',
      status: 'failed',
      occurredAt: new Date(OPTIWE_STAMP * 1000),
      failure: expect.objectContaining({
        kind: 'opted_out',
        code: 'RECIPIENT_OPTED_OUT',
        providerCode: 'CUSTOMER_OPTED_OUT',
        providerText: 'Message will not be sent because the customer has opted out for outbound messages',
      }),
    });
  });

  it.each([
    ['TEMPLATE_NOT_APPROVED', 'template_error'],
    ['TEMPLATE_NOT_FOUND', 'template_error'],
    ['INVALID_WHATSAPP_NUMBER', 'recipient_error'],
    ['WHATSAPP_OUTBOUND_LIMIT_EXCEEDED', 'account_limited'],
    ['NOT_AUTHENTICATED', 'account_error'],
  ])('error key %s -> %s, wherever the key is written', (key, kind) => {
    expect(failureOf({ error: { key, message: 'm' } })).toMatchObject({ kind, providerCode: key });
    expect(failureOf({ errorKey: key })).toMatchObject({ kind, providerCode: key });
    expect(failureOf({ error: key })).toMatchObject({ kind, providerCode: key });
  });

  it('a Meta code behind an unknown key goes through the Meta table', () => {
    expect(failureOf({ error: { key: 'WHATSAPP_ERROR', code: 131050, message: 'stopped marketing' } })).toMatchObject({ kind: 'opted_out', providerCode: '131050' });
    expect(failureOf({ error: { code: '132015' } })).toMatchObject({ kind: 'template_error' });
  });

  it('an unknown key, or none, is kept unclassified; an inherited property name is not a key', () => {
    expect(failureOf({ error: { key: 'SOMETHING_NEW', message: 'x' } })).toMatchObject({ code: 'PROVIDER_UNDOCUMENTED_RESPONSE', providerCode: 'SOMETHING_NEW', providerText: 'x' });
    expect(failureOf({})).toMatchObject({ code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
    expect(failureOf({ error: { key: 'constructor' } })).toMatchObject({ code: 'PROVIDER_UNDOCUMENTED_RESPONSE', providerCode: 'constructor' });
  });

  it.each([
    ['customerPhone + customerCountryCode', { customerPhone: '3442000000', customerCountryCode: '+54' }, '+543442000000'],
    ['phone', { phone: '+543442567890' }, '+543442567890'],
    ['customer.phone', { customer: { phone: '543442567890' } }, '+543442567890'],
    ['conversation.customer.phone', { conversation: { customer: { phone: '+5491155174499' } } }, '+5491155174499'],
  ])('the phone from %s', (_where, fields, e164) => {
    expect(one(nested('OUTBOUND_MESSAGE_FAILED', { error: { key: 'CUSTOMER_OPTED_OUT' }, ...fields })).phone).toBe(e164);
  });

  it('a failure without a phone cannot be matched and is ignored', () => {
    expect(parseOptiweWebhook(nested('OUTBOUND_MESSAGE_FAILED', { error: { key: 'CUSTOMER_OPTED_OUT' } }))).toEqual({ events: [], ignored: 1 });
  });

  it('a flat envelope (no nested type/payload) is read by its own type', () => {
    const body = JSON.stringify({ timestamp: 1741947330000, version: 1, type: 'WHATSAPP_OUTBOUND_MESSAGE_FAILED', payload: { phone: '+573002222222', error: { key: 'CUSTOMER_OPTED_OUT' } } });
    expect(one(body)).toMatchObject({ status: 'failed', phone: '+573002222222', occurredAt: new Date(1741947330000), failure: { kind: 'opted_out' } });
  });
});

describe('parseOptiweWebhook: new messages', () => {
  it('a customer text: Optiwe\'s id, the phone as Optiwe reports it, the message time', () => {
    expect(one(OPTIWE_NEW_MESSAGE)).toEqual({
      type: 'inbound',
      providerMessageId: '771203',
      reference: null,
      phone: '+541155174499',
      text: 'No quiero más, gracias',
      buttonPayload: null,
      occurredAt: new Date('2025-03-14T10:20:00.000Z'),
    });
  });

  it('media with a caption, and a button payload', () => {
    const conversation = { customer: { phone: '+573002222222' }, customerChannel: { type: 'WHATSAPP' } };
    expect(one(nested('NEW_MESSAGE', { conversation, message: { id: 1, type: 'IMAGE', url: 'https://x/y.jpg', caption: 'mi recibo' } }))).toMatchObject({ text: 'mi recibo' });
    expect(one(nested('NEW_MESSAGE', { conversation, message: { id: 2, type: 'BUTTON', text: 'Sí', payload: 'YES' } }))).toMatchObject({ text: 'Sí', buttonPayload: 'YES' });
    expect(one(nested('NEW_MESSAGE', { conversation, message: { id: 3, type: 'AUDIO', url: 'https://x/y.ogg' } }))).toMatchObject({ text: null, buttonPayload: null });
  });

  it('without an id: a stable hash of the event, the same on a retry and different for another message', () => {
    const body = (text: string): string => nested('NEW_MESSAGE', { conversation: { customer: { phone: '+573002222222' } }, message: { type: 'TEXT', text } });
    const id = one(body('hola')).providerMessageId;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(one(body('hola')).providerMessageId).toBe(id);
    expect(one(body('chao')).providerMessageId).not.toBe(id);
    // Key order does not change the id.
    const reordered = nested('NEW_MESSAGE', { message: { text: 'hola', type: 'TEXT' }, conversation: { customer: { phone: '+573002222222' } } });
    expect(one(reordered).providerMessageId).toBe(id);
  });

  it('the envelope time when the message has none; the receive time when neither has one', () => {
    const payload = { conversation: { customer: { phone: '+573002222222' } }, message: { id: 9, text: 'x' } };
    expect(one(nested('NEW_MESSAGE', payload, 1741947330)).occurredAt).toEqual(new Date(1741947330 * 1000));
    expect(one(nested('NEW_MESSAGE', payload, 'not a time')).occurredAt).toEqual(RECEIVED_AT);
  });

  it.each([
    ['another channel', { conversation: { customer: { phone: '+573002222222' }, customerChannel: { type: 'INSTAGRAM' } }, message: { id: 1, text: 'hola' } }],
    ['an outgoing message', { conversation: { customer: { phone: '+573002222222' } }, message: { id: 1, text: 'hola', direction: 'OUTBOUND' } }],
    ['a customer without a phone (web chat)', { conversation: { customer: { phone: null } }, message: { id: 1, text: 'hola' } }],
  ])('%s is ignored', (_name, payload) => {
    expect(parseOptiweWebhook(nested('NEW_MESSAGE', payload))).toEqual({ events: [], ignored: 1 });
  });
});

describe('parseOptiweWebhook: other events and bad bodies', () => {
  it('NEW_CONVERSATION and other types are ignored', () => {
    expect(parseOptiweWebhook(OPTIWE_NEW_CONVERSATION)).toEqual({ events: [], ignored: 1 });
    expect(parseOptiweWebhook(nested('CAMPAIGN_STATUS', { campaignId: 1, status: 'FINISHED' }))).toEqual({ events: [], ignored: 1 });
  });

  it.each([
    ['not JSON', 'hola', /not JSON/],
    ['a list', '[]', /not a JSON object/],
    ['no type', JSON.stringify({ timestamp: 1, version: 1, payload: {} }), /envelope/],
    ['no payload', JSON.stringify({ timestamp: 1, version: 1, type: 'CONVERSATION_EVENT' }), /envelope/],
    ['a phone that is not a number', nested('NEW_MESSAGE', { conversation: { customer: { phone: 'n/a' } }, message: { id: 1, text: 'x' } }), /customer phone "n\/a"/],
  ])('%s is a WebhookFormatError', (_name, body, message) => {
    expect(() => parseOptiweWebhook(body)).toThrow(WebhookFormatError);
    expect(() => parseOptiweWebhook(body)).toThrow(message);
  });
});
