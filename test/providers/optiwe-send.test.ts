/**
 * Optiwe single send, pure: every request and response example of the manual's
 * "API para envío de plantillas" section, byte for byte where the manual prints one.
 */
import { describe, expect, it } from 'vitest';
import {
  OPTIWE_ERROR_RULES,
  optiweAdapter,
  optiweCustomerBody,
  parseOptiweSendResponse,
  renderOptiweText,
  splitPhone,
  templateButtons,
  withOptiweButtons,
  type OptiweButton,
} from '../../src/providers/optiwe/index.js';
import * as manual from '../../src/providers/optiwe/manual-examples.js';
import type { AccountSettings, HttpResponse, OutboundMessage, TemplateRef } from '../../src/providers/types.js';
import type { OptiweConfig, OptiweCredentials } from '../../src/providers/optiwe/index.js';
import { expectBuildError } from './build-error.js';

const TOKEN = 'optiwe-secret-token-42';
const account = (config: OptiweConfig = {}): AccountSettings<OptiweConfig, OptiweCredentials> => ({ id: 'acc-1', config, credentials: { token: TOKEN } });
/** The manual's JSON, compacted: what a byte-for-byte equal body must look like. */
const compact = (text: string) => JSON.stringify(JSON.parse(text));
const response = (status: number, body: string, headers: Record<string, string> = {}): HttpResponse => ({ status, headers, body });

const template = (body: string, overrides: Partial<TemplateRef> = {}): TemplateRef => ({
  name: 'reminder',
  externalId: '76',
  language: 'es',
  category: 'UTILITY',
  body,
  paramNames: [],
  ...overrides,
});
const message = (overrides: Partial<OutboundMessage> = {}): OutboundMessage => ({
  reference: 'rcpt-1',
  phone: '+5491155174499',
  template: template(manual.CREATE_TEXT_REQUEST.text),
  variables: ['Diego', '15:30', 'Centro Medico Deragopyan'],
  ...overrides,
});
/** The buttons as Optiwe stores them (the 201 body's order), which sends must follow. */
const storedButtons = (JSON.parse(manual.CREATE_201_BODY) as { buttons: OptiweButton[] }).buttons;

