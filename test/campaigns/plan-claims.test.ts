/**
 * The README's "Launch planner" claims that test/api/campaign-plan.test.ts and
 * test/sending/launch-plan.test.ts leave open, asked through POST /v1/campaigns/:id/plan.
 *
 * After start and without changing anything: a running campaign (started through the API, with no
 * send workers, so nothing moves by itself) with one recipient sent, one deferred and one queued,
 * on an account whose messaging-limit window Redis holds, is planned; every recipient row, the
 * campaign and account rows and every key under the file's Redis prefix (SCAN, compared by
 * content, not TTL) are the same afterwards. The API's own per-request bookkeeping (its rate-limit
 * counter, its API key cache and last-use mark) is left out of the comparison: any request writes
 * it, whatever the route.
 *
 * `cost` is null for an account without `messagePrices` (and every projection bucket's cost with
 * it), becomes a cost once prices are set, and null again when they are cleared.
 *
 * `horizonDays` (30): with a messaging limit of one phone per rolling 24 h, a list of 40 sends one
 * phone a day; a plan without a body replays 30 days, sends 30 and counts the other 10 in
 * `outcomes.beyondHorizon` with no finish time, the same as asking for `horizonDays: 30`, and
 * unlike asking for 29 or 31. Counts only: the planner projects from the clock, so no exact times
 * are compared, only their distance from the plan's own start.
 */
import { describe, expect, it } from 'vitest';
import { launchPlanSchema, type LaunchPlanResponse } from '../../src/api/routes/campaign-plan.js';
import { DailyBudget } from '../../src/flow/daily-budget.js';
import { masters } from '../../src/redis-client.js';
import { redisKeys } from '../../src/redis-keys.js';
import { apiForFile, createDraftCampaign, createSender, expectStatus, phones, type PublicCampaign } from '../api/api-harness.js';

const h = apiForFile();
const DAY_MS = 86_400_000;

async function plan(campaignId: string, body: Record<string, unknown> = {}): Promise<LaunchPlanResponse> {
  return launchPlanSchema.parse(expectStatus(await h.api.post(`/v1/campaigns/${campaignId}/plan`, body), 200));
}

/** A draft campaign on a fresh sandbox account (with the account settings given): `count` recipients from phones(count, offset). */
async function campaignOf(count: number, offset: number, account: Record<string, unknown> = {}): Promise<{ campaign: PublicCampaign; accountId: string; list: string[] }> {
  const sender = await createSender(h.api);
  if (Object.keys(account).length > 0) expectStatus(await h.api.patch(`/v1/accounts/${sender.account.id}`, account), 200);
  const list = phones(count, offset);
  const { campaign } = await createDraftCampaign(h.api, sender, { recipients: list.map((phone) => ({ phone, variables: ['Ana', '$1'] })) });
  return { campaign, accountId: sender.account.id, list };
}

/** Every key under the file's prefix with its content by type (TTL left out), on every master. */
async function redisSnapshot(): Promise<Record<string, { type: string; value: unknown }>> {
  const prefix = h.ctx.queuePrefix;
  const out: Record<string, { type: string; value: unknown }> = {};
  for (const node of masters(h.redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await node.type(key);
        let value: unknown;
        if (type === 'string') value = await node.get(key);
        else if (type === 'hash') value = Object.entries(await node.hgetall(key)).sort(([a], [b]) => a.localeCompare(b));
        else if (type === 'list') value = await node.lrange(key, 0, -1);
        else if (type === 'set') value = (await node.smembers(key)).sort();
        else if (type === 'zset') value = await node.zrange(key, '0', '-1', 'WITHSCORES');
        else if (type === 'stream') value = await node.xrange(key, '-', '+');
        else value = null;
        out[key] = { type, value };
      }
    } while (cursor !== '0');
  }
  return out;
}

/** What any authenticated request writes, whatever its route (src/api/auth.ts, src/tenants/api-key-cache.ts). */
function isRequestBookkeeping(key: string): boolean {
  const prefix = h.ctx.queuePrefix;
  return [`${redisKeys.apiRateLimit(prefix)}:`, redisKeys.apiKeyUsed(prefix, ''), redisKeys.apiKeyCache(prefix, '')].some((start) => key.startsWith(start));
}

