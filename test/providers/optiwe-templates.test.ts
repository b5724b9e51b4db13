/**
 * Optiwe templates, pure: local validation, the creation request (byte for byte against the
 * manual's three examples), and every creation and list response of the manual.
 */
import { describe, expect, it } from 'vitest';
import {
  buildCreateTemplateRequest,
  buildOptiweListTemplatesRequest,
  parseCreateTemplateResponse,
  parseOptiweListTemplatesResponse,
  validateOptiweTemplate,
  type OptiweConfig,
  type OptiweCredentials,
  type OptiweTemplateDraft,
} from '../../src/providers/optiwe/index.js';
import * as manual from '../../src/providers/optiwe/manual-examples.js';
import type { AccountSettings, HttpResponse } from '../../src/providers/types.js';

const TOKEN = 'optiwe-secret-token-42';
const account: AccountSettings<OptiweConfig, OptiweCredentials> = { id: 'acc-1', config: {}, credentials: { token: TOKEN } };
const response = (status: number, body: string): HttpResponse => ({ status, headers: { 'content-type': 'application/json' }, body });

const draft = (overrides: Partial<OptiweTemplateDraft> = {}): OptiweTemplateDraft => ({
  ...manual.CREATE_TEXT_REQUEST,
  ...overrides,
});

describe('validateOptiweTemplate', () => {
  it('accepts the three manual examples', () => {
    expect(validateOptiweTemplate(draft())).toEqual([]);
    expect(validateOptiweTemplate(manual.CREATE_CALL_TO_ACTION_REQUEST)).toEqual([]);
    expect(validateOptiweTemplate(manual.CREATE_QUICK_REPLY_REQUEST)).toEqual([]);
  });

  it('lists every problem at once', () => {
    const problems = validateOptiweTemplate({
      key: 'Reminder',
      name: 'reminder-1',
      text: ' ',
      example: '',
      category: 'AUTHENTICATION',
      language: 'PORTUGUESE',
      templateType: 'IMAGE',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Sí' },
        { type: 'URL', text: 'Una web', url: 'https://example.com' },
        { type: 'URL', text: 'Otra web', url: 'ftp://example.com' },
        { type: 'PHONE_NUMBER', text: 'Un texto de botón demasiado largo', phoneNumber: '+54 342 401' },
        { type: 'CALL', text: '' },
      ],
    });
    expect(problems).toEqual([
      'key "Reminder" may contain only lower-case letters, digits and "_"',
      'name "reminder-1" may contain only lower-case letters, digits and "_"',
      'text is empty',
      'example is empty',
      'category "AUTHENTICATION" must be MARKETING or UTILITY',
      'language "PORTUGUESE" must be SPANISH or ENGLISH (or an es/en language code)',
      'templateType "IMAGE" must be TEXT',
      'at most 3 buttons are allowed, found 5',
      'at most one URL button is allowed',
      'quick reply and call-to-action (URL, PHONE_NUMBER) buttons cannot be mixed',
      'button 3: a URL button needs an http(s) url',
      'button 4: text "Un texto de botón demasiado largo" is 33 characters, at most 20 are allowed',
      'button 4: a PHONE_NUMBER button needs phoneNumber as digits with the country code, like "543424010203"',
      'button 5: type "CALL" must be QUICK_REPLY, URL or PHONE_NUMBER',
      'button 5: text is empty',
    ]);
  });

  it('counts button text in characters, not bytes: 20 accented letters fit', () => {
    expect(validateOptiweTemplate(draft({ buttons: [{ type: 'QUICK_REPLY', text: 'áéíóúáéíóúáéíóúáéíóú' }] }))).toEqual([]);
    expect(validateOptiweTemplate(draft({ buttons: [{ type: 'QUICK_REPLY', text: 'áéíóúáéíóúáéíóúáéíóúx' }] }))).toHaveLength(1);
  });

  it('allows three quick replies, one URL plus one phone, and wants a urlExample for a URL placeholder', () => {
    const three = ['Sí', 'No', 'Luego'].map((text) => ({ type: 'QUICK_REPLY', text }));
    expect(validateOptiweTemplate(draft({ buttons: three }))).toEqual([]);
    expect(validateOptiweTemplate(draft({ buttons: [...three, { type: 'QUICK_REPLY', text: 'Nunca' }] }))).toEqual(['at most 3 buttons are allowed, found 4']);
    expect(validateOptiweTemplate(draft({ buttons: [{ type: 'PHONE_NUMBER', text: 'A', phoneNumber: '1' }, { type: 'PHONE_NUMBER', text: 'B', phoneNumber: '543424010203' }] }))).toContain(
      'at most one PHONE_NUMBER button is allowed',
    );
    expect(validateOptiweTemplate(draft({ buttons: [{ type: 'URL', text: 'Web', url: 'https://example.com/{{1}}' }] }))).toEqual([
      'button 1: a URL with a placeholder needs a urlExample',
    ]);
  });

  it('takes language codes as well as Optiwe words', () => {
    for (const language of ['es', 'es_AR', 'es-MX', 'en', 'en_US', 'SPANISH', 'english']) expect(validateOptiweTemplate(draft({ language }))).toEqual([]);
  });
});

