/**
 * The quality guard in a sender pool: a signed Meta FLAGGED notice about a pool member, mid
 * marketing campaign, through the real receiver and processor, with the real feeder and workers.
 * The member stops taking the campaign's work and its waiting recipients finish on the other
 * account; the campaign is not paused. An UNFLAGGED notice gives the member its share again.
 * In a sticky pool, the phones a flagged member sent before go to another member in the next
 * marketing campaign, rather than waiting for it (they used to stay pending for good).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookProcessor } from '../../src/webhooks/webhook-processor.js';
import { metaSignature } from '../webhooks/support/webhook-world.js';
import { FAST_ENGINE_CONFIG, startEngine } from '../support/engine-harness.js';
import { waitFor } from '../support/fixtures.js';
import { acceptedPhones, feederRounds, META_TEMPLATE, phones, poolWorld, startPoolCampaign, type PoolEngine, type PoolWorld, campaignView, waitCompleted as completed } from './support/pool-world.js';

const APP_SECRET = 'meta-app-secret-pool-quality';

let engine: PoolEngine;
let world: PoolWorld;
let processor: WebhookProcessor;

beforeAll(async () => {
  engine = await startEngine({ api: true, sendWorkers: true, config: { ...FAST_ENGINE_CONFIG, queueWindowSeconds: 1, sendTimeoutMs: 1_000 } });
  processor = new WebhookProcessor({ db: engine.ctx.db, queues: engine.queues, logger: engine.ctx.logger }, { pollMs: 60_000, batchSize: 100 });
  // An endpoint subscribed to the quality event, so the outbox stores it.
  expect((await engine.api.post('/v1/event-endpoints', { url: 'https://hooks.example.com/wce', events: ['account.quality_changed'] })).statusCode).toBe(201);
});
afterAll(async () => {
  await world?.close();
  await engine?.close();
});

const campaign = (id: string) => campaignView(engine, id);
const waitCompleted = (id: string) => completed(engine, id);

/** Posts a signed Meta phone_number_quality_update to the account's webhook URL and applies it. */
async function qualityNotice(path: string, event: 'FLAGGED' | 'UNFLAGGED', time: number): Promise<void> {
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: world.meta.wabaId, time, changes: [{ field: 'phone_number_quality_update', value: { display_phone_number: '15550783881', event, current_limit: 'TIER_UNLIMITED' } }] }],
  });
  const response = await engine.app.inject({ method: 'POST', url: path, payload: body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(body, APP_SECRET) } });
  expect(response.statusCode, response.body).toBe(200);
  await processor.drainBacklog();
}

