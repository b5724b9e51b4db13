/**
 * Two sender-pool claims of the README ("Sender pools"), through the real API, feeder and
 * workers, with three accounts over two providers (two sandbox servers and the fake Meta Cloud
 * API).
 *
 * The resume check: "A start (or resume) is refused with 409 `POOL_TEMPLATE_MISSING`, naming the
 * accounts, while any account lacks an approved match." A pool campaign is started while every
 * member has the template and paused through the API; then one member's template stops being
 * approved, and the resume is refused with that code, naming that member, and the campaign stays
 * paused. Once the template is approved again, the resume goes through and the campaign finishes,
 * each phone once.
 *
 * The probe: "when it is resumed (or its probe gets through) it takes its share again." A member
 * stopped by a tier limit is `limited` and the others send its share; the provider then accepts
 * again and, with no operator call, the engine's own probe (made due now rather than waited for)
 * gets through: the member is `active` again and sends part of the following campaign, each phone
 * once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/redis-keys.js';
import { FAST_ENGINE_CONFIG, startEngine } from '../support/engine-harness.js';
import { waitFor } from '../support/fixtures.js';
import { acceptedPhones, createPool, expectEachPhoneOnce, feederRounds, phones, poolWorld, startPoolCampaign, type PoolEngine, type PoolWorld, campaignView, waitCompleted as completed } from './support/pool-world.js';

let engine: PoolEngine;
let world: PoolWorld;

beforeAll(async () => {
  engine = await startEngine({ api: true, sendWorkers: true, config: { ...FAST_ENGINE_CONFIG, queueWindowSeconds: 1 } });
  world = await poolWorld(engine, { a: 25, b: 25, c: 25 });
});
afterAll(async () => {
  await world?.close();
  await engine?.close();
});

const campaign = (id: string) => campaignView(engine, id);
const waitCompleted = (id: string) => completed(engine, id, 30_000);

async function account(id: string): Promise<{ status: string; statusCode: string | null }> {
  const response = await engine.api.get(`/v1/accounts/${id}`);
  expect(response.statusCode).toBe(200);
  return response.json();
}

/** Registers B's template again (the sandbox has no listing API: templates are registered by hand), with this status. */
async function setTemplateB(status: 'approved' | 'disabled'): Promise<void> {
  const response = await engine.api.post('/v1/templates', { accountId: world.accounts.b, name: 'greeting', language: 'es', body: 'Hola {{1}}', status });
  expect(response.statusCode, response.body).toBe(201);
  expect((response.json() as { status: string }).status).toBe(status);
}

function resetProviders(): void {
  world.sandboxA.reset();
  world.sandboxB.reset();
  world.meta.deliveries.length = 0;
  world.meta.requests.length = 0;
}