describe('buildCreateTemplateRequest', () => {
  it.each([
    ['text', manual.CREATE_TEXT_REQUEST],
    ['call to action', manual.CREATE_CALL_TO_ACTION_REQUEST],
    ['quick reply', manual.CREATE_QUICK_REPLY_REQUEST],
  ] as const)('reproduces the manual %s example byte for byte', (_name, example) => {
    const result = buildCreateTemplateRequest(example, account);
    if (!result.ok) throw new Error(result.problems.join('; '));
    expect(result.request).toEqual({
      method: 'POST',
      url: 'https://backend.optiwe.com/whatsapp-templates/',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(example),
    });
  });

  it('maps engine values: key defaults to name, es -> SPANISH, TEXT by default, no empty buttons list', () => {
    const result = buildCreateTemplateRequest({ name: 'promo_1', text: 'Hola {{1}}', example: 'Hola Ana', category: 'MARKETING', language: 'es_AR', buttons: [] }, account);
    expect(result.ok && JSON.parse(result.request.body ?? '')).toEqual({
      key: 'promo_1',
      name: 'promo_1',
      text: 'Hola {{1}}',
      example: 'Hola Ana',
      category: 'MARKETING',
      templateType: 'TEXT',
      language: 'SPANISH',
    });
  });

  it('returns the problems instead of a request when invalid', () => {
    expect(buildCreateTemplateRequest(draft({ name: 'Bad Name', key: undefined }), account)).toEqual({
      ok: false,
      problems: ['key "Bad Name" may contain only lower-case letters, digits and "_"', 'name "Bad Name" may contain only lower-case letters, digits and "_"'],
    });
  });
});

