/**
 * Meta Cloud API template send, pure: the request for every component the notes describe
 * (body text, media header by link or id, quick-reply and URL buttons), and the success and
 * error shapes of the notes, read defensively.
 */
import { describe, expect, it } from 'vitest';
import { META_DEFAULT_API_VERSION, metaAdapter, parseMetaSendResponse, type MetaConfig, type MetaCredentials } from '../../src/providers/meta/index.js';
import type { AccountSettings, HttpResponse, OutboundMessage, TemplateRef } from '../../src/providers/types.js';
import { expectBuildError } from './build-error.js';

const TOKEN = 'EAAsecretMetaToken987654321';
const account = (config: Partial<MetaConfig> = {}): AccountSettings<MetaConfig, MetaCredentials> => ({
  id: 'acc-meta',
  config: { phoneNumberId: '106540352242922', ...config },
  credentials: { accessToken: TOKEN },
});
const response = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

const template: TemplateRef = { name: 'order_update', externalId: null, language: 'es_AR', category: 'UTILITY', body: 'Hola {{1}}, tu pedido {{2}} salió.', paramNames: [] };
const message = (overrides: Partial<OutboundMessage> = {}): OutboundMessage => ({
  reference: 'rcpt-1',
  phone: '+5491155174499',
  template,
  variables: ['Ana', 'A-123'],
  ...overrides,
});
const bodyOf = (m: OutboundMessage, config: Partial<MetaConfig> = {}) => JSON.parse(metaAdapter.buildSendRequest(m, account(config)).body ?? '') as unknown;

describe('Meta send request', () => {
  it('posts to {baseUrl}/{apiVersion}/{phoneNumberId}/messages with a bearer token', () => {
    const request = metaAdapter.buildSendRequest(message(), account());
    expect(request.method).toBe('POST');
    expect(request.url).toBe(`https://graph.facebook.com/${META_DEFAULT_API_VERSION}/106540352242922/messages`);
    expect(request.headers).toEqual({ Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' });
    expect(metaAdapter.buildSendRequest(message(), account({ baseUrl: 'http://127.0.0.1:9/', apiVersion: 'v21.0' })).url).toBe(
      'http://127.0.0.1:9/v21.0/106540352242922/messages',
    );
  });

  it('builds the template body exactly: body parameters as text, `to` in E.164 with its +', () => {
    expect(metaAdapter.buildSendRequest(message(), account()).body).toBe(
      JSON.stringify({
        messaging_product: 'whatsapp',
        to: '+5491155174499',
        type: 'template',
        template: {
          name: 'order_update',
          language: { code: 'es_AR' },
          components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }, { type: 'text', text: 'A-123' }] }],
        },
      }),
    );
  });

  it('omits components when there is nothing to fill', () => {
    expect(bodyOf(message({ template: { ...template, body: 'Hola' }, variables: [] }))).toEqual({
      messaging_product: 'whatsapp',
      to: '+5491155174499',
      type: 'template',
      template: { name: 'order_update', language: { code: 'es_AR' } },
    });
  });

  it.each([
    [{ type: 'image', link: 'https://cdn.example.com/a.png' }, { type: 'image', image: { link: 'https://cdn.example.com/a.png' } }],
    [{ type: 'video', id: '1234567890' }, { type: 'video', video: { id: '1234567890' } }],
    [{ type: 'document', link: 'https://cdn.example.com/f.pdf', filename: 'factura.pdf' }, { type: 'document', document: { link: 'https://cdn.example.com/f.pdf', filename: 'factura.pdf' } }],
  ] as const)('adds a media header %#', (media, parameter) => {
    expect(bodyOf(message({ media, variables: [] }))).toMatchObject({ template: { components: [{ type: 'header', parameters: [parameter] }] } });
  });

  it("refuses a media header with neither link nor id (Meta takes no base64): the campaign's media, so the template's scope", () => {
    expectBuildError(() => metaAdapter.buildSendRequest(message({ media: { type: 'image', base64: 'iVBOR' } }), account()), 'template', /link or an uploaded media id/);
  });

  it.each([
    ['a newline', 'Ana\nMaría'],
    ['a carriage return', 'Ana\r'],
    ['a tab', 'Ana\tMaría'],
    ['five spaces in a row', 'Ana     María'],
  ])("refuses a variable holding %s (Meta's rule for parameters): that recipient's scope", (_name, value) => {
    expectBuildError(() => metaAdapter.buildSendRequest(message({ variables: ['Ana', value] }), account()), 'recipient', /^Variable 2 holds a newline, a tab or more than 4 spaces/);
  });

  it('takes four spaces in a row, the most Meta allows', () => {
    expect(bodyOf(message({ variables: ['Ana    María', 'A-123'] }))).toMatchObject({ template: { components: [{ parameters: [{ text: 'Ana    María' }, { text: 'A-123' }] }] } });
  });

  it("refuses an account without a phoneNumberId (one stored before the schema required it): the account's scope", () => {
    const bare: AccountSettings<MetaConfig, MetaCredentials> = { ...account(), config: { phoneNumberId: '' } };
    expectBuildError(() => metaAdapter.buildSendRequest(message(), bare), 'account', /no phoneNumberId/);
  });

  it('refuses a named-parameter template that names fewer parameters than the message has values', () => {
    const named = { ...template, body: 'Hola {{first_name}}, tu pedido {{order}} salió.', paramNames: ['first_name'] };
    expectBuildError(() => metaAdapter.buildSendRequest(message({ template: named }), account()), 'template', /names 1 of the 2 values/);
  });

  it('adds buttons in index order: quick reply payload, URL suffix', () => {
    const built = bodyOf(
      message({
        buttonParams: [
          { index: 1, subType: 'url', value: 'A-123' },
          { index: 0, subType: 'quick_reply', value: 'STOP_PROMOS' },
        ],
      }),
    ) as { template: { components: unknown[] } };
    expect(built.template.components.slice(1)).toEqual([
      { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'STOP_PROMOS' }] },
      { type: 'button', sub_type: 'url', index: '1', parameters: [{ type: 'text', text: 'A-123' }] },
    ]);
  });

  it('names the parameters of a template with named placeholders', () => {
    const named = { ...template, body: 'Hola {{first_name}}, tu pedido {{order}} salió.', paramNames: ['first_name', 'order'] };
    expect(bodyOf(message({ template: named }))).toMatchObject({
      template: {
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', parameter_name: 'first_name', text: 'Ana' },
              { type: 'text', parameter_name: 'order', text: 'A-123' },
            ],
          },
        ],
      },
    });
    // Positional placeholders win over names the engine may carry for other providers.
    expect(bodyOf(message({ template: { ...template, paramNames: ['a', 'b'] } }))).toMatchObject({
      template: { components: [{ parameters: [{ type: 'text', text: 'Ana' }, { type: 'text', text: 'A-123' }] }] },
    });
  });

  it('validates config: numeric ids, a Graph version, an http(s) baseUrl', () => {
    expect(metaAdapter.configSchema.safeParse({ phoneNumberId: '106540352242922' }).success).toBe(true);
    expect(metaAdapter.configSchema.safeParse({ phoneNumberId: '+5491155174499' }).success).toBe(false);
    expect(metaAdapter.configSchema.safeParse({ phoneNumberId: '1', apiVersion: '24' }).success).toBe(false);
    expect(metaAdapter.configSchema.safeParse({ phoneNumberId: '1', baseUrl: 'ftp://x' }).success).toBe(false);
    expect(metaAdapter.credentialsSchema.safeParse({ accessToken: '' }).success).toBe(false);
  });
});

