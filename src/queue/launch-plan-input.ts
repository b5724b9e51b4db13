/**
 * What the launch planner (./launch-plan.ts) needs, read in one place: the campaign's schedule
 * and window, the account's rate, messaging limit and prices, the open recipients (with whether
 * their phone is suppressed), the account's messaging-limit window as Redis holds it (rebuilt from
 * Postgres's record when Redis has none, as the feeder would), and the counts already settled.
 */
import type { RedisClient } from '../redis-client.js';
import type pg from 'pg';
import { errors } from '../errors.js';
import { DailyBudget } from '../flow/daily-budget.js';
import { readMessagePrices } from '../campaigns/message-prices.js';
import { statusCounts } from '../recipients/status-counts.js';
import type { Config } from '../config.js';
import type { PlanInput, PlanRecipient } from './launch-plan.js';

export type PlanSource = { pool: pg.Pool; redis: RedisClient; prefix: string };

/** Recipients with something still to send; the planner takes them one by one, the rest as counts. */
const OPEN = new Set(['pending', 'deferred', 'queued', 'sending']);

/** The planner's options: the feeder's own settings, as the workers read them, and the plan's own. */
export function planOptions(
  config: Pick<Config, 'queueWindowSeconds' | 'queueWindowMaxJobs' | 'rateJitterMs' | 'feederIntervalMs'>,
  own: { bucketMinutes?: number; horizonDays?: number } = {},
): PlanInput['options'] {
  return { windowSeconds: config.queueWindowSeconds, maxJobs: config.queueWindowMaxJobs, jitterMs: config.rateJitterMs, feederIntervalMs: config.feederIntervalMs, ...own };
}

type CampaignRow = {
  account_id: string;
  start_at: Date | null;
  expires_at: Date | null;
  window_start: number | null;
  window_end: number | null;
  category: string | null;
  rate_per_second: number;
  messaging_limit: number | null;
  message_prices: unknown;
};

export async function loadPlanInput(source: PlanSource, tenantId: string, campaignId: string, options: PlanInput['options'], now: Date = new Date()): Promise<PlanInput> {
  const { pool } = source;
  const { rows } = await pool.query<CampaignRow>(
    `SELECT c.account_id, c.start_at, c.expires_at, c.window_start, c.window_end, t.category::text AS category,
            a.rate_per_second, a.messaging_limit, a.message_prices
       FROM campaigns c JOIN provider_accounts a ON a.id = c.account_id LEFT JOIN templates t ON t.id = c.template_id
      WHERE c.id = $1 AND c.tenant_id = $2`,
    [campaignId, tenantId],
  );
  const c = rows[0];
  if (!c) throw errors.campaignNotFound(campaignId);
  const { rows: open } = await pool.query<{ id: string; phone: string; time_zone: string | null; not_before: Date | null; status: string; suppressed: boolean }>(
    `SELECT r.id::text, r.phone, r.time_zone, r.not_before, r.status::text,
            EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = r.tenant_id AND s.phone = r.phone) AS suppressed
       FROM recipients r WHERE r.campaign_id = $1 AND r.status IN ('pending', 'deferred', 'queued', 'sending')`,
    [campaignId],
  );
  const recipients: PlanRecipient[] = open.map((r) => ({
    id: r.id,
    phone: r.phone,
    time_zone: r.time_zone,
    // A deferred recipient with no time (an account limit that cleared) is due now, as the feeder reads it.
    notBefore: r.status === 'deferred' ? (r.not_before ?? now) : null,
    queued: r.status === 'queued' || r.status === 'sending',
    suppressed: r.suppressed,
  }));
  const settled = Object.entries(await statusCounts(pool, campaignId)).filter(([status]) => !OPEN.has(status));
  const { rows: uploads } = await pool.query<{ rejected: string }>(`SELECT coalesce(sum(rejected), 0) AS rejected FROM uploads WHERE campaign_id = $1`, [campaignId]);
  let budget: PlanInput['budget'] = [];
  if (c.messaging_limit !== null) {
    budget = await new DailyBudget(source.redis, source.prefix).entries(c.account_id);
    if (budget.length === 0) budget = await DailyBudget.loadFromPostgres(pool, c.account_id);
  }
  return {
    now,
    campaign: { startAt: c.start_at, expiresAt: c.expires_at, windowStart: c.window_start, windowEnd: c.window_end, category: c.category },
    account: { ratePerSecond: c.rate_per_second, messagingLimit: c.messaging_limit, prices: readMessagePrices(c.message_prices) },
    recipients,
    budget,
    settled: Object.fromEntries(settled),
    rejectedAtUpload: Number(uploads[0]?.rejected ?? 0),
    options,
  };
}
