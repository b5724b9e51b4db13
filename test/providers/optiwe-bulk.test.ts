/**
 * Optiwe bulk send, pure: the request (byte for byte against the manual's), and every bulk
 * response of the manual mapped back to one outcome per message, in order.
 */
import { describe, expect, it } from 'vitest';
import {
  OPTIWE_BULK_MAX_SIZE,
  optiweAdapter,
  optiweBulkBody,
  splitPhone,
  type OptiweConfig,
  type OptiweCredentials,
} from '../../src/providers/optiwe/index.js';
import * as manual from '../../src/providers/optiwe/manual-examples.js';
import type { AccountSettings, HttpResponse, OutboundMessage, TemplateRef } from '../../src/providers/types.js';
import { expectBuildError } from './build-error.js';

const TOKEN = 'optiwe-secret-token-42';
const account: AccountSettings<OptiweConfig, OptiweCredentials> = { id: 'acc-1', config: {}, credentials: { token: TOKEN } };
const response = (status: number, body: string): HttpResponse => ({ status, headers: { 'content-type': 'application/json' }, body });
const batch = optiweAdapter.batch;
if (!batch) throw new Error('the Optiwe adapter must offer batch sending');

const template: TemplateRef = { name: 'plantilla', externalId: '10', language: 'es', category: 'MARKETING', body: 'Hola {{1}} {{2}}', paramNames: [] };
const message = (phone: string, reference = phone, overrides: Partial<OutboundMessage> = {}): OutboundMessage => ({
  reference,
  phone,
  template,
  variables: ['Nombre', 'Segundo nombre'],
  ...overrides,
});

