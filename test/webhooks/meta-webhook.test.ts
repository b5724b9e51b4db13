/**
 * parseMetaWebhook against Cloud API webhook bodies (test/webhooks/payloads.ts): statuses by
 * wamid, failures classified with the send-error table, replies and button taps, and the
 * shapes it must refuse.
 */
import { describe, expect, it } from 'vitest';
import { parseMetaWebhook } from '../../src/providers/meta/webhook.js';
import { WebhookFormatError, type InboundEvent, type StatusEvent } from '../../src/webhooks/types.js';
import {
  META_BUTTON_REPLY,
  META_BUTTON_REPLY_ID,
  META_INTERACTIVE_REPLY,
  META_MEDIA_REPLIES,
  META_OPTED_OUT_WAMID,
  META_SENT_AT,
  META_STATUS_DELIVERED,
  META_STATUS_FAILED,
  META_STATUS_FAILED_131050,
  META_STATUS_READ,
  META_STATUS_SENT,
  META_TEMPLATE_STATUS_UPDATE,
  META_TEXT_REPLY,
  META_TEXT_REPLY_ID,
  META_WAMID,
} from './payloads.js';

const RECEIVED_AT = new Date('2030-01-01T00:00:00Z');

function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

function statusOf(body: string): StatusEvent {
  const parsed = parseMetaWebhook(body, RECEIVED_AT);
  expect(parsed.ignored).toBe(0);
  const event = only(parsed.events);
  if (event.type !== 'status') throw new Error('expected a status event');
  return event;
}

function inboundOf(body: string): InboundEvent {
  const parsed = parseMetaWebhook(body, RECEIVED_AT);
  expect(parsed.ignored).toBe(0);
  const event = only(parsed.events);
  if (event.type !== 'inbound') throw new Error('expected an inbound event');
  return event;
}

function envelope(value: Record<string, unknown>): string {
  return JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', ...value } }] }] });
}

describe('parseMetaWebhook: statuses', () => {
  it.each([
    ['sent', META_STATUS_SENT, 0],
    ['delivered', META_STATUS_DELIVERED, 4],
    ['read', META_STATUS_READ, 65],
  ] as const)('%s: the wamid, the E.164 recipient and Meta\'s own time', (status, body, afterSend) => {
    expect(statusOf(body)).toEqual({
      type: 'status',
      providerMessageId: META_WAMID,
      reference: null,
      phone: '+5215512345678',
      status,
      occurredAt: new Date((META_SENT_AT + afterSend) * 1000),
    });
  });

  it('failed: errors[0] is classified by the send-error table, code and text kept', () => {
    const event = statusOf(META_STATUS_FAILED);
    expect(event).toMatchObject({ providerMessageId: META_WAMID, status: 'failed', occurredAt: new Date((META_SENT_AT + 5) * 1000) });
    expect(event.failure).toMatchObject({
      kind: 'recipient_error',
      code: 'RECIPIENT_NOT_ON_WHATSAPP',
      providerCode: '131026',
      providerText: 'Message undeliverable | Message Undeliverable.',
    });
  });

  it('failed with 131050 is an opt-out', () => {
    const event = statusOf(META_STATUS_FAILED_131050);
    expect(event).toMatchObject({ providerMessageId: META_OPTED_OUT_WAMID, phone: '+573002222222', status: 'failed' });
    expect(event.failure).toMatchObject({ kind: 'opted_out', code: 'RECIPIENT_OPTED_OUT', providerCode: '131050' });
  });

  it('failed with a template code fails the template', () => {
    const body = envelope({ statuses: [{ id: 'wamid.X', status: 'failed', timestamp: '1741947300', recipient_id: '573002222222', errors: [{ code: 132015, title: 'Template is paused' }] }] });
    expect(statusOf(body).failure).toMatchObject({ kind: 'template_error', code: 'TEMPLATE_PAUSED', providerText: 'Template is paused' });
  });

  it('failed with an unknown code is kept for a person to classify; with no errors at all it still has a failure', () => {
    const unknown = envelope({ statuses: [{ id: 'wamid.X', status: 'failed', timestamp: '1741947300', recipient_id: '1', errors: [{ code: 999999, message: 'New thing' }] }] });
    expect(statusOf(unknown).failure).toMatchObject({ code: 'PROVIDER_UNDOCUMENTED_RESPONSE', providerCode: '999999', providerText: 'New thing' });
    const bare = envelope({ statuses: [{ id: 'wamid.X', status: 'failed', timestamp: '1741947300', recipient_id: '573002222222' }] });
    expect(statusOf(bare).failure).toMatchObject({ code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
  });

  it('a status of another kind is ignored, not an error', () => {
    const body = envelope({ statuses: [{ id: 'wamid.X', status: 'played', timestamp: '1741947300', recipient_id: '573002222222' }] });
    expect(parseMetaWebhook(body, RECEIVED_AT)).toEqual({ events: [], ignored: 1 });
  });

  it('a group recipient id is no phone; the wamid still identifies the message', () => {
    const body = envelope({ statuses: [{ id: 'wamid.G', status: 'delivered', timestamp: '1741947300', recipient_id: '120363025xyz@g.us' }] });
    expect(statusOf(body)).toMatchObject({ providerMessageId: 'wamid.G', phone: null });
  });

  it('a status without a timestamp takes the receive time', () => {
    const body = envelope({ statuses: [{ id: 'wamid.X', status: 'sent', recipient_id: '573002222222' }] });
    expect(statusOf(body).occurredAt).toEqual(RECEIVED_AT);
  });
});

describe('parseMetaWebhook: messages from users', () => {
  it('a text reply', () => {
    expect(inboundOf(META_TEXT_REPLY)).toEqual({
      type: 'inbound',
      providerMessageId: META_TEXT_REPLY_ID,
      reference: null,
      phone: '+5215512345678',
      text: 'Hola, ¿hasta cuándo es la promoción?',
      buttonPayload: null,
      occurredAt: new Date((META_SENT_AT + 200) * 1000),
    });
  });

  it('a quick-reply tap: the button text and payload, and the template it answers', () => {
    expect(inboundOf(META_BUTTON_REPLY)).toEqual({
      type: 'inbound',
      providerMessageId: META_BUTTON_REPLY_ID,
      reference: null,
      phone: '+5215512345678',
      text: 'Dejar de recibir',
      buttonPayload: 'STOP_PROMOS',
      inReplyTo: META_WAMID,
      occurredAt: new Date((META_SENT_AT + 260) * 1000),
    });
  });

  it('an interactive reply button: title as text, id as payload', () => {
    expect(inboundOf(META_INTERACTIVE_REPLY)).toMatchObject({ text: 'Sí, confirmo', buttonPayload: 'confirm-yes' });
  });

  it('an interactive list reply the same way', () => {
    const body = envelope({
      messages: [{ from: '573002222222', id: 'wamid.L', timestamp: '1741947300', type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'row-2', title: 'Martes', description: 'Tarde' } } }],
    });
    expect(inboundOf(body)).toMatchObject({ text: 'Martes', buttonPayload: 'row-2' });
  });

  it('media: the caption when there is one, else no text', () => {
    const { events, ignored } = parseMetaWebhook(META_MEDIA_REPLIES, RECEIVED_AT);
    expect(ignored).toBe(0);
    expect(events.map((e) => (e.type === 'inbound' ? [e.text, e.buttonPayload] : e.type))).toEqual([
      ['Este es mi recibo', null],
      [null, null],
    ]);
  });

  it('system notices (the user changed number) are not replies', () => {
    const body = envelope({
      messages: [{ from: '573002222222', id: 'wamid.S', timestamp: '1741947300', type: 'system', system: { body: 'User A changed from 573002222222 to 573002222223', type: 'user_changed_number' } }],
    });
    expect(parseMetaWebhook(body, RECEIVED_AT)).toEqual({ events: [], ignored: 1 });
  });

  it('a sender that is not a phone number is a format error', () => {
    const body = envelope({ messages: [{ from: 'not-a-number', id: 'wamid.B', timestamp: '1741947300', type: 'text', text: { body: 'hola' } }] });
    expect(() => parseMetaWebhook(body)).toThrow(/messages\[0\]\.from is not a phone number/);
  });
});

