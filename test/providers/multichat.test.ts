/**
 * contacto-multichat's pure build/parse functions against every example and code in its manual
 * (contacto-multichat's API manual; see src/providers/multichat/multichat-protocol.md). No network.
 */
import { describe, expect, it } from 'vitest';
import {
  buildBalanceRequest,
  buildTemplateListRequest,
  classifyMultichatAsyncFailure,
  formatTemplateVariables,
  multichatAdapter,
  multichatPhoneRule,
  parseBalanceResponse,
  parseTemplateListResponse,
  readMultichatCode,
  type MultichatAccount,
} from '../../src/providers/multichat/index.js';
import type { HttpResponse, OutboundMessage } from '../../src/providers/types.js';
import { expectBuildError } from './build-error.js';

const TOKEN = 'multichat-secret-token-456';
const account: MultichatAccount = {
  id: 'acc-1',
  config: multichatAdapter.configSchema.parse({}),
  credentials: { login: 'empresa', token: TOKEN },
};

function message(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    reference: 'rcp-1',
    phone: '+573102111111',
    template: { name: 'pago', externalId: '101', language: 'es', category: 'UTILITY', body: 'Hola {{1}}, pago {{2}} el {{3}}', paramNames: [] },
    variables: ['Carlos', '$100', 'miércoles'],
    ...overrides,
  };
}

const res = (status: number, body: string, headers: Record<string, string> = {}): HttpResponse => ({ status, headers, body });
const form = (body: string | undefined): Record<string, string> => Object.fromEntries(new URLSearchParams(body ?? ''));

describe('multichat config', () => {
  it('defaults the base URL to the real host and needs login and token', () => {
    expect(multichatAdapter.configSchema.parse({})).toEqual({ baseUrl: 'https://contacto-multichat.com' });
    expect(multichatAdapter.credentialsSchema.safeParse({ login: 'x' }).success).toBe(false);
  });
});