function engineKeys(snapshot: Record<string, { type: string; value: unknown }>): Record<string, { type: string; value: unknown }> {
  return Object.fromEntries(Object.entries(snapshot).filter(([key]) => !isRequestBookkeeping(key)));
}

async function postgresSnapshot(campaignId: string, accountId: string): Promise<{ campaign: unknown; account: unknown; recipients: unknown[]; counts: unknown[] }> {
  const one = async (sql: string, id: string) => (await h.ctx.db.pool.query<{ row: unknown }>(sql, [id])).rows.map((r) => r.row);
  return {
    campaign: (await one(`SELECT to_jsonb(c) AS row FROM campaigns c WHERE id = $1`, campaignId))[0],
    account: (await one(`SELECT to_jsonb(a) AS row FROM provider_accounts a WHERE id = $1`, accountId))[0],
    recipients: await one(`SELECT to_jsonb(r) AS row FROM recipients r WHERE campaign_id = $1 ORDER BY id`, campaignId),
    counts: await one(
      `SELECT jsonb_build_object('status', status::text, 'n', sum(n)) AS row
         FROM (SELECT status, n FROM recipient_counts WHERE campaign_id = $1 UNION ALL SELECT status, delta FROM recipient_count_deltas WHERE campaign_id = $1) AS t
        GROUP BY status ORDER BY status::text`,
      campaignId,
    ),
  };
}

describe('the launch planner changes nothing, after start too', () => {
  it('plans a running campaign: recipients, campaign, account and the Redis keys under the prefix are the same afterwards', async () => {
    const limit = 5;
    const { campaign, accountId, list } = await campaignOf(6, 0, { messagingLimit: limit });
    const started = expectStatus<{ status: string; affected: number }>(await h.api.post(`/v1/campaigns/${campaign.id}/start`, {}), 200);
    expect(started).toMatchObject({ status: 'running', affected: 6 });

    // A campaign under way, by the engine's allowed transitions: the first recipient sent, the
    // second deferred to an hour from now after one attempt, the third queued on the account.
    const { rows: ids } = await h.ctx.db.pool.query<{ id: string }>(`SELECT id::text FROM recipients WHERE campaign_id = $1 ORDER BY id`, [campaign.id]);
    const [sent, deferred, queued] = ids.map((r) => r.id);
    await h.ctx.db.pool.query(`UPDATE recipients SET status = 'queued', account_id = $2, queued_at = now() WHERE id = ANY($1::bigint[])`, [[sent, queued], accountId]);
    await h.ctx.db.pool.query(`UPDATE recipients SET status = 'sending', claimed_at = now(), attempts = 1 WHERE id = $1`, [sent]);
    await h.ctx.db.pool.query(`UPDATE recipients SET status = 'sent', sent_at = now(), provider_message_id = 'wamid.plan-1' WHERE id = $1`, [sent]);
    await h.ctx.db.pool.query(`UPDATE recipients SET status = 'deferred', attempts = 1, not_before = now() + interval '1 hour', error_code = 'PROVIDER_RATE_LIMITED' WHERE id = $1`, [deferred]);
    // The account's messaging-limit window as the engine keeps it: the sent phone and one of another campaign.
    await new DailyBudget(h.redis, h.ctx.queuePrefix).reserve(accountId, [list[0] ?? '', '+56991112222'], limit);

    const pgBefore = await postgresSnapshot(campaign.id, accountId);
    const redisBefore = await redisSnapshot();
    const budgetKey = redisKeys.dailyBudget(h.ctx.queuePrefix, accountId);
    expect(Object.keys(engineKeys(redisBefore))).toContain(budgetKey);

    const answer = await plan(campaign.id);
    // The plan is of the running campaign: it read the settled recipient, the open ones and the window in Redis.
    expect(answer.openRecipients).toBe(5);
    expect(answer.outcomes.settled).toEqual({ sent: 1 });
    expect(answer.bounds.messagingLimit).toMatchObject({ limit, usedNow: 2, remainingNow: 3 });

    const pgAfter = await postgresSnapshot(campaign.id, accountId);
    const redisAfter = await redisSnapshot();
    expect(pgAfter).toEqual(pgBefore);
    expect(engineKeys(redisAfter)).toEqual(engineKeys(redisBefore));
    // The recipients as set, spelled out: status, attempts and not_before are what they were.
    const { rows } = await h.ctx.db.pool.query<{ status: string; attempts: number; deferred_until: boolean }>(
      `SELECT status::text, attempts, not_before > now() AS deferred_until FROM recipients WHERE campaign_id = $1 ORDER BY id`,
      [campaign.id],
    );
    expect(rows.map((r) => r.status)).toEqual(['sent', 'deferred', 'queued', 'pending', 'pending', 'pending']);
    expect(rows.map((r) => r.attempts)).toEqual([1, 1, 0, 0, 0, 0]);
    expect(rows.map((r) => r.deferred_until)).toEqual([null, true, null, null, null, null]);
  });
});

