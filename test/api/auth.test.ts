/** Who may call what: health is public, every /v1 route needs a key, and a key sees only its tenant. */
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/tenants/api-keys.js';
import { accountCredentials } from '../../src/security/security-settings.js';
import {
  apiForFile,
  createDraftCampaign,
  createSender,
  expectError,
  expectStatus,
  expectStatusCode,
  recipientCount,
  recipientObjects,
  SANDBOX_TOKEN,
  type ApiClient,
  type CreateCampaignResponse,
  type PublicAccount,
  type PublicCampaign,
  type PublicTemplate,
} from './api-harness.js';

const h = apiForFile();

const SOME_ID = '7d0c3a52-5f4e-4b0e-9a53-0d6f0a4b9e21';

/** Every /v1 route the app serves, with ids filled in (they need not exist: auth runs first). */
const V1_ROUTES: readonly { method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'; path: string }[] = [
  { method: 'POST', path: '/v1/accounts' },
  { method: 'GET', path: '/v1/accounts' },
  { method: 'GET', path: '/v1/accounts/:id' },
  { method: 'PATCH', path: '/v1/accounts/:id' },
  { method: 'POST', path: '/v1/accounts/:id/resume' },
  { method: 'GET', path: '/v1/accounts/:id/queue' },
  { method: 'POST', path: '/v1/accounts/:id/webhook-secret' },
  { method: 'POST', path: '/v1/accounts/:id/templates/sync' },
  { method: 'POST', path: '/v1/accounts/:id/provider-templates' },
  { method: 'POST', path: '/v1/messages' },
  { method: 'POST', path: '/v1/messages/adereso/ticket-reply' },
  { method: 'POST', path: '/v1/messages/adereso/conversation' },
  { method: 'POST', path: '/v1/templates' },
  { method: 'GET', path: '/v1/templates' },
  { method: 'POST', path: '/v1/campaigns' },
  { method: 'GET', path: '/v1/campaigns' },
  { method: 'GET', path: '/v1/campaigns/:id' },
  { method: 'POST', path: '/v1/campaigns/:id/start' },
  { method: 'POST', path: '/v1/campaigns/:id/pause' },
  { method: 'POST', path: '/v1/campaigns/:id/resume' },
  { method: 'POST', path: '/v1/campaigns/:id/cancel' },
  { method: 'POST', path: '/v1/campaigns/:id/resend-unknown' },
  { method: 'GET', path: '/v1/campaigns/:id/recipients' },
  { method: 'POST', path: '/v1/campaigns/:id/recipients' },
  { method: 'GET', path: '/v1/campaigns/:id/export.csv' },
  { method: 'GET', path: '/v1/campaigns/:id/funnel' },
  { method: 'GET', path: '/v1/campaigns/:id/recipients/:recipientId/history' },
  { method: 'GET', path: '/v1/campaigns/:id/replies' },
  { method: 'POST', path: '/v1/suppressions' },
  { method: 'GET', path: '/v1/suppressions' },
  { method: 'DELETE', path: '/v1/suppressions/:phone' },
  { method: 'POST', path: '/v1/suppressions/import' },
  { method: 'GET', path: '/v1/suppressions/export.csv' },
  { method: 'GET', path: '/v1/settings/stop-words' },
  { method: 'PUT', path: '/v1/settings/stop-words' },
  { method: 'GET', path: '/v1/campaigns/:id/uploads/:uploadId' },
  { method: 'GET', path: '/v1/campaigns/:id/uploads/:uploadId/rejected.csv' },
  { method: 'GET', path: '/v1/event-types' },
  { method: 'POST', path: '/v1/event-endpoints' },
  { method: 'GET', path: '/v1/event-endpoints' },
  { method: 'GET', path: '/v1/event-endpoints/:id' },
  { method: 'PATCH', path: '/v1/event-endpoints/:id' },
  { method: 'DELETE', path: '/v1/event-endpoints/:id' },
  { method: 'POST', path: '/v1/event-endpoints/:id/rotate-secret' },
  { method: 'GET', path: '/v1/event-endpoints/:id/deliveries' },
  // Added for the console (src/api/routes/console-*.ts); ordinary /v1 endpoints.
  { method: 'GET', path: '/v1/live/campaigns' },
  { method: 'POST', path: '/v1/uploads/preview' },
  { method: 'GET', path: '/v1/campaigns/:id/uploads/:uploadId/rejected-samples' },
  { method: 'PATCH', path: '/v1/campaigns/:id/settings' },
  { method: 'GET', path: '/v1/campaigns/:id/failures/recipients' },
  { method: 'GET', path: '/v1/accounts/:id/state' },
  { method: 'GET', path: '/v1/api-keys' },
  { method: 'GET', path: '/v1/api-keys/:id' },
  { method: 'POST', path: '/v1/api-keys' },
  { method: 'POST', path: '/v1/api-keys/:id/revoke' },
  { method: 'POST', path: '/v1/api-keys/:id/rotate' },
  { method: 'POST', path: '/v1/campaigns/:id/plan' },
  { method: 'POST', path: '/v1/pools' },
  { method: 'GET', path: '/v1/pools' },
  { method: 'GET', path: '/v1/pools/:id' },
  { method: 'PATCH', path: '/v1/pools/:id' },
  { method: 'DELETE', path: '/v1/pools/:id' },
  { method: 'PUT', path: '/v1/pools/:id/members/:accountId' },
  { method: 'DELETE', path: '/v1/pools/:id/members/:accountId' },
  { method: 'POST', path: '/v1/portfolios' },
  { method: 'GET', path: '/v1/portfolios' },
  { method: 'GET', path: '/v1/portfolios/:id' },
  { method: 'PATCH', path: '/v1/portfolios/:id' },
  { method: 'DELETE', path: '/v1/portfolios/:id' },
  { method: 'PUT', path: '/v1/portfolios/:id/accounts/:accountId' },
  { method: 'DELETE', path: '/v1/portfolios/:id/accounts/:accountId' },
];

