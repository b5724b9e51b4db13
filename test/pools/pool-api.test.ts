/** The sender-pool and portfolio routes: validation, stable error codes, tenant isolation. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, expectStatus, startApi, type ApiHarness } from '../api/api-harness.js';

let h: ApiHarness;
let accountA: string;
let accountB: string;
let templateA: string;

beforeAll(async () => {
  h = await startApi();
  const account = async (name: string) =>
    expectStatus<{ id: string }>(await h.api.post('/v1/accounts', { provider: 'sandbox', name, config: { baseUrl: 'http://127.0.0.1:9' }, credentials: { token: 't' } }), 201).id;
  accountA = await account('A');
  accountB = await account('B');
  templateA = expectStatus<{ id: string }>(await h.api.post('/v1/templates', { accountId: accountA, name: 'greeting', body: 'Hola {{1}}' }), 201).id;
});
afterAll(async () => h?.close());

const inject = (method: 'PUT' | 'DELETE', url: string, payload?: object) =>
  h.app.inject({ method, url, headers: { authorization: `Bearer ${h.tenant.apiKey}` }, ...(payload ? { payload } : {}) });

describe('/v1/pools', () => {
  it('creates, reads, renames and re-maps a pool; refuses duplicates, foreign templates and deleting a pool in use', async () => {
    const { pool } = expectStatus<{ pool: { id: string; sticky: boolean; members: { accountId: string; weight: number }[] } }>(
      await h.api.post('/v1/pools', { name: 'Cobranza', members: [{ accountId: accountA, weight: 2 }] }),
      201,
    );
    expect(pool.members).toMatchObject([{ accountId: accountA, weight: 2 }]);
    expectError(await h.api.post('/v1/pools', { name: 'Cobranza' }), 409, 'POOL_NAME_TAKEN');
    expectError(await h.api.post('/v1/pools', { name: 'x', members: [{ accountId: 'nope' }] }), 400, 'VALIDATION_FAILED');
    // A template of account A cannot be account B's mapping.
    expectError(await inject('PUT', `/v1/pools/${pool.id}/members/${accountB}`, { templateId: templateA }), 400, 'TEMPLATE_ACCOUNT_MISMATCH');
    const withB = expectStatus<{ pool: { members: { accountId: string; templateName: string | null }[] } }>(
      await inject('PUT', `/v1/pools/${pool.id}/members/${accountB}`, { templateName: 'saludo', templateLanguage: 'es' }),
      200,
    );
    expect(withB.pool.members.find((m) => m.accountId === accountB)?.templateName).toBe('saludo');
    expect(expectStatus<{ pool: { sticky: boolean } }>(await h.api.patch(`/v1/pools/${pool.id}`, { sticky: true }), 200).pool.sticky).toBe(true);
    expect(expectStatus<{ pools: unknown[] }>(await h.api.get('/v1/pools'), 200).pools).toHaveLength(1);

    // Exactly one of accountId and poolId.
    expectError(await h.api.post('/v1/campaigns', { name: 'both', accountId: accountA, poolId: pool.id, templateId: templateA, defaultCountry: 'CL' }), 400, 'CAMPAIGN_SENDER_INVALID');
    expectStatus(await h.api.post('/v1/campaigns', { name: 'on pool', poolId: pool.id, templateId: templateA, defaultCountry: 'CL' }), 201);
    expectError(await inject('DELETE', `/v1/pools/${pool.id}`), 409, 'POOL_IN_USE');
    const spare = expectStatus<{ pool: { id: string } }>(await h.api.post('/v1/pools', { name: 'spare' }), 201).pool.id;
    expectError(await h.api.post('/v1/campaigns', { name: 'empty pool', poolId: spare, templateId: templateA, defaultCountry: 'CL' }), 409, 'POOL_EMPTY');
    expect((await inject('DELETE', `/v1/pools/${spare}`)).statusCode).toBe(204);
  });

  it("another tenant's pools and portfolios are not found", async () => {
    const { pool } = expectStatus<{ pool: { id: string } }>(await h.api.post('/v1/pools', { name: 'mine' }), 201);
    const { portfolio } = expectStatus<{ portfolio: { id: string } }>(await h.api.post('/v1/portfolios', { name: 'mine', messagingLimit: 250 }), 201);
    const other = await h.newTenant('other');
    expectError(await other.api.get(`/v1/pools/${pool.id}`), 404, 'POOL_NOT_FOUND');
    expectError(await other.api.get(`/v1/portfolios/${portfolio.id}`), 404, 'PORTFOLIO_NOT_FOUND');
    expectError(await other.api.post('/v1/campaigns', { name: 'x', poolId: pool.id, defaultCountry: 'CL', kind: 'text', text: 'hola' }), 404, 'POOL_NOT_FOUND');
    expectError(await h.api.post('/v1/portfolios', { name: 'mine' }), 409, 'PORTFOLIO_NAME_TAKEN');
  });
});
