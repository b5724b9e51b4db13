/**
 * Everything a campaign's detail needs from Postgres, in one statement: the campaign row (scoped
 * to a tenant when given), its counts by status and by account, its sending accounts (the one
 * account, or the pool's members) with their state and limits, and its uploads. Beside it, in
 * parallel, one Redis MGET of the campaign's per-second sent counters.
 *
 * Why one statement: the detail is polled while a campaign of millions sends, on machines whose
 * cores the workers keep busy. Each Postgres round trip then waits to be scheduled, so the
 * answer's latency grows with the number of trips, not with the work in them (every part here is
 * a few index lookups). The counts come from status-counts.ts's own SQL, so their reading stays
 * in one place.
 *
 * Progress and shares are built from this view in campaign-stats.ts.
 */
import type { Campaign, Db } from '../db/database.js';
import type { AccountStatus, RecipientStatus, UploadStatus } from '../generated/prisma/enums.js';
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import { accountStatusCountsSql, statusCountsSql } from '../recipients/status-counts.js';

/** The window over which the current rate is measured, in whole seconds. */
export const RATE_WINDOW_S = 10;

/** A sending account as the view reads it. */
export type ViewAccount = {
  id: string;
  name: string;
  provider: string;
  status: AccountStatus;
  statusCode: string | null;
  statusReason: string | null;
  ratePerSecond: number;
  messagingLimit: number | null;
};

export type ViewUpload = {
  id: string;
  status: UploadStatus;
  filename: string | null;
  totalRows: number;
  accepted: number;
  rejected: number;
  duplicates: number;
  createdAt: Date;
};

export type CampaignView = {
  campaign: Campaign;
  /** Recipients by status; statuses with none are absent (as statusCounts). */
  counts: Partial<Record<RecipientStatus, number>>;
  /** Recipients handed to an account, by account and status, ordered so (as accountStatusCounts). */
  accountCounts: { accountId: string; status: RecipientStatus; n: number }[];
  /** The campaign's account and its pool's members, each once, by name then id. */
  accounts: ViewAccount[];
  /** Uploads, oldest first. */
  uploads: ViewUpload[];
};

// Campaign columns under Prisma's field names, so the row is a Campaign as Prisma reads it (pg
// parses timestamptz to Date, jsonb to its value, float8 and int4 to numbers, as Prisma does).
const CAMPAIGN_COLUMNS = `c.id, c.tenant_id AS "tenantId", c.account_id AS "accountId", c.template_id AS "templateId", c.name, c.status::text AS status,
       c.status_reason AS "statusReason", c.status_code AS "statusCode", c.default_country AS "defaultCountry", c.priority, c.max_attempts AS "maxAttempts",
       c.idempotency_key AS "idempotencyKey", c.request_hash AS "requestHash", c.created_at AS "createdAt", c.updated_at AS "updatedAt",
       c.started_at AS "startedAt", c.finished_at AS "finishedAt", c.error_budget AS "errorBudget", c.expires_at AS "expiresAt", c.kind::text AS kind,
       c.options, c.start_at AS "startAt", c.text, c.window_end AS "windowEnd", c.window_start AS "windowStart", c.pool_id AS "poolId"`;

const ACCOUNT_COLUMNS = `a.id, a.name, a.provider::text AS provider, a.status::text AS status, a.status_code, a.status_reason, a.rate_per_second, a.messaging_limit`;

/**
 * $1: the campaign; $2: its tenant, or null for any. No row when there is no such campaign. The
 * parts are subqueries of the campaign's row, so a missing campaign reads nothing else. Inside
 * json, timestamps lose their type (they become text in Postgres's own format), so upload times
 * travel as epoch milliseconds and become Dates again here.
 */
const CAMPAIGN_VIEW_SQL = `WITH campaign AS (
  SELECT * FROM campaigns WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2::uuid)
), sending AS (
  SELECT ${ACCOUNT_COLUMNS} FROM campaign c JOIN provider_accounts a ON a.id = c.account_id
  UNION
  SELECT ${ACCOUNT_COLUMNS} FROM campaign c JOIN sender_pool_members m ON m.pool_id = c.pool_id JOIN provider_accounts a ON a.id = m.account_id
)
SELECT ${CAMPAIGN_COLUMNS},
       (SELECT coalesce(json_agg(json_build_array(s.status, s.n) ORDER BY s.status), '[]') FROM (${statusCountsSql('$1')}) s) AS view_counts,
       (SELECT coalesce(json_agg(json_build_array(s.account_id, s.status, s.n) ORDER BY s.account_id, s.status), '[]')
          FROM (${accountStatusCountsSql('$1')}) s) AS view_account_counts,
       (SELECT coalesce(json_agg(json_build_object('id', a.id, 'name', a.name, 'provider', a.provider, 'status', a.status, 'statusCode', a.status_code,
                                                   'statusReason', a.status_reason, 'ratePerSecond', a.rate_per_second, 'messagingLimit', a.messaging_limit)
                                 ORDER BY a.name, a.id), '[]') FROM sending a) AS view_accounts,
       (SELECT coalesce(json_agg(json_build_object('id', u.id, 'status', u.status, 'filename', u.filename, 'totalRows', u.total_rows, 'accepted', u.accepted,
                                                   'rejected', u.rejected, 'duplicates', u.duplicates, 'createdAtMs', round(extract(epoch FROM u.created_at) * 1000))
                                 ORDER BY u.created_at, u.id), '[]') FROM uploads u WHERE u.campaign_id = c.id) AS view_uploads
  FROM campaign c`;

type ViewRow = Campaign & {
  view_counts: [RecipientStatus, number][];
  view_account_counts: [string, RecipientStatus, number][];
  view_accounts: ViewAccount[];
  view_uploads: (Omit<ViewUpload, 'createdAt'> & { createdAtMs: number })[];
};

/** The campaign's view (one statement); null when there is no such campaign, or it is another tenant's. */
export async function readCampaignView(db: Db, campaignId: string, tenantId: string | null = null): Promise<CampaignView | null> {
  // Named, so each connection plans it once: planning this statement costs Postgres more CPU than
  // running it (0.5 ms against 0.2 ms), and on a saturated machine CPU time is latency.
  const { rows } = await db.pool.query<ViewRow>({ name: 'campaign-view', text: CAMPAIGN_VIEW_SQL, values: [campaignId, tenantId] });
  const row = rows[0];
  if (!row) return null;
  const { view_counts: counts, view_account_counts: accountCounts, view_accounts: accounts, view_uploads: uploads, ...campaign } = row;
  return {
    campaign,
    counts: Object.fromEntries(counts.map(([status, n]) => [status, Number(n)])),
    accountCounts: accountCounts.map(([accountId, status, n]) => ({ accountId, status, n: Number(n) })),
    accounts,
    uploads: uploads.map(({ createdAtMs, ...u }) => ({ ...u, createdAt: new Date(createdAtMs) })),
  };
}

/** Messages the workers counted as sent for the campaign over the last RATE_WINDOW_S whole seconds (one MGET). */
export async function sentInRateWindow(redis: RedisClient, prefix: string, campaignId: string, nowMs = Date.now()): Promise<number> {
  // The current second is still filling; measure over the whole seconds before it.
  const now = Math.floor(nowMs / 1000);
  const keys = Array.from({ length: RATE_WINDOW_S }, (_, i) => redisKeys.sentCounter(prefix, campaignId, now - 1 - i));
  const values = await redis.mget(...keys);
  return values.reduce((sum, v) => sum + Number(v ?? 0), 0);
}
