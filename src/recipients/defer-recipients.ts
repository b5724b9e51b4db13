/** Quiet hours and the daily messaging limit: recipients wait until a time, with the reason. */
import { historyInsert } from './history.js';
import { moves, type Queryable } from './transitions.js';

const DEFER_FROM = moves('defer until a time', 'deferred', ['pending']);

export type DeferredWrite = { id: string; notBefore: Date; errorCode: string };

/**
 * The campaign's sending window as the caller read it: the deferral holds only while the campaign
 * still has that window. An operator who changes it between the caller's read and this write
 * (opening it, say) would otherwise see recipients deferred by the old one, for hours.
 */
export type WindowGuard = { campaignId: string; windowStart: number | null; windowEnd: number | null };

/** Defers recipients until their time, with the reason; one history row each. None when `guard`'s window is no longer the campaign's. */
export async function deferRecipients(db: Queryable, writes: readonly DeferredWrite[], guard?: WindowGuard): Promise<number> {
  if (writes.length === 0) return 0;
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients r SET status = 'deferred', not_before = v.not_before, error_code = v.code, updated_at = now()
         FROM unnest($1::bigint[], $2::timestamptz[], $3::text[]) AS v(id, not_before, code)
        WHERE r.id = v.id AND r.status IN (${DEFER_FROM}, 'deferred')
          -- Already deferred for the same reason to the same time: nothing to record.
          AND NOT (r.status = 'deferred' AND r.error_code IS NOT DISTINCT FROM v.code AND r.not_before IS NOT DISTINCT FROM v.not_before)
          AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM campaigns c WHERE c.id = $4
                AND c.window_start IS NOT DISTINCT FROM $5::int AND c.window_end IS NOT DISTINCT FROM $6::int))
       RETURNING r.id, r.tenant_id, r.campaign_id, r.error_code, r.not_before),
     hist AS (${historyInsert({
       from: 'upd',
       tenantId: 'tenant_id',
       campaignId: 'campaign_id',
       recipientId: 'id',
       status: "'deferred'",
       source: 'engine',
       errorCode: 'error_code',
       detail: `'until ' || to_char(not_before AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`,
     })})
     SELECT count(*) AS n FROM upd`,
    [writes.map((w) => w.id), writes.map((w) => w.notBefore), writes.map((w) => w.errorCode), guard?.campaignId ?? null, guard?.windowStart ?? null, guard?.windowEnd ?? null],
  );
  return Number(rows[0]?.n ?? 0);
}
