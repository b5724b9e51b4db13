/**
 * Template sync against a local Graph API (test/fakes/meta-server.ts): every page of the
 * listing, one language per row, nothing written when a page fails, and the access token
 * (which Graph repeats in paging.next) never in an answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, expectStatus, type ApiHarness, type PublicAccount } from '../api/api-harness.js';
import { startFakeMeta, type FakeMeta } from '../fakes/meta-server.js';
import { createProviderAccount, startTemplateApi, type SyncBody } from './template-harness.js';

let h: ApiHarness;
let meta: FakeMeta;
let account: PublicAccount;

const TEMPLATE_COUNT = 230;

beforeAll(async () => {
  h = await startTemplateApi({ sendTimeoutMs: 2_000 });
  meta = await startFakeMeta();
  for (let i = 0; i < TEMPLATE_COUNT; i++) meta.addTemplate({ name: `aviso_${String(i).padStart(3, '0')}`, body: 'Hola {{1}}, su código es {{2}}' });
  meta.addTemplate({ name: 'aviso_000', language: 'en_US', body: 'Hi {{1}}', category: 'UTILITY' });
  meta.addTemplate({ name: 'pausada', body: 'Pausada', status: 'PAUSED' });
  meta.addTemplate({ name: 'desactivada', body: 'Desactivada', status: 'DISABLED' });
  meta.addTemplate({ name: 'rechazada', body: 'Rechazada', status: 'REJECTED' });
  account = await createProviderAccount(
    h.api,
    'meta',
    { phoneNumberId: meta.phoneNumberId, wabaId: meta.wabaId, baseUrl: meta.url },
    { accessToken: meta.token },
  );
});
afterAll(async () => {
  await meta.close();
  await h.close();
});

const sync = (accountId: string) => h.api.post(`/v1/accounts/${accountId}/templates/sync`);
const listRequests = () => meta.requests.filter((r) => r.path.endsWith('/message_templates'));

describe('Meta Cloud API', () => {
  it('follows every page of the listing and stores one row per name and language', async () => {
    const before = listRequests().length;
    const response = await sync(account.id);
    const result = expectStatus<SyncBody>(response, 200);
    const total = TEMPLATE_COUNT + 4;
    expect(result).toEqual({ accountId: account.id, provider: 'meta', created: total, updated: 0, unchanged: 0, disabled: 0, skipped: [] });
    // 100 per page: three requests, the later ones carrying Graph's cursor, the token only in the header.
    const requests = listRequests().slice(before);
    expect(requests).toHaveLength(Math.ceil(total / 100));
    expect(requests.map((r) => r.query.has('after'))).toEqual([false, true, true]);
    expect(requests.every((r) => !r.query.has('access_token') && r.headers.authorization === `Bearer ${meta.token}`)).toBe(true);
    expect(response.body).not.toContain(meta.token);

    const rows = await h.ctx.db.prisma.template.findMany({ where: { accountId: account.id } });
    expect(rows).toHaveLength(total);
    const byName = (name: string, language = 'es_AR') => rows.find((t) => t.name === name && t.language === language);
    expect(byName('aviso_000')).toMatchObject({ paramCount: 2, status: 'approved', category: 'MARKETING', externalId: meta.templates[0]?.id });
    expect(byName('aviso_000', 'en_US')).toMatchObject({ paramCount: 1, category: 'UTILITY' });
    expect([byName('pausada')?.status, byName('desactivada')?.status, byName('rechazada')?.status]).toEqual(['paused', 'disabled', 'rejected']);
  });

  it('a status change at Meta is an update; a template Meta drops is disabled', async () => {
    const paused = meta.templates.find((t) => t.name === 'aviso_001');
    if (paused) paused.status = 'PAUSED';
    const dropped = meta.templates.findIndex((t) => t.name === 'aviso_002');
    meta.templates.splice(dropped, 1);
    const result = expectStatus<SyncBody>(await sync(account.id), 200);
    expect(result).toMatchObject({ created: 0, updated: 1, disabled: 1, unchanged: TEMPLATE_COUNT + 2 });
    const rows = await h.ctx.db.prisma.template.findMany({ where: { accountId: account.id, name: { in: ['aviso_001', 'aviso_002'] } }, orderBy: { name: 'asc' } });
    expect(rows.map((t) => t.status)).toEqual(['paused', 'disabled']);
  });

  it('a page that fails part-way leaves every stored template as it was', async () => {
    const snapshot = await h.ctx.db.prisma.template.findMany({ where: { accountId: account.id }, orderBy: { id: 'asc' } });
    meta.templates.splice(0, meta.templates.length); // an empty WABA would disable everything...
    // ...but page 1 answers (a template that is new), and page 2 is an expired token.
    meta.script({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        data: [{ id: '999', name: 'nueva', language: 'es_AR', status: 'APPROVED', category: 'MARKETING', components: [{ type: 'BODY', text: 'Nueva' }] }],
        paging: { cursors: { after: 'QVFIU' }, next: `${meta.url}/v24.0/${meta.wabaId}/message_templates?access_token=${meta.token}&after=QVFIU` },
      }),
    });
    meta.failNext(190);
    const response = await sync(account.id);
    const error = expectError(response, 502, 'PROVIDER_REQUEST_FAILED');
    expect(error.details).toMatchObject({ provider: 'Meta Cloud API', outcomeCode: 'ACCOUNT_AUTH_FAILED', providerCode: '190' });
    expect(response.body).not.toContain(meta.token);
    expect(await h.ctx.db.prisma.template.findMany({ where: { accountId: account.id }, orderBy: { id: 'asc' } })).toEqual(snapshot);
  });

  it('a listing whose cursor repeats is refused instead of followed forever', async () => {
    const page = {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: [], paging: { cursors: { after: 'U0FNRQ' }, next: `${meta.url}/v24.0/${meta.wabaId}/message_templates?after=U0FNRQ` } }),
    };
    meta.script(page, { times: 2 });
    const error = expectError(await sync(account.id), 502, 'PROVIDER_REQUEST_FAILED');
    expect(error.message).toContain('did not end after 2 page(s)');
  });

  it('an account without wabaId is 400 INVALID_ACCOUNT_CONFIG naming the field, with no request made', async () => {
    const noWaba = await createProviderAccount(h.api, 'meta', { phoneNumberId: meta.phoneNumberId, baseUrl: meta.url }, { accessToken: meta.token }, 'no waba');
    const before = meta.requests.length;
    const error = expectError(await sync(noWaba.id), 400, 'INVALID_ACCOUNT_CONFIG');
    expect(error.message).toContain('config.wabaId');
    expect(meta.requests.length).toBe(before);
  });
});

describe('Meta Cloud API headers and buttons', () => {
  let graph: FakeMeta;
  let media: PublicAccount;
  beforeAll(async () => {
    graph = await startFakeMeta({ wabaId: '203300000000001', phoneNumberId: '203300000000002' });
    graph.addTemplate({
      name: 'promo_imagen',
      body: 'Hola {{1}}, mirá la promo',
      headerFormat: 'IMAGE',
      buttons: [
        { type: 'QUICK_REPLY', text: 'No me interesa' },
        { type: 'URL', text: 'Ver promo', url: 'https://shop.example/promo/{{1}}', example: ['https://shop.example/promo/abc'] },
      ],
    });
    graph.addTemplate({ name: 'aviso_titulo', body: 'Aviso', headerFormat: 'TEXT', buttons: [{ type: 'PHONE_NUMBER', text: 'Llamar', phone_number: '+5491155174499' }] });
    graph.addTemplate({ name: 'aviso_simple', body: 'Aviso simple' });
    media = await createProviderAccount(h.api, 'meta', { phoneNumberId: graph.phoneNumberId, wabaId: graph.wabaId, baseUrl: graph.url }, { accessToken: graph.token }, 'meta with media');
  });
  afterAll(async () => graph.close());

  const row = (name: string) => h.ctx.db.prisma.template.findFirstOrThrow({ where: { accountId: media.id, name } });

  it('stores an IMAGE header as image and a URL button with its url, so a campaign on it needs header media', async () => {
    expect(expectStatus<SyncBody>(await sync(media.id), 200)).toMatchObject({ created: 3, skipped: [] });
    const promo = await row('promo_imagen');
    expect(promo.headerType).toBe('image');
    expect(promo.buttons).toEqual([
      { type: 'QUICK_REPLY', text: 'No me interesa' },
      { type: 'URL', text: 'Ver promo', value: 'https://shop.example/promo/{{1}}' },
    ]);
    expect(await row('aviso_titulo')).toMatchObject({ headerType: 'text', buttons: [{ type: 'PHONE_NUMBER', text: 'Llamar', value: '+5491155174499' }] });
    expect(await row('aviso_simple')).toMatchObject({ headerType: 'none', buttons: [] });

    const campaign = await h.api.post('/v1/campaigns', { name: 'promo sin imagen', accountId: media.id, templateId: promo.id });
    expect(expectError(campaign, 422, 'TEMPLATE_MEDIA_REQUIRED').message).toContain('image header');

    expect(expectStatus<SyncBody>(await sync(media.id), 200)).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
  });

  it('a header or button changed at Meta updates the row', async () => {
    const promo = graph.templates.find((t) => t.name === 'promo_imagen');
    const buttons = promo?.components.find((c) => c.type === 'BUTTONS')?.buttons;
    if (!promo || !buttons?.[1]) throw new Error('the fake lost promo_imagen');
    buttons[1] = { ...buttons[1], url: 'https://shop.example/p/{{1}}' };
    expect(expectStatus<SyncBody>(await sync(media.id), 200)).toMatchObject({ updated: 1, unchanged: 2 });
    expect((await row('promo_imagen')).buttons).toEqual([
      { type: 'QUICK_REPLY', text: 'No me interesa' },
      { type: 'URL', text: 'Ver promo', value: 'https://shop.example/p/{{1}}' },
    ]);

    const header = graph.templates.find((t) => t.name === 'aviso_simple');
    header?.components.unshift({ type: 'HEADER', format: 'DOCUMENT' });
    expect(expectStatus<SyncBody>(await sync(media.id), 200)).toMatchObject({ updated: 1, unchanged: 2 });
    expect((await row('aviso_simple')).headerType).toBe('document');
  });
});
