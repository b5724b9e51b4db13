/**
 * The account's messaging limit: how many unique recipients it may reach in a rolling 24 h
 * (Meta's tiers: 250, 2,000, 10k, 100k). Every worker process shares one count in Redis, so the
 * limit holds whichever process sends.
 *
 * Key: `redisKeys.dailyBudget` (`<prefix>:{a.<accountId>}:flow:daily-budget`), a sorted set: member = phone (E.164), score =
 * ms time (Redis TIME) of the phone's latest reservation. A phone stays counted until `windowMs`
 * after its latest message, as Meta counts a user reached by any message in the last 24 h. (Scoring
 * the first message instead would drop a phone messaged twice too early, and let a new phone take
 * its slot while Meta still counts it.) The key expires `windowMs` after its newest member.
 *
 * Each reservation is one Lua script: drop members older than the window, then grant a phone
 * already counted for free (refreshing its time) and a new phone while fewer than `limit` are
 * counted. Time comes from Redis, so workers' clocks cannot disagree about the window.
 *
 * Redis holds no state of its own here that Postgres lacks: after Redis loses its data, `rebuild`
 * with `loadFromPostgres` restores the count from the recipients sent in the window.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import type pg from 'pg';
import { LuaScript } from '../redis-script.js';

const DAY_MS = 86_400_000;

/** Phones per script call, so a huge batch never holds Redis in one long script; the calls share one round trip. */
const CHUNK = 1000;

/** How long a half-written rebuild set may outlive a crashed rebuild (ms). */
const REBUILD_TTL_MS = 600_000;

export type BudgetReservation = {
  /** Phones that may be sent now: counted already in the window, or counted by this call. */
  granted: string[];
  /** The part of `granted` that took a new slot; `release` only these if their send never happens. */
  added: string[];
  /** Phones over the limit: send them after `nextFreeAt`. */
  refused: string[];
  /** When the next slot frees, if anything was refused; null otherwise. */
  nextFreeAt: Date | null;
};

export type BudgetUsage = {
  used: number;
  remaining: number;
  /** When the next slot frees, if none is free now; null otherwise. */
  nextFreeAt: Date | null;
};

export type BudgetEntry = { phone: string; at: Date };

// Shared by the scripts: Redis time in ms, and the instant at which the k-th oldest member
// (0-based) leaves the window, freeing one slot when k = count - limit.
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
const EXPIRE_WITH_NEWEST = `
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if newest[2] then redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', tonumber(newest[2]) + window)) end
`;

/**
 * KEYS: the set. ARGV: windowMs, limit, phones... Returns {flags, nextFreeMs or -1}: one flag per
 * phone, '1' counted already, '2' newly counted, '0' refused.
 */
const RESERVE = `${NOW}
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
local used = redis.call('ZCARD', KEYS[1])
local flags = {}
local refused = false
for i = 3, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'GT', now, ARGV[i])
    flags[#flags + 1] = '1'
  elseif used < limit then
    redis.call('ZADD', KEYS[1], now, ARGV[i])
    used = used + 1
    flags[#flags + 1] = '2'
  else
    flags[#flags + 1] = '0'
    refused = true
  end
end
local nextFree = -1
if refused then
  local kth = redis.call('ZRANGE', KEYS[1], used - limit, used - limit, 'WITHSCORES')
  if kth[2] then nextFree = tonumber(kth[2]) + window end
end
${EXPIRE_WITH_NEWEST}
return {table.concat(flags), nextFree}
`;

/** KEYS: the set. ARGV: windowMs, limit. Returns {used, nextFreeMs or -1}; writes nothing. */
const USAGE = new LuaScript(`${NOW}
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local since = '(' .. string.format('%.0f', now - window)
local used = redis.call('ZCOUNT', KEYS[1], since, '+inf')
local nextFree = -1
if used >= limit then
  local kth = redis.call('ZRANGEBYSCORE', KEYS[1], since, '+inf', 'WITHSCORES', 'LIMIT', used - limit, 1)
  if kth[2] then nextFree = tonumber(kth[2]) + window end
end
return {used, nextFree}
`);

/** KEYS: the set, the rebuilt entries. ARGV: windowMs. Merges, keeping each phone's later time. */
const MERGE = new LuaScript(`${NOW}
local window = tonumber(ARGV[1])
redis.call('ZUNIONSTORE', KEYS[1], 2, KEYS[1], KEYS[2], 'AGGREGATE', 'MAX')
redis.call('DEL', KEYS[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
${EXPIRE_WITH_NEWEST}
return redis.call('ZCARD', KEYS[1])
`);

