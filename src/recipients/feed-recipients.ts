/**
 * The feeder's moves: pending or due deferred recipients become queued for one account, while
 * their campaign runs. A campaign on one account always feeds that account; a pool campaign
 * feeds each of its accounts what that account can take, and the recipient records which.
 */
import { marketingBarredSql } from './account-limit.js';
import { moves, type Queryable } from './transitions.js';

const FEED_FROM = moves('feed', 'queued', ['pending', 'deferred']);

/** Which account the recipients go to, and for a pool campaign which pool (sticky: keep each phone on its last account). */
export type FeedTarget = { accountId: string; poolId: string | null; sticky: boolean };

/**
 * For a pool campaign: only recipients not bound to another account (unassigned, or assigned or
 * pinned to this one), and in a sticky pool not a phone whose last account is another member
 * that can still send it: active, in the split (weight above 0), and for a MARKETING campaign
 * not barred from marketing by the quality guard. A phone whose last account cannot goes to
 * another member rather than waiting for it. $3 is the account, $4 the pool.
 */
function poolFilter(target: FeedTarget, alias: string): string {
  if (!target.poolId) return '';
  const sticky = target.sticky
    ? ` AND NOT EXISTS (SELECT 1 FROM pool_phone_senders s JOIN provider_accounts sa ON sa.id = s.account_id
          JOIN sender_pool_members sm ON sm.pool_id = s.pool_id AND sm.account_id = s.account_id
         WHERE s.pool_id = $4::uuid AND s.phone = ${alias}.phone AND s.account_id <> $3::uuid AND sa.status = 'active' AND sm.weight > 0
           AND NOT (${marketingBarredSql('sa')} AND EXISTS (SELECT 1 FROM campaigns sc JOIN templates st ON st.id = sc.template_id
                                                        WHERE sc.id = ${alias}.campaign_id AND st.category = 'MARKETING')))`
    : '';
  return ` AND (${alias}.account_id IS NULL OR ${alias}.account_id = $3::uuid)${sticky}`;
}

/** The statement's parameters: the pool's id only where a sticky pool's SQL names it. */
function feedParams(base: unknown[], target: FeedTarget): unknown[] {
  return target.poolId && target.sticky ? [...base, target.poolId] : base;
}

/** A sticky pool remembers which account each phone went to. */
function rememberSenders(target: FeedTarget, account = '$3', pool = '$4'): string {
  if (!target.poolId || !target.sticky) return '';
  return `, sticky AS (
       INSERT INTO pool_phone_senders (pool_id, phone, account_id) SELECT ${pool}::uuid, phone, ${account}::uuid FROM upd
       ON CONFLICT (pool_id, phone) DO UPDATE SET account_id = excluded.account_id, updated_at = now())`;
}

/**
 * Moves up to `limit` recipients of a running campaign to queued for `target`'s account, deferred
 * ones whose time has come first, then pending ones in order; returns their ids in order.
 */
export async function markQueued(db: Queryable, campaignId: string, limit: number, target: FeedTarget): Promise<string[]> {
  // Two index range scans (campaign_id, status, id) rather than one `status IN (...)`, which
  // would have to sort every pending row of a large campaign to honour ORDER BY id.
  // `status >= 'pending' AND status <= 'pending'` (with ORDER BY status, id) is `status =
  // 'pending'` written so the planner must take that index in order: with plain equality it
  // prefers walking the primary key and filtering, as statistics say most rows are pending,
  // which at 500,000 sent of a million skips 500,000 live rows for every 2,000 fed (bench:million).
  const { rows } = await db.query<{ id: string }>(
    `WITH due AS (
       SELECT r.id FROM recipients r
        WHERE r.campaign_id = $1 AND r.status = 'deferred' AND (r.not_before IS NULL OR r.not_before <= now())${poolFilter(target, 'r')}
        ORDER BY r.id LIMIT $2
        FOR UPDATE SKIP LOCKED),
     fresh AS (
       SELECT r.id FROM recipients r
        WHERE r.campaign_id = $1 AND r.status >= 'pending' AND r.status <= 'pending'${poolFilter(target, 'r')}
        ORDER BY r.status, r.id LIMIT $2
        FOR UPDATE SKIP LOCKED),
     picked AS (
       SELECT id FROM (SELECT id, 0 AS pass FROM due UNION ALL SELECT id, 1 FROM fresh) both_
        ORDER BY pass, id LIMIT $2),
     upd AS (
     UPDATE recipients r SET status = 'queued', queued_at = now(), updated_at = now(), account_id = $3::uuid
       FROM picked, campaigns c
      WHERE r.id = picked.id AND r.status IN (${FEED_FROM}) AND c.id = r.campaign_id AND c.status = 'running'
        -- The account may have been stopped since the feeder looked: its recipients stay deferred.
        AND EXISTS (SELECT 1 FROM provider_accounts a WHERE a.id = $3::uuid AND a.status = 'active')
     RETURNING r.id, r.phone)${rememberSenders(target)}
     SELECT id FROM upd`,
    feedParams([campaignId, limit, target.accountId], target),
  );
  return rows.map((r) => String(r.id)).sort((a, b) => Number(a) - Number(b));
}

export type FeedCandidate = { id: string; phone: string; time_zone: string | null };

/** The recipients markQueued would take next for `target` (due deferred first, then pending), without taking them. */
export async function peekFeedable(db: Queryable, campaignId: string, limit: number, target: FeedTarget): Promise<FeedCandidate[]> {
  const { rows } = await db.query<FeedCandidate>(
    `(SELECT id::text, phone, time_zone, 0 AS pass FROM recipients r
       WHERE campaign_id = $1 AND status = 'deferred' AND (not_before IS NULL OR not_before <= now())${poolFilter(target, 'r')} ORDER BY id LIMIT $2)
     UNION ALL
     (SELECT id::text, phone, time_zone, 1 FROM recipients r WHERE campaign_id = $1 AND status >= 'pending' AND status <= 'pending'${poolFilter(target, 'r')} ORDER BY status, id LIMIT $2)
     ORDER BY pass, id LIMIT $2`,
    target.poolId ? feedParams([campaignId, limit, target.accountId], target) : [campaignId, limit],
  );
  return rows;
}

/** Marks these recipients queued for `target`'s account (from pending or deferred) while their campaign runs; returns the ids marked, in order. */
export async function markQueuedIds(db: Queryable, ids: readonly string[], target: FeedTarget): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    `WITH upd AS (
     UPDATE recipients r SET status = 'queued', queued_at = now(), not_before = NULL, updated_at = now(), account_id = $2::uuid
       FROM campaigns c
      WHERE r.id = ANY($1::bigint[]) AND r.status IN (${FEED_FROM}) AND c.id = r.campaign_id AND c.status = 'running'
        AND (r.account_id IS NULL OR r.account_id = $2::uuid OR NOT r.account_pinned)
        AND EXISTS (SELECT 1 FROM provider_accounts a WHERE a.id = $2::uuid AND a.status = 'active')
     RETURNING r.id, r.phone)${rememberSenders(target, '$2', '$3')}
     SELECT id::text FROM upd`,
    feedParams([ids, target.accountId], target),
  );
  return rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
}
