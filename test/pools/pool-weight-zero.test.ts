/**
 * A pool member of weight 0 is out of the split (README, sender pools: "`weight: 0` takes it out
 * of the split"), through the real API, feeder and workers. Three accounts (two sandbox servers
 * and the fake Meta Cloud API) make a pool in which one sandbox account has weight 0: a campaign
 * on the pool runs to completion without that account's provider receiving a single request, and
 * the other two send the whole list, each phone once. The weight is then set back to 1 through
 * the pool's member update, and the next campaign on the pool is sent by all three accounts.
 * In a sticky pool, a phone whose last sender now has weight 0 is sent by another member rather
 * than waiting for it (it used to stay pending for good).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ENGINE_CONFIG, startEngine } from '../support/engine-harness.js';
import { acceptedPhones, expectEachPhoneOnce, META_TEMPLATE, phones, poolWorld, startPoolCampaign, type PoolEngine, type PoolWorld, waitCompleted as completed } from './support/pool-world.js';

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

type Member = { accountId: string; weight: number };

const waitCompleted = (id: string) => completed(engine, id, 30_000);

/** How many of the campaign's recipients each account holds, by the recipients' own records. */
async function sentBy(campaignId: string): Promise<Record<string, number>> {
  const { rows } = await engine.ctx.db.pool.query<{ account_id: string; n: number }>(
    `SELECT account_id, count(*)::int AS n FROM recipients WHERE campaign_id = $1 GROUP BY account_id`,
    [campaignId],
  );
  return Object.fromEntries(rows.map((r) => [r.account_id, r.n]));
}

/** Sets a member's weight through the pool's member update; returns the pool's members. */
async function setWeight(poolId: string, accountId: string, weight: number): Promise<Member[]> {
  const updated = await engine.app.inject({
    method: 'PUT',
    url: `/v1/pools/${poolId}/members/${accountId}`,
    headers: { authorization: `Bearer ${engine.tenant.apiKey}` },
    payload: { weight },
  });
  expect(updated.statusCode, updated.body).toBe(200);
  return (updated.json() as { pool: { members: Member[] } }).pool.members;
}

function resetProviders(): void {
  world.sandboxA.reset();
  world.sandboxB.reset();
  world.meta.deliveries.length = 0;
  world.meta.requests.length = 0;
}

describe('a pool member of weight 0', () => {
  let poolId: string;

  it('gets nothing: the other members send the whole list, each phone once', async () => {
    resetProviders();
    const { a, b, c } = world.accounts;
    const created = await engine.api.post('/v1/pools', {
      name: 'weight zero',
      members: [{ accountId: a }, { accountId: b, weight: 0 }, { accountId: c, templateName: META_TEMPLATE.name, templateLanguage: META_TEMPLATE.language }],
    });
    expect(created.statusCode, created.body).toBe(201);
    const pool = (created.json() as { pool: { id: string; members: Member[] } }).pool;
    poolId = pool.id;
    expect(Object.fromEntries(pool.members.map((m) => [m.accountId, m.weight]))).toEqual({ [a]: 1, [b]: 0, [c]: 1 });

    const list = phones(200, 60_000);
    const id = await startPoolCampaign(engine, world, poolId, list, 'without B');
    const done = await waitCompleted(id);
    expect(done.progress.counts.sent).toBe(list.length);

    // B's provider was never called; A and C sent every phone, once.
    expect(world.sandboxB.stats().received).toBe(0);
    const accepted = acceptedPhones(world);
    expect(accepted.b).toEqual([]);
    expect(accepted.a.length).toBeGreaterThan(0);
    expect(accepted.c.length).toBeGreaterThan(0);
    expect(accepted.a.length + accepted.c.length).toBe(list.length);
    expectEachPhoneOnce(world, list);
    // The recipients' records agree: none was ever given to B.
    expect(await sentBy(id)).toEqual({ [a]: accepted.a.length, [c]: accepted.c.length });
  });

  it('takes its share again once its weight is set back to 1', async () => {
    resetProviders();
    const { a, b, c } = world.accounts;
    const members = await setWeight(poolId, b, 1);
    expect(Object.fromEntries(members.map((m) => [m.accountId, m.weight]))).toEqual({ [a]: 1, [b]: 1, [c]: 1 });

    const list = phones(200, 70_000);
    const id = await startPoolCampaign(engine, world, poolId, list, 'with B again');
    const done = await waitCompleted(id);
    expect(done.progress.counts.sent).toBe(list.length);

    const accepted = acceptedPhones(world);
    expect(accepted.a.length).toBeGreaterThan(0);
    expect(accepted.b.length).toBeGreaterThan(0);
    expect(accepted.c.length).toBeGreaterThan(0);
    expectEachPhoneOnce(world, list);
    expect(await sentBy(id)).toEqual({ [a]: accepted.a.length, [b]: accepted.b.length, [c]: accepted.c.length });
  });

  it('in a sticky pool, a phone last sent by a member now at weight 0 goes to another member', async () => {
    resetProviders();
    const { a, b, c } = world.accounts;
    const created = await engine.api.post('/v1/pools', {
      name: 'sticky weight zero',
      sticky: true,
      members: [{ accountId: a }, { accountId: b }, { accountId: c, templateName: META_TEMPLATE.name, templateLanguage: META_TEMPLATE.language }],
    });
    expect(created.statusCode, created.body).toBe(201);
    const stickyPool = (created.json() as { pool: { id: string } }).pool.id;
    const list = phones(90, 80_000);
    const first = await startPoolCampaign(engine, world, stickyPool, list, 'sticky, first');
    await waitCompleted(first);
    const byB = acceptedPhones(world).b;
    expect(byB.length).toBeGreaterThan(0);

    await setWeight(stickyPool, b, 0);
    resetProviders();
    const second = await startPoolCampaign(engine, world, stickyPool, list, 'sticky, second');
    const done = await waitCompleted(second);
    expect(done.progress.counts.sent).toBe(list.length);
    // B got nothing; the phones it had sent went to A or C.
    expect(world.sandboxB.stats().received).toBe(0);
    const again = acceptedPhones(world);
    expect([...again.a, ...again.c].filter((p) => byB.includes(p)).sort()).toEqual([...byB].sort());
    expectEachPhoneOnce(world, list);
  });
});
