/**
 * A campaign's pause or cancel reaches the sends already claimed, before the wire: once the action
 * returns, the provider sees at most the account's rate of further requests (those the departure
 * gate had let through already), and every other claimed send puts itself back unsent.
 *
 * The pipeline runs without a queue (as in send-pipeline.test.ts), with the engine's Postgres
 * store, Redis rate limiter and campaign stop marks, and an in-memory ProviderCall answering in
 * the sandbox protocol that records when each request arrived. Many jobs are handled at once on a
 * slow account, so many recipients are claimed and waiting for their slot when the action lands.
 * CI runs it once more on a Redis Cluster (the mark shares its account's slot).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AccountStates } from '../../src/accounts/account-state.js';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import type { CampaignStops } from '../../src/campaigns/campaign-stops.js';
import { markQueued } from '../../src/recipients/index.js';
import { redisConnection, type RedisClient } from '../../src/redis-client.js';
import { redisKeys } from '../../src/redis-keys.js';
import type { SendPipeline } from '../../src/sending/send-pipeline.js';
import type { AccountControl, JobDecision, ProviderCall, SendStore } from '../../src/sending/send-ports.js';
import { createSandboxCampaign, insertRecipients, statusCounts, waitFor } from '../support/fixtures.js';
import { createTestContext, type TestContext } from '../support/test-context.js';
import { queuelessPipeline } from './pipeline-support.js';

/** The account's rate: slow, so claimed sends wait for their slots for seconds. */
const RATE = 10;
const RECIPIENTS = 30;

let ctx: TestContext;
let redis: RedisClient;
let stops: CampaignStops;
let pipeline: SendPipeline;
/** When each request reached the provider (Date.now()). */
let arrivals: number[];
/** The provider's answer: 200 with an id, or 404 template_not_found. */
let answer: 200 | 404;
/** When the engine's own pause (a template error) returned. */
let enginePausedAt: number | null;

const call: ProviderCall = async () => {
  arrivals.push(Date.now());
  await new Promise((resolve) => setTimeout(resolve, 20));
  const body = answer === 200 ? { id: `stop_${arrivals.length}_${Math.random()}` } : { error: { code: 'template_not_found', message: 'Template t does not exist.' } };
  return { ok: true, response: { status: answer, headers: {}, body: JSON.stringify(body) } };
};

beforeAll(async () => {
  ctx = await createTestContext();
  redis = redisConnection(ctx.config);
  const prefix = ctx.config.queuePrefix;
  const states = new AccountStates(redis, prefix);
  const accounts: AccountControl = { read: (accountId) => states.read(accountId), markStopped: async () => false, stop: async () => undefined };
  const store = (postgres: SendStore): SendStore => ({
    ...postgres,
    async pauseCampaign(campaignId, outcome, log) {
      await postgres.pauseCampaign(campaignId, outcome, log);
      enginePausedAt ??= Date.now();
    },
  });
  ({ pipeline, stops } = queuelessPipeline(ctx, redis, { call, accounts, store, errorBudgetMinSample: 1_000 }));
});

afterAll(async () => {
  await pipeline?.drain();
  redis?.disconnect();
  await ctx?.close();
});

beforeEach(() => {
  arrivals = [];
  answer = 200;
  enginePausedAt = null;
});

/** A running campaign with RECIPIENTS queued recipients on its own account at RATE per second. */
async function queuedCampaign(name: string, offset: number): Promise<{ campaignId: string; accountId: string; ids: string[] }> {
  const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9', name, ratePerSecond: RATE });
  await insertRecipients(ctx, campaignId, RECIPIENTS, offset);
  await ctx.db.pool.query(`UPDATE campaigns SET status = 'running', started_at = now() WHERE id = $1`, [campaignId]);
  const ids = await markQueued(ctx.db.pool, campaignId, RECIPIENTS, { accountId, poolId: null, sticky: false });
  expect(ids).toHaveLength(RECIPIENTS);
  return { campaignId, accountId, ids };
}

/** Every job handled at once, as a worker with room for all of them would. */
function handleAll(campaignId: string, accountId: string, ids: readonly string[]): Promise<JobDecision[]> {
  return Promise.all(ids.map((recipientId) => pipeline.handle({ recipientId, campaignId, accountId })));
}

/** The jobs told to come back, handled again (their delay is the queue's business, not the test's). */
async function handleRetried(campaignId: string, accountId: string, ids: readonly string[], decisions: readonly JobDecision[]): Promise<JobDecision[]> {
  const retried = ids.filter((_, i) => decisions[i]?.next === 'retry');
  return handleAll(campaignId, accountId, retried);
}

async function attemptsSpentByUnsent(campaignId: string): Promise<number> {
  const { rows } = await ctx.db.pool.query<{ n: number }>(`SELECT coalesce(sum(attempts), 0)::int AS n FROM recipients WHERE campaign_id = $1 AND status IN ('pending', 'queued', 'cancelled')`, [campaignId]);
  return rows[0]?.n ?? 0;
}