/** The campaign's recipients on the account not finished yet: waiting there, or in flight. */
async function openOn(campaignId: string, accountId: string): Promise<number> {
  const { rows } = await engine.ctx.db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM recipients WHERE campaign_id = $1 AND account_id = $2 AND status IN ('pending', 'queued', 'deferred', 'sending')`,
    [campaignId, accountId],
  );
  return Number(rows[0]?.n ?? 0);
}

describe('quality guard in a sender pool', () => {
  it('a flagged member hands its marketing work to the other account without pausing the campaign, and takes its share again once unflagged', async () => {
    world = await poolWorld(engine, { a: 60, b: 10, c: 20 });
    const { a, c } = world.accounts;
    // C (Meta) gets an app secret and a webhook URL.
    expect((await engine.app.inject({ method: 'PATCH', url: `/v1/accounts/${c}`, payload: { credentials: { appSecret: APP_SECRET } }, headers: { authorization: `Bearer ${engine.tenant.apiKey}` } })).statusCode).toBe(200);
    const rotated = (await engine.api.post(`/v1/accounts/${c}/webhook-secret`, {})).json() as { webhook: { url: string } };
    const path = new URL(rotated.webhook.url, 'http://engine.invalid').pathname;

    const created = await engine.api.post('/v1/pools', {
      name: 'quality',
      members: [{ accountId: a }, { accountId: c, templateName: META_TEMPLATE.name, templateLanguage: META_TEMPLATE.language }],
    });
    expect(created.statusCode, created.body).toBe(201);
    const poolId = (created.json() as { pool: { id: string } }).pool.id;
    const list = phones(600, 30_000);
    const id = await startPoolCampaign(engine, world, poolId, list, 'marketing pool');

    await waitFor('C sent 30', async () => acceptedPhones(world).c.length >= 30);
    const t0 = Math.floor(Date.now() / 1000);
    await qualityNotice(path, 'FLAGGED', t0);
    // Within a few feeder rounds nothing waits on C any more (what was in flight there finishes).
    await feederRounds(engine);
    await waitFor('nothing open on C', async () => (await openOn(id, c)) === 0);
    const cAfterFlag = acceptedPhones(world).c.length;
    // Still running with work left (A alone needs seconds of its own rate for the rest): not paused.
    expect((await campaign(id)).status).toBe('running');

    const done = await waitCompleted(id);
    expect(done.progress.counts).toMatchObject({ sent: 600 });
    const accepted = acceptedPhones(world);
    // C sent nothing more after the flag; A finished the list; no phone went out twice.
    expect(accepted.c.length).toBe(cAfterFlag);
    expect(accepted.a.length).toBe(600 - cAfterFlag);
    expect(accepted.b).toEqual([]);
    const all = [...accepted.a, ...accepted.c];
    expect(all.length).toBe(600);
    expect(new Set(all)).toEqual(new Set(list));

    const { rows: events } = await engine.ctx.db.pool.query<{ data: { quality: { flagged: boolean }; barsMarketing: boolean; pausesMarketing: boolean; pausedCampaigns: string[] } }>(
      `SELECT data FROM outbound_events WHERE type = 'account.quality_changed' AND order_key = $1 ORDER BY created_at, id`,
      [`account:${c}`],
    );
    expect(events.map((e) => e.data.quality.flagged)).toEqual([true]);
    // C is barred from marketing, but the pool sent on through A: nothing was paused.
    expect(events[0]?.data).toMatchObject({ barsMarketing: true, pausesMarketing: false, pausedCampaigns: [] });

    // UNFLAGGED: C takes its share of a new marketing pool campaign again.
    await qualityNotice(path, 'UNFLAGGED', t0 + 1);
    const again = phones(200, 40_000);
    const second = await startPoolCampaign(engine, world, poolId, again, 'marketing pool again');
    const secondDone = await waitCompleted(second);
    expect(secondDone.progress.counts).toMatchObject({ sent: 200 });
    expect(acceptedPhones(world).c.length).toBeGreaterThan(cAfterFlag + 20);
    const { rows: after } = await engine.ctx.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM outbound_events WHERE type = 'account.quality_changed' AND order_key = $1`, [`account:${c}`]);
    expect(Number(after[0]?.n)).toBe(2);
  });

  it("in a sticky pool, the phones a flagged member sent before go to another member while it is barred", async () => {
    const { a, c } = world.accounts;
    const rotated = (await engine.api.post(`/v1/accounts/${c}/webhook-secret`, {})).json() as { webhook: { url: string } };
    const path = new URL(rotated.webhook.url, 'http://engine.invalid').pathname;
    const created = await engine.api.post('/v1/pools', {
      name: 'sticky quality',
      sticky: true,
      members: [{ accountId: a }, { accountId: c, templateName: META_TEMPLATE.name, templateLanguage: META_TEMPLATE.language }],
    });
    expect(created.statusCode, created.body).toBe(201);
    const poolId = (created.json() as { pool: { id: string } }).pool.id;
    const list = phones(120, 90_000);
    // Sends per phone so far, per account (the providers' own records), to tell this list's apart.
    const count = (sent: readonly string[]) => (phone: string) => sent.filter((p) => p === phone).length;
    await waitCompleted(await startPoolCampaign(engine, world, poolId, list, 'sticky marketing'));
    const byC = list.filter((phone) => count(acceptedPhones(world).c)(phone) === 1);
    expect(byC.length).toBeGreaterThan(0);

    const t = Math.floor(Date.now() / 1000) + 10;
    await qualityNotice(path, 'FLAGGED', t);
    const done = await waitCompleted(await startPoolCampaign(engine, world, poolId, list, 'sticky marketing again'));
    expect(done.progress.counts).toMatchObject({ sent: 120 });
    // C sent nothing more while barred; A sent C's former phones (and its own) the second time.
    const now = acceptedPhones(world);
    expect(byC.filter((phone) => count(now.c)(phone) !== 1)).toEqual([]);
    expect(byC.filter((phone) => count(now.a)(phone) !== 1)).toEqual([]);
    expect(list.filter((phone) => count(now.a)(phone) + count(now.c)(phone) !== 2)).toEqual([]);
    await qualityNotice(path, 'UNFLAGGED', t + 1);
  });
});
