/**
 * The claim (queued -> sending), durable before any provider call: a recipient found `sending`
 * afterwards is `unknown`, never resent blindly. A recipient that cannot be claimed is closed or
 * handed back here, so it is neither stuck nor resurrected.
 */
import { ENGINE_CODES, engineCodeSentence } from '../engine-codes.js';
import { historyOfUpdate } from './history.js';
import { moves, type Queryable, type RecipientStatus } from './transitions.js';

const CLAIM_FROM = moves('claim', 'sending', ['queued']);
const SUPPRESSED_FROM = moves('claim: suppressed', 'failed', ['queued']);
const PAUSED_FROM = moves('claim: campaign paused', 'pending', ['queued']);
const CANCELLED_FROM = moves('claim: campaign cancelled', 'cancelled', ['queued']);

export type ClaimedRecipient = {
  id: string;
  campaignId: string;
  phone: string;
  variables: string[];
  attempts: number;
  /** When the claim was made, on the database's clock: the send started no earlier. */
  claimedAt: Date;
};

export type ClaimResult = { claimed: ClaimedRecipient } | { claimed: null; status: RecipientStatus | null };

/** Claims recipients for sending in one statement, only while their campaign runs on an active account. */
export async function claimForSending(db: Queryable, ids: readonly string[]): Promise<Map<string, ClaimResult>> {
  const claimed = await db.query<{ id: string; campaign_id: string; phone: string; variables: string[]; attempts: number; claimed_at: Date }>(
    `UPDATE recipients r SET status = 'sending', attempts = r.attempts + 1, claimed_at = now(), updated_at = now()
       FROM campaigns c
      WHERE r.id = ANY($1::bigint[]) AND r.status IN (${CLAIM_FROM}) AND c.id = r.campaign_id AND c.status = 'running'
        -- A stopped account sends nothing more, even for jobs that were already waiting for a slot.
        AND EXISTS (SELECT 1 FROM provider_accounts a WHERE a.id = c.account_id AND a.status = 'active')
        AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = r.tenant_id AND s.phone = r.phone)
     RETURNING r.id::text, r.campaign_id, r.phone, r.variables, r.attempts, r.claimed_at`,
    [ids],
  );
  const results = new Map<string, ClaimResult>();
  for (const row of claimed.rows) {
    results.set(row.id, { claimed: { id: row.id, campaignId: row.campaign_id, phone: row.phone, variables: row.variables, attempts: row.attempts, claimedAt: row.claimed_at } });
  }
  // Rare: a redelivered job, a paused or cancelled campaign. Say why, so a recipient found
  // mid-send can be called unknown.
  const missed = ids.filter((id) => !results.has(id));
  if (missed.length > 0) {
    // Checked again just before the send: a phone that opted out after it was queued is not sent to.
    await db.query(
      `WITH upd AS (
         UPDATE recipients r SET status = 'failed', error_code = $2, provider_error_text = $3, failed_at = now(), updated_at = now()
           FROM suppressions s
          WHERE r.id = ANY($1::bigint[]) AND r.status IN (${SUPPRESSED_FROM}) AND s.tenant_id = r.tenant_id AND s.phone = r.phone
         RETURNING r.id, r.tenant_id, r.campaign_id),
       hist AS (${historyOfUpdate('failed', 'engine', { errorCode: '$2', detail: "'On the suppression list at send time.'" })})
       SELECT count(*) FROM upd`,
      [missed, ENGINE_CODES.RECIPIENT_SUPPRESSED, engineCodeSentence(ENGINE_CODES.RECIPIENT_SUPPRESSED)],
    );
    // A recipient still `queued` whose campaign is not running (a retry written back during a
    // pause or cancel) loses its job here: hand it back to the feeder (paused) or close it
    // (cancelled).
    await db.query(
      `UPDATE recipients r SET status = 'pending', queued_at = NULL, updated_at = now()
         FROM campaigns c
        WHERE r.id = ANY($1::bigint[]) AND r.status IN (${PAUSED_FROM}) AND c.id = r.campaign_id AND c.status NOT IN ('running', 'cancelled')`,
      [missed],
    );
    await db.query(
      `UPDATE recipients r SET status = 'cancelled', error_code = $2, queued_at = NULL, updated_at = now()
         FROM campaigns c
        WHERE r.id = ANY($1::bigint[]) AND r.status IN (${CANCELLED_FROM}) AND c.id = r.campaign_id AND c.status = 'cancelled'`,
      [missed, ENGINE_CODES.CAMPAIGN_CANCELLED],
    );
    const { rows } = await db.query<{ id: string; status: RecipientStatus }>(`SELECT id::text, status FROM recipients WHERE id = ANY($1::bigint[])`, [missed]);
    for (const row of rows) results.set(row.id, { claimed: null, status: row.status });
    for (const id of missed) if (!results.has(id)) results.set(id, { claimed: null, status: null });
  }
  return results;
}
