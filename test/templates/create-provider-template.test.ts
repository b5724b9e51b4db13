/**
 * POST /v1/accounts/:id/provider-templates against a local Optiwe: every problem of a draft
 * listed before anything is sent, the template stored as pending with Optiwe's id, and a later
 * sync turning it approved. Providers with no creation API are refused without a request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, expectStatus, type ApiHarness, type PublicAccount, type PublicTemplate } from '../api/api-harness.js';
import { startFakeMeta, type FakeMeta } from '../fakes/meta-server.js';
import { startFakeMultichatServer, type FakeMultichatServer } from '../fakes/multichat-server.js';
import { startFakeOptiwe, type FakeOptiwe } from '../fakes/optiwe-server.js';
import { createProviderAccount, startTemplateApi, type SyncBody } from './template-harness.js';

const OPTIWE_TOKEN = 'optiwe-create-token-9b2e';

let h: ApiHarness;
let optiwe: FakeOptiwe;
let account: PublicAccount;

beforeAll(async () => {
  h = await startTemplateApi({ sendTimeoutMs: 1_000 });
  optiwe = await startFakeOptiwe({ token: OPTIWE_TOKEN });
  account = await createProviderAccount(h.api, 'optiwe', { baseUrl: optiwe.url }, { token: OPTIWE_TOKEN });
});
afterAll(async () => {
  await optiwe.close();
  await h.close();
});

type StoredTemplate = PublicTemplate & { externalId: string | null; category: string };

const create = (accountId: string, body: Record<string, unknown>) => h.api.post(`/v1/accounts/${accountId}/provider-templates`, body);
const reminder = {
  name: 'recordatorio_turno',
  body: 'Hola {{1}}, queremos recordarle que hoy a las {{2}} tiene un turno.',
  example: 'Hola Bob, queremos recordarle que hoy a las 14:00 tiene un turno.',
  category: 'UTILITY',
  language: 'es',
  buttons: [
    { type: 'URL', text: 'Nuestra web', url: 'https://example.com/{{1}}', urlExample: 'https://example.com/bob' },
    { type: 'PHONE_NUMBER', text: 'Llamanos', phoneNumber: '543424010203' },
  ],
};
const templatesRequests = () => optiwe.requests.filter((r) => r.path === '/whatsapp-templates/' && r.method === 'POST');

describe('Optiwe', () => {
  it('creates the template at Optiwe and stores it pending, with Optiwe\'s id; a sync approves it later', async () => {
    const response = await create(account.id, reminder);
    const template = expectStatus<StoredTemplate>(response, 201);
    const atOptiwe = optiwe.templates.find((t) => t.name === 'recordatorio_turno');
    expect(template).toMatchObject({
      accountId: account.id,
      name: 'recordatorio_turno',
      externalId: String(atOptiwe?.id),
      language: 'es',
      category: 'UTILITY',
      paramCount: 2,
      status: 'pending',
    });
    expect(templatesRequests().at(-1)?.json).toEqual({
      key: 'recordatorio_turno',
      name: 'recordatorio_turno',
      text: reminder.body,
      example: reminder.example,
      category: 'UTILITY',
      templateType: 'TEXT',
      language: 'SPANISH',
      buttons: reminder.buttons,
    });
    expect(response.body).not.toContain(OPTIWE_TOKEN);
    // Its buttons are stored in the engine's shape at once, as Optiwe answered them.
    expect((await h.ctx.db.prisma.template.findUniqueOrThrow({ where: { id: template.id } })).buttons).toEqual([
      { type: 'URL', text: 'Nuestra web', value: 'https://example.com/{{1}}' },
      { type: 'PHONE_NUMBER', text: 'Llamanos', value: '543424010203' },
    ]);

    // A campaign cannot start on it yet; once Optiwe approves it, a sync says so.
    if (atOptiwe) atOptiwe.status = 'APPROVED';
    expect(expectStatus<SyncBody>(await h.api.post(`/v1/accounts/${account.id}/templates/sync`), 200)).toMatchObject({ created: 0, updated: 1 });
    expect((await h.ctx.db.prisma.template.findUniqueOrThrow({ where: { id: template.id } })).status).toBe('approved');
  });

  it('lists every problem of a draft at once, in the engine\'s field names, and sends nothing', async () => {
    const before = templatesRequests().length;
    const response = await create(account.id, {
      name: 'Recordatorio Turno',
      body: 'Hola {{1}}, su turno es {{3}}',
      example: 'Hola {{1}}',
      category: 'PROMO',
      language: 'pt',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Responder ahora mismo, por favor' },
        { type: 'URL', text: 'Web', url: 'ftp://example.com' },
      ],
    });
    const problems = expectError(response, 400, 'VALIDATION_FAILED').details?.problems;
    expect(problems).toEqual([
      'name "Recordatorio Turno" may contain only lower-case letters, digits and "_"',
      'category "PROMO" must be MARKETING or UTILITY',
      'language "pt" must be SPANISH or ENGLISH (or an es/en language code)',
      'quick reply and call-to-action (URL, PHONE_NUMBER) buttons cannot be mixed',
      'button 1: text "Responder ahora mismo, por favor" is 32 characters, at most 20 are allowed',
      'button 2: a URL button needs an http(s) url',
      'body: placeholders must be numbered {{1}} to {{2}} without gaps; {{2}} is missing',
      'example: replace every {{n}} with a sample value',
    ]);
    expect(templatesRequests().length).toBe(before);
  });

  it('an empty body and example are problems too; a wrong shape is refused before the rules', async () => {
    const problems = expectError(await create(account.id, { name: 'vacia', body: ' ', example: '' }), 400, 'VALIDATION_FAILED').details?.problems;
    expect(problems).toEqual(['body is empty', 'example is empty']);
    const shape = expectError(await create(account.id, { name: 5, buttons: 'none' }), 400, 'VALIDATION_FAILED').details?.problems;
    expect(shape).toEqual(expect.arrayContaining([expect.stringMatching(/^name: /), expect.stringMatching(/^body: /), expect.stringMatching(/^buttons: /)]));
  });

  it('a name Optiwe already has is 409 PROVIDER_TEMPLATE_EXISTS, pointing at sync', async () => {
    optiwe.addTemplate({ name: 'ya_existe', text: 'Hola {{1}}' });
    const error = expectError(await create(account.id, { ...reminder, name: 'ya_existe', buttons: [] }), 409, 'PROVIDER_TEMPLATE_EXISTS');
    expect(error.message).toBe('A template named "ya_existe" already exists at Optiwe; pick another name, or sync the account\'s templates to import it.');
    expect(await h.ctx.db.prisma.template.count({ where: { accountId: account.id, name: 'ya_existe' } })).toBe(0);
  });

  it('Optiwe\'s own validation error is 422 PROVIDER_TEMPLATE_INVALID with each field\'s complaint', async () => {
    optiwe.script({
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: { key: 'BAD_REQUEST_BODY', message: 'Validation error', details: { buttons: 'Buttons length must be greater than 0 and up to 3 buttons', text: 'Too long' } } }),
    });
    const error = expectError(await create(account.id, { ...reminder, name: 'rechazada_por_optiwe' }), 422, 'PROVIDER_TEMPLATE_INVALID');
    expect(error.details?.problems).toEqual(['buttons: Buttons length must be greater than 0 and up to 3 buttons', 'body: Too long']);
  });

  it('a timeout is 503 saying the template may or may not exist at Optiwe now', async () => {
    optiwe.script({ hang: true });
    const error = expectError(await create(account.id, { ...reminder, name: 'quizas_creada' }), 503, 'PROVIDER_UNAVAILABLE');
    expect(error.message).toBe(
      'No answer came from Optiwe in time to create the template, so it may or may not have been done; sync the account\'s templates before trying again.',
    );
    expect(await h.ctx.db.prisma.template.count({ where: { accountId: account.id, name: 'quizas_creada' } })).toBe(0);
  });

  it('a bad token is 502 PROVIDER_REQUEST_FAILED without the token', async () => {
    const wrong = await createProviderAccount(h.api, 'optiwe', { baseUrl: optiwe.url }, { token: 'stale-optiwe-token-0c3d' }, 'stale');
    const response = await create(wrong.id, { ...reminder, name: 'sin_permiso' });
    expect(expectError(response, 502, 'PROVIDER_REQUEST_FAILED').details).toMatchObject({ outcomeCode: 'ACCOUNT_AUTH_FAILED' });
    expect(response.body).not.toContain('stale-optiwe-token-0c3d');
  });
});

describe('providers with no creation API', () => {
  let multichat: FakeMultichatServer;
  let meta: FakeMeta;
  beforeAll(async () => {
    multichat = await startFakeMultichatServer();
    meta = await startFakeMeta();
  });
  afterAll(async () => {
    await multichat.close();
    await meta.close();
  });

  it('contacto-multichat, Meta and the sandbox are 409 TEMPLATE_CREATION_UNSUPPORTED, saying what to do, with no request made', async () => {
    const accounts = [
      await createProviderAccount(h.api, 'multichat', { baseUrl: multichat.url }, { login: multichat.login, token: multichat.token }),
      await createProviderAccount(h.api, 'meta', { phoneNumberId: meta.phoneNumberId, wabaId: meta.wabaId, baseUrl: meta.url }, { accessToken: meta.token }),
      await createProviderAccount(h.api, 'sandbox', { baseUrl: 'http://127.0.0.1:9' }, { token: 'sandbox-token-1234' }),
    ];
    const messages: string[] = [];
    for (const a of accounts) messages.push(expectError(await create(a.id, reminder), 409, 'TEMPLATE_CREATION_UNSUPPORTED').message);
    expect(messages[0]).toMatch(/^Template creation is not available for contacto-multichat: .*dashboard, then sync the account/);
    expect(messages[1]).toMatch(/^Template creation is not available for Meta Cloud API: .*WhatsApp Manager/);
    expect(messages[2]).toContain('POST /v1/templates');
    expect(multichat.requests).toHaveLength(0);
    expect(meta.requests).toHaveLength(0);
  });

  it('an unknown account is 404 ACCOUNT_NOT_FOUND', async () => {
    expectError(await create('00000000-0000-4000-8000-000000000002', reminder), 404, 'ACCOUNT_NOT_FOUND');
  });
});