describe("a campaign's stop, before the wire", () => {
  it("an operator's pause: after it returns, at most the account's rate of requests reach the provider; the other claimed sends go back to pending", async () => {
    const { campaignId, accountId, ids } = await queuedCampaign('paused-early', 0);
    const handled = handleAll(campaignId, accountId, ids);
    await waitFor('a first send out', async () => arrivals.length >= 1, 10_000, 5);
    // Every other recipient is claimed by now, waiting for its slot.
    await waitFor('all claimed', async () => ((await statusCounts(ctx, campaignId)).queued ?? 0) === 0, 10_000, 5);
    const result = await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'pause', { stops });
    const pausedAt = Date.now();
    expect(result.status).toBe('paused');
    const decisions = await handled;

    const after = arrivals.filter((t) => t > pausedAt).length;
    console.info(`campaign pause: ${arrivals.length} requests in all, ${after} after the pause returned (rate ${RATE}/s, ${RECIPIENTS} claimed)`);
    // Only sends the gate had let through before the mark: the gate holds at most RATE of them.
    expect(after).toBeLessThanOrEqual(RATE);
    // The held sends put themselves back: queued, attempt given back, their jobs told to come back...
    expect(decisions.filter((d) => d.next === 'retry').length).toBe(RECIPIENTS - arrivals.length);
    // ...and coming back, their claim hands them to the feeder for the resume.
    const again = await handleRetried(campaignId, accountId, ids, decisions);
    expect(again.every((d) => d.next === 'done')).toBe(true);
    expect(await statusCounts(ctx, campaignId)).toEqual({ sent: arrivals.length, pending: RECIPIENTS - arrivals.length });
    expect(await attemptsSpentByUnsent(campaignId)).toBe(0);

    // The resume clears the mark: the rest goes out.
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'resume', { stops });
    expect(await redis.exists(redisKeys.campaignStop(ctx.config.queuePrefix, accountId, campaignId))).toBe(0);
  });

  it('a cancel: the claimed sends are held and then closed as cancelled, none sent after it returned beyond the rate', async () => {
    const { campaignId, accountId, ids } = await queuedCampaign('cancelled-early', 1_000);
    const handled = handleAll(campaignId, accountId, ids);
    await waitFor('all claimed', async () => ((await statusCounts(ctx, campaignId)).queued ?? 0) === 0, 10_000, 5);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'cancel', { stops });
    const cancelledAt = Date.now();
    const decisions = await handled;
    expect(arrivals.filter((t) => t > cancelledAt).length).toBeLessThanOrEqual(RATE);
    await handleRetried(campaignId, accountId, ids, decisions);
    expect(await statusCounts(ctx, campaignId)).toEqual({ sent: arrivals.length, cancelled: RECIPIENTS - arrivals.length });
    expect(await attemptsSpentByUnsent(campaignId)).toBe(0);
  });

  it("a template error's pause: the claimed sends do not each fail the same way; at most the rate's worth more reach the provider", async () => {
    const { campaignId, accountId, ids } = await queuedCampaign('template-gone', 2_000);
    answer = 404;
    const decisions = await handleAll(campaignId, accountId, ids);
    const pausedAt = enginePausedAt ?? 0;
    expect(pausedAt).toBeGreaterThan(0);
    const after = arrivals.filter((t) => t > pausedAt).length;
    console.info(`template error: ${arrivals.length} requests refused in all, ${after} after the engine's pause returned`);
    expect(after).toBeLessThanOrEqual(RATE);
    await handleRetried(campaignId, accountId, ids, decisions);
    const counts = await statusCounts(ctx, campaignId);
    // Each request that went out failed on the template; nothing else was spent.
    expect(counts).toEqual({ failed: arrivals.length, pending: RECIPIENTS - arrivals.length });
    expect(arrivals.length).toBeLessThan(RECIPIENTS);
    const { rows } = await ctx.db.pool.query<{ status: string; status_code: string }>(`SELECT status::text, status_code FROM campaigns WHERE id = $1`, [campaignId]);
    expect(rows[0]).toEqual({ status: 'paused', status_code: 'TEMPLATE_NOT_FOUND' });
  });

  it('a stale mark (the campaign runs) holds one send, is removed, and the send goes out when its job comes back', async () => {
    const { campaignId, accountId, ids } = await queuedCampaign('stale-mark', 3_000);
    const key = redisKeys.campaignStop(ctx.config.queuePrefix, accountId, campaignId);
    await redis.set(key, 'left-over', 'PX', 60_000);
    const first = ids[0] ?? '';
    const decision = await pipeline.handle({ recipientId: first, campaignId, accountId });
    expect(decision.next).toBe('retry');
    expect(arrivals).toHaveLength(0);
    expect(await redis.exists(key)).toBe(0);
    expect(await pipeline.handle({ recipientId: first, campaignId, accountId })).toEqual({ next: 'done' });
    expect(arrivals).toHaveLength(1);
    const { rows } = await ctx.db.pool.query<{ status: string; attempts: number }>(`SELECT status::text, attempts FROM recipients WHERE id = $1`, [first]);
    expect(rows[0]).toEqual({ status: 'sent', attempts: 1 });
  });

  it("a newer pause's mark survives the heal of an older one", async () => {
    const { campaignId, accountId } = await queuedCampaign('newer-mark', 4_000);
    const key = redisKeys.campaignStop(ctx.config.queuePrefix, accountId, campaignId);
    await redis.set(key, 'newer', 'PX', 60_000);
    // A send held by an older token, while Postgres says the campaign runs: only that token may go.
    await stops.healIfStale(campaignId, accountId, 'older');
    expect(await redis.get(key)).toBe('newer');
  });
});