export class DailyBudget {
  private readonly windowMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    /** windowMs: the rolling window, ms; default 86,400,000 (24 h, as Meta counts). */
    options: { windowMs?: number } = {},
  ) {
    this.windowMs = options.windowMs ?? DAY_MS;
    if (!Number.isInteger(this.windowMs) || this.windowMs <= 0) {
      throw new RangeError(`The budget window must be a whole number of ms above 0, not ${options.windowMs}.`);
    }
  }

  /**
   * Takes budget for these phones, atomically across processes: a phone counted in the window
   * already is free, a new one takes a slot while any is left, the rest are refused. Each phone
   * is answered once however often it is listed. Batches above 1,000 phones run as several
   * scripts in one round trip; each is atomic, so the limit holds all the same.
   */
  async reserve(accountId: string, phones: readonly string[], limit: number): Promise<BudgetReservation> {
    checkLimit(limit);
    const unique = [...new Set(phones)];
    const result: BudgetReservation = { granted: [], added: [], refused: [], nextFreeAt: null };
    if (unique.length === 0) return result;
    const pipeline = this.redis.pipeline();
    for (let i = 0; i < unique.length; i += CHUNK) {
      pipeline.eval(RESERVE, 1, this.key(accountId), String(this.windowMs), String(limit), ...unique.slice(i, i + CHUNK));
    }
    let index = 0;
    for (const [error, reply] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      const [flags, nextFreeMs] = reply as [string, number];
      for (const flag of flags) {
        const phone = unique[index++] as string;
        if (flag === '0') result.refused.push(phone);
        else result.granted.push(phone);
        if (flag === '2') result.added.push(phone);
      }
      // The last chunk that refused saw the latest state.
      if (nextFreeMs >= 0) result.nextFreeAt = new Date(nextFreeMs);
    }
    if (index !== unique.length) throw new Error(`daily-budget script answered ${index} of ${unique.length} phones`);
    return result;
  }

  /**
   * Gives back the slots of phones whose send never happened (e.g. it failed for good before
   * reaching the provider). Pass only `added` phones of the reservation: a phone counted before
   * it was counted by a real send, and removing it would free a slot Meta still counts. It
   * removes the member whoever added it, so one race remains: another campaign granted the same
   * phone for free between the reserve and this release, and sends it uncounted. That costs at
   * most one slot per such release and needs a refcount per phone to avoid; not worth it while
   * the provider's own limit error still pauses the account.
   */
  async release(accountId: string, phones: readonly string[]): Promise<number> {
    const unique = [...new Set(phones)];
    let removed = 0;
    for (let i = 0; i < unique.length; i += CHUNK) {
      removed += await this.redis.zrem(this.key(accountId), ...unique.slice(i, i + CHUNK));
    }
    return removed;
  }

  /** What the account has used of `limit` in the window, for dashboards and the campaign ETA. */
  async usage(accountId: string, limit: number): Promise<BudgetUsage> {
    checkLimit(limit);
    const [used, nextFreeMs] = (await USAGE.run(this.redis, 1, this.key(accountId), String(this.windowMs), String(limit))) as [number, number];
    return { used, remaining: Math.max(0, limit - used), nextFreeAt: nextFreeMs >= 0 ? new Date(nextFreeMs) : null };
  }

  /** The phones counted now with their times (read only; the launch planner replays the window from them). */
  async entries(accountId: string): Promise<BudgetEntry[]> {
    const flat = await this.redis.zrangebyscore(this.key(accountId), `(${Date.now() - this.windowMs}`, '+inf', 'WITHSCORES');
    const out: BudgetEntry[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ phone: flat[i] ?? '', at: new Date(Number(flat[i + 1])) });
    return out;
  }

  /**
   * Restores the count from Postgres's record (see `loadFromPostgres`) after Redis lost it.
   * Merged, not replaced, and in one atomic step: reservations made since the loss are real sends
   * that Postgres may not show yet, so they stay; a phone in both keeps its later time. Entries
   * older than the window are dropped. Returns how many phones are counted now.
   */
  async rebuild(accountId: string, entries: readonly BudgetEntry[]): Promise<number> {
    const latest = new Map<string, number>();
    for (const { phone, at } of entries) latest.set(phone, Math.max(at.getTime(), latest.get(phone) ?? -Infinity));
    const staging = redisKeys.dailyBudgetStaging(this.prefix, accountId, randomUUID());
    const pairs = [...latest].flatMap(([phone, ms]) => [ms, phone]);
    if (pairs.length > 0) {
      const pipeline = this.redis.pipeline();
      for (let i = 0; i < pairs.length; i += 2 * CHUNK) pipeline.zadd(staging, ...pairs.slice(i, i + 2 * CHUNK));
      pipeline.pexpire(staging, REBUILD_TTL_MS);
      for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
    }
    return (await MERGE.run(this.redis, 2, this.key(accountId), staging, String(this.windowMs))) as number;
  }

  /**
   * The phones the accounts' campaigns (one account, or a portfolio's) reached in the last `windowMs`, by Postgres's record, each
   * with its latest time: `sent_at` of anything the provider took, and `claimed_at` of recipients
   * still `sending` or `unknown` (they may have gone out). The window is measured on Postgres's
   * clock, which is assumed close to Redis's. Campaigns finished well before the window are
   * skipped without reading their recipients.
   */
  static async loadFromPostgres(pool: pg.Pool, accountIds: string | readonly string[], windowMs: number = DAY_MS): Promise<BudgetEntry[]> {
    const ids = typeof accountIds === 'string' ? [accountIds] : [...accountIds];
    const { rows } = await pool.query<{ phone: string; at: Date }>(
      `SELECT phone, max(at) AS at
         FROM (SELECT r.phone,
                      CASE WHEN r.sent_at IS NOT NULL THEN r.sent_at
                           WHEN r.status IN ('sending', 'unknown') THEN r.claimed_at END AS at
                 FROM campaigns c
                 JOIN recipients r ON r.campaign_id = c.id
                -- A pool campaign's recipients record the account that sent them.
                WHERE (c.account_id = ANY($1::uuid[]) OR c.pool_id IS NOT NULL) AND coalesce(r.account_id, c.account_id) = ANY($1::uuid[])
                  -- A send in flight when the campaign finished lands a little after finished_at.
                  AND (c.finished_at IS NULL OR c.finished_at > now() - make_interval(secs => $2::double precision / 1000) - interval '1 hour')
                  AND (r.sent_at IS NOT NULL OR r.status IN ('sending', 'unknown'))) AS reached
        WHERE at > now() - make_interval(secs => $2::double precision / 1000)
        GROUP BY phone`,
      [ids, windowMs],
    );
    return rows.map((row) => ({ phone: row.phone, at: row.at }));
  }

  private key(accountId: string): string {
    return redisKeys.dailyBudget(this.prefix, accountId);
  }
}

