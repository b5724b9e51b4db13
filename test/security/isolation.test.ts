/**
 * Tenant isolation over every route the app registers (app.registeredRoutes, so routes added
 * later are covered, or this test fails asking how to reach them):
 *
 * - a route with ids in its path, called by tenant B with tenant A's ids, is a 404 *_NOT_FOUND;
 * - a route that takes A's ids in its body (accountId, templateId) is a 404 too;
 * - a listing (GET without ids) shows B nothing of A's;
 * - the same requests from A are not 404 (the control: the ids are real).
 *
 * Health, /metrics (operator token) and provider webhooks (their own URL secrets) are not
 * tenant routes.
 */
import type { HTTPMethods, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/tenants/api-keys.js';
import { createDraftCampaign, createSender, expectStatus, recipientObjects, startApi, type ApiHarness, type ApiTenant } from '../api/api-harness.js';

const NOT_TENANT_ROUTES = [/^\/health$/, /^\/metrics$/, /^\/webhooks\//, /^\/openapi\.json$/, /^\/docs(\/|$)/];
/**
 * Console pages and Bull Board take a session cookie, not a key: their isolation (another
 * tenant's campaign page, queues and queue routes answer 404) is tested signed in, in
 * test/console/console-api.test.ts. The console's data calls are ordinary /v1 routes, probed here.
 */
const SESSION_ROUTES = [/^\/console(\/|$)/, /^\/admin\/queues(\/|$)/];
/** Routes without ids that create the caller's own things: nothing of another tenant's to reach. */
const CREATES_OWN = new Set(['POST /v1/accounts', 'POST /v1/suppressions', 'POST /v1/suppressions/import', 'PUT /v1/settings/stop-words', 'POST /v1/api-keys', 'POST /v1/event-endpoints', 'POST /v1/portfolios']);
const SUPPRESSED = '+56987650001';
const STREAMS = new Set(['GET /v1/live/campaigns']);

let h: ApiHarness;
let b: ApiTenant;
let queries: Record<string, () => string> = {};
let ids: Record<string, string>;
let bodies: Record<string, () => unknown>;

beforeAll(async () => {
  h = await startApi({ apiRateLimit: 0 });
  ({ tenant: b } = await h.newTenant('tenant B'));
  const sender = await createSender(h.api);
  const created = await createDraftCampaign(h.api, sender, { recipients: recipientObjects(3) });
  const recipients = expectStatus<{ recipients: { id: string }[] }>(await h.api.get(`/v1/campaigns/${created.campaign.id}/recipients`), 200);
  expectStatus(await h.api.post('/v1/suppressions', { phone: SUPPRESSED }), 201);
  const spare = await createApiKey(h.ctx.db, h.tenant.tenantId, 'spare');
  const endpoint = expectStatus<{ endpoint: { id: string } }>(await h.api.post('/v1/event-endpoints', { url: 'https://hooks.example.com/wce' }), 201);
  const pool = expectStatus<{ pool: { id: string } }>(await h.api.post('/v1/pools', { name: 'A pool' }), 201);
  const portfolio = expectStatus<{ portfolio: { id: string } }>(await h.api.post('/v1/portfolios', { name: 'A portfolio' }), 201);
  ids = {
    'accounts:id': sender.account.id,
    'pools:id': pool.pool.id,
    'portfolios:id': portfolio.portfolio.id,
    accountId: sender.account.id,
    'campaigns:id': created.campaign.id,
    'api-keys:id': spare.id,
    'event-endpoints:id': endpoint.endpoint.id,
    'templates:id': sender.template.id,
    uploadId: created.upload?.uploadId ?? '',
    recipientId: recipients.recipients[0]?.id ?? '',
    phone: encodeURIComponent(SUPPRESSED),
  };
  const csv = 'phone,nombre,saldo\n+56987000001,Ana,1\n';
  const refs = { accountId: sender.account.id, templateId: sender.template.id };
  bodies = {
    'PATCH /v1/accounts/:id': () => ({ name: 'taken over' }),
    'POST /v1/templates': () => ({ accountId: refs.accountId, name: 'intruder', body: 'Hola {{1}}' }),
    'POST /v1/campaigns': () => ({ name: 'intruder', ...refs }),
    'POST /v1/messages': () => ({ ...refs, phone: '+56987000002', variables: ['a', 'b'], waitMs: 0 }),
    'POST /v1/messages/adereso/ticket-reply': () => ({ accountId: refs.accountId, ticketId: '1', text: 'hola' }),
    'POST /v1/messages/adereso/conversation': () => ({ accountId: refs.accountId, phone: '+56987000003', text: 'hola' }),
    'POST /v1/accounts/:id/provider-templates': () => ({ name: 'intruder', body: 'Hola {{1}}', example: 'Hola Ana' }),
    'POST /v1/api-keys/:id/rotate': () => ({ graceSeconds: 0 }),
    'POST /v1/campaigns/:id/recipients': () => csv,
    'POST /v1/uploads/preview': () => csv,
    'PATCH /v1/event-endpoints/:id': () => ({ description: 'taken over' }),
    // A pool made of tenant A's account: refused as an unknown account.
    'POST /v1/pools': () => ({ name: 'intruder', members: [{ accountId: refs.accountId }] }),
    'PATCH /v1/pools/:id': () => ({ name: 'taken over' }),
    'PATCH /v1/portfolios/:id': () => ({ name: 'taken over' }),
  };
  queries = {
    // The console's data calls name tenant A's things in the query string.
    'POST /v1/uploads/preview': () => `templateId=${refs.templateId}`,
    'GET /v1/live/campaigns': () => `ids=${created.campaign.id}`,
    'GET /v1/campaigns/:id/failures/recipients': () => 'code=PROVIDER_TIMEOUT',
  };
});
afterAll(async () => {
  await h?.close();
});

type Probe = { key: string; kind: 'by-path' | 'by-body' | 'listing' | 'creates-own'; options: InjectOptions };

function probes(): Probe[] {
  const routes = h.app.registeredRoutes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS' && !NOT_TENANT_ROUTES.some((p) => p.test(r.url)) && !SESSION_ROUTES.some((p) => p.test(r.url)));
  return routes.map(({ method, url }) => {
    const key = `${method} ${url}`;
    const resource = url.split('/')[2] ?? '';
    const params = url.split('/').filter((s) => s.startsWith(':'));
    const path = url
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment;
        const id = ids[`${resource}:${segment.slice(1)}`] ?? ids[segment.slice(1)];
        if (!id) throw new Error(`${key}: no id of tenant A for ${segment}; add one to this test's ids`);
        return id;
      })
      .join('/');
    const body = bodies[key]?.();
    const query = queries[key]?.();
    const options: InjectOptions = {
      method: method as HTTPMethods,
      url: query ? `${path}?${query}` : path,
      ...(body === undefined
        ? method === 'GET' || method === 'DELETE'
          ? {}
          : { payload: {} }
        : typeof body === 'string'
          ? { payload: body, headers: { 'content-type': 'text/csv' } }
          : { payload: body as object }),
    };
    const takesIds = query !== undefined || (typeof body === 'object' && body !== null && ('accountId' in body || 'templateId' in body || 'members' in body));
    const kind = params.length > 0 ? 'by-path' : takesIds ? 'by-body' : method === 'GET' ? 'listing' : CREATES_OWN.has(key) ? 'creates-own' : null;
    if (!kind) throw new Error(`${key}: takes no id and is not a listing; say how another tenant could reach tenant A's data through it (bodies or CREATES_OWN)`);
    return { key, kind, options };
  });
}

