/** The recipient side of an operator's campaign actions (src/campaigns/campaign-actions.ts), in its transaction. */
import { ENGINE_CODES } from '../engine-codes.js';
import { historyOfUpdate } from './history.js';
import { moves, type Queryable } from './transitions.js';

const PAUSE_FROM = moves('pause', 'pending', ['queued']);
const CANCEL_FROM = moves('cancel', 'cancelled', ['pending', 'deferred', 'queued']);
const RESEND_FROM = moves('resend unknown', 'pending', ['unknown']);

/**
 * The campaign's recipients in `statuses`, locked in id order: the order claims lock them in
 * (`id = ANY(...)` by primary key), so a pause or cancel racing with claims of the same
 * recipients waits instead of deadlocking.
 */
function lockedInIdOrder(statuses: string): string {
  return `SELECT id FROM recipients WHERE campaign_id = $1 AND status IN (${statuses}) ORDER BY id FOR UPDATE`;
}

/** Pause: queued recipients go back to pending, so their jobs become no-ops and the feeder re-queues them on resume. */
export async function unqueueCampaign(db: Queryable, campaignId: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE recipients SET status = 'pending', queued_at = NULL, updated_at = now()
      WHERE id IN (${lockedInIdOrder(PAUSE_FROM)}) AND status IN (${PAUSE_FROM})`,
    [campaignId],
  );
  return rowCount ?? 0;
}

export async function cancelOpenRecipients(db: Queryable, campaignId: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients SET status = 'cancelled', error_code = $2, updated_at = now()
        WHERE id IN (${lockedInIdOrder(CANCEL_FROM)}) AND status IN (${CANCEL_FROM})
       RETURNING id, tenant_id, campaign_id),
     hist AS (${historyOfUpdate('cancelled', 'operator', { errorCode: '$2', detail: 'NULL' })})
     SELECT count(*) AS n FROM upd`,
    [campaignId, ENGINE_CODES.CAMPAIGN_CANCELLED],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Operator's explicit request: resend recipients whose first send is in doubt. */
export async function requeueUnknown(db: Queryable, campaignId: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients SET status = 'pending', queued_at = NULL, claimed_at = NULL, updated_at = now()
        WHERE campaign_id = $1 AND status IN (${RESEND_FROM})
       RETURNING id, tenant_id, campaign_id),
     hist AS (${historyOfUpdate('pending', 'operator', { detail: "'Resend requested by an operator.'" })})
     SELECT count(*) AS n FROM upd`,
    [campaignId],
  );
  return Number(rows[0]?.n ?? 0);
}