describe('cost', () => {
  it('is null for an account without messagePrices, a cost once it has them, null again when they are cleared', async () => {
    const { campaign, accountId } = await campaignOf(4, 100);
    const unpriced = await plan(campaign.id);
    expect(unpriced.outcomes.willSend).toBe(4);
    expect(unpriced.cost).toBeNull();
    expect(unpriced.projection.length).toBeGreaterThan(0);
    expect(unpriced.projection.map((b) => b.cost)).toEqual(unpriced.projection.map(() => null));

    expectStatus(await h.api.patch(`/v1/accounts/${accountId}`, { messagePrices: { MARKETING: { CL: 0.05 } } }), 200);
    const priced = await plan(campaign.id);
    expect(priced.cost).toMatchObject({ total: 0.2, unpriced: 0 });

    expectStatus(await h.api.patch(`/v1/accounts/${accountId}`, { messagePrices: null }), 200);
    expect((await plan(campaign.id)).cost).toBeNull();
  });
});

describe('horizonDays', () => {
  it('counts what is still waiting past 30 days in beyondHorizon, the default horizon', async () => {
    // One phone per rolling 24 h: one send a day, so 40 phones need 40 days.
    const { campaign } = await campaignOf(40, 200, { messagingLimit: 1 });
    const counts = (p: LaunchPlanResponse) => ({ willSend: p.outcomes.willSend, beyondHorizon: p.outcomes.beyondHorizon, finishesAt: p.finishesAt });

    const byDefault = await plan(campaign.id);
    expect(byDefault.openRecipients).toBe(40);
    expect(counts(byDefault)).toEqual({ willSend: 30, beyondHorizon: 10, finishesAt: null });
    expect(byDefault.outcomes).toMatchObject({ suppressed: 0, expire: 0 });
    expect(byDefault.bounds.binding).toContain('messaging_limit');
    // Every projected send lies within 30 days of the plan's start.
    const start = new Date(byDefault.startsAt).getTime();
    const lastBucket = byDefault.projection[byDefault.projection.length - 1];
    expect(new Date(lastBucket?.from ?? '').getTime()).toBeLessThan(start + 30 * DAY_MS);
    expect(byDefault.projection.reduce((n, b) => n + b.sends, 0)).toBe(30);

    // The body's horizonDays sets it; 30 is what a plan without one uses.
    expect(counts(await plan(campaign.id, { horizonDays: 30 }))).toEqual(counts(byDefault));
    expect(counts(await plan(campaign.id, { horizonDays: 29 }))).toEqual({ willSend: 29, beyondHorizon: 11, finishesAt: null });
    expect(counts(await plan(campaign.id, { horizonDays: 31 }))).toEqual({ willSend: 31, beyondHorizon: 9, finishesAt: null });
    // A horizon long enough finishes the list.
    const long = await plan(campaign.id, { horizonDays: 45 });
    expect(long.outcomes).toMatchObject({ willSend: 40, beyondHorizon: 0 });
    expect(long.finishesAt).not.toBeNull();
  });
});