describe('parseMetaWebhook: what it ignores and what it refuses', () => {
  it('other fields are counted, not parsed', () => {
    expect(parseMetaWebhook(META_TEMPLATE_STATUS_UPDATE)).toEqual({ events: [], ignored: 1 });
  });

  it('several entries and changes in one body, in order, with value.errors counted', () => {
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [
            { field: 'messages', value: { statuses: [{ id: 'wamid.A', status: 'sent', timestamp: '1741947300', recipient_id: '573002222222' }], errors: [{ code: 131000, title: 'x' }] } },
            { field: 'account_update', value: { event: 'VERIFIED_ACCOUNT' } },
          ],
        },
        { id: '2', changes: [{ field: 'messages', value: { messages: [{ from: '573002222222', id: 'wamid.B', timestamp: '1741947301', type: 'text', text: { body: 'BAJA' } }] } }] },
      ],
    });
    const { events, ignored } = parseMetaWebhook(body);
    expect(events.map((e) => e.providerMessageId)).toEqual(['wamid.A', 'wamid.B']);
    expect(ignored).toBe(2);
  });

  it('a messages change with nothing in it is counted', () => {
    expect(parseMetaWebhook(envelope({}))).toEqual({ events: [], ignored: 1 });
  });

  it.each([
    ['not JSON', '{"object":', /not JSON/],
    ['another object', JSON.stringify({ object: 'page', entry: [] }), /object/],
    ['no entry', JSON.stringify({ object: 'whatsapp_business_account' }), /entry/],
    ['changes not a list', JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: {} }] }), /entry\[0\]\.changes/],
    ['value not an object', JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: 'x' }] }] }), /changes\[0\]\.value/],
    ['a status without an id', envelope({ statuses: [{ status: 'sent', timestamp: '1', recipient_id: '1' }] }), /statuses\[0\]\.id/],
    ['a timestamp that is not unix seconds', envelope({ statuses: [{ id: 'w', status: 'sent', timestamp: 'yesterday', recipient_id: '1' }] }), /statuses\[0\]\.timestamp/],
    ['an error code that is not a number', envelope({ statuses: [{ id: 'w', status: 'failed', timestamp: '1', errors: [{ code: 'boom' }] }] }), /errors\[0\]\.code/],
    ['a message without a sender', envelope({ messages: [{ id: 'w', timestamp: '1', type: 'text', text: { body: 'x' } }] }), /messages\[0\]\.from/],
  ])('%s is a WebhookFormatError', (_name, body, message) => {
    expect(() => parseMetaWebhook(body)).toThrow(WebhookFormatError);
    expect(() => parseMetaWebhook(body)).toThrow(message);
  });
});