describe('multichat send: form post to /bot/chat_wa/ws/send/', () => {
  it("formats the manual's variables example exactly", () => {
    expect(formatTemplateVariables(['Carlos', '$100', 'miércoles'])).toBe('[Carlos] [$100] [miércoles]');
  });

  it("builds the form to the manual's endpoint, with the manual's mobile example and the reference as custom_field", () => {
    const request = multichatAdapter.buildSendRequest(message(), account);
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://contacto-multichat.com/bot/chat_wa/ws/send/');
    expect(request.headers).toEqual({ 'content-type': 'application/x-www-form-urlencoded' });
    expect(request.body).toBe(
      `login=empresa&token=${TOKEN}&id_template=101&template_variables=%5BCarlos%5D+%5B%24100%5D+%5Bmi%C3%A9rcoles%5D&mobile=573102111111&custom_field=rcp-1`,
    );
    expect(form(request.body)).toEqual({
      login: 'empresa',
      token: TOKEN,
      id_template: '101',
      template_variables: '[Carlos] [$100] [miércoles]',
      mobile: '573102111111',
      custom_field: 'rcp-1',
    });
  });

  it('leaves template_variables out when the template has none', () => {
    expect(form(multichatAdapter.buildSendRequest(message({ variables: [] }), account).body)).not.toHaveProperty('template_variables');
  });

  it('keeps a bracket inside a variable from splitting it', () => {
    expect(formatTemplateVariables(['a [b] c'])).toBe('[a ［b］ c]');
  });

  it("sends the manual's media URL example as media, without media_name", () => {
    const link = 'https://servercliente.com/jemplo-de-Archivo-PDF-508.pdf';
    const fields = form(multichatAdapter.buildSendRequest(message({ media: { type: 'document', link } }), account).body);
    expect(fields.media).toBe(link);
    expect(fields).not.toHaveProperty('media_name');
  });

  it('sends base64 media with a media_name of 10 to 60 characters, and refuses any other length', () => {
    const base64 = Buffer.from('%PDF-1.4 test').toString('base64');
    const withName = (filename: string) => message({ media: { type: 'document', base64, filename } });
    expect(form(multichatAdapter.buildSendRequest(withName('factura.pdf'), account).body)).toMatchObject({ media: base64, media_name: 'factura.pdf' });
    expect(() => multichatAdapter.buildSendRequest(withName('x'.repeat(60)), account)).not.toThrow();
    // Header media is the campaign's: a problem with it is the template's scope.
    expectBuildError(() => multichatAdapter.buildSendRequest(withName('a.pdf'), account), 'template', /10 to 60 characters; got 5/);
    expectBuildError(() => multichatAdapter.buildSendRequest(withName('x'.repeat(61)), account), 'template', /10 to 60/);
    expectBuildError(() => multichatAdapter.buildSendRequest(message({ media: { type: 'document', base64 } }), account), 'template', /media_name/);
    // MediaRef.id carries base64 for this provider too.
    expect(form(multichatAdapter.buildSendRequest(message({ media: { type: 'document', id: base64, filename: 'factura.pdf' } }), account).body).media).toBe(base64);
  });

  it('refuses what it cannot express, naming what is wrong: the template (no id_template, button parameters) or the recipient (a reference over 1,000 characters)', () => {
    expectBuildError(() => multichatAdapter.buildSendRequest(message({ template: { ...message().template, externalId: null } }), account), 'template', /id_template/);
    expectBuildError(() => multichatAdapter.buildSendRequest(message({ buttonParams: [{ index: 0, subType: 'url', value: 'x' }] }), account), 'template', /button/);
    expectBuildError(() => multichatAdapter.buildSendRequest(message({ reference: 'r'.repeat(1001) }), account), 'recipient', /1000/);
    expectBuildError(() => multichatAdapter.buildSendRequest(message({ media: { type: 'image', link: 'ftp://x.test/a.png' } }), account), 'template', /http\(s\) URL/);
  });

  it.each([
    [1, 'sent', 'SENT', 'Message sent'],
    [2, 'account_error', 'ACCOUNT_AUTH_FAILED', 'authentication error'],
    [3, 'account_error', 'ACCOUNT_MISCONFIGURED', 'user without multiagent/chatbot'],
    [4, 'recipient_error', 'RECIPIENT_INVALID', 'error in the cell phone number to send'],
    [5, 'account_limited', 'ACCOUNT_NO_BALANCE', 'no balance or inactive chatbot/multiagent'],
    [6, 'template_error', 'TEMPLATE_PARAMS_INVALID', 'empty message'],
    [7, 'template_error', 'TEMPLATE_NOT_FOUND', 'id_template does not correspond to the project'],
    [8, 'template_error', 'TEMPLATE_PARAMS_INVALID', 'the number of variables received does not correspond to the number of variables created in the template'],
    [9, 'already_sent', 'ALREADY_SENT', 'messages repeated 60 seconds'],
    [10, 'recipient_error', 'RECIPIENT_MARKETING_CAP', 'Error: The maximum number of sends to this mobile number in the marketing category has been exceeded.'],
  ])('classifies return code %i', (value, kind, code, concept) => {
    const result = multichatAdapter.parseSendResponse(res(200, String(value)), message());
    expect(result).toMatchObject({ kind, code, providerCode: String(value), providerText: concept });
  });

  it('reads the code as a bare number, JSON, or a JSON object carrying it, and keeps a message id', () => {
    for (const body of ['1', ' 1\r\n', '"1"', '[1]', '{"code":1}', '{"Codigo":"1"}', '{"status":1,"message":"Mensaje enviado"}']) {
      expect(readMultichatCode(body)?.code).toBe(1);
    }
    const json = multichatAdapter.parseSendResponse(res(200, '{"respuesta":1,"mensaje":"Mensajes enviado","messageId":"abc-1"}'), message());
    expect(json).toMatchObject({ kind: 'sent', messageId: 'abc-1', providerText: 'Mensajes enviado' });
    expect(multichatAdapter.parseSendResponse(res(200, '{"code":9}'), message())).toMatchObject({ kind: 'already_sent' });
  });

  it('lets a documented code decide even under another HTTP status', () => {
    expect(multichatAdapter.parseSendResponse(res(401, '2'), message())).toMatchObject({ code: 'ACCOUNT_AUTH_FAILED' });
  });

  it('answers anything else with retry, keeping the body', () => {
    for (const body of ['0', '11', 'ok', '', '<html>error</html>', '{"status":"success"}', '{"code":1.5}', '[1,2]']) {
      expect(multichatAdapter.parseSendResponse(res(200, body), message())).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE', providerCode: '200' });
    }
    expect(multichatAdapter.parseSendResponse(res(502, '<html>Bad Gateway</html>'), message())).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNAVAILABLE' });
    expect(multichatAdapter.parseSendResponse(res(429, '', { 'retry-after': '1' }), message())).toMatchObject({ kind: 'rate_limited', retryAfterMs: 1000 });
  });

  it('never keeps the credentials a reply echoes back', () => {
    const echoed = multichatAdapter.parseSendResponse(res(200, `Warning: bad request login=empresa&token=${TOKEN}`), message());
    expect(JSON.stringify(echoed)).not.toContain(TOKEN);
    const inJson = multichatAdapter.parseSendResponse(res(200, `{"code":2,"message":"token=${TOKEN} is not valid"}`), message());
    expect(JSON.stringify(inJson)).not.toContain(TOKEN);
  });
});

