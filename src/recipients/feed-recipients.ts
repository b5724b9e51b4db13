/** The feeder's moves: pending or due deferred recipients become queued, while their campaign runs. */
import { moves, type Queryable } from './transitions.js';

const FEED_FROM = moves('feed', 'queued', ['pending', 'deferred']);

/**
 * Moves up to `limit` recipients of a running campaign to queued, deferred ones whose time has
 * come first, then pending ones in order; returns their ids in order.
 */
export async function markQueued(db: Queryable, campaignId: string, limit: number): Promise<string[]> {
  // Two index range scans (campaign_id, status, id) rather than one `status IN (...)`, which
  // would have to sort every pending row of a large campaign to honour ORDER BY id.
  // `status >= 'pending' AND status <= 'pending'` (with ORDER BY status, id) is `status =
  // 'pending'` written so the planner must take that index in order: with plain equality it
  // prefers walking the primary key and filtering, as statistics say most rows are pending,
  // which at 500,000 sent of a million skips 500,000 live rows for every 2,000 fed (bench:million).
  const { rows } = await db.query<{ id: string }>(
    `WITH due AS (
       SELECT r.id FROM recipients r
        WHERE r.campaign_id = $1 AND r.status = 'deferred' AND (r.not_before IS NULL OR r.not_before <= now())
        ORDER BY r.id LIMIT $2
        FOR UPDATE SKIP LOCKED),
     fresh AS (
       SELECT r.id FROM recipients r
        WHERE r.campaign_id = $1 AND r.status >= 'pending' AND r.status <= 'pending'
        ORDER BY r.status, r.id LIMIT $2
        FOR UPDATE SKIP LOCKED),
     picked AS (
       SELECT id FROM (SELECT id, 0 AS pass FROM due UNION ALL SELECT id, 1 FROM fresh) both_
        ORDER BY pass, id LIMIT $2)
     UPDATE recipients r SET status = 'queued', queued_at = now(), updated_at = now()
       FROM picked, campaigns c
      WHERE r.id = picked.id AND r.status IN (${FEED_FROM}) AND c.id = r.campaign_id AND c.status = 'running'
        -- The account may have been stopped since the feeder looked: its recipients stay deferred.
        AND EXISTS (SELECT 1 FROM provider_accounts a WHERE a.id = c.account_id AND a.status = 'active')
     RETURNING r.id`,
    [campaignId, limit],
  );
  return rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
}

export type FeedCandidate = { id: string; phone: string; time_zone: string | null };

/** The recipients markQueued would take next (due deferred first, then pending), without taking them. */
export async function peekFeedable(db: Queryable, campaignId: string, limit: number): Promise<FeedCandidate[]> {
  const { rows } = await db.query<FeedCandidate>(
    `(SELECT id::text, phone, time_zone, 0 AS pass FROM recipients
       WHERE campaign_id = $1 AND status = 'deferred' AND (not_before IS NULL OR not_before <= now()) ORDER BY id LIMIT $2)
     UNION ALL
     (SELECT id::text, phone, time_zone, 1 FROM recipients WHERE campaign_id = $1 AND status >= 'pending' AND status <= 'pending' ORDER BY status, id LIMIT $2)
     ORDER BY pass, id LIMIT $2`,
    [campaignId, limit],
  );
  return rows;
}

/** Marks these recipients queued (from pending or deferred) while their campaign runs; returns the ids marked, in order. */
export async function markQueuedIds(db: Queryable, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    `UPDATE recipients r SET status = 'queued', queued_at = now(), not_before = NULL, updated_at = now()
       FROM campaigns c
      WHERE r.id = ANY($1::bigint[]) AND r.status IN (${FEED_FROM}) AND c.id = r.campaign_id AND c.status = 'running'
        AND EXISTS (SELECT 1 FROM provider_accounts a WHERE a.id = c.account_id AND a.status = 'active')
     RETURNING r.id::text`,
    [ids],
  );
  return rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
}