function as(tenant: ApiTenant, options: InjectOptions): Promise<LightMyRequestResponse> {
  return h.app.inject({ ...options, headers: { ...(options.headers ?? {}), authorization: `Bearer ${tenant.apiKey}` } });
}

describe('tenant isolation on every registered route', () => {
  it('covers every tenant route the app registers, key routes included', async () => {
    await h.app.ready();
    const all = probes();
    expect(all.map((p) => p.key)).toEqual(expect.arrayContaining(['GET /v1/api-keys/:id', 'POST /v1/api-keys/:id/revoke', 'POST /v1/api-keys/:id/rotate', 'DELETE /v1/suppressions/:phone']));
    expect(all.filter((p) => p.kind === 'by-path').length).toBeGreaterThan(20);
  });

  it("another tenant's ids are 404 *_NOT_FOUND; listings show none of them; the owner's same requests are not 404", async () => {
    await h.app.ready();
    const all = probes();
    const leaks: string[] = [];
    const secrets = [...Object.values(ids).filter((v) => v.length > 8), SUPPRESSED.slice(1)];
    for (const probe of all) {
      const response = await as(b, probe.options);
      if (probe.kind === 'by-path' || probe.kind === 'by-body') {
        const code = response.statusCode === 404 ? (response.json<{ error?: { code?: string } }>().error?.code ?? '') : '';
        if (!code.endsWith('NOT_FOUND')) leaks.push(`${probe.key}: ${response.statusCode} ${response.body.slice(0, 200)}`);
      } else if (probe.kind === 'listing') {
        for (const secret of secrets) if (response.body.includes(secret)) leaks.push(`${probe.key}: shows tenant A's ${secret}`);
      }
    }
    expect(leaks).toEqual([]);
    // A's data is as it was.
    expect((await h.ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: ids['campaigns:id'] ?? '' } })).status).toBe('draft');
    expect(await h.ctx.db.prisma.suppression.count({ where: { tenantId: h.tenant.tenantId } })).toBe(1);
    expect((await h.ctx.db.prisma.apiKey.findUniqueOrThrow({ where: { id: ids['api-keys:id'] ?? '' } })).revokedAt).toBeNull();

    const owner404: string[] = [];
    // A live stream never ends, so the owner's own stream is watched in test/console, not here.
    // Deletions last: the owner's DELETE really deletes, and later probes still need the thing;
    // among them the longer paths first (a pool's member before the pool).
    const ownerProbes = all.filter((p) => (p.kind === 'by-path' || p.kind === 'by-body') && !STREAMS.has(p.key));
    const deleteRank = (p: Probe) => (p.options.method === 'DELETE' ? 1_000 - p.key.length : 0);
    ownerProbes.sort((x, y) => deleteRank(x) - deleteRank(y));
    for (const probe of ownerProbes) {
      const response = await as(h.tenant, probe.options);
      if (response.statusCode === 404) owner404.push(`${probe.key}: ${response.body.slice(0, 200)}`);
    }
    expect(owner404).toEqual([]);
  });
});
