/**
 * POST /v1/accounts/:id/templates/sync against local contacto-multichat and Optiwe servers:
 * created, updated, unchanged, disabled and skipped, provider failures by what the user can do,
 * and no credential in any answer.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseButtons, parseHeaderType } from '../../src/campaigns/campaign-options.js';
import { sendHttp } from '../../src/providers/http.js';
import { optiweAdapter } from '../../src/providers/optiwe/index.js';
import type { OutboundMessage } from '../../src/providers/types.js';
import { expectError, expectStatus, type ApiHarness, type PublicAccount, type PublicTemplate } from '../api/api-harness.js';
import { startFakeMultichatServer, type FakeMultichatServer } from '../fakes/multichat-server.js';
import { startFakeOptiwe, type FakeOptiwe } from '../fakes/optiwe-server.js';
import { createProviderAccount, startTemplateApi, type SyncBody } from './template-harness.js';

const MULTICHAT_TOKEN = 'multichat-secret-token-5e1d';
const OPTIWE_TOKEN = 'optiwe-secret-token-a41f';

let h: ApiHarness;
let multichat: FakeMultichatServer;
let optiwe: FakeOptiwe;

beforeAll(async () => {
  h = await startTemplateApi({ sendTimeoutMs: 1_000 });
  multichat = await startFakeMultichatServer({ login: 'empresa', token: MULTICHAT_TOKEN });
  optiwe = await startFakeOptiwe({ token: OPTIWE_TOKEN });
});
afterAll(async () => {
  await multichat.close();
  await optiwe.close();
  await h.close();
});

const sync = (accountId: string) => h.api.post(`/v1/accounts/${accountId}/templates/sync`);
const stored = async (accountId: string) =>
  expectStatus<{ templates: PublicTemplate[] }>(await h.api.get(`/v1/templates?accountId=${accountId}`), 200).templates;

describe('contacto-multichat', () => {
  let account: PublicAccount;
  beforeEach(async () => {
    multichat.options.templates = {
      '101': { name: 'recordatorio_pago', body: 'Hola {{1}}, su pago de {{2}} vence el {{3}}', paramCount: 3, status: 'APROBADA' },
      '102': { name: 'bienvenida', body: 'Bienvenido {{1}}', paramCount: 1, status: 'PENDIENTE' },
      '103': { name: 'promo_junio', body: 'Oferta para {{1}}', paramCount: 1, status: 'RECHAZADA' },
    };
    account = await createProviderAccount(h.api, 'multichat', { baseUrl: multichat.url }, { login: 'empresa', token: MULTICHAT_TOKEN });
  });

  it('stores every listed template with its id_template, status and placeholder count; a second sync changes nothing', async () => {
    const first = expectStatus<SyncBody>(await sync(account.id), 200);
    expect(first).toEqual({ accountId: account.id, provider: 'multichat', created: 3, updated: 0, unchanged: 0, disabled: 0, skipped: [] });
    const templates = await stored(account.id);
    expect(templates.map((t) => [t.name, (t as PublicTemplate & { externalId: string }).externalId, t.status, t.paramCount, t.language])).toEqual([
      ['bienvenida', '102', 'pending', 1, 'es'],
      ['promo_junio', '103', 'rejected', 1, 'es'],
      ['recordatorio_pago', '101', 'approved', 3, 'es'],
    ]);
    const request = multichat.requests.at(-1);
    expect(request?.path).toBe('/bot/chat_wa/ws/template/');
    expect(request?.form).toMatchObject({ login: 'empresa', token: MULTICHAT_TOKEN });

    const second = expectStatus<SyncBody>(await sync(account.id), 200);
    expect(second).toMatchObject({ created: 0, updated: 0, unchanged: 3, disabled: 0 });
  });

  it('updates what changed at the provider and disables what it no longer lists, keeping the row', async () => {
    expectStatus<SyncBody>(await sync(account.id), 200);
    const before = await stored(account.id);
    multichat.options.templates = {
      '101': { name: 'recordatorio_pago', body: 'Hola {{1}}, su pago vence el {{2}}', paramCount: 2, status: 'APROBADA' },
      '102': { name: 'bienvenida', body: 'Bienvenido {{1}}', paramCount: 1, status: 'APROBADA' },
    };
    const result = expectStatus<SyncBody>(await sync(account.id), 200);
    expect(result).toMatchObject({ created: 0, updated: 2, unchanged: 0, disabled: 1, skipped: [] });
    const after = await stored(account.id);
    expect(after.map((t) => [t.name, t.status, t.paramCount])).toEqual([
      ['bienvenida', 'approved', 1],
      ['promo_junio', 'disabled', 1],
      ['recordatorio_pago', 'approved', 2],
    ]);
    // Same rows: campaigns that point at them keep pointing at them.
    expect(after.map((t) => t.id).sort()).toEqual(before.map((t) => t.id).sort());

    // Listed again: back from disabled to what the provider says.
    multichat.options.templates['103'] = { name: 'promo_junio', body: 'Oferta para {{1}}', paramCount: 1, status: 'APROBADA' };
    expect(expectStatus<SyncBody>(await sync(account.id), 200)).toMatchObject({ updated: 1, unchanged: 2, disabled: 0 });
    expect((await stored(account.id)).find((t) => t.name === 'promo_junio')?.status).toBe('approved');
  });

  it('fills in the id of a template registered by hand under the same name, and keeps its category', async () => {
    const byHand = expectStatus<PublicTemplate & { externalId: string | null; category: string }>(
      await h.api.post('/v1/templates', { accountId: account.id, name: 'recordatorio_pago', body: 'Hola {{1}}', category: 'UTILITY' }),
      201,
    );
    expect(byHand.externalId).toBeNull();
    expect(expectStatus<SyncBody>(await sync(account.id), 200)).toMatchObject({ created: 2, updated: 1 });
    const row = await h.ctx.db.prisma.template.findUniqueOrThrow({ where: { id: byHand.id } });
    expect(row).toMatchObject({ externalId: '101', paramCount: 3, status: 'approved', category: 'UTILITY' });
  });

  it('keeps the header and buttons of a template registered by hand: multichat\'s listing has none to say', async () => {
    const buttons = [{ type: 'URL', text: 'Pagar', value: 'https://pagos.example/{{1}}' }];
    const byHand = expectStatus<PublicTemplate>(
      await h.api.post('/v1/templates', { accountId: account.id, name: 'recordatorio_pago', body: 'Hola {{1}}', headerType: 'document', buttons }),
      201,
    );
    expect(expectStatus<SyncBody>(await sync(account.id), 200)).toMatchObject({ created: 2, updated: 1 });
    expect(await h.ctx.db.prisma.template.findUniqueOrThrow({ where: { id: byHand.id } })).toMatchObject({ externalId: '101', headerType: 'document', buttons });
    expect(expectStatus<SyncBody>(await sync(account.id), 200)).toMatchObject({ updated: 0, unchanged: 3 });
    expect(await stored(account.id)).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'bienvenida', headerType: 'none', buttons: [] })]));
  });

  it('follows a template renamed at the provider by its id_template', async () => {
    expectStatus<SyncBody>(await sync(account.id), 200);
    const original = (await stored(account.id)).find((t) => t.name === 'bienvenida');
    multichat.options.templates['102'] = { name: 'bienvenida_v2', body: 'Bienvenido {{1}}', paramCount: 1, status: 'PENDIENTE' };
    expect(expectStatus<SyncBody>(await sync(account.id), 200)).toMatchObject({ created: 0, updated: 1, disabled: 0 });
    const renamed = (await stored(account.id)).find((t) => t.name === 'bienvenida_v2');
    expect(renamed?.id).toBe(original?.id);
  });

  it('an empty listing (code 4, no templates) disables every stored template', async () => {
    expectStatus<SyncBody>(await sync(account.id), 200);
    multichat.options.templates = {};
    expect(expectStatus<SyncBody>(await sync(account.id), 200)).toMatchObject({ created: 0, disabled: 3 });
    expect((await stored(account.id)).every((t) => t.status === 'disabled')).toBe(true);
  });

  it('reports an entry it cannot read by name, and does not disable the stored template of that name', async () => {
    expectStatus<SyncBody>(await sync(account.id), 200);
    multichat.script(
      {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          { id_template: '101', nombre: 'recordatorio_pago', texto: 'Hola {{1}}, su pago de {{2}} vence el {{3}}', estado: 'APROBADA' },
          { nombre: 'bienvenida', texto: 'Bienvenido {{1}}', estado: 'APROBADA' },
          { estado: 'APROBADA' },
        ]),
      },
      { path: '/bot/chat_wa/ws/template/' },
    );
    const result = expectStatus<SyncBody>(await sync(account.id), 200);
    expect(result).toMatchObject({ created: 0, unchanged: 1, disabled: 1 });
    expect(result.skipped).toEqual([
      { name: 'bienvenida', problem: 'no template id or no text' },
      { name: '#3', problem: 'no template id or no text' },
    ]);
    expect((await stored(account.id)).map((t) => [t.name, t.status])).toEqual([
      ['bienvenida', 'pending'],
      ['promo_junio', 'disabled'],
      ['recordatorio_pago', 'approved'],
    ]);
  });

  it('a wrong token is 502 PROVIDER_REQUEST_FAILED naming code 2, echoes no credential and writes nothing', async () => {
    const wrong = await createProviderAccount(h.api, 'multichat', { baseUrl: multichat.url }, { login: 'empresa', token: 'wrong-token-value-77' });
    const response = await sync(wrong.id);
    const error = expectError(response, 502, 'PROVIDER_REQUEST_FAILED');
    expect(error.message).toMatch(/^The request to list templates at contacto-multichat failed: .*code 2/);
    expect(error.details).toMatchObject({ provider: 'contacto-multichat', outcomeCode: 'ACCOUNT_AUTH_FAILED', providerCode: '2' });
    expect(response.body).not.toContain('wrong-token-value-77');
    expect(response.body).not.toContain(MULTICHAT_TOKEN);
    expect(await stored(wrong.id)).toEqual([]);
  });

  it('a provider that does not answer is 503 PROVIDER_UNAVAILABLE, and stored templates are untouched', async () => {
    expectStatus<SyncBody>(await sync(account.id), 200);
    multichat.script({ hang: true }, { path: '/bot/chat_wa/ws/template/' });
    const error = expectError(await sync(account.id), 503, 'PROVIDER_UNAVAILABLE');
    expect(error.message).toBe('Could not list templates at contacto-multichat right now (unreachable, busy or rate limited); try again shortly.');
    expect((await stored(account.id)).every((t) => t.status !== 'disabled')).toBe(true);

    const unreachable = await createProviderAccount(h.api, 'multichat', { baseUrl: 'http://127.0.0.1:9' }, { login: 'empresa', token: MULTICHAT_TOKEN });
    expectError(await sync(unreachable.id), 503, 'PROVIDER_UNAVAILABLE');
  });

  it('an answer the manual does not describe is 502, without the body', async () => {
    multichat.script({ status: 200, body: '<html>mantenimiento</html>' }, { path: '/bot/chat_wa/ws/template/' });
    const response = await sync(account.id);
    expect(expectError(response, 502, 'PROVIDER_REQUEST_FAILED').details).toMatchObject({ outcomeCode: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
    expect(response.body).not.toContain('mantenimiento');
  });

  it('two syncs at once store each template once', async () => {
    const [a, b] = await Promise.all([sync(account.id), sync(account.id)]);
    const bodies = [expectStatus<SyncBody>(a, 200), expectStatus<SyncBody>(b, 200)];
    expect(bodies.map((r) => r.created).sort()).toEqual([0, 3]);
    expect(bodies.map((r) => r.unchanged).sort()).toEqual([0, 3]);
    expect(await stored(account.id)).toHaveLength(3);
  });
});

describe('Optiwe', () => {
  let account: PublicAccount;
  beforeAll(async () => {
    optiwe.addTemplate({ name: 'recordatorio_turno', text: 'Hola {{1}}, tu turno es el {{2}}', status: 'APPROVED', category: 'UTILITY', language: 'SPANISH' });
    optiwe.addTemplate({ name: 'welcome', text: 'Hi {{1}}', status: 'IN_REVIEW', category: 'MARKETING', language: 'ENGLISH' });
    optiwe.addTemplate({ name: 'promo', text: 'Promo', status: 'DENIED', category: 'MARKETING', language: 'SPANISH' });
    account = await createProviderAccount(h.api, 'optiwe', { baseUrl: optiwe.url }, { token: OPTIWE_TOKEN });
  });

  it('maps APPROVED / IN_REVIEW / DENIED, SPANISH / ENGLISH and the category, keeping Optiwe\'s id', async () => {
    expect(expectStatus<SyncBody>(await sync(account.id), 200)).toMatchObject({ provider: 'optiwe', created: 3, skipped: [] });
    const rows = await h.ctx.db.prisma.template.findMany({ where: { accountId: account.id }, orderBy: { name: 'asc' } });
    const ids = Object.fromEntries(optiwe.templates.map((t) => [t.name, String(t.id)]));
    expect(rows.map((t) => ({ name: t.name, externalId: t.externalId, status: t.status, language: t.language, category: t.category, paramCount: t.paramCount }))).toEqual([
      { name: 'promo', externalId: ids.promo, status: 'rejected', language: 'es', category: 'MARKETING', paramCount: 0 },
      { name: 'recordatorio_turno', externalId: ids.recordatorio_turno, status: 'approved', language: 'es', category: 'UTILITY', paramCount: 2 },
      { name: 'welcome', externalId: ids.welcome, status: 'pending', language: 'en', category: 'MARKETING', paramCount: 1 },
    ]);
    expect(optiwe.requests.at(-1)).toMatchObject({ method: 'GET', path: '/whatsapp-templates/' });
  });

  it('a bad token is 502 with Optiwe\'s reason and no token; a request quota is 503', async () => {
    const wrong = await createProviderAccount(h.api, 'optiwe', { baseUrl: optiwe.url }, { token: 'not-the-optiwe-token-31' });
    const response = await sync(wrong.id);
    expect(expectError(response, 502, 'PROVIDER_REQUEST_FAILED').message).toContain('Optiwe rejected the API token');
    expect(response.body).not.toContain('not-the-optiwe-token-31');

    optiwe.script(
      { status: 400, body: JSON.stringify({ error: { key: 'REQUESTS_LIMIT_REACHED', message: 'Maximum amount of HTTP request reached' } }), headers: { 'content-type': 'application/json' } },
      { path: '/whatsapp-templates/' },
    );
    expectError(await sync(account.id), 503, 'PROVIDER_UNAVAILABLE');
  });
});

describe('Optiwe buttons', () => {
  let server: FakeOptiwe;
  let account: PublicAccount;
  beforeAll(async () => {
    server = await startFakeOptiwe({ token: OPTIWE_TOKEN });
    account = await createProviderAccount(h.api, 'optiwe', { baseUrl: server.url }, { token: OPTIWE_TOKEN }, 'Optiwe with buttons');
  });
  afterAll(async () => server.close());

  const row = (name: string) => h.ctx.db.prisma.template.findFirstOrThrow({ where: { accountId: account.id, name } });

  it('stores two buttons in Optiwe\'s order, and the stored row renders the text Optiwe matches', async () => {
    server.addTemplate({
      name: 'consulta',
      text: 'Hola {{1}}. Puedes llamarnos o visitar nuestra web',
      status: 'APPROVED',
      category: 'UTILITY',
      language: 'SPANISH',
      buttons: [
        { type: 'PHONE_NUMBER', text: 'Llamanos', phoneNumber: '543424010203' },
        { type: 'URL', text: 'Nuestra web ', url: 'https://example.com/{{1}}', urlExample: 'https://example.com/bob' },
      ],
    });
    expect(expectStatus<SyncBody>(await sync(account.id), 200)).toMatchObject({ created: 1, skipped: [] });
    const consulta = await row('consulta');
    expect(consulta.headerType).toBe('none');
    expect(consulta.buttons).toEqual([
      { type: 'PHONE_NUMBER', text: 'Llamanos', value: '543424010203' },
      { type: 'URL', text: 'Nuestra web ', value: 'https://example.com/{{1}}' },
    ]);

    // Read back as a campaign's sends read it: Optiwe finds the template by the rendered text.
    const message: OutboundMessage = {
      reference: 'r-consulta',
      phone: '+5491155174499',
      template: {
        name: consulta.name,
        externalId: consulta.externalId,
        language: consulta.language,
        category: consulta.category,
        body: consulta.body,
        paramNames: consulta.paramNames,
        headerType: parseHeaderType(consulta.headerType),
        buttons: parseButtons(consulta.buttons),
      },
      variables: ['Ana'],
      buttonParams: [{ index: 1, subType: 'url', value: 'ana' }],
    };
    const sent = await sendHttp(optiweAdapter.buildSendRequest(message, { id: account.id, config: { baseUrl: server.url }, credentials: { token: OPTIWE_TOKEN } }), 2_000);
    expect(sent.ok && optiweAdapter.parseSendResponse(sent.response, message)).toMatchObject({ kind: 'sent' });
    expect(server.deliveries.at(-1)?.text).toBe('Hola Ana. Puedes llamarnos o visitar nuestra web | [Llamanos,543424010203] | [Nuestra web ,https://example.com/ana]');

    expect(expectStatus<SyncBody>(await sync(account.id), 200)).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
  });

  it('a button changed at Optiwe updates the row', async () => {
    const encuesta = server.addTemplate({
      name: 'encuesta',
      text: '¿Te gustó la atención?',
      status: 'APPROVED',
      category: 'MARKETING',
      language: 'SPANISH',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Sí' },
        { type: 'QUICK_REPLY', text: 'No' },
      ],
    });
    expect(expectStatus<SyncBody>(await sync(account.id), 200)).toMatchObject({ created: 1 });
    const before = await row('encuesta');
    encuesta.buttons = [
      { type: 'QUICK_REPLY', text: 'Sí' },
      { type: 'QUICK_REPLY', text: 'No, gracias' },
    ];
    expect(expectStatus<SyncBody>(await sync(account.id), 200)).toMatchObject({ created: 0, updated: 1 });
    const after = await row('encuesta');
    expect(after.id).toBe(before.id);
    expect(after.buttons).toEqual([
      { type: 'QUICK_REPLY', text: 'Sí' },
      { type: 'QUICK_REPLY', text: 'No, gracias' },
    ]);
  });
});

describe('any account', () => {
  it('providers with no listing API are 409 TEMPLATE_SYNC_UNSUPPORTED, saying what to do instead', async () => {
    const sandbox = await createProviderAccount(h.api, 'sandbox', { baseUrl: 'http://127.0.0.1:9' }, { token: 'sandbox-token-1234' });
    const error = expectError(await sync(sandbox.id), 409, 'TEMPLATE_SYNC_UNSUPPORTED');
    expect(error.message).toContain('POST /v1/templates');
    const adereso = await createProviderAccount(h.api, 'adereso', { account: '56900000000' }, { token: 'adereso-token-1234' });
    expect(expectError(await sync(adereso.id), 409, 'TEMPLATE_SYNC_UNSUPPORTED').message).toMatch(/^Template sync is not available for Adereso: /);
  });

  it('an unknown account, or another tenant\'s, is 404 ACCOUNT_NOT_FOUND; a bad id is 400', async () => {
    expectError(await sync('00000000-0000-4000-8000-000000000001'), 404, 'ACCOUNT_NOT_FOUND');
    const mine = await createProviderAccount(h.api, 'optiwe', { baseUrl: optiwe.url }, { token: OPTIWE_TOKEN }, 'tenant A optiwe');
    const other = await h.newTenant('tenant B');
    expectError(await other.api.post(`/v1/accounts/${mine.id}/templates/sync`), 404, 'ACCOUNT_NOT_FOUND');
    expectError(await sync('not-a-uuid'), 400, 'VALIDATION_FAILED');
  });
});