describe('multichat phone rule for ingest', () => {
  it('passes Colombian numbers, 57 and 10 digits, and refuses the rest with a reason', () => {
    expect(multichatPhoneRule('+573102111111')).toBeNull();
    expect(multichatPhoneRule('573002222222')).toBeNull();
    for (const phone of ['+56911111111', '+57310211111', '+5731021111111', '+13102111111']) {
      expect(multichatPhoneRule(phone)).toMatchObject({ code: 'PHONE_NOT_COLOMBIAN', message: expect.stringMatching(/57 followed by 10 digits/) as unknown });
    }
  });
});

describe('multichat balance: /bot/chat_wa/ws/balance/', () => {
  it('posts login and token', () => {
    const request = buildBalanceRequest(account);
    expect(request.url).toBe('https://contacto-multichat.com/bot/chat_wa/ws/balance/');
    expect(form(request.body)).toEqual({ login: 'empresa', token: TOKEN });
  });

  it('reads a balance, or the documented codes 2 and 3', () => {
    expect(parseBalanceResponse(res(200, '{"saldo":1500}'))).toEqual({ ok: true, balance: 1500 });
    expect(parseBalanceResponse(res(200, '{"Balance":"1500.50"}'))).toEqual({ ok: true, balance: 1500.5 });
    expect(parseBalanceResponse(res(200, '1500'))).toEqual({ ok: true, balance: 1500 });
    expect(parseBalanceResponse(res(200, '2'))).toMatchObject({ ok: false, outcome: { code: 'ACCOUNT_AUTH_FAILED', providerCode: '2' } });
    expect(parseBalanceResponse(res(200, '{"code":3}'))).toMatchObject({ ok: false, outcome: { code: 'ACCOUNT_MISCONFIGURED', providerCode: '3' } });
    expect(parseBalanceResponse(res(200, '<html></html>'))).toMatchObject({ ok: false, outcome: { code: 'PROVIDER_UNDOCUMENTED_RESPONSE' } });
    expect(parseBalanceResponse(res(503, ''))).toMatchObject({ ok: false, outcome: { code: 'PROVIDER_UNAVAILABLE' } });
  });
});