const concrete = (path: string) => path.replace(':uploadId', SOME_ID).replace(':id', SOME_ID);

/** "METHOD /path" for every route in the app's route tree (HEAD aside), read from printRoutes. */
function servedRoutes(app: FastifyInstance): string[] {
  const served: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    stack.length = depth;
    stack.push(match[2] ?? '');
    const path = stack.join('');
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim())) {
      if (method && method !== 'HEAD') served.push(`${method} ${path}`);
    }
  }
  return served.sort();
}

describe('health', () => {
  it('answers without a key and reports Postgres and Redis', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/health' });
    expect(expectStatus(response, 200)).toEqual({ status: 'ok', postgres: 'ok', redis: 'ok' });
  });

  it('ignores a wrong key rather than refusing the probe', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/health?verbose=1', headers: { 'x-api-key': 'wce_nope_nope' } });
    expect(expectStatus(response, 200)).toMatchObject({ status: 'ok' });
  });
});

describe('Server-Timing', () => {
  it("says how long the API spent on each answer, errors included, never more than the caller waited, and how long the key took", async () => {
    for (const [request, authenticated] of [
      [{ method: 'GET' as const, url: '/v1/accounts', headers: { 'x-api-key': h.tenant.apiKey } }, true],
      [{ method: 'GET' as const, url: '/v1/accounts', headers: { 'x-api-key': 'wce_nope_nope' } }, false],
      [{ method: 'GET' as const, url: '/health' }, false],
    ] as const) {
      const started = performance.now();
      const response = await h.app.inject(request);
      const waited = performance.now() - started;
      const timing = /^app;dur=(\d+\.\d)(?:, auth;dur=(\d+\.\d))?$/.exec(String(response.headers['server-timing']));
      expect({ url: request.url, status: response.statusCode, app: timing?.[1] !== undefined, auth: timing?.[2] !== undefined }).toMatchObject({ app: true, auth: authenticated });
      const app = Number(timing?.[1]);
      // Shown to a tenth of a millisecond, so a quick answer may read 0.0; never more than the caller waited.
      expect(app).toBeGreaterThanOrEqual(0);
      expect(app).toBeLessThanOrEqual(waited + 0.05);
      if (authenticated) expect(Number(timing?.[2])).toBeLessThanOrEqual(app + 0.05);
    }
  });
});

