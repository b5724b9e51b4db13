/**
 * Sender pools end to end: three accounts over two providers (two sandbox servers and the fake
 * Meta Cloud API) in one pool, through the real API, feeder and workers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/redis-keys.js';
import { FAST_ENGINE_CONFIG, startEngine } from '../support/engine-harness.js';
import { waitFor } from '../support/fixtures.js';
import { acceptedPhones, feederRounds, createPool, expectEachPhoneOnce, phones, poolWorld, startPoolCampaign, type PoolEngine, type PoolWorld, campaignView, waitCompleted as completed } from './support/pool-world.js';

let engine: PoolEngine;

beforeAll(async () => {
  engine = await startEngine({ api: true, sendWorkers: true, config: { ...FAST_ENGINE_CONFIG, queueWindowSeconds: 1, sendTimeoutMs: 1_000 } });
});
afterAll(async () => {
  await engine?.close();
});

const campaign = (id: string) => campaignView(engine, id);
const waitCompleted = (id: string, timeoutMs?: number) => completed(engine, id, timeoutMs);

async function accountStatus(id: string): Promise<string> {
  return ((await engine.api.get(`/v1/accounts/${id}`)).json() as { status: string }).status;
}

describe('sender pools', () => {
  let world: PoolWorld;
  afterAll(async () => world?.close());

  it('refuses to start while a member lacks the template, and splits the list by the accounts rates', async () => {
    world = await poolWorld(engine, { a: 10, b: 20, c: 30 });
    // Without C's mapping, C has no template named "greeting": the start is refused with a stable code.
    const unmapped = await engine.api.post('/v1/pools', { name: 'unmapped', members: [{ accountId: world.accounts.a }, { accountId: world.accounts.c }] });
    const refused = await engine.api.post('/v1/campaigns', {
      name: 'refused',
      poolId: (unmapped.json() as { pool: { id: string } }).pool.id,
      templateId: world.templateId,
      defaultCountry: 'CL',
      start: true,
      recipients: [{ phone: '+56961111111', variables: ['Ana'] }],
    });
    expect(refused.statusCode).toBe(409);
    expect((refused.json() as { error: { code: string; details: { accounts: string[] } } }).error).toMatchObject({ code: 'POOL_TEMPLATE_MISSING', details: { accounts: ['C meta'] } });

    const poolId = await createPool(engine, world);
    const list = phones(600);
    const id = await startPoolCampaign(engine, world, poolId, list);
    const done = await waitCompleted(id);
    expect(done.progress.counts.sent).toBe(600);
    expectEachPhoneOnce(world, list);

    // The split follows the rates 10 : 20 : 30 (each account's queue empties at its own rate).
    const accepted = acceptedPhones(world);
    const shares = [accepted.a.length, accepted.b.length, accepted.c.length].map((n) => n / 600);
    expect(shares[0]).toBeGreaterThan(1 / 6 - 0.08);
    expect(shares[0]).toBeLessThan(1 / 6 + 0.08);
    expect(shares[1]).toBeGreaterThan(2 / 6 - 0.1);
    expect(shares[1]).toBeLessThan(2 / 6 + 0.1);
    expect(shares[2]).toBeGreaterThan(3 / 6 - 0.1);
    expect(shares[2]).toBeLessThan(3 / 6 + 0.1);
    // The API says the same, per account, and so does every recipient's record and the export.
    const byAccount = Object.fromEntries(done.accounts.map((s) => [s.accountId, s.counts.sent ?? 0]));
    expect(byAccount).toEqual({ [world.accounts.a]: accepted.a.length, [world.accounts.b]: accepted.b.length, [world.accounts.c]: accepted.c.length });
    const funnel = (await engine.api.get(`/v1/campaigns/${id}/funnel`)).json() as { byAccount: { accountId: string; assigned: number }[] };
    expect(funnel.byAccount.map((f) => f.assigned).reduce((x, y) => x + y, 0)).toBe(600);
    const csv = (await engine.api.get(`/v1/campaigns/${id}/export.csv`)).body.replace(/^\uFEFF/, '');
    const [header, ...lines] = csv.trim().split(/\r?\n/);
    const columns = (header ?? '').split(/[;,]/);
    const sender = columns.indexOf('sending_account');
    expect(sender).toBeGreaterThan(0);
    const senders = new Set(lines.map((line) => line.split(/[;,]/)[columns.indexOf('account_id')]));
    expect(senders).toEqual(new Set(Object.values(world.accounts)));
  });

  it('moves the waiting recipients of an account stopped by a tier limit to the others', async () => {
    for (const s of [world.sandboxA, world.sandboxB]) s.reset();
    world.meta.deliveries.length = 0;
    world.sandboxA.settings.tierLimit = 40;
    const poolId = await createPool(engine, world, { name: 'tier' });
    const list = phones(600, 10_000);
    const id = await startPoolCampaign(engine, world, poolId, list, 'tier');
    const done = await waitCompleted(id);
    expect(done.progress.counts).toMatchObject({ sent: 600, unknown: 0, failed: 0 });
    expect(await accountStatus(world.accounts.a)).toBe('limited');
    expect(acceptedPhones(world).a.length).toBe(40);
    expectEachPhoneOnce(world, list);
    world.sandboxA.settings.tierLimit = 0;
    expect((await engine.app.inject({ method: 'POST', url: `/v1/accounts/${world.accounts.a}/resume`, headers: { authorization: `Bearer ${engine.tenant.apiKey}` } })).statusCode).toBe(200);
  });

  it("hands an account's share to the others on an auth failure, takes it back on resume, and never resends an unknown from another account", async () => {
    for (const s of [world.sandboxA, world.sandboxB]) s.reset();
    world.meta.deliveries.length = 0;
    world.meta.requests.length = 0;
    const auth = { authorization: `Bearer ${engine.tenant.apiKey}` };
    const poolId = await createPool(engine, world, { name: 'auth' });
    const list = phones(450, 20_000);
    // C's first send hangs past the timeout: it ends `unknown` on C.
    world.meta.script({ hang: true }, { times: 1 });
    const id = await startPoolCampaign(engine, world, poolId, list, 'auth');

    await waitFor('B sent 30', async () => acceptedPhones(world).b.length >= 30);
    world.sandboxB.settings.token = 'rotated';
    await waitFor('B paused by the auth error', async () => (await accountStatus(world.accounts.b)) === 'paused');
    const beforeResume = acceptedPhones(world).b.length;
    await waitFor('A and C sent 60 more', async () => {
      const now = acceptedPhones(world);
      return now.a.length + now.c.length > 60 + beforeResume ? now : null;
    });
    expect(acceptedPhones(world).b.length).toBe(beforeResume);
    world.sandboxB.settings.token = 'sandbox-token';
    expect((await engine.app.inject({ method: 'POST', url: `/v1/accounts/${world.accounts.b}/resume`, headers: auth })).statusCode).toBe(200);
    const done = await waitCompleted(id);
    expect(acceptedPhones(world).b.length).toBeGreaterThan(beforeResume);
    expect(done.progress.counts).toMatchObject({ sent: 449, unknown: 1 });

    // The unknown stays C's: C stops (auth) when the operator resends it, and A and B never send it.
    const { rows } = await engine.ctx.db.pool.query<{ phone: string; account_id: string; account_pinned: boolean }>(
      `SELECT phone, account_id, account_pinned FROM recipients WHERE campaign_id = $1 AND status = 'unknown'`,
      [id],
    );
    expect(rows).toEqual([{ phone: expect.any(String), account_id: world.accounts.c, account_pinned: true }]);
    const doubtful = rows[0]?.phone as string;
    world.meta.failNext(190, { phone: doubtful.slice(1) });
    expect((await engine.app.inject({ method: 'POST', url: `/v1/campaigns/${id}/resend-unknown`, headers: auth })).statusCode).toBe(200);
    await waitFor('C paused by the auth error', async () => (await accountStatus(world.accounts.c)) === 'paused');
    await feederRounds(engine);
    expect(acceptedPhones(world).a.concat(acceptedPhones(world).b)).not.toContain(doubtful);
    expect(((await campaign(id)).progress.counts.sent)).toBe(449);
    expect((await engine.app.inject({ method: 'POST', url: `/v1/accounts/${world.accounts.c}/resume`, headers: auth })).statusCode).toBe(200);
    await waitCompleted(id);
    expect(acceptedPhones(world).c.filter((p) => p === doubtful)).toHaveLength(1);
    expectEachPhoneOnce(world, list);
  });

  it('a pause through the API marks the campaign stopped on every member, for the sends they hold claimed; the resume clears the marks', async () => {
    for (const s of [world.sandboxA, world.sandboxB]) s.reset();
    world.meta.deliveries.length = 0;
    const auth = { authorization: `Bearer ${engine.tenant.apiKey}` };
    const poolId = await createPool(engine, world, { name: 'stop marks' });
    const list = phones(300, 40_000);
    const id = await startPoolCampaign(engine, world, poolId, list, 'stop marks');
    await waitFor('30 sent', async () => Object.values(acceptedPhones(world)).flat().length >= 30);
    expect((await engine.app.inject({ method: 'POST', url: `/v1/campaigns/${id}/pause`, headers: auth })).statusCode).toBe(200);
    const marks = () => Promise.all(Object.values(world.accounts).map((accountId) => engine.redis.exists(redisKeys.campaignStop(engine.ctx.config.queuePrefix, accountId, id))));
    expect(await marks()).toEqual([1, 1, 1]);
    expect((await engine.app.inject({ method: 'POST', url: `/v1/campaigns/${id}/resume`, headers: auth })).statusCode).toBe(200);
    expect(await marks()).toEqual([0, 0, 0]);
    await waitCompleted(id);
    expectEachPhoneOnce(world, list);
  });
});