describe('Optiwe single-send request', () => {
  /** The manual's customer, as each of its three send examples prints it, around the rendered text. */
  const manualBody = (phone: string, text: string) =>
    JSON.stringify(
      optiweCustomerBody({ fullName: 'Diego Optiwe', email: 'diego@email.com', fields: { dni: 123456789, customerField1: 'value' }, phone: splitPhone(phone), overrideCustomerData: true, text }),
    );

  it('reproduces the manual plain example byte for byte', () => {
    const text = renderOptiweText(manual.CREATE_TEXT_REQUEST.text, ['Diego', '15:30', 'Centro Medico Deragopyan']);
    expect(manualBody('+5491155174499', text)).toBe(compact(manual.SEND_REQUEST_BODY));
  });

  it('reproduces the manual call-to-action example: buttons appended in the stored order, URL suffix filled', () => {
    const text = renderOptiweText(manual.CREATE_CALL_TO_ACTION_REQUEST.text, ['Diego'], storedButtons, [{ index: 1, subType: 'url', value: 'bob/' }]);
    expect(manualBody('+5491155174499', text)).toBe(compact(manual.SEND_WITH_BUTTONS_REQUEST_BODY));
  });

  it('reproduces the manual quick-reply example', () => {
    const buttons: OptiweButton[] = [{ type: 'QUICK_REPLY', text: 'Responder' }];
    const text = renderOptiweText(manual.CREATE_QUICK_REPLY_REQUEST.text, [], buttons);
    expect(manualBody('+541155174499', text)).toBe(compact(manual.SEND_WITH_QUICK_REPLY_REQUEST_BODY));
  });

  it('builds the adapter request: URL, headers, and the manual body minus the fields an OutboundMessage lacks', () => {
    const request = optiweAdapter.buildSendRequest(message({ recipientName: 'Diego Optiwe' }), account({ overrideCustomerData: true }));
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://backend.optiwe.com/whatsapp-campaigns/customers/');
    expect(request.headers).toEqual({ Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' });
    const expected = JSON.parse(manual.SEND_REQUEST_BODY) as Record<string, unknown>;
    delete expected.customerEmail;
    delete expected.customerFields;
    expect(request.body).toBe(JSON.stringify(expected));
  });

  it('sends only the required fields by default', () => {
    const request = optiweAdapter.buildSendRequest(message(), account({ baseUrl: 'http://127.0.0.1:9/' }));
    expect(request.url).toBe('http://127.0.0.1:9/whatsapp-campaigns/customers/');
    expect(JSON.parse(request.body ?? '')).toEqual({
      customerPhone: '1155174499',
      customerCountryCode: '+54',
      messagePayload: { text: 'Hola Diego, queremos recordarle que para el día de hoy a las 15:30 tiene un turno en Centro Medico Deragopyan.' },
    });
  });

  it("reads buttons in the engine's shape too ({type, text, value}: the URL or the phone number)", () => {
    const engineButtons = [
      { type: 'PHONE_NUMBER' as const, text: 'Llamanos', value: '543424010203' },
      { type: 'URL' as const, text: 'Nuestra web', value: 'https://example.com/{{1}}' },
      { type: 'QUICK_REPLY' as const, text: 'Responder' },
    ];
    const ref = { ...template('Hola {{1}}'), buttons: engineButtons };
    expect(templateButtons(ref)).toEqual([
      { type: 'PHONE_NUMBER', text: 'Llamanos', phoneNumber: '543424010203' },
      { type: 'URL', text: 'Nuestra web', url: 'https://example.com/{{1}}' },
      { type: 'QUICK_REPLY', text: 'Responder' },
    ]);
    const body = optiweAdapter.buildSendRequest(message({ template: ref, variables: ['Diego'], buttonParams: [{ index: 1, subType: 'url', value: 'bob/' }] }), account()).body ?? '';
    expect((JSON.parse(body) as { messagePayload: { text: string } }).messagePayload.text).toBe(
      'Hola Diego | [Llamanos,543424010203] | [Nuestra web,https://example.com/bob/] | [Responder]',
    );
  });

  it('takes the buttons from the template it is given (withOptiweButtons)', () => {
    const withButtons = withOptiweButtons(template(manual.CREATE_CALL_TO_ACTION_REQUEST.text), storedButtons);
    expect(templateButtons(withButtons)).toEqual(storedButtons);
    expect(templateButtons(template('Hola'))).toEqual([]);
    const request = optiweAdapter.buildSendRequest(
      message({ template: withButtons, variables: ['Diego'], buttonParams: [{ index: 1, subType: 'url', value: 'bob/' }] }),
      account(),
    );
    expect((JSON.parse(request.body ?? '') as { messagePayload: { text: string } }).messagePayload.text).toBe(
      'Hola Diego. Puedes llamarnos o vistar nuestra web para responder a tu consulta | [Llamanos,543424010203] | [Nuestra web,https://example.com/bob/]',
    );
  });

  it('keeps button text byte for byte (the listed "Nuestra web " has a trailing space) and URLs without placeholders as is', () => {
    const listed: OptiweButton[] = [{ type: 'URL', text: 'Nuestra web ', url: 'https://optiwe.com/es/', urlExample: 'https://optiwe.com/es/' }];
    expect(renderOptiweText('Hola', [], listed)).toBe('Hola | [Nuestra web ,https://optiwe.com/es/]');
  });

  it("takes replacement values literally and refuses to render with a value missing (the template's scope)", () => {
    expect(renderOptiweText('Total {{1}}', ['$& 10'])).toBe('Total $& 10');
    expectBuildError(() => renderOptiweText('Hola {{1}} {{2}}', ['Diego']), 'template', /\{\{2\}\} has no value/);
    expectBuildError(() => renderOptiweText('Hola', [], storedButtons), 'template', /URL button 1/);
    expectBuildError(() => optiweAdapter.buildSendRequest(message({ media: { type: 'image', link: 'https://x/y.png' } }), account()), 'template', /text only/);
  });

  it("refuses a variable holding the button mark \" | [\", which Optiwe would read as a button: that recipient's scope", () => {
    expectBuildError(() => renderOptiweText('Hola {{1}}', ['Ana | [Llamanos]']), 'recipient', /^Variable 1 holds " \| \["/);
    expectBuildError(() => renderOptiweText('Hola {{1}} {{2}}', ['Ana', 'b |[x']), 'recipient', /^Variable 2/);
    expect(renderOptiweText('Hola {{1}}', ['Ana | Bea [2]'])).toBe('Hola Ana | Bea [2]');
  });
});

describe('splitting E.164 for Optiwe', () => {
  it.each([
    ['+5491155174499', 'strip', '+54', '1155174499'],
    ['+5491155174499', 'keep', '+54', '91155174499'],
    ['+541155174499', 'strip', '+54', '1155174499'],
    ['+543442000000', 'strip', '+54', '3442000000'],
    ['+525512345678', 'strip', '+52', '5512345678'],
    ['+5511987654321', 'strip', '+55', '11987654321'],
    ['+14155550123', 'strip', '+1', '4155550123'],
    ['+573001234567', 'strip', '+57', '3001234567'],
  ] as const)('%s (%s) -> %s %s', (e164, nine, countryCode, phone) => {
    expect(splitPhone(e164, nine)).toEqual({ countryCode, phone });
  });

  it("refuses what is not E.164: that recipient's scope", () => {
    expectBuildError(() => splitPhone('1155174499'), 'recipient', /Not an E\.164 phone number/);
    expectBuildError(() => optiweAdapter.buildSendRequest(message({ phone: '+12' }), account()), 'recipient', /Not an E\.164/);
  });
});

describe('Optiwe single-send response', () => {
  it('201 with the empty body is sent, with no message id and nothing raw', () => {
    const outcome = parseOptiweSendResponse(response(201, manual.SEND_201_BODY));
    expect(outcome).toMatchObject({ kind: 'sent', code: 'SENT', providerCode: '201' });
    expect(outcome.messageId).toBeUndefined();
    expect(outcome.raw).toBeUndefined();
  });

  it('a 2xx with an unexpected body is still sent (never resent), with the body kept', () => {
    expect(parseOptiweSendResponse(response(200, '{"ok":true}'))).toMatchObject({ kind: 'sent', raw: '{"ok":true}' });
  });

  it.each([
    [manual.SEND_TEMPLATE_NOT_FOUND_400_BODY, 400, 'template_error', 'TEMPLATE_NOT_FOUND', 'TEMPLATE_NOT_FOUND'],
    [manual.SEND_TEMPLATE_NOT_APPROVED_400_BODY, 400, 'template_error', 'TEMPLATE_NOT_APPROVED', 'TEMPLATE_NOT_APPROVED'],
    [manual.INVALID_WHATSAPP_NUMBER_400_BODY, 400, 'recipient_error', 'RECIPIENT_INVALID', 'INVALID_WHATSAPP_NUMBER'],
    [manual.CUSTOMER_OPTED_OUT_400_BODY, 400, 'opted_out', 'RECIPIENT_OPTED_OUT', 'CUSTOMER_OPTED_OUT'],
    [manual.OUTBOUND_LIMIT_EXCEEDED_400_BODY, 400, 'account_limited', 'ACCOUNT_TIER_LIMIT', 'WHATSAPP_OUTBOUND_LIMIT_EXCEEDED'],
    [manual.INVALID_CUSTOMER_FIELDS_400_BODY, 400, 'account_error', 'ACCOUNT_MISCONFIGURED', 'INVALID_CUSTOMER_FIELDS'],
    [manual.REQUESTS_LIMIT_REACHED_400_BODY, 400, 'rate_limited', 'RATE_LIMITED', 'REQUESTS_LIMIT_REACHED'],
    [manual.NOT_AUTHENTICATED_401_BODY, 401, 'account_error', 'ACCOUNT_AUTH_FAILED', 'NOT_AUTHENTICATED'],
    [manual.OUTBOUND_NOT_ENABLED_400_BODY, 400, 'account_error', 'ACCOUNT_MISCONFIGURED', 'WHATSAPP_OUTBOUND_NOT_ENABLED'],
    [manual.BULK_INVALID_TEMPLATE_PLACEHOLDER_422_BODY, 422, 'template_error', 'TEMPLATE_PARAMS_INVALID', 'INVALID_TEMPLATE_PLACEHOLDER'],
  ] as const)('manual error %#: %s -> %s', (body, status, kind, code, key) => {
    const outcome = parseOptiweSendResponse(response(status, body));
    const manualMessage = (JSON.parse(body) as { error: { message: string } }).error.message;
    expect(outcome).toMatchObject({ kind, code, providerCode: key, providerText: manualMessage });
    expect(outcome.message.length).toBeGreaterThan(10);
  });

  it('the error table names only real outcome codes, and every manual key', () => {
    expect(Object.keys(OPTIWE_ERROR_RULES).sort()).toEqual(
      [
        'CUSTOMER_OPTED_OUT',
        'INVALID_CUSTOMER_FIELDS',
        'INVALID_TEMPLATE_PLACEHOLDER',
        'INVALID_WHATSAPP_NUMBER',
        'NOT_AUTHENTICATED',
        'REQUESTS_LIMIT_REACHED',
        'TEMPLATE_NOT_APPROVED',
        'TEMPLATE_NOT_FOUND',
        'WHATSAPP_OUTBOUND_LIMIT_EXCEEDED',
        'WHATSAPP_OUTBOUND_NOT_ENABLED',
      ].sort(),
    );
  });

  it('an error body under a 2xx is an error', () => {
    expect(parseOptiweSendResponse(response(201, manual.CUSTOMER_OPTED_OUT_400_BODY))).toMatchObject({ kind: 'opted_out' });
  });

  it('falls back on the status for bodies without a known key', () => {
    expect(parseOptiweSendResponse(response(401, ''))).toMatchObject({ kind: 'account_error', code: 'ACCOUNT_AUTH_FAILED' });
    expect(parseOptiweSendResponse(response(429, 'slow down', { 'retry-after': '7' }))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 7000 });
    expect(parseOptiweSendResponse(response(502, '<html>Bad gateway</html>'))).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNAVAILABLE', raw: '<html>Bad gateway</html>' });
    expect(parseOptiweSendResponse(response(400, '{"error":{"key":"SOMETHING_NEW","message":"new"}}'))).toMatchObject({
      kind: 'retry',
      code: 'PROVIDER_UNDOCUMENTED_RESPONSE',
      providerCode: 'SOMETHING_NEW',
      providerText: 'new',
      raw: '{"error":{"key":"SOMETHING_NEW","message":"new"}}',
    });
    expect(parseOptiweSendResponse(response(418, 'teapot'))).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE', raw: 'teapot' });
    expect(parseOptiweSendResponse(response(200, '{"error":{"key":"SOMETHING_NEW"}}'))).toMatchObject({ kind: 'retry', providerCode: 'SOMETHING_NEW' });
  });

  it('a Retry-After header rides along on a rate limit', () => {
    expect(parseOptiweSendResponse(response(400, manual.REQUESTS_LIMIT_REACHED_400_BODY, { 'Retry-After': '30' }))).toMatchObject({ retryAfterMs: 30_000 });
  });

  it('never puts the token in an outcome', () => {
    const outcomes = [manual.NOT_AUTHENTICATED_401_BODY, 'garbage', ''].map((body) => parseOptiweSendResponse(response(401, body)));
    for (const outcome of outcomes) expect(JSON.stringify(outcome)).not.toContain(TOKEN);
  });
});
