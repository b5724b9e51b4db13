/**
 * The recipients' counts by campaign, account and status, without counting the recipients: the one
 * owner of reading and folding them.
 *
 * Postgres keeps them, for every writer (ingest COPY, feeder, claims, results, webhooks, moves,
 * deletes, manual SQL): statement triggers on `recipients` (migration 20261206180000_recipient_counts)
 * append each statement's net change per (campaign, account, status) to recipient_count_deltas.
 * The leader folds those rows into recipient_counts every few seconds (foldCounts). A count is
 * recipient_counts plus the deltas not folded yet, read in one statement: one snapshot, in which
 * a fold (delete the deltas, add them to the totals, one transaction) has happened entirely or not
 * at all. So every read is exact, whether the fold ran a moment ago or has not run for an hour;
 * the fold only keeps the deltas read per campaign few.
 */
import type { RecipientStatus } from '../generated/prisma/enums.js';
import type { Queryable } from './transitions.js';

/** recipient_counts' account for recipients not handed to an account yet (recipient_count_deltas keeps null). */
export const NO_ACCOUNT = '00000000-0000-0000-0000-000000000000';

/** Deltas folded per statement; a longer backlog takes several. */
export const FOLD_BATCH = 50_000;
/** Statements per foldCounts call at most, so one call stays short; the rest waits for the next. */
const FOLD_ROUNDS = 20;

/**
 * The campaign's counts by status (rows: status text, n numeric), with `campaign` the SQL that
 * names the campaign (a parameter such as '$1'): statusCounts' statement, and a part of larger
 * statements that read a campaign's counts with other things (src/campaigns/campaign-view.ts).
 */
export function statusCountsSql(campaign: string): string {
  return `SELECT status::text AS status, sum(n) AS n
  FROM (SELECT status, n FROM recipient_counts WHERE campaign_id = ${campaign}
        UNION ALL
        SELECT status, delta FROM recipient_count_deltas WHERE campaign_id = ${campaign}) AS counts
 GROUP BY status HAVING sum(n) <> 0 ORDER BY status::text`;
}

/** statusCounts' statement ($1: the campaign), for bench/million.ts to EXPLAIN. */
export const STATUS_COUNTS_SQL = statusCountsSql('$1');

/**
 * The campaign's counts by account and status (rows: account_id uuid, status text, n numeric),
 * leaving out recipients not handed to an account; `campaign` as in statusCountsSql.
 */
export function accountStatusCountsSql(campaign: string): string {
  return `SELECT account_id, status::text AS status, sum(n) AS n
       FROM (SELECT account_id, status, n FROM recipient_counts WHERE campaign_id = ${campaign} AND account_id <> '${NO_ACCOUNT}'::uuid
             UNION ALL
             SELECT account_id, status, delta FROM recipient_count_deltas WHERE campaign_id = ${campaign} AND account_id IS NOT NULL) AS counts
      GROUP BY account_id, status HAVING sum(n) <> 0 ORDER BY account_id, status::text`;
}

/** The campaign's recipients by status; statuses with none are absent. */
export async function statusCounts(db: Queryable, campaignId: string): Promise<Partial<Record<RecipientStatus, number>>> {
  const { rows } = await db.query<{ status: RecipientStatus; n: string }>(STATUS_COUNTS_SQL, [campaignId]);
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** statusCounts for several campaigns at once: one row per campaign and status with recipients. */
export async function statusCountsByCampaign(db: Queryable, campaignIds: readonly string[]): Promise<{ campaignId: string; status: RecipientStatus; n: number }[]> {
  if (campaignIds.length === 0) return [];
  const { rows } = await db.query<{ campaign_id: string; status: RecipientStatus; n: string }>(
    `SELECT campaign_id, status::text AS status, sum(n) AS n
       FROM (SELECT campaign_id, status, n FROM recipient_counts WHERE campaign_id = ANY($1::uuid[])
             UNION ALL
             SELECT campaign_id, status, delta FROM recipient_count_deltas WHERE campaign_id = ANY($1::uuid[])) AS counts
      GROUP BY campaign_id, status HAVING sum(n) <> 0 ORDER BY campaign_id, status::text`,
    [campaignIds],
  );
  return rows.map((r) => ({ campaignId: r.campaign_id, status: r.status, n: Number(r.n) }));
}

/** The campaign's recipients handed to an account, by account and status (those not handed out are left out). */
export async function accountStatusCounts(db: Queryable, campaignId: string): Promise<{ accountId: string; status: RecipientStatus; n: number }[]> {
  const { rows } = await db.query<{ account_id: string; status: RecipientStatus; n: string }>(accountStatusCountsSql('$1'), [campaignId]);
  return rows.map((r) => ({ accountId: r.account_id, status: r.status, n: Number(r.n) }));
}

/**
 * Folds the deltas into recipient_counts, `batch` at a time (oldest first, one statement each);
 * returns how many it folded. Run by the leader alone, yet safe beside another fold (a leader
 * change): a delta is deleted once, so added once. A deleted campaign's last deltas (from its
 * recipients' cascade) are dropped. Two folds at once never wait on each other's deltas: each
 * locks the oldest ones no other fold holds (SKIP LOCKED), since the DELETE's own scan order
 * depends on its plan and on synchronized scans, and two folds taking shared deltas in different
 * orders deadlocked. Keys are written in order, so two folds lock them in the same order.
 */
export async function foldCounts(db: Queryable, batch = FOLD_BATCH): Promise<number> {
  let total = 0;
  for (let round = 0; round < FOLD_ROUNDS; round++) {
    const folded = await foldOnce(db, batch);
    total += folded;
    if (folded < batch) break;
  }
  return total;
}

async function foldOnce(db: Queryable, batch: number): Promise<number> {
  try {
    const { rows } = await db.query<{ folded: string }>(
      `WITH folded AS (
         DELETE FROM recipient_count_deltas WHERE id IN (
           SELECT id FROM recipient_count_deltas ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING campaign_id, account_id, status, delta),
       sums AS (
         SELECT campaign_id, coalesce(account_id, $2::uuid) AS account_id, status, sum(delta) AS n FROM folded GROUP BY 1, 2, 3),
       written AS (
         INSERT INTO recipient_counts (campaign_id, account_id, status, n)
         SELECT s.campaign_id, s.account_id, s.status, s.n FROM sums s
          WHERE s.n <> 0 AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = s.campaign_id)
          ORDER BY 1, 2, 3
         ON CONFLICT (campaign_id, account_id, status) DO UPDATE SET n = recipient_counts.n + excluded.n
         RETURNING 1)
       SELECT (SELECT count(*) FROM folded) AS folded, (SELECT count(*) FROM written) AS written`,
      [batch, NO_ACCOUNT],
    );
    return Number(rows[0]?.folded ?? 0);
  } catch (error) {
    // A campaign deleted while its deltas were being folded: nothing was changed, and the next
    // fold finds it gone and drops its deltas.
    if ((error as { code?: string }).code === '23503') return 0;
    throw error;
  }
}
