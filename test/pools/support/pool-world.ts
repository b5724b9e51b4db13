/**
 * A tenant with three provider accounts over two providers, for the sender-pool tests: two
 * sandbox accounts (each on its own sandbox server) and one Meta account on the fake Cloud API,
 * with the template under a different name at Meta. Everything is made through the API.
 */
import { expect } from 'vitest';
import { feederRoundKey } from '../../../src/observability/record.js';
import { startSandboxServer, type SandboxServer } from '../../../src/providers/sandbox/sandbox-server.js';
import { startFakeMeta, type FakeMeta } from '../../fakes/meta-server.js';
import { FAST_ENGINE_CONFIG, type Engine } from '../../support/engine-harness.js';
import { waitFor } from '../../support/fixtures.js';

export type PoolEngine = Engine<{ api: true; sendWorkers: true }>;

export type PoolWorld = {
  sandboxA: SandboxServer;
  sandboxB: SandboxServer;
  meta: FakeMeta;
  accounts: { a: string; b: string; c: string };
  /** The campaign's template (account A's); B matches it by name, C maps its own. */
  templateId: string;
  close(): Promise<void>;
};

export const META_TEMPLATE = { name: 'aviso_pedido', language: 'es_AR' };

export async function poolWorld(engine: PoolEngine, rates: { a: number; b: number; c: number }): Promise<PoolWorld> {
  const sandboxA = await startSandboxServer();
  const sandboxB = await startSandboxServer();
  const meta = await startFakeMeta();
  meta.addTemplate({ name: META_TEMPLATE.name, language: META_TEMPLATE.language, body: 'Hola {{1}}' });
  const sandboxAccount = async (name: string, url: string, rate: number) =>
    created(await engine.api.post('/v1/accounts', { provider: 'sandbox', name, config: { baseUrl: url }, credentials: { token: 'sandbox-token' }, ratePerSecond: rate, pairGapSeconds: 0 }), 'account');
  const a = await sandboxAccount('A sandbox', sandboxA.url, rates.a);
  const b = await sandboxAccount('B sandbox', sandboxB.url, rates.b);
  const c = created(
    await engine.api.post('/v1/accounts', {
      provider: 'meta',
      name: 'C meta',
      config: { baseUrl: meta.url, phoneNumberId: meta.phoneNumberId },
      credentials: { accessToken: meta.token },
      ratePerSecond: rates.c,
      pairGapSeconds: 0,
    }),
    'account',
  );
  const template = async (accountId: string, name: string, language: string) =>
    created(await engine.api.post('/v1/templates', { accountId, name, language, body: 'Hola {{1}}' }), 'template');
  const templateId = await template(a, 'greeting', 'es');
  await template(b, 'greeting', 'es');
  await template(c, META_TEMPLATE.name, META_TEMPLATE.language);
  return {
    sandboxA,
    sandboxB,
    meta,
    accounts: { a, b, c },
    templateId,
    async close() {
      await Promise.all([sandboxA.close(), sandboxB.close(), meta.close()]);
    },
  };
}

function created(response: { statusCode: number; json(): unknown }, key: 'account' | 'template'): string {
  expect(response.statusCode, JSON.stringify(response.json())).toBe(201);
  const body = response.json() as Record<string, { id: string } | undefined> & { id?: string };
  const id = body[key]?.id ?? body.id;
  if (!id) throw new Error(`no ${key} id in ${JSON.stringify(body)}`);
  return id;
}

/** A pool of the three accounts; C sends its own template, mapped by name and language. */
export async function createPool(engine: PoolEngine, world: PoolWorld, options: { sticky?: boolean; name?: string } = {}): Promise<string> {
  const response = await engine.api.post('/v1/pools', {
    name: options.name ?? 'pool',
    sticky: options.sticky ?? false,
    members: [
      { accountId: world.accounts.a },
      { accountId: world.accounts.b },
      { accountId: world.accounts.c, templateName: META_TEMPLATE.name, templateLanguage: META_TEMPLATE.language },
    ],
  });
  expect(response.statusCode, response.body).toBe(201);
  return (response.json() as { pool: { id: string } }).pool.id;
}

/** A pool campaign as GET /v1/campaigns/:id shows it: status, counts, and each account's share. */
export type PoolCampaignView = {
  status: string;
  statusCode: string | null;
  progress: { counts: Record<string, number> };
  accounts: { accountId: string; status: string; assigned: number; share: number; counts: Record<string, number> }[];
};

export async function campaignView(engine: PoolEngine, id: string): Promise<PoolCampaignView> {
  const response = await engine.api.get(`/v1/campaigns/${id}`);
  expect(response.statusCode).toBe(200);
  return response.json();
}

/** Waits until the campaign is completed; returns its view then. */
export function waitCompleted(engine: PoolEngine, id: string, timeoutMs = 90_000): Promise<PoolCampaignView> {
  return waitFor(`campaign ${id} completed`, async () => {
    const c = await campaignView(engine, id);
    return c.status === 'completed' ? c : null;
  }, timeoutMs);
}

/** Phones +56 9 6xxx xxxx, distinct per offset. */
export function phones(count: number, offset = 0): string[] {
  return Array.from({ length: count }, (_, i) => `+5696${String(offset + i).padStart(7, '0')}`);
}

/** Creates and starts a pool campaign with these phones; returns its id. */
export function startPoolCampaign(engine: PoolEngine, world: PoolWorld, poolId: string, list: readonly string[], name = 'pool campaign'): Promise<string> {
  return startCampaignOn(engine, world.templateId, { poolId }, list, name);
}

/** Creates and starts a campaign on one account or a pool, with these phones; returns its id. */
export async function startCampaignOn(engine: PoolEngine, templateId: string | undefined, sender: { accountId: string } | { poolId: string }, list: readonly string[], name: string): Promise<string> {
  const response = await engine.api.post('/v1/campaigns', {
    name,
    ...sender,
    templateId,
    defaultCountry: 'CL',
    start: true,
    recipients: list.map((phone) => ({ phone, variables: ['Ana'] })),
  });
  expect(response.statusCode, response.body).toBe(201);
  return (response.json() as { campaign: { id: string } }).campaign.id;
}

/** Every phone each account's provider accepted: sandbox stats and Meta's deliveries. */
export function acceptedPhones(world: PoolWorld): { a: string[]; b: string[]; c: string[] } {
  const fromSandbox = (server: SandboxServer) => Object.entries(server.stats().perPhone).flatMap(([phone, n]) => Array.from({ length: n }, () => phone));
  return { a: fromSandbox(world.sandboxA), b: fromSandbox(world.sandboxB), c: world.meta.deliveries.map((d) => d.to) };
}

/** No phone accepted twice across the pool's accounts. */
export function expectEachPhoneOnce(world: PoolWorld, list: readonly string[]): void {
  const all = Object.values(acceptedPhones(world)).flat();
  const counts = new Map<string, number>();
  for (const phone of all) counts.set(phone, (counts.get(phone) ?? 0) + 1);
  expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
  expect(new Set(all)).toEqual(new Set(list));
}

/** Waits until the feeder has run a few more rounds after now (its own clock, in Redis). */
export async function feederRounds(engine: PoolEngine): Promise<void> {
  const since = Date.now();
  await waitFor('three feeder rounds', async () => Number((await engine.redis.get(feederRoundKey(engine.ctx.config.queuePrefix))) ?? 0) > since + 3 * (FAST_ENGINE_CONFIG.feederIntervalMs ?? 50));
}
