/**
 * The daily budget against the real Redis and Postgres: the limit holds when two connections
 * race, counted phones are free, the rolling window frees slots, and Postgres rebuilds the count.
 * Time is read from Redis (TIME), the budget's own clock, never from assumptions about delays.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DailyBudget, spreadEta } from '../../src/flow/daily-budget.js';
import { createSandboxCampaign, insertRecipients, walkRecipientsTowards } from '../support/fixtures.js';
import { createTestContext, type TestContext } from '../support/test-context.js';
import { redisKeys } from '../../src/redis-keys.js';

let ctx: TestContext;
let redis: Redis;
let rival: Redis;

beforeAll(async () => {
  ctx = await createTestContext();
  redis = new Redis(ctx.config.redisUrl);
  rival = new Redis(ctx.config.redisUrl);
});

afterAll(async () => {
  redis.disconnect();
  rival.disconnect();
  await ctx.close(); // deletes every key under ctx.queuePrefix
});

const phones = (count: number, from = 0): string[] => Array.from({ length: count }, (_, i) => `+5691${String(from + i).padStart(7, '0')}`);
const budgetKey = (accountId: string) => redisKeys.dailyBudget(ctx.queuePrefix, accountId);
const account = () => randomUUID();

async function redisNow(): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

async function waitForRedisTime(ms: number): Promise<void> {
  while ((await redisNow()) < ms) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('reserve', () => {
  it('grants new phones up to the limit and says when the first slot frees', async () => {
    const budget = new DailyBudget(redis, ctx.queuePrefix);
    const accountId = account();
    const before = await redisNow();
    const result = await budget.reserve(accountId, phones(5), 3);
    const after = await redisNow();

    expect(result.granted).toEqual(phones(3));
    expect(result.added).toEqual(phones(3));
    expect(result.refused).toEqual(phones(2, 3));
    const nextFree = result.nextFreeAt?.getTime() ?? Number.NaN;
    expect(nextFree).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(nextFree).toBeLessThanOrEqual(after + 86_400_000);
    expect(await redis.zcard(budgetKey(accountId))).toBe(3);
  });

  it('grants phones counted already without using budget, and refreshes their time', async () => {
    const budget = new DailyBudget(redis, ctx.queuePrefix);
    const accountId = account();
    const [a, b, c, d] = phones(4);
    await budget.reserve(accountId, [a!, b!, c!], 3);
    const beforeSecond = await redisNow();
    const result = await budget.reserve(accountId, [d!, a!, b!], 3);

    expect(result.granted).toEqual([a, b]);
    expect(result.added).toEqual([]);
    expect(result.refused).toEqual([d]);
    expect(Number(await redis.zscore(budgetKey(accountId), a!))).toBeGreaterThanOrEqual(beforeSecond);
    expect(Number(await redis.zscore(budgetKey(accountId), c!))).toBeLessThanOrEqual(beforeSecond);
  });

  it('answers a phone listed twice once, and nextFreeAt is null when nothing was refused', async () => {
    const budget = new DailyBudget(redis, ctx.queuePrefix);
    const [a, b] = phones(2);
    const result = await budget.reserve(account(), [a!, b!, a!], 2);
    expect(result).toEqual({ granted: [a, b], added: [a, b], refused: [], nextFreeAt: null });
  });

  it('never counts more than the limit when two connections race for overlapping phones', async () => {
    const limit = 60;
    const accountId = account();
    const first = new DailyBudget(redis, ctx.queuePrefix);
    const second = new DailyBudget(rival, ctx.queuePrefix);
    const left = phones(120); // phones 0-119
    const right = phones(120, 60); // phones 60-179: 60 shared
    const run = async (budget: DailyBudget, all: string[], batch: number) => {
      const results = [];
      for (let i = 0; i < all.length; i += batch) results.push(budget.reserve(accountId, all.slice(i, i + batch), limit));
      return Promise.all(results);
    };
    const outcomes = (await Promise.all([run(first, left, 7), run(second, right, 5)])).flat();

    const added = outcomes.flatMap((o) => o.added);
    expect(new Set(added).size).toBe(added.length); // no phone took two slots
    expect(added.length).toBe(limit); // demand exceeded the limit, so every slot went
    const granted = new Set(outcomes.flatMap((o) => o.granted));
    expect(granted).toEqual(new Set(added)); // only counted phones were granted
    // Slots never free within the window, so a phone refused once was never counted by anyone.
    expect(outcomes.flatMap((o) => o.refused).filter((phone) => granted.has(phone))).toEqual([]);
    expect(await redis.zcard(budgetKey(accountId))).toBe(limit);
  });

  it('holds the limit across the chunks of a large batch', async () => {
    const budget = new DailyBudget(redis, ctx.queuePrefix);
    const result = await budget.reserve(account(), phones(2500), 1200);
    expect(result.granted).toEqual(phones(1200));
    expect(result.refused).toEqual(phones(1300, 1200));
    expect(result.nextFreeAt).not.toBeNull();
  });

  it('frees slots as the rolling window passes', async () => {
    const budget = new DailyBudget(redis, ctx.queuePrefix, { windowMs: 300 });
    const accountId = account();
    const [a, b, c] = phones(3);
    const first = await budget.reserve(accountId, [a!, b!], 2);
    expect(first.added).toEqual([a, b]);
    const refused = await budget.reserve(accountId, [c!], 2);
    expect(refused.refused).toEqual([c]);
    const nextFreeAt = refused.nextFreeAt!.getTime();

    await waitForRedisTime(nextFreeAt);
    const later = await budget.reserve(accountId, [c!], 2);
    expect(later.added).toEqual([c]);
    expect(await redis.zrange(budgetKey(accountId), '0', '-1')).toEqual([c]);
  });

  it('when over the limit (a lower tier), the next slot frees when enough members have aged out', async () => {
    const budget = new DailyBudget(redis, ctx.queuePrefix, { windowMs: 3_600_000 });
    const accountId = account();
    const now = await redisNow();
    const [a, b, c, d] = phones(4);
    await budget.rebuild(accountId, [
      { phone: a!, at: new Date(now - 50 * 60_000) },
      { phone: b!, at: new Date(now - 40 * 60_000) },
      { phone: c!, at: new Date(now - 30 * 60_000) },
    ]);
    const result = await budget.reserve(accountId, [d!], 2);
    expect(result.refused).toEqual([d]);
    // 3 counted, limit 2: a slot frees once the two oldest are out, at b's time + 1 h.
    expect(result.nextFreeAt).toEqual(new Date(now - 40 * 60_000 + 3_600_000));
  });

  it('refuses a limit that is not a positive whole number', async () => {
    const budget = new DailyBudget(redis, ctx.queuePrefix);
    await expect(budget.reserve(account(), phones(1), 0)).rejects.toThrow(RangeError);
    await expect(budget.usage(account(), 2.5)).rejects.toThrow(RangeError);
    expect(() => new DailyBudget(redis, ctx.queuePrefix, { windowMs: 0 })).toThrow(RangeError);
  });
});

describe('usage and release', () => {
  it('reports used, remaining and, when none is left, when a slot frees', async () => {
    const budget = new DailyBudget(redis, ctx.queuePrefix);
    const accountId = account();
    expect(await budget.usage(accountId, 3)).toEqual({ used: 0, remaining: 3, nextFreeAt: null });
    await budget.reserve(accountId, phones(2), 3);
    expect(await budget.usage(accountId, 3)).toEqual({ used: 2, remaining: 1, nextFreeAt: null });
    const full = await budget.reserve(accountId, phones(2, 2), 3);
    const usage = await budget.usage(accountId, 3);
    expect(usage.used).toBe(3);
    expect(usage.remaining).toBe(0);
    expect(usage.nextFreeAt).toEqual(full.nextFreeAt);
  });

  it('release gives back slots, so a refused phone fits again', async () => {
    const budget = new DailyBudget(redis, ctx.queuePrefix);
    const accountId = account();
    const [a, b, c] = phones(3);
    const first = await budget.reserve(accountId, [a!, b!, c!], 2);
    expect(first.refused).toEqual([c]);
    expect(await budget.release(accountId, [b!, b!, '+56900000000'])).toBe(1);
    expect((await budget.reserve(accountId, [c!], 2)).added).toEqual([c]);
    expect((await budget.usage(accountId, 2)).used).toBe(2);
  });
});

describe('rebuild', () => {
  it('drops entries outside the window, keeps each phone latest time, and merges with live reservations', async () => {
    const windowMs = 3_600_000;
    const budget = new DailyBudget(redis, ctx.queuePrefix, { windowMs });
    const accountId = account();
    const [live, recent, old, twice] = phones(4);
    await budget.reserve(accountId, [live!], 10); // reserved after the loss: must survive
    const liveScore = await redis.zscore(budgetKey(accountId), live!);
    const now = await redisNow();

    const counted = await budget.rebuild(accountId, [
      { phone: live!, at: new Date(now - 20 * 60_000) }, // older than its live reservation
      { phone: recent!, at: new Date(now - 10 * 60_000) },
      { phone: old!, at: new Date(now - 2 * windowMs) },
      { phone: twice!, at: new Date(now - 50 * 60_000) },
      { phone: twice!, at: new Date(now - 5 * 60_000) },
    ]);

    expect(counted).toBe(3);
    const members = await redis.zrange(budgetKey(accountId), '0', '-1', 'WITHSCORES');
    expect(members).toEqual([recent, String(now - 10 * 60_000), twice, String(now - 5 * 60_000), live, liveScore]);
    const ttl = await redis.pttl(budgetKey(accountId));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(windowMs);
    expect(await redis.keys(`${budgetKey(accountId)}:rebuild:*`)).toEqual([]);
    expect((await budget.usage(accountId, 3)).remaining).toBe(0);
  });

  it('with no entries leaves the live set as it was', async () => {
    const budget = new DailyBudget(redis, ctx.queuePrefix);
    const accountId = account();
    await budget.reserve(accountId, phones(2), 10);
    expect(await budget.rebuild(accountId, [])).toBe(2);
    expect(await budget.rebuild(account(), [])).toBe(0);
  });
});

describe('loadFromPostgres', () => {
  it('finds the phones the account reached in the window, each once with its latest time', async () => {
    const sandboxUrl = 'http://127.0.0.1:9'; // never called
    const main = await createSandboxCampaign(ctx, { sandboxUrl, name: 'main' });
    const again = await createSandboxCampaign(ctx, { sandboxUrl, name: 'again', accountId: main.accountId });
    const finished = await createSandboxCampaign(ctx, { sandboxUrl, name: 'finished', accountId: main.accountId });
    const other = await createSandboxCampaign(ctx, { sandboxUrl, name: 'another account' });
    const p = await insertRecipients(ctx, main.campaignId, 8);
    await insertRecipients(ctx, again.campaignId, 1); // p[0] again
    await insertRecipients(ctx, finished.campaignId, 1, 100);
    await insertRecipients(ctx, other.campaignId, 1, 200);

    const set = async (campaignId: string, phone: string, status: string, sentAgo: string | null, claimedAgo: string | null) => {
      await walkRecipientsTowards(ctx, status, 'campaign_id = $1 AND phone = $2', [campaignId, phone]);
      await ctx.db.pool.query(
        `UPDATE recipients SET status = $3::recipient_status,
                sent_at = now() - $4::interval, claimed_at = now() - $5::interval
          WHERE campaign_id = $1 AND phone = $2`,
        [campaignId, phone, status, sentAgo, claimedAgo],
      );
    };
    await set(main.campaignId, p[0]!, 'delivered', '3 hours', '3 hours'); // also sent later by `again`
    await set(again.campaignId, p[0]!, 'sent', '30 minutes', '30 minutes');
    await set(main.campaignId, p[1]!, 'read', '25 hours', '25 hours'); // outside the window
    await set(main.campaignId, p[2]!, 'sending', null, '10 minutes'); // may have gone out
    await set(main.campaignId, p[3]!, 'unknown', null, '2 hours'); // may have gone out
    await set(main.campaignId, p[4]!, 'failed', null, '1 hour'); // failed before the provider took it
    await set(main.campaignId, p[5]!, 'failed', '1 hour', '1 hour'); // sent, then failed: Meta counted it
    await set(main.campaignId, p[6]!, 'sending', null, '26 hours'); // a stale claim outside the window
    // p[7] stays pending.
    await set(finished.campaignId, '+56910000100', 'sent', '3 hours', '3 hours');
    await ctx.db.pool.query(`UPDATE campaigns SET status = 'completed', finished_at = now() - interval '2 hours' WHERE id = $1`, [finished.campaignId]);
    await set(other.campaignId, '+56910000200', 'sent', '1 hour', '1 hour');

    const entries = await DailyBudget.loadFromPostgres(ctx.db.pool, main.accountId, 86_400_000);

    const reached: [string, string][] = [
      [again.campaignId, p[0]!], // the later of its two sends
      [main.campaignId, p[2]!],
      [main.campaignId, p[3]!],
      [main.campaignId, p[5]!],
      [finished.campaignId, '+56910000100'], // finished 2 h ago, sent 3 h ago
    ];
    const { rows: expected } = await ctx.db.pool.query<{ phone: string; at: Date }>(
      `SELECT r.phone, coalesce(r.sent_at, r.claimed_at) AS at
         FROM recipients r JOIN unnest($1::uuid[], $2::text[]) AS w(campaign_id, phone) USING (campaign_id, phone)
        ORDER BY r.phone`,
      [reached.map(([c]) => c), reached.map(([, phone]) => phone)],
    );
    expect(expected).toHaveLength(5);
    expect([...entries].sort((x, y) => (x.phone < y.phone ? -1 : 1))).toEqual(expected.map((r) => ({ phone: r.phone, at: r.at })));

    // And they rebuild the budget.
    const budget = new DailyBudget(redis, ctx.queuePrefix);
    expect(await budget.rebuild(main.accountId, entries)).toBe(5);
    expect((await budget.reserve(main.accountId, [p[0]!, p[7]!], 6)).added).toEqual([p[7]]);
  });
});

describe('spreadEta', () => {
  const now = new Date('2026-05-11T12:00:00Z');
  const inSeconds = (s: number) => new Date(now.getTime() + s * 1000);

  it('a campaign within the remaining budget goes out at the send rate', () => {
    expect(spreadEta(100, 250, 250, null, now, 10)).toEqual({ etaSeconds: 10, days: 0 });
    expect(spreadEta(0, 0, 250, inSeconds(60), now, 10)).toEqual({ etaSeconds: 0, days: 0 });
  });

  it('then waits for the budget to free, and sends `limit` per rolling day', () => {
    // 100 today (10 s); 500 more: 250 when the budget frees in 2 h, 250 a day later (25 s).
    expect(spreadEta(600, 100, 250, inSeconds(7200), now, 10)).toEqual({ etaSeconds: 7200 + 86_400 + 25, days: 2 });
    // Exhausted budget: 500 at 80/s after refills at +1 h and +1 h +1 day.
    expect(spreadEta(500, 0, 250, inSeconds(3600), now, 80)).toEqual({ etaSeconds: Math.ceil(3600 + 86_400 + 250 / 80), days: 2 });
  });

  it('takes the refill as one window away when nothing has been refused yet', () => {
    expect(spreadEta(300, 250, 250, null, now, 50)).toEqual({ etaSeconds: 86_400 + 1, days: 1 });
  });

  it('cannot refill before today budget has gone out, nor faster than the send rate', () => {
    // Sending 900 at 1/s takes 900 s, past the refill at +100 s: the refill starts at 900 s.
    expect(spreadEta(1000, 900, 1000, inSeconds(100), now, 1)).toEqual({ etaSeconds: 1000, days: 1 });
    // 100k at 1/s takes longer than a day: the rate, not the limit, sets the pace.
    expect(spreadEta(250_000, 0, 100_000, now, now, 1)).toEqual({ etaSeconds: 250_000, days: 3 });
  });

  it('honours a shorter window', () => {
    expect(spreadEta(30, 10, 10, inSeconds(5), now, 10, 60_000)).toEqual({ etaSeconds: 5 + 60 + 1, days: 2 });
  });

  it('refuses a rate or limit that cannot finish', () => {
    expect(() => spreadEta(10, 0, 250, null, now, 0)).toThrow(RangeError);
    expect(() => spreadEta(10, 0, 0, null, now, 10)).toThrow(RangeError);
  });
});