describe('Meta send response', () => {
  const success = { messaging_product: 'whatsapp', contacts: [{ input: '+5491155174499', wa_id: '5491155174499' }], messages: [{ id: 'wamid.HBgLNTQ5MTE1NTE3NDQ5ORUCABEYEjA=' }] };

  it('success -> sent with the wamid (and the wa_id Meta resolved)', () => {
    expect(parseMetaSendResponse(response(200, success))).toEqual({
      kind: 'sent',
      code: 'SENT',
      message: expect.any(String),
      messageId: 'wamid.HBgLNTQ5MTE1NTE3NDQ5ORUCABEYEjA=',
      providerCode: '200',
      providerText: 'wa_id 5491155174499',
    });
    const held = { ...success, messages: [{ id: 'wamid.X', message_status: 'held_for_quality_assessment' }] };
    expect(parseMetaSendResponse(response(200, held))).toMatchObject({ kind: 'sent', messageId: 'wamid.X', providerCode: 'held_for_quality_assessment' });
  });

  it.each([
    ['no messages', { contacts: success.contacts }],
    ['empty messages', { ...success, messages: [] }],
    ['a message without id', { ...success, messages: [{}] }],
    ['an empty id', { ...success, messages: [{ id: '' }] }],
    ['a non-string id', { ...success, messages: [{ id: 42 }] }],
    ['messages not a list', { ...success, messages: { id: 'wamid.X' } }],
    ['not JSON', '<html>ok</html>'],
    ['empty', ''],
  ])('a 200 with %s is undocumented: retried, body kept', (_name, body) => {
    const outcome = parseMetaSendResponse(response(200, body));
    expect(outcome).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE', providerCode: '200' });
    expect(outcome.raw).toBe(typeof body === 'string' ? body : JSON.stringify(body));
    expect(outcome.messageId).toBeUndefined();
  });

  const error = (code: number, details = 'details here') => ({
    error: { message: `(#${code}) Something`, type: 'OAuthException', code, error_data: { messaging_product: 'whatsapp', details }, fbtrace_id: 'Az8or2yhqkZfEZ-_4Qn_Bam' },
  });

  it('an error is classified by its code with the raw code and text beside', () => {
    expect(parseMetaSendResponse(response(400, error(132000, 'body: number of localizable_params (1) does not match the expected number of params (2)')))).toEqual({
      kind: 'template_error',
      code: 'TEMPLATE_PARAMS_INVALID',
      message: expect.any(String),
      providerCode: '132000',
      providerText: '(#132000) Something | body: number of localizable_params (1) does not match the expected number of params (2)',
    });
  });

  it('acts on the code, not the HTTP status', () => {
    expect(parseMetaSendResponse(response(500, error(131026)))).toMatchObject({ kind: 'recipient_error', code: 'RECIPIENT_NOT_ON_WHATSAPP' });
    expect(parseMetaSendResponse(response(200, error(131050)))).toMatchObject({ kind: 'opted_out', code: 'RECIPIENT_OPTED_OUT' });
    expect(parseMetaSendResponse(response(400, error(190)))).toMatchObject({ kind: 'account_error', code: 'ACCOUNT_AUTH_FAILED' });
    expect(parseMetaSendResponse(response(403, error(130429)))).toMatchObject({ kind: 'rate_limited' });
  });

  it('an unclassified code falls back on the status, keeping the code and the body', () => {
    expect(parseMetaSendResponse(response(503, error(999_999)))).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNAVAILABLE', providerCode: '999999' });
    expect(parseMetaSendResponse(response(429, error(999_999)))).toMatchObject({ kind: 'rate_limited', providerCode: '999999' });
    const unknown = parseMetaSendResponse(response(400, error(999_999)));
    expect(unknown).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE', providerCode: '999999' });
    expect(unknown.raw).toContain('999999');
  });

  it('without an error envelope the status decides', () => {
    expect(parseMetaSendResponse(response(401, ''))).toMatchObject({ code: 'ACCOUNT_AUTH_FAILED' });
    expect(parseMetaSendResponse(response(429, '', { 'retry-after': '3' }))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 3000 });
    expect(parseMetaSendResponse(response(502, 'Bad Gateway'))).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNAVAILABLE', raw: 'Bad Gateway' });
    expect(parseMetaSendResponse(response(404, 'nope'))).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE', raw: 'nope' });
  });

  it('a Retry-After header fills in a wait the table leaves open, and does not override one it sets', () => {
    expect(parseMetaSendResponse(response(400, error(130429), { 'Retry-After': '2' }))).toMatchObject({ retryAfterMs: 2000 });
    expect(parseMetaSendResponse(response(400, error(131049), { 'Retry-After': '2' }))).toMatchObject({ retryAfterMs: 86_400_000 });
  });

  it('131049 (marketing per-user cap) defers the recipient by a day: not a failure', () => {
    expect(parseMetaSendResponse(response(400, error(131049)))).toMatchObject({ kind: 'deferred', code: 'RECIPIENT_DAILY_CAP', retryAfterMs: 86_400_000, providerCode: '131049' });
  });

  it("131056 (pair rate) waits 4^n s for the message's attempt, never under the 6 s pair window", () => {
    const waits = [1, 2, 3, 4, 5].map((attempt) => metaAdapter.parseSendResponse(response(400, error(131056)), message({ attempt })).retryAfterMs);
    expect(waits).toEqual([6_000, 6_000, 16_000, 64_000, 256_000]);
    expect(metaAdapter.parseSendResponse(response(400, error(131056)), message())).toMatchObject({ kind: 'retry', code: 'RECIPIENT_PAIR_RATE', retryAfterMs: 6_000 });
  });

  it("code 100 naming the URL's object (a wrong phoneNumberId) pauses the account; naming a parameter's text fails the recipient; otherwise the template", () => {
    const objectMissing = {
      error: {
        message: "Unsupported post request. Object with ID '106540352242923' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
        type: 'GraphMethodException',
        code: 100,
        error_subcode: 33,
        fbtrace_id: 'AbC',
      },
    };
    expect(parseMetaSendResponse(response(400, objectMissing))).toMatchObject({ kind: 'account_error', code: 'ACCOUNT_MISCONFIGURED', providerCode: '100' });
    // The subcode alone says so too.
    expect(parseMetaSendResponse(response(400, { error: { ...objectMissing.error, message: '(#100) Invalid parameter' } }))).toMatchObject({ code: 'ACCOUNT_MISCONFIGURED' });
    expect(parseMetaSendResponse(response(400, error(100, 'Invalid phone_number_id')))).toMatchObject({ code: 'ACCOUNT_MISCONFIGURED' });
    expect(parseMetaSendResponse(response(400, error(100, 'Param text cannot have new-line/tab characters or more than 4 consecutive spaces')))).toMatchObject({
      kind: 'recipient_error',
      code: 'RECIPIENT_VARIABLES_INVALID',
    });
    expect(parseMetaSendResponse(response(400, error(100, 'Invalid parameter')))).toMatchObject({ kind: 'template_error', code: 'TEMPLATE_PARAMS_INVALID' });
    expect(parseMetaSendResponse(response(400, error(100, "Parameter name is missing or empty")))).toMatchObject({ kind: 'template_error' });
  });
});
