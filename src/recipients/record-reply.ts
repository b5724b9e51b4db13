/**
 * Replies and opt-outs: not status changes, but the recipient's reply and opt-out times and
 * their history rows. First time wins, so a provider's retry changes nothing.
 */
import { historyInsert } from './history.js';
import type { Queryable } from './transitions.js';

export type ReplyWrite = {
  recipientId: string;
  tenantId: string;
  campaignId: string;
  occurredAt: Date;
  /** The inbound message's provider id, for the history row's dedupe key. */
  providerMessageId: string;
  /** What was said (text or button), for history. */
  said: string;
  optOut: boolean;
};

/** A reply matched to a recipient of a campaign. */
export async function recordReply(db: Queryable, reply: ReplyWrite): Promise<void> {
  await db.query(
    `WITH upd AS (
       UPDATE recipients SET replied_at = coalesce(replied_at, $4::timestamptz),
              opted_out_at = CASE WHEN $7::boolean THEN coalesce(opted_out_at, $4::timestamptz) ELSE opted_out_at END, updated_at = now()
        WHERE id = $1::bigint RETURNING 1),
     hist AS (${historyInsert({
       // The reply, then the opt-out it carried (if it did), in that order.
       from: `(VALUES ('replied', 'in:' || $6::text, 1), ('opted_out', 'opted_out', 2)) AS k(status, dedupe_key, ord) WHERE k.ord = 1 OR $7::boolean`,
       tenantId: '$2::uuid',
       campaignId: '$3::uuid',
       recipientId: '$1::bigint',
       status: 'k.status',
       source: 'webhook',
       occurredAt: '$4::timestamptz',
       detail: '$5::text',
       dedupeKey: 'k.dedupe_key',
       orderBy: 'k.ord',
     })})
     SELECT 1`,
    [reply.recipientId, reply.tenantId, reply.campaignId, reply.occurredAt, reply.said.slice(0, 500), reply.providerMessageId, reply.optOut],
  );
}

/** The provider says this person stopped marketing (a send's answer): record when; returns the phone to suppress. */
export async function markOptedOut(db: Queryable, recipientId: string): Promise<{ tenantId: string; phone: string } | null> {
  const { rows } = await db.query<{ tenant_id: string; phone: string }>(
    `UPDATE recipients SET opted_out_at = coalesce(opted_out_at, now()) WHERE id = $1 RETURNING tenant_id, phone`,
    [recipientId],
  );
  const row = rows[0];
  return row ? { tenantId: row.tenant_id, phone: row.phone } : null;
}
