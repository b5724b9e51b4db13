/**
 * What an operator sees of a campaign: counts per status, the current rate and an ETA.
 * Counts come from Postgres, which keeps them per campaign, account and status as recipients
 * change (src/recipients/status-counts.ts): exact, and read without counting the recipients, so
 * this stays fast on a campaign of millions while it sends. The rate comes from per-second
 * counters in Redis that the workers bump as results are written.
 */
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import type { Db } from '../db/database.js';
import { DailyBudget, spreadEta } from '../flow/daily-budget.js';
import type { RecipientStatus } from '../generated/prisma/enums.js';
import { accountStatusCounts, statusCounts } from '../recipients/status-counts.js';

export function sentCounterKey(prefix: string, campaignId: string, second: number): string {
  return redisKeys.sentCounter(prefix, campaignId, second);
}

export type CampaignProgress = {
  counts: Record<RecipientStatus, number>;
  total: number;
  /** Recipients with nothing more to send (sent, failed, unknown, cancelled...). */
  done: number;
  /** Messages per second over the last 10 seconds. */
  ratePerSecond: number;
  /** Seconds until the remaining work is sent at the current rate; null when not moving. */
  etaSeconds: number | null;
  /**
   * Present when the account has a messaging limit (unique recipients per rolling 24 h): what is
   * left of it, and how many more 24 h windows the campaign needs (0: it fits in today's budget).
   * The ETA then includes those waits.
   */
  dailyLimit?: { limit: number; used: number; remaining: number; nextFreeAt: Date | null; extraDays: number };
};

const ALL: RecipientStatus[] = ['pending', 'deferred', 'queued', 'sending', 'accepted', 'sent', 'delivered', 'read', 'failed', 'unknown', 'cancelled'];
const RATE_WINDOW_S = 10;

export async function campaignProgress(db: Db, redis: RedisClient, prefix: string, campaignId: string): Promise<CampaignProgress> {
  const counts = { ...(Object.fromEntries(ALL.map((s) => [s, 0])) as Record<RecipientStatus, number>), ...(await statusCounts(db.pool, campaignId)) };
  const total = ALL.reduce((sum, s) => sum + counts[s], 0);
  const open = counts.pending + counts.deferred + counts.queued + counts.sending;

  // The current second is still filling; measure over the whole seconds before it.
  const now = Math.floor(Date.now() / 1000);
  const keys = Array.from({ length: RATE_WINDOW_S }, (_, i) => sentCounterKey(prefix, campaignId, now - 1 - i));
  const values = await redis.mget(...keys);
  const sent = values.reduce((sum, v) => sum + Number(v ?? 0), 0);
  const ratePerSecond = Math.round((sent / RATE_WINDOW_S) * 10) / 10;
  const progress: CampaignProgress = {
    counts,
    total,
    done: total - open,
    ratePerSecond,
    etaSeconds: open === 0 ? 0 : ratePerSecond > 0 ? Math.ceil(open / ratePerSecond) : null,
  };
  const account = await db.pool.query<{ account_id: string; messaging_limit: number | null; rate_per_second: number }>(
    `SELECT c.account_id, a.messaging_limit, a.rate_per_second FROM campaigns c JOIN provider_accounts a ON a.id = c.account_id WHERE c.id = $1`,
    [campaignId],
  );
  const limits = account.rows[0];
  if (limits?.messaging_limit) {
    // Sends already queued or under way hold their budget; only what is still waiting needs more.
    const waiting = counts.pending + counts.deferred;
    const usage = await new DailyBudget(redis, prefix).usage(limits.account_id, limits.messaging_limit);
    const rate = ratePerSecond > 0 ? ratePerSecond : limits.rate_per_second;
    const spread = spreadEta(waiting, usage.remaining, limits.messaging_limit, usage.nextFreeAt, new Date(), rate);
    progress.dailyLimit = { limit: limits.messaging_limit, used: usage.used, remaining: usage.remaining, nextFreeAt: usage.nextFreeAt, extraDays: spread.days };
    if (open > 0) progress.etaSeconds = spread.etaSeconds + Math.ceil((counts.queued + counts.sending) / rate);
  }
  return progress;
}

/** One account's part of a campaign: its state, and its recipients by status (a pool campaign has one per member). */
export type AccountShare = {
  accountId: string;
  name: string;
  provider: string;
  /** The account's state now: active, limited or paused, with the code that stopped it. */
  status: string;
  statusCode: string | null;
  ratePerSecond: number;
  counts: Partial<Record<RecipientStatus, number>>;
  /** Recipients handed to this account so far. */
  assigned: number;
  /** Its part of every recipient handed out so far, 0-1. */
  share: number;
};

/**
 * The campaign by sending account: every account that sends it (the pool's members, or the one
 * account) with its recipients per status. Recipients not handed out yet belong to none.
 */
export async function accountShares(db: Db, campaignId: string): Promise<AccountShare[]> {
  const [{ rows }, perAccount] = await Promise.all([
    db.pool.query<{ id: string; name: string; provider: string; status: string; status_code: string | null; rate_per_second: number }>(
      `SELECT a.id, a.name, a.provider::text, a.status::text, a.status_code, a.rate_per_second FROM campaigns c JOIN provider_accounts a ON a.id = c.account_id WHERE c.id = $1
       UNION
       SELECT a.id, a.name, a.provider::text, a.status::text, a.status_code, a.rate_per_second
         FROM campaigns c JOIN sender_pool_members m ON m.pool_id = c.pool_id JOIN provider_accounts a ON a.id = m.account_id WHERE c.id = $1
       ORDER BY name, id`,
      [campaignId],
    ),
    accountStatusCounts(db.pool, campaignId),
  ]);
  const countsOf = new Map<string, Partial<Record<RecipientStatus, number>>>();
  for (const c of perAccount) countsOf.set(c.accountId, { ...countsOf.get(c.accountId), [c.status]: c.n });
  const assigned = rows.map((r) => Object.values(countsOf.get(r.id) ?? {}).reduce((a, b) => a + b, 0));
  const all = assigned.reduce((a, b) => a + b, 0);
  return rows.map((r, i) => ({
    accountId: r.id,
    name: r.name,
    provider: r.provider,
    status: r.status,
    statusCode: r.status_code,
    ratePerSecond: r.rate_per_second,
    counts: countsOf.get(r.id) ?? {},
    assigned: assigned[i] ?? 0,
    share: all > 0 ? Math.round(((assigned[i] ?? 0) / all) * 1000) / 1000 : 0,
  }));
}
