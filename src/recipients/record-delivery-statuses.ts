/**
 * Delivery statuses (accepted, sent, delivered, read) from webhooks, many at once and forward only:
 * per recipient the highest status of the group wins if it ranks above the recipient's own, and
 * times are first-wins, so the result does not depend on the order of events within the group.
 * Every event gets its history row (dedupe key: message id and status, so a repeat adds nothing).
 */
import { historyInsert } from './history.js';
import { moves, statusList, type Queryable, type RecipientStatus } from './transitions.js';

const RANKED = ['accepted', 'sent', 'delivered', 'read'] as const;
const FROM: Record<(typeof RANKED)[number], readonly RecipientStatus[]> = {
  // A late status for a send in doubt (unknown) says it did go out.
  accepted: ['unknown'],
  sent: ['accepted', 'unknown'],
  delivered: ['accepted', 'sent', 'unknown'],
  read: ['accepted', 'sent', 'delivered', 'unknown'],
};
for (const to of RANKED) moves('delivery status', to, FROM[to]);
/** Recipients a delivery status may move (or, when it ranks lower, only record history for). */
const MOVABLE = statusList([...new Set([...Object.values(FROM).flat(), 'delivered', 'read'] as RecipientStatus[])]);

const rank = (status: string) => `CASE ${status} WHEN 'accepted' THEN 1 WHEN 'sent' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 ELSE 0 END`;

export type DeliveryStatusWrite = {
  recipientId: string;
  tenantId: string;
  campaignId: string;
  status: string;
  occurredAt: Date;
  dedupeKey: string;
};

export async function recordDeliveryStatuses(db: Queryable, writes: readonly DeliveryStatusWrite[]): Promise<void> {
  if (writes.length === 0) return;
  await db.query(
    `WITH ev AS (
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::uuid[], $5::uuid[], $6::text[]) WITH ORDINALITY
         AS e(recipient_id, status, occurred_at, tenant_id, campaign_id, dedupe_key, ord)),
     best AS (
       SELECT recipient_id, max(${rank('status')}) AS status_rank, min(occurred_at) AS first_at,
              min(occurred_at) FILTER (WHERE status = 'delivered') AS delivered_at,
              min(occurred_at) FILTER (WHERE status = 'read') AS read_at
         FROM ev GROUP BY recipient_id),
     upd AS (
       UPDATE recipients r SET
           status = CASE WHEN best.status_rank > ${rank('r.status::text')}
                         THEN (CASE best.status_rank WHEN 1 THEN 'accepted' WHEN 2 THEN 'sent' WHEN 3 THEN 'delivered' ELSE 'read' END)::recipient_status
                         ELSE r.status END,
           sent_at = coalesce(r.sent_at, best.first_at),
           delivered_at = coalesce(r.delivered_at, best.delivered_at),
           read_at = coalesce(r.read_at, best.read_at),
           error_code = CASE WHEN r.status = 'unknown' THEN NULL ELSE r.error_code END,
           updated_at = now()
         FROM best
        WHERE r.id = best.recipient_id AND r.status IN (${MOVABLE})
        RETURNING 1)
     ${historyInsert({
       from: 'ev',
       tenantId: 'tenant_id',
       campaignId: 'campaign_id',
       recipientId: 'recipient_id',
       status: 'status',
       source: 'webhook',
       occurredAt: 'occurred_at',
       dedupeKey: 'dedupe_key',
       orderBy: 'ord',
     })}`,
    [
      writes.map((w) => w.recipientId),
      writes.map((w) => w.status),
      writes.map((w) => w.occurredAt),
      writes.map((w) => w.tenantId),
      writes.map((w) => w.campaignId),
      writes.map((w) => w.dedupeKey),
    ],
  );
}