describe('multichat templates: /bot/chat_wa/ws/template/', () => {
  it('posts login and token', () => {
    const request = buildTemplateListRequest(account);
    expect(request.url).toBe('https://contacto-multichat.com/bot/chat_wa/ws/template/');
    expect(form(request.body)).toEqual({ login: 'empresa', token: TOKEN });
  });

  it('normalizes template records', () => {
    const body = JSON.stringify([
      { id_template: 101, nombre: 'recordatorio_pago', texto: 'Hola {{1}}, su pago de {{2}} vence el {{3}}. {{1}}', estado: 'APROBADA' },
      { id: '102', name: 'promo', text: 'Oferta', status: 'PENDIENTE' },
      { id_template: '103', name: 'vieja', body: 'x {{1}}', status: 'REJECTED', variables: 2 },
      { nombre: 'sin id', texto: 'x' },
    ]);
    const result = parseTemplateListResponse(res(200, body));
    expect(result).toEqual({
      ok: true,
      templates: [
        { externalId: '101', name: 'recordatorio_pago', body: 'Hola {{1}}, su pago de {{2}} vence el {{3}}. {{1}}', paramCount: 3, status: 'approved', providerStatus: 'APROBADA' },
        { externalId: '102', name: 'promo', body: 'Oferta', paramCount: 0, status: 'pending', providerStatus: 'PENDIENTE' },
        { externalId: '103', name: 'vieja', body: 'x {{1}}', paramCount: 2, status: 'rejected', providerStatus: 'REJECTED' },
      ],
      skipped: [{ index: 3, problem: 'no template id or no text' }],
    });
    expect(parseTemplateListResponse(res(200, JSON.stringify({ data: [{ id: 7, text: 'x' }] })))).toMatchObject({ ok: true, templates: [{ externalId: '7' }] });
  });

  it('reads code 4 as an empty list and codes 2 and 3 as account errors', () => {
    expect(parseTemplateListResponse(res(200, '4'))).toEqual({ ok: true, templates: [], skipped: [] });
    expect(parseTemplateListResponse(res(200, '2'))).toMatchObject({ ok: false, outcome: { kind: 'account_error', code: 'ACCOUNT_AUTH_FAILED' } });
    expect(parseTemplateListResponse(res(200, '3'))).toMatchObject({ ok: false, outcome: { kind: 'account_error', code: 'ACCOUNT_MISCONFIGURED' } });
    expect(parseTemplateListResponse(res(200, '1'))).toMatchObject({ ok: false, outcome: { code: 'PROVIDER_UNDOCUMENTED_RESPONSE' } });
  });
});

describe('multichat asynchronous failures ("sending error, return balance")', () => {
  it.each([
    ['402', 'retry', 'PROVIDER_UNAVAILABLE'],
    ['471', 'account_error', 'ACCOUNT_RESTRICTED'],
    ['131048', 'account_error', 'ACCOUNT_RESTRICTED'],
    ['471 – 131048', 'account_error', 'ACCOUNT_RESTRICTED'],
    ['470', 'recipient_error', 'RECIPIENT_UNREACHABLE'],
    ['470 - 131047', 'recipient_error', 'RECIPIENT_UNREACHABLE'],
    ['1002', 'recipient_error', 'RECIPIENT_NOT_ON_WHATSAPP'],
    ['1003', 'account_limited', 'ACCOUNT_NO_BALANCE'],
    ['1004', 'account_error', 'ACCOUNT_MISCONFIGURED'],
    ['1005', 'template_error', 'TEMPLATE_NOT_APPROVED'],
    ['1006', 'recipient_error', 'RECIPIENT_UNREACHABLE'],
    ['1007', 'template_error', 'TEMPLATE_NOT_APPROVED'],
    ['1008', 'template_error', 'TEMPLATE_PARAMS_INVALID'],
    ['1010', 'template_error', 'TEMPLATE_PARAMS_INVALID'],
    ['1011', 'template_error', 'TEMPLATE_PARAMS_INVALID'],
    ['131021', 'recipient_error', 'RECIPIENT_INVALID'],
    ['132005', 'template_error', 'TEMPLATE_PARAMS_INVALID'],
    ['132007', 'template_error', 'TEMPLATE_REJECTED'],
    ['132015', 'template_error', 'TEMPLATE_PAUSED'],
    ['132016', 'template_error', 'TEMPLATE_REJECTED'],
    ['131031', 'account_error', 'ACCOUNT_RESTRICTED'],
  ])('classifies %s', (code, kind, normalized) => {
    expect(classifyMultichatAsyncFailure(code, 'sending error, return balance')).toMatchObject({
      kind,
      code: normalized,
      providerCode: code,
      providerText: 'sending error, return balance',
    });
  });

  it('takes a numeric code and retries an unknown one, keeping it', () => {
    expect(classifyMultichatAsyncFailure(1002)).toMatchObject({ code: 'RECIPIENT_NOT_ON_WHATSAPP', providerCode: '1002' });
    expect(classifyMultichatAsyncFailure('9999', 'nuevo')).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE', providerCode: '9999', providerText: 'nuevo' });
  });
});