describe('sender pools: resume and probe', () => {
  it('refuses to resume a paused pool campaign while a member lacks the template, and resumes it once the member has it again', async () => {
    resetProviders();
    const poolId = await createPool(engine, world, { name: 'resume check' });
    const list = phones(300, 100_000);
    // Every member has the template: the start goes through.
    const id = await startPoolCampaign(engine, world, poolId, list, 'resume check');
    await waitFor('20 sent', async () => Object.values(acceptedPhones(world)).flat().length >= 20);
    const paused = await engine.api.post(`/v1/campaigns/${id}/pause`);
    expect(paused.statusCode, paused.body).toBe(200);

    // B loses its approved match. There is no route that deletes a template; the sync disables
    // the ones a provider no longer lists, and for the sandbox (no listing API) the template is
    // registered by hand: registering it again as `disabled` is what the engine would see.
    await setTemplateB('disabled');
    const refused = await engine.api.post(`/v1/campaigns/${id}/resume`);
    expect(refused.statusCode, refused.body).toBe(409);
    expect((refused.json() as { error: unknown }).error).toMatchObject({ code: 'POOL_TEMPLATE_MISSING', details: { template: 'greeting', accounts: ['B sandbox'] } });
    // The campaign stays paused: as the refusal left it, and after the feeder has looked again.
    expect((await campaign(id)).status).toBe('paused');
    await feederRounds(engine);
    expect((await campaign(id)).status).toBe('paused');
    const stopMarks = await Promise.all(Object.values(world.accounts).map((accountId) => engine.redis.exists(redisKeys.campaignStop(engine.ctx.config.queuePrefix, accountId, id))));
    expect(stopMarks).toEqual([1, 1, 1]);

    // B has the template again: the resume goes through and the campaign finishes, each phone once.
    await setTemplateB('approved');
    const resumed = await engine.api.post(`/v1/campaigns/${id}/resume`);
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect((resumed.json() as { status: string }).status).toBe('running');
    const done = await waitCompleted(id);
    expect(done.progress.counts).toMatchObject({ sent: list.length });
    expectEachPhoneOnce(world, list);
  });

  it('a member stopped by a tier limit takes its share again when its probe gets through, with no operator call', async () => {
    resetProviders();
    await setTemplateB('approved'); // as the test before leaves it, even when it failed half-way
    const { a } = world.accounts;
    const poolId = await createPool(engine, world, { name: 'probe' });

    // A meets its tier limit after 20 phones: it is `limited`, and B and C send the rest.
    world.sandboxA.settings.tierLimit = 20;
    const first = phones(150, 200_000);
    const firstId = await startPoolCampaign(engine, world, poolId, first, 'probe, first');
    await waitFor('A limited', async () => (await account(a)).status === 'limited');
    // The engine scheduled the probe one minute after the stop. Move it an hour out, so that
    // only this test's own trigger below (not the clock of a slow run) starts it.
    const { rows: schedule } = await engine.ctx.db.pool.query<{ after: number }>(
      `SELECT extract(epoch FROM next_probe_at - status_at)::int AS after FROM provider_accounts WHERE id = $1`,
      [a],
    );
    expect(schedule).toEqual([{ after: 60 }]);
    await engine.ctx.db.pool.query(`UPDATE provider_accounts SET next_probe_at = now() + interval '1 hour' WHERE id = $1`, [a]);
    const firstDone = await waitCompleted(firstId);
    expect(firstDone.progress.counts).toMatchObject({ sent: first.length, unknown: 0, failed: 0 });
    expect(acceptedPhones(world).a).toHaveLength(20);
    expect((await account(a)).status).toBe('limited');

    // The provider accepts again; the engine does not know yet. A following campaign starts on
    // B and C only.
    world.sandboxA.settings.tierLimit = 0;
    const second = phones(300, 300_000);
    const inSecond = new Set(second);
    const secondId = await startPoolCampaign(engine, world, poolId, second, 'probe, second');
    const sentOfSecond = () => {
      const now = acceptedPhones(world);
      return { a: now.a.filter((p) => inSecond.has(p)).length, others: [...now.b, ...now.c].filter((p) => inSecond.has(p)).length };
    };
    await waitFor('B and C sent 30 of the second campaign', async () => sentOfSecond().others >= 30);
    expect(sentOfSecond().a).toBe(0);
    expect((await account(a)).status).toBe('limited');

    // The probe is due now (as when its minute has passed); the feeder starts it on its own.
    await engine.ctx.db.pool.query(`UPDATE provider_accounts SET next_probe_at = now() WHERE id = $1`, [a]);
    await waitFor('A active again, its probe confirmed', async () => {
      const now = await account(a);
      return now.status === 'active' && now.statusCode === null;
    });
    const secondDone = await waitCompleted(secondId);
    expect(secondDone.progress.counts).toMatchObject({ sent: second.length, unknown: 0, failed: 0 });
    // A sent part of the campaign (more than its one probe message), and every phone went out once.
    expect(sentOfSecond().a).toBeGreaterThan(1);
    const { rows: holders } = await engine.ctx.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM recipients WHERE campaign_id = $1 AND account_id = $2 AND status = 'sent'`,
      [secondId, a],
    );
    expect(holders).toEqual([{ n: sentOfSecond().a }]);
    expect((await account(a)).status).toBe('active');
    expectEachPhoneOnce(world, [...first, ...second]);
  });
});
