/**
 * Delivery statuses (sent, delivered, read) of many events at once: the bulk of webhook traffic,
 * so they are matched in one query and written in one statement, whatever their number.
 *
 * Forward only, in SQL: per recipient the highest status of the group wins if it ranks above the
 * recipient's own; times are first-wins (the earliest of the group when the recipient has none).
 * So the result does not depend on the order of the events within the group, which is why the
 * caller may gather consecutive delivery statuses of several requests into one group. Every
 * event also gets its history row (dedupe key: message id and status, so a repeat adds nothing).
 */
import type pg from 'pg';
import type { EventScope } from './apply-events.js';
import { findManyByMessageId, findSentRecipientWithoutId, type MatchedRecipient } from './match-recipients.js';
import type { StatusEvent } from './types.js';

export type DeliveryStatus = { scope: EventScope; event: StatusEvent };

/** Recipient statuses a delivery status can follow: the send's response has been recorded. */
export const SENT_STATES: readonly string[] = ['accepted', 'sent', 'delivered', 'read', 'failed', 'unknown', 'deferred'];

const rank = (status: string) => `CASE ${status} WHEN 'accepted' THEN 1 WHEN 'sent' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 ELSE 0 END`;

/**
 * One history row per (message, status): a provider's retry of the same event is the same row,
 * while a later send to the same recipient (a new message id after a 24 h deferral) gets its own.
 */
export function statusKey(event: StatusEvent): string {
  return `wh:${event.providerMessageId ?? ''}:${event.status}`;
}

/**
 * Applies `items` (statuses other than `failed`); returns, for each, whether it must wait: no
 * recipient matches yet, or the matching send's response is not recorded (still `sending`).
 */
export async function applyDeliveryStatuses(client: pg.PoolClient, items: readonly DeliveryStatus[]): Promise<boolean[]> {
  const recipients = await matchAll(client, items);
  const writes: { item: DeliveryStatus; recipient: MatchedRecipient }[] = [];
  const waiting = items.map((item, i) => {
    const recipient = recipients[i];
    if (!recipient || !SENT_STATES.includes(recipient.status)) return true;
    writes.push({ item, recipient });
    return false;
  });
  if (writes.length > 0) await writeAll(client, writes);
  return waiting;
}

async function matchAll(client: pg.PoolClient, items: readonly DeliveryStatus[]): Promise<(MatchedRecipient | null)[]> {
  const withId = items.flatMap((item, i) => (item.event.providerMessageId ? [{ i, scope: item.scope, providerMessageId: item.event.providerMessageId }] : []));
  const byId = await findManyByMessageId(client, withId);
  const matched: (MatchedRecipient | null)[] = items.map(() => null);
  withId.forEach((lookup, j) => (matched[lookup.i] = byId[j] ?? null));
  // Providers with no id (or an id the send did not record): reference, then phone, one by one.
  for (const [i, item] of items.entries()) {
    matched[i] ??= await findSentRecipientWithoutId(client, item.scope, item.event);
  }
  return matched;
}

async function writeAll(client: pg.PoolClient, writes: readonly { item: DeliveryStatus; recipient: MatchedRecipient }[]): Promise<void> {
  await client.query(
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
        WHERE r.id = best.recipient_id AND r.status IN ('accepted', 'sent', 'delivered', 'read', 'unknown')
        RETURNING 1)
     INSERT INTO recipient_events (source, tenant_id, campaign_id, recipient_id, status, occurred_at, dedupe_key)
     SELECT 'webhook', tenant_id, campaign_id, recipient_id, status, occurred_at, dedupe_key FROM ev ORDER BY ord
     ON CONFLICT (recipient_id, dedupe_key) DO NOTHING`,
    [
      writes.map((w) => w.recipient.id),
      writes.map((w) => w.item.event.status),
      writes.map((w) => w.item.event.occurredAt),
      writes.map((w) => w.item.scope.tenantId),
      writes.map((w) => w.recipient.campaign_id),
      writes.map((w) => statusKey(w.item.event)),
    ],
  );
}
