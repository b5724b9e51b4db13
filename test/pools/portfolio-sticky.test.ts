/**
 * A business portfolio's shared messaging limit across its accounts, a sticky pool keeping each
 * phone on its account (and falling back when that account stops), and ingest checking a phone
 * against every pool account's rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ENGINE_CONFIG, startEngine } from '../support/engine-harness.js';
import { waitFor } from '../support/fixtures.js';
import { acceptedPhones, phones, poolWorld, startCampaignOn, type PoolEngine, type PoolWorld } from './support/pool-world.js';

let engine: PoolEngine;
let world: PoolWorld;

beforeAll(async () => {
  engine = await startEngine({ api: true, sendWorkers: true, config: { ...FAST_ENGINE_CONFIG, queueWindowSeconds: 1 } });
  world = await poolWorld(engine, { a: 50, b: 50, c: 50 });
});
afterAll(async () => {
  await world?.close();
  await engine?.close();
});

const auth = () => ({ authorization: `Bearer ${engine.tenant.apiKey}`, 'content-type': 'application/json' });

async function put(url: string, body: object = {}): Promise<{ statusCode: number; json(): unknown }> {
  return engine.app.inject({ method: 'PUT', url, headers: auth(), payload: body });
}

async function counts(campaignId: string): Promise<Record<string, number>> {
  return ((await engine.api.get(`/v1/campaigns/${campaignId}`)).json() as { progress: { counts: Record<string, number> } }).progress.counts;
}

function campaignOn(sender: { accountId: string } | { poolId: string }, list: readonly string[], name: string): Promise<string> {
  return startCampaignOn(engine, world.templateId, sender, list, name);
}

async function senderOf(campaignId: string): Promise<Map<string, string>> {
  const { rows } = await engine.ctx.db.pool.query<{ phone: string; account_id: string }>(`SELECT phone, account_id FROM recipients WHERE campaign_id = $1 AND status = 'sent'`, [campaignId]);
  return new Map(rows.map((r) => [r.phone, r.account_id]));
}

describe('business portfolio', () => {
  it('holds one messaging limit across its accounts: two accounts reach 30 unique phones together, the rest wait', async () => {
    const created = await engine.api.post('/v1/portfolios', { name: 'ACME', messagingLimit: 30 });
    expect(created.statusCode, created.body).toBe(201);
    const portfolioId = (created.json() as { portfolio: { id: string } }).portfolio.id;
    for (const accountId of [world.accounts.a, world.accounts.b]) expect((await put(`/v1/portfolios/${portfolioId}/accounts/${accountId}`)).statusCode).toBe(200);
    const listed = (await engine.api.get(`/v1/portfolios/${portfolioId}`)).json() as { portfolio: { accounts: { id: string }[] } };
    expect(listed.portfolio.accounts.map((a) => a.id).sort()).toEqual([world.accounts.a, world.accounts.b].sort());

    // Each account's campaign sends its own template.
    const templates = (await engine.api.get(`/v1/templates?accountId=${world.accounts.b}`)).json() as { templates: { id: string }[] };
    const onA = await campaignOn({ accountId: world.accounts.a }, phones(20, 50_000), 'portfolio A');
    const onB = await startCampaignOn(engine, templates.templates[0]?.id, { accountId: world.accounts.b }, phones(20, 60_000), 'portfolio B');
    const settled = await waitFor('30 sent and 10 deferred across the two campaigns', async () => {
      const [a, b] = [await counts(onA), await counts(onB)];
      return (a.sent ?? 0) + (b.sent ?? 0) === 30 && (a.deferred ?? 0) + (b.deferred ?? 0) === 10 ? { a, b } : null;
    });
    expect((settled.a.sent ?? 0) + (settled.b.sent ?? 0)).toBe(30);
    const { rows } = await engine.ctx.db.pool.query<{ error_code: string }>(
      `SELECT DISTINCT error_code FROM recipients WHERE campaign_id = ANY($1::uuid[]) AND status = 'deferred'`,
      [[onA, onB]],
    );
    expect(rows).toEqual([{ error_code: 'DAILY_LIMIT_REACHED' }]);
    for (const id of [onA, onB]) await engine.api.post(`/v1/campaigns/${id}/cancel`);
    for (const accountId of [world.accounts.a, world.accounts.b]) {
      const removed = await engine.app.inject({ method: 'DELETE', url: `/v1/portfolios/${portfolioId}/accounts/${accountId}`, headers: { authorization: auth().authorization } });
      expect(removed.statusCode, removed.body).toBe(200);
    }
  });
});

describe('sticky sender pool', () => {
  it('sends a phone later campaigns from the account that sent it the first, and falls back when that account stops', async () => {
    const pool = await engine.api.post('/v1/pools', { name: 'sticky', sticky: true, members: [{ accountId: world.accounts.a }, { accountId: world.accounts.b }] });
    expect(pool.statusCode, pool.body).toBe(201);
    const poolId = (pool.json() as { pool: { id: string; sticky: boolean } }).pool.id;
    const list = phones(60, 70_000);
    const first = await campaignOn({ poolId }, list, 'sticky 1');
    await waitFor('first campaign sent', async () => ((await counts(first)).sent ?? 0) === 60, 30_000);
    const firstSenders = await senderOf(first);
    expect(new Set(firstSenders.values()).size).toBe(2);

    const second = await campaignOn({ poolId }, list, 'sticky 2');
    await waitFor('second campaign sent', async () => ((await counts(second)).sent ?? 0) === 60, 30_000);
    expect(await senderOf(second)).toEqual(firstSenders);

    // A stops (auth): its phones go to B.
    world.sandboxA.settings.token = 'rotated';
    const third = await campaignOn({ poolId }, list, 'sticky 3');
    await waitFor('third campaign sent', async () => ((await counts(third)).sent ?? 0) === 60, 30_000);
    const thirdSenders = await senderOf(third);
    expect(new Set(thirdSenders.values())).toEqual(new Set([world.accounts.b]));
    world.sandboxA.settings.token = 'sandbox-token';
    expect(acceptedPhones(world).a.length + acceptedPhones(world).b.length).toBeGreaterThanOrEqual(180);
  }, 120_000);
});

describe('ingest over a pool', () => {
  it("checks each phone against every pool account's rules (contacto-multichat: Colombian numbers only)", async () => {
    const multichat = await engine.ctx.db.prisma.providerAccount.create({
      data: { tenantId: engine.tenant.tenantId, provider: 'multichat', name: 'M multichat', config: {}, credentials: {} },
    });
    const pool = await engine.api.post('/v1/pools', { name: 'with multichat', members: [{ accountId: world.accounts.a }, { accountId: multichat.id }] });
    expect(pool.statusCode, pool.body).toBe(201);
    const response = await engine.api.post('/v1/campaigns', {
      name: 'colombia only',
      poolId: (pool.json() as { pool: { id: string } }).pool.id,
      templateId: world.templateId,
      defaultCountry: 'CL',
      recipients: [{ phone: '+56961230001', variables: ['Ana'] }, { phone: '+573001234567', variables: ['Luis'] }],
    });
    expect(response.statusCode, response.body).toBe(201);
    const upload = (response.json() as { upload: { accepted: number; rejectedByReason: Record<string, number> } }).upload;
    expect(upload.accepted).toBe(1);
    expect(upload.rejectedByReason).toEqual({ PHONE_NOT_COLOMBIAN: 1 });
  });
});