describe('parseCreateTemplateResponse', () => {
  it('maps the 201 body into a normalized, pending record with buttons in Optiwe order', () => {
    expect(parseCreateTemplateResponse(response(201, manual.CREATE_201_BODY))).toEqual({
      ok: true,
      template: {
        externalId: '76',
        name: 'reminder',
        key: 'reminder',
        body: 'Hola {{1}}, queremos recordarle que para el día de hoy a las {{2}} tiene un turno en {{3}}.',
        paramCount: 3,
        language: 'es',
        category: 'MARKETING',
        status: 'pending',
        providerStatus: 'IN_REVIEW',
        buttons: [
          { type: 'PHONE_NUMBER', text: 'Llamanos', phoneNumber: '543424010203' },
          { type: 'URL', text: 'Nuestra web', url: 'https://example.com/{{1}}', urlExample: 'https://example.com/bob/' },
        ],
      },
    });
  });

  it('TEMPLATE_ALREADY_EXISTS', () => {
    expect(parseCreateTemplateResponse(response(400, manual.TEMPLATE_ALREADY_EXISTS_400_BODY))).toEqual({
      ok: false,
      problem: 'already_exists',
      providerCode: 'TEMPLATE_ALREADY_EXISTS',
      providerText: 'The template already exists.',
    });
  });

  it.each([
    [manual.BAD_REQUEST_BODY_BUTTONS_400_BODY, { buttons: 'Buttons length must be greater than 0 and up to 3 buttons' }],
    [manual.BAD_REQUEST_BODY_NAME_400_BODY, { name: 'Key and name are only allowed to have small letters, numbers and underscore. Found: N' }],
  ])('BAD_REQUEST_BODY with details %#', (body, details) => {
    expect(parseCreateTemplateResponse(response(400, body))).toEqual({ ok: false, problem: 'invalid', providerCode: 'BAD_REQUEST_BODY', providerText: 'Validation error', details });
  });

  it('NOT_AUTHENTICATED and undocumented answers are request failures with an engine outcome', () => {
    expect(parseCreateTemplateResponse(response(401, manual.NOT_AUTHENTICATED_401_BODY))).toMatchObject({
      ok: false,
      problem: 'request_failed',
      outcome: { kind: 'account_error', code: 'ACCOUNT_AUTH_FAILED' },
    });
    expect(parseCreateTemplateResponse(response(201, '{"unexpected":true}'))).toMatchObject({ ok: false, outcome: { code: 'PROVIDER_UNDOCUMENTED_RESPONSE', raw: '{"unexpected":true}' } });
  });
});

describe('template sync', () => {
  it('builds the GET', () => {
    expect(buildOptiweListTemplatesRequest(account)).toEqual({
      method: 'GET',
      url: 'https://backend.optiwe.com/whatsapp-templates/',
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
  });

  it('parses the manual list example', () => {
    expect(parseOptiweListTemplatesResponse(response(200, manual.LIST_200_BODY))).toEqual({
      ok: true,
      skipped: [],
      templates: [
        {
          externalId: '75',
          name: 'plantilla_1',
          key: 'plantilla_1',
          body: 'Hola',
          paramCount: 0,
          language: 'es',
          category: 'UTILITY',
          status: 'pending',
          providerStatus: 'IN_REVIEW',
          buttons: [{ type: 'URL', text: 'Nuestra web ', url: 'https://optiwe.com/es/', urlExample: 'https://optiwe.com/es/' }],
        },
      ],
    });
  });

  it('maps every status, counts distinct placeholders, and skips entries it cannot read', () => {
    const entry = (id: number, status: string, text: string) => ({ id, key: `t${id}`, name: `t${id}`, text, status, category: 'MARKETING', language: 'ENGLISH' });
    const body = JSON.stringify({
      templates: [entry(1, 'IN_REVIEW', 'a'), entry(2, 'APPROVED', 'Hi {{1}}, {{2}} and {{1}} again'), entry(3, 'DENIED', 'c'), entry(4, 'SOMETHING_ELSE', 'd'), { id: 5 }],
    });
    const result = parseOptiweListTemplatesResponse(response(200, body));
    if (!result.ok) throw new Error('expected ok');
    expect(result.templates.map((t) => [t.status, t.paramCount, t.language])).toEqual([
      ['pending', 0, 'en'],
      ['approved', 2, 'en'],
      ['rejected', 0, 'en'],
      ['pending', 0, 'en'],
    ]);
    expect(result.skipped).toHaveLength(1);
    expect(result.skipped[0]?.index).toBe(4);
  });

  it('NOT_AUTHENTICATED on the list pauses the account', () => {
    expect(parseOptiweListTemplatesResponse(response(401, manual.NOT_AUTHENTICATED_401_BODY))).toMatchObject({ ok: false, outcome: { code: 'ACCOUNT_AUTH_FAILED' } });
    expect(parseOptiweListTemplatesResponse(response(200, '[]'))).toMatchObject({ ok: false, outcome: { code: 'PROVIDER_UNDOCUMENTED_RESPONSE' } });
  });
});