describe('Optiwe bulk request', () => {
  it('reproduces the manual example byte for byte', () => {
    const body = optiweBulkBody(
      10,
      [
        {
          phone: splitPhone('+5493442000000'),
          fullName: 'Customer1',
          email: 'customer1@example.com',
          extraFields: { street: 'Street 1' },
          placeholders: ['Nombre', 'Segundo nombre'],
        },
      ],
      'Mi campaña con template 1',
    );
    expect(JSON.stringify(body)).toBe(JSON.stringify(manual.BULK_REQUEST));
  });

  it('builds the adapter request from messages: numeric templateId, string placeholder keys, names when known', () => {
    const request = batch.buildBatchRequest(
      [message('+5493442000000', 'r1', { recipientName: 'Customer1' }), message('+525512345678', 'r2', { variables: [] })],
      account,
    );
    expect(request.url).toBe('https://backend.optiwe.com/whatsapp-campaigns/bulk/customers/');
    expect(request.headers).toEqual({ Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' });
    expect(request.body).toBe(
      JSON.stringify({
        templateId: 10,
        customers: [
          { countryCode: '+54', phone: '3442000000', fullName: 'Customer1', templatePlaceholders: { '1': 'Nombre', '2': 'Segundo nombre' } },
          { countryCode: '+52', phone: '5512345678' },
        ],
      }),
    );
  });

  it("refuses batches that break the batch contract (the caller's bug: RangeError)", () => {
    const other = { ...template, externalId: '11' };
    expect(() => batch.buildBatchRequest([], account)).toThrow(RangeError);
    expect(() => batch.buildBatchRequest([], account)).toThrow(/at least one/);
    expect(() => batch.buildBatchRequest(Array.from({ length: OPTIWE_BULK_MAX_SIZE + 1 }, (_, i) => message(`+54934420${String(i).padStart(5, '0')}`)), account)).toThrow(/at most/);
    expect(() => batch.buildBatchRequest([message('+5493442000000'), message('+5493442000001', 'x', { template: other })], account)).toThrow(/mixes templates/);
  });

  it('refuses messages the endpoint cannot express, naming the scope (and, for a recipient, which message)', () => {
    expectBuildError(() => batch.buildBatchRequest([message('+5493442000000', 'x', { template: { ...template, externalId: null } })], account), 'template', /numeric Optiwe id/);
    expectBuildError(() => batch.buildBatchRequest([message('+5493442000000', 'x', { buttonParams: [{ index: 0, subType: 'url', value: 'a' }] })], account), 'template', /one by one/);
    expectBuildError(() => batch.buildBatchRequest([message('+5493442000000', 'x', { media: { type: 'image', link: 'https://x/y.png' } })], account), 'template', /text only/);
    const bad = expectBuildError(() => batch.buildBatchRequest([message('+5493442000000', 'r1'), message('+12', 'r2')], account), 'recipient', /Not an E\.164/);
    expect(bad.reference).toBe('r2');
  });

  it('accepts for a batch exactly the messages the bulk endpoint can carry; the rest go one by one', () => {
    expect(batch.accepts(message('+5493442000000'))).toBe(true);
    expect(batch.accepts(message('+5493442000000', 'x', { template: { ...template, externalId: null } }))).toBe(false);
    expect(batch.accepts(message('+5493442000000', 'x', { template: { ...template, externalId: 'plantilla_1' } }))).toBe(false);
    expect(batch.accepts(message('+5493442000000', 'x', { media: { type: 'image', link: 'https://x/y.png' } }))).toBe(false);
    expect(batch.accepts(message('+5493442000000', 'x', { buttonParams: [{ index: 0, subType: 'url', value: 'a' }] }))).toBe(false);
    // What it accepts, it builds.
    expect(() => batch.buildBatchRequest([message('+5493442000000')], account)).not.toThrow();
  });

  it('has a sane maximum size', () => {
    expect(batch.maxSize).toBe(OPTIWE_BULK_MAX_SIZE);
    expect(batch.maxSize).toBeGreaterThanOrEqual(10);
  });
});

describe('Optiwe bulk response', () => {
  const messages = [
    message('+5493442567890', 'extra-fields'), // Reported as "+543442567890": no 9, with the +.
    message('+5491155174499', 'ok-1'),
    message('+543442567891', 'invalid-number'),
    message('+14155550123', 'ok-2'),
  ];

  it('maps the manual 201 back to recipients by phone; the rest are accepted into the campaign', () => {
    const outcomes = batch.parseBatchResponse(response(201, manual.BULK_201_BODY), messages);
    expect(outcomes).toHaveLength(messages.length);
    expect(outcomes.map((o) => [o.kind, o.code, o.providerCode])).toEqual([
      ['recipient_error', 'RECIPIENT_INVALID', 'INVALID_EXTRA_FIELDS'],
      ['accepted', 'ACCEPTED_PENDING', '201'],
      ['recipient_error', 'RECIPIENT_INVALID', 'INVALID_NUMBER'],
      ['accepted', 'ACCEPTED_PENDING', '201'],
    ]);
    expect(outcomes[1]).toMatchObject({ providerText: 'campaignId 1' });
    expect(outcomes[1]?.messageId).toBeUndefined();
  });

  it('matches a reported national number too, and an unknown reason still fails the recipient', () => {
    const body = JSON.stringify({ campaignId: 9, invalidCustomers: [{ phone: '1155174499', reason: 'SOMETHING_NEW' }] });
    const outcomes = batch.parseBatchResponse(response(201, body), messages);
    expect(outcomes.map((o) => o.kind)).toEqual(['accepted', 'recipient_error', 'accepted', 'accepted']);
    expect(outcomes[1]).toMatchObject({ code: 'RECIPIENT_INVALID', providerCode: 'SOMETHING_NEW' });
  });

  it('a 201 without invalidCustomers accepts all; an unreadable 201 accepts all with the body kept', () => {
    expect(batch.parseBatchResponse(response(201, '{"campaignId": 3}'), messages).every((o) => o.kind === 'accepted')).toBe(true);
    const unreadable = batch.parseBatchResponse(response(201, 'ok'), messages);
    expect(unreadable.every((o) => o.kind === 'accepted' && o.raw === 'ok')).toBe(true);
  });

  it.each([
    [manual.BULK_TEMPLATE_NOT_FOUND_400_BODY, 400, 'template_error', 'TEMPLATE_NOT_FOUND'],
    [manual.BULK_TEMPLATE_NOT_APPROVED_400_BODY, 400, 'template_error', 'TEMPLATE_NOT_APPROVED'],
    [manual.OUTBOUND_LIMIT_EXCEEDED_400_BODY, 400, 'account_limited', 'ACCOUNT_TIER_LIMIT'],
    [manual.OUTBOUND_NOT_ENABLED_400_BODY, 400, 'account_error', 'ACCOUNT_MISCONFIGURED'],
    [manual.NOT_AUTHENTICATED_401_BODY, 401, 'account_error', 'ACCOUNT_AUTH_FAILED'],
    [manual.REQUESTS_LIMIT_REACHED_400_BODY, 400, 'rate_limited', 'RATE_LIMITED'],
    ['<html>oops</html>', 503, 'retry', 'PROVIDER_UNAVAILABLE'],
  ] as const)('a whole-request error applies to every message (%#)', (body, status, kind, code) => {
    const outcomes = batch.parseBatchResponse(response(status, body), messages);
    expect(outcomes).toHaveLength(messages.length);
    for (const outcome of outcomes) expect(outcome).toMatchObject({ kind, code });
  });

  it('a 422 placeholder error fails the template for all, saying which recipients Optiwe named', () => {
    const named = [message('+543442506786', 'named'), message('+5491155174499', 'not-named'), message('+112345454', 'named-too')];
    const outcomes = batch.parseBatchResponse(response(422, manual.BULK_INVALID_TEMPLATE_PLACEHOLDER_422_BODY), named);
    expect(outcomes.map((o) => o.code)).toEqual(['TEMPLATE_PARAMS_INVALID', 'TEMPLATE_PARAMS_INVALID', 'TEMPLATE_PARAMS_INVALID']);
    expect(outcomes[0]?.message).toMatch(/named this recipient/);
    expect(outcomes[1]?.message).toMatch(/was not named/);
    expect(outcomes[2]?.message).toMatch(/named this recipient/);
  });
});