/**
 * Roughly when a campaign finishes when it is larger than the budget left today: the remaining
 * budget goes out at the send rate, then `limit` more every rolling window (or every limit/rate
 * seconds, if sending `limit` takes longer than a window).
 *
 * The approximation: every remaining recipient is a phone not counted yet (phones counted
 * already are free, so the campaign may finish sooner); the whole `limit` frees at once at
 * `nextFreeAt`, and again each window after, whereas in truth slots free one by one as old sends
 * age out, in the pattern they were used. When `nextFreeAt` is null (nothing refused yet) the
 * next refill is taken as one window from now, when the slots used today free at the latest.
 * `days` is how many refills the campaign waits for (0: it fits in today's remaining budget).
 */
export function spreadEta(
  remainingRecipients: number,
  budgetRemaining: number,
  limit: number,
  nextFreeAt: Date | null,
  now: Date,
  ratePerSecond: number,
  windowMs: number = DAY_MS,
): { etaSeconds: number; days: number } {
  checkLimit(limit);
  if (!(ratePerSecond > 0)) throw new RangeError(`The send rate must be above 0 per second, not ${ratePerSecond}.`);
  const remaining = Math.max(0, Math.ceil(remainingRecipients));
  const today = Math.min(remaining, Math.max(0, Math.floor(budgetRemaining)));
  const todayEnds = today / ratePerSecond;
  if (remaining === today) return { etaSeconds: Math.ceil(todayEnds), days: 0 };

  const windowSeconds = windowMs / 1000;
  const days = Math.ceil((remaining - today) / limit);
  const lastRefill = remaining - today - (days - 1) * limit;
  const firstRefill = Math.max(todayEnds, nextFreeAt ? (nextFreeAt.getTime() - now.getTime()) / 1000 : windowSeconds);
  const period = Math.max(windowSeconds, limit / ratePerSecond);
  return { etaSeconds: Math.ceil(firstRefill + (days - 1) * period + lastRefill / ratePerSecond), days };
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit <= 0) {
    throw new RangeError(`The messaging limit must be a whole number of recipients above 0, not ${limit}; an unlimited account needs no budget.`);
  }
}
