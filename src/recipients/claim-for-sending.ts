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
  /** The account it is sent from (the campaign's, or the pool account it was handed to). */
  accountId: string;
  phone: string;
  variables: string[];
  attempts: number;
  /** When the claim was made, on the database's clock: the send started no earlier. */
  claimedAt: Date;
};

export type ClaimResult = { claimed: ClaimedRecipient } | { claimed: null; status: RecipientStatus | null };

/** A job to claim: its recipient, and the account whose queue it came from (absent on jobs written before pools). */
export type ClaimJob = { id: string; accountId?: string | undefined };

/**
 * Claims recipients for sending in one statement, only while their campaign runs on an active
 * account, and only from the queue of the account the recipient is assigned to: a job left in
 * another account's queue after a pool moved its recipient claims nothing.
 */
export async function claimForSending(db: Queryable, jobs: readonly ClaimJob[]): Promise<Map<string, ClaimResult>> {
  const ids = jobs.map((j) => j.id);
  const claimed = await db.query<{ id: string; campaign_id: string; account_id: string; phone: string; variables: string[]; attempts: number; claimed_at: Date }>(
    `UPDATE recipients r SET status = 'sending', attempts = r.attempts + 1, claimed_at = now(), updated_at = now(), account_id = coalesce(r.account_id, c.account_id)
       FROM campaigns c, unnest($1::bigint[], $2::uuid[]) AS j(id, account_id)
      WHERE r.id = j.id AND r.status IN (${CLAIM_FROM}) AND c.id = r.campaign_id AND c.status = 'running'
        AND (j.account_id IS NULL OR coalesce(r.account_id, c.account_id) = j.account_id)
        -- A stopped account sends nothing more, even for jobs that were already waiting for a slot.
        AND EXISTS (SELECT 1 FROM provider_accounts a WHERE a.id = coalesce(r.account_id, c.account_id) AND a.status = 'active')
        AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = r.tenant_id AND s.phone = r.phone)
     RETURNING r.id::text, r.campaign_id, r.account_id, r.phone, r.variables, r.attempts, r.claimed_at`,
    [ids, jobs.map((j) => j.accountId ?? null)],
  );
  const results = new Map<string, ClaimResult>();
  for (const row of claimed.rows) {
    results.set(row.id, {
      claimed: { id: row.id, campaignId: row.campaign_id, accountId: row.account_id, phone: row.phone, variables: row.variables, attempts: row.attempts, claimedAt: row.claimed_at },
    });
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
    const { rows } = await db.query<{ id: string; status: RecipientStatus; account_id: string | null }>(
      `SELECT id::text, status, account_id FROM recipients WHERE id = ANY($1::bigint[])`,
      [missed],
    );
    const jobAccount = new Map(jobs.map((j) => [j.id, j.accountId]));
    for (const row of rows) {
      const from = jobAccount.get(row.id);
      // Handed to another account of its pool: this job is a leftover, whatever the recipient's status there.
      const moved = from !== undefined && row.account_id !== null && row.account_id !== from;
      results.set(row.id, { claimed: null, status: moved ? null : row.status });
    }
    for (const id of missed) if (!results.has(id)) results.set(id, { claimed: null, status: null });
  }
  return results;
}