describe('API keys', () => {
  it('the route list below is every /v1 route the app serves', async () => {
    await h.app.ready();
    const v1 = servedRoutes(h.app).filter((r) => r.includes(' /v1/'));
    expect(v1).toEqual(V1_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  it.each(V1_ROUTES)('$method $path without a key is 401 UNAUTHORIZED', async ({ method, path }) => {
    const response = await h.app.inject({ method, url: concrete(path) });
    const error = expectError(response, 401, 'UNAUTHORIZED');
    expect(error.message).toContain('Authorization: Bearer');
  });

  it.each(V1_ROUTES)('$method $path with a wrong key is 401 INVALID_API_KEY', async ({ method, path }) => {
    const wrong = `${h.tenant.apiKey.slice(0, -4)}AAAA`;
    const response = await h.app.inject({ method, url: concrete(path), headers: { authorization: `Bearer ${wrong}` } });
    expectError(response, 401, 'INVALID_API_KEY');
  });

  it('takes the key as Authorization: Bearer or as X-Api-Key', async () => {
    const bearer = await h.app.inject({ method: 'GET', url: '/v1/accounts', headers: { authorization: `Bearer ${h.tenant.apiKey}` } });
    expect(expectStatus(bearer, 200)).toEqual({ accounts: [] });
    const header = await h.app.inject({ method: 'GET', url: '/v1/accounts', headers: { 'x-api-key': h.tenant.apiKey } });
    expect(expectStatus(header, 200)).toEqual({ accounts: [] });
  });

  it('treats an empty Bearer value or blank X-Api-Key as no key', async () => {
    expectError(await h.app.inject({ method: 'GET', url: '/v1/accounts', headers: { authorization: 'Bearer   ' } }), 401, 'UNAUTHORIZED');
    expectError(await h.app.inject({ method: 'GET', url: '/v1/accounts', headers: { 'x-api-key': '  ' } }), 401, 'UNAUTHORIZED');
  });

  it('refuses a revoked key', async () => {
    const { key, id } = await createApiKey(h.ctx.db, h.tenant.tenantId, 'to revoke');
    await h.ctx.db.prisma.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
    expectError(await h.app.inject({ method: 'GET', url: '/v1/accounts', headers: { 'x-api-key': key } }), 401, 'INVALID_API_KEY');
  });

  it('an unknown route is 404 ROUTE_NOT_FOUND naming the method and path, not the query', async () => {
    const response = await h.api.get('/v1/nothing-here?token=abc');
    const error = expectError(response, 404, 'ROUTE_NOT_FOUND');
    expect(error.message).toBe('No route GET /v1/nothing-here.');
  });

  it('an unknown route without a key is refused before routing, so routes cannot be probed', async () => {
    expectError(await h.app.inject({ method: 'GET', url: '/v1/nothing-here' }), 401, 'UNAUTHORIZED');
  });
});

describe('tenant isolation', () => {
  let other: ApiClient;
  let account: PublicAccount;
  let template: PublicTemplate;
  let campaign: PublicCampaign;
  let uploadId: string;

  beforeAll(async () => {
    ({ api: other } = await h.newTenant('tenant B'));
    ({ account, template } = await createSender(h.api));
    const created = await createDraftCampaign(h.api, { account, template }, { recipients: [...recipientObjects(3), { phone: 'nope', nombre: 'x', saldo: '1' }] });
    campaign = created.campaign;
    uploadId = created.upload?.uploadId ?? '';
    expect(created.upload).toMatchObject({ accepted: 3, rejected: 1 });
  });

  it("the owner sees its own account, template, campaign and upload (the control for the checks below)", async () => {
    expect(expectStatus<{ accounts: PublicAccount[] }>(await h.api.get('/v1/accounts'), 200).accounts.map((a) => a.id)).toEqual([account.id]);
    expect(expectStatus<{ templates: PublicTemplate[] }>(await h.api.get('/v1/templates'), 200).templates.map((t) => t.id)).toEqual([template.id]);
    expect(expectStatus<{ campaigns: PublicCampaign[] }>(await h.api.get('/v1/campaigns'), 200).campaigns.map((c) => c.id)).toEqual([campaign.id]);
    expectStatus(await h.api.get(`/v1/campaigns/${campaign.id}`), 200);
    expectStatus(await h.api.get(`/v1/campaigns/${campaign.id}/uploads/${uploadId}`), 200);
    expectStatusCode(await h.api.get(`/v1/campaigns/${campaign.id}/uploads/${uploadId}/rejected.csv`), 200);
  });

  it("another tenant's lists leave them out", async () => {
    expect(expectStatus(await other.get('/v1/accounts'), 200)).toEqual({ accounts: [] });
    expect(expectStatus(await other.get('/v1/templates'), 200)).toEqual({ templates: [] });
    expect(expectStatus(await other.get(`/v1/templates?accountId=${account.id}`), 200)).toEqual({ templates: [] });
    expect(expectStatus(await other.get('/v1/campaigns'), 200)).toEqual({ campaigns: [] });
  });

  it("another tenant cannot read or change the account: 404 ACCOUNT_NOT_FOUND", async () => {
    expectError(await other.get(`/v1/accounts/${account.id}`), 404, 'ACCOUNT_NOT_FOUND');
    expectError(await other.patch(`/v1/accounts/${account.id}`, { name: 'taken over', credentials: { token: 'theirs' } }), 404, 'ACCOUNT_NOT_FOUND');
    expectError(await other.post(`/v1/accounts/${account.id}/resume`), 404, 'ACCOUNT_NOT_FOUND');
    expectError(await other.post('/v1/templates', { accountId: account.id, name: 'intruder', body: 'Hi {{1}}' }), 404, 'ACCOUNT_NOT_FOUND');
    const stored = await h.ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id: account.id } });
    expect({ name: stored.name, credentials: accountCredentials(stored) }).toEqual({ name: account.name, credentials: { token: SANDBOX_TOKEN } });
    expect(await h.ctx.db.prisma.template.count({ where: { accountId: account.id } })).toBe(1);
  });

  it("another tenant cannot use the template: 404 TEMPLATE_NOT_FOUND", async () => {
    const response = await other.post('/v1/campaigns', { name: 'x', accountId: account.id, templateId: template.id });
    expectError(response, 404, 'TEMPLATE_NOT_FOUND');
  });

  it("another tenant cannot read, act on or upload to the campaign: 404 CAMPAIGN_NOT_FOUND", async () => {
    const base = `/v1/campaigns/${campaign.id}`;
    for (const response of [
      await other.get(base),
      await other.get(`${base}/recipients`),
      await other.get(`${base}/export.csv`),
      await other.post(`${base}/start`),
      await other.post(`${base}/pause`),
      await other.post(`${base}/resume`),
      await other.post(`${base}/cancel`),
      await other.post(`${base}/resend-unknown`),
      await other.send(`${base}/recipients`, 'phone,nombre,saldo\n+56987000001,Eva,1\n', 'text/csv'),
    ]) {
      expectError(response, 404, 'CAMPAIGN_NOT_FOUND');
    }
    const stored = await h.ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: campaign.id } });
    expect(stored.status).toBe('draft');
    expect(await recipientCount(h.ctx, campaign.id)).toBe(3);
  });

  it("another tenant cannot read the campaign's upload or its rejected rows: 404 UPLOAD_NOT_FOUND", async () => {
    expectError(await other.get(`/v1/campaigns/${campaign.id}/uploads/${uploadId}`), 404, 'UPLOAD_NOT_FOUND');
    expectError(await other.get(`/v1/campaigns/${campaign.id}/uploads/${uploadId}/rejected.csv`), 404, 'UPLOAD_NOT_FOUND');
  });

  it('an Idempotency-Key belongs to its tenant: another tenant using the same key creates its own campaign', async () => {
    const key = { 'idempotency-key': 'shared-key-1' };
    const body = { name: 'same name', accountId: account.id, templateId: template.id };
    const first = expectStatus<CreateCampaignResponse>(await h.api.post('/v1/campaigns', body, key), 201);
    const otherSender = await createSender(other);
    const theirs = await other.post('/v1/campaigns', { ...body, accountId: otherSender.account.id, templateId: otherSender.template.id }, key);
    const second = expectStatus<CreateCampaignResponse>(theirs, 201);
    expect(second.replayed).toBe(false);
    expect(second.campaign.id).not.toBe(first.campaign.id);
  });
});
