/**
 * The recipient state machine: every status change the engine makes is defined here, once,
 * and each one is a conditional UPDATE (`WHERE status = ANY(<allowed from>)`), so a racing or
 * repeated write cannot move a recipient backwards or send it twice.
 *
 *   pending --feed--> queued --claim--> sending --> accepted | sent | failed | unknown
 *   sending --requeue (retry, rate limit, account stop)--> queued
 *   queued  --pause--> pending            unknown --operator resend--> pending
 *   pending | queued --cancel--> cancelled
 *   accepted --> sent --> delivered --> read      (delivery events only move forward)
 *   sending --> unknown: crash mid-send or ambiguous timeout; never resent without an operator
 */
import type pg from 'pg';
import type { RecipientStatus } from '../generated/prisma/enums.js';

export type { RecipientStatus };

/** Final from the sender's point of view: nothing more will be sent to this recipient. */
export const FINAL_STATUSES: readonly RecipientStatus[] = ['accepted', 'sent', 'delivered', 'read', 'failed', 'unknown', 'cancelled'];
/** Work still to do for a campaign. */
export const OPEN_STATUSES: readonly RecipientStatus[] = ['pending', 'deferred', 'queued', 'sending'];

const TRANSITIONS: Record<RecipientStatus, readonly RecipientStatus[]> = {
  pending: ['queued', 'deferred', 'cancelled', 'failed'],
  // Waiting for a limit or a time; fed again once not_before has passed.
  deferred: ['queued', 'pending', 'cancelled', 'failed'],
  queued: ['sending', 'pending', 'deferred', 'cancelled', 'failed'],
  sending: ['queued', 'deferred', 'accepted', 'sent', 'failed', 'unknown'],
  accepted: ['sent', 'delivered', 'read', 'failed'],
  sent: ['delivered', 'read', 'failed'],
  delivered: ['read'],
  read: [],
  failed: [],
  // A late true outcome (the original worker was alive after all) may replace unknown.
  unknown: ['pending', 'accepted', 'sent', 'failed'],
  cancelled: [],
};

export function canTransition(from: RecipientStatus, to: RecipientStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses a recipient may be in for a move to `to`. */
export function allowedFrom(to: RecipientStatus): RecipientStatus[] {
  return (Object.keys(TRANSITIONS) as RecipientStatus[]).filter((from) => TRANSITIONS[from].includes(to));
}

type Queryable = Pick<pg.Pool, 'query'>;

/** The history rows for a CTE named `upd` that returns (id, tenant_id, campaign_id). */
function historyInsertSql(status: string, source: 'engine' | 'operator', errorCodeSql: string, detailSql: string): string {
  return `INSERT INTO recipient_events (tenant_id, campaign_id, recipient_id, status, source, error_code, detail)
          SELECT tenant_id, campaign_id, id, '${status}', '${source}', ${errorCodeSql}, ${detailSql} FROM upd`;
}

/**
 * Moves up to `limit` recipients of a running campaign to queued, deferred ones whose time has
 * come first, then pending ones in order; returns their ids in order.
 */
export async function markQueued(db: Queryable, campaignId: string, limit: number): Promise<string[]> {
  // Two index range scans (campaign_id, status, id) rather than one `status IN (...)`, which
  // would have to sort every pending row of a large campaign to honour ORDER BY id.
  const { rows } = await db.query<{ id: string }>(
    `WITH due AS (
       SELECT r.id FROM recipients r
        WHERE r.campaign_id = $1 AND r.status = 'deferred' AND (r.not_before IS NULL OR r.not_before <= now())
        ORDER BY r.id LIMIT $2
        FOR UPDATE SKIP LOCKED),
     fresh AS (
       SELECT r.id FROM recipients r
        WHERE r.campaign_id = $1 AND r.status = 'pending'
        ORDER BY r.id LIMIT $2
        FOR UPDATE SKIP LOCKED),
     picked AS (
       SELECT id FROM (SELECT id, 0 AS pass FROM due UNION ALL SELECT id, 1 FROM fresh) both_
        ORDER BY pass, id LIMIT $2)
     UPDATE recipients r SET status = 'queued', queued_at = now(), updated_at = now()
       FROM picked, campaigns c
      WHERE r.id = picked.id AND c.id = r.campaign_id AND c.status = 'running'
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
     (SELECT id::text, phone, time_zone, 1 FROM recipients WHERE campaign_id = $1 AND status = 'pending' ORDER BY id LIMIT $2)
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
      WHERE r.id = ANY($1::bigint[]) AND r.status IN ('pending', 'deferred') AND c.id = r.campaign_id AND c.status = 'running'
        AND EXISTS (SELECT 1 FROM provider_accounts a WHERE a.id = c.account_id AND a.status = 'active')
     RETURNING r.id::text`,
    [ids],
  );
  return rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
}

export type DeferredWrite = { id: string; notBefore: Date; errorCode: string };

/** Defers recipients (quiet hours, daily budget) until their time, with the reason; one history row each. */
export async function deferRecipients(db: Queryable, writes: readonly DeferredWrite[]): Promise<number> {
  if (writes.length === 0) return 0;
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients r SET status = 'deferred', not_before = v.not_before, error_code = v.code, updated_at = now()
         FROM unnest($1::bigint[], $2::timestamptz[], $3::text[]) AS v(id, not_before, code)
        WHERE r.id = v.id AND r.status IN ('pending', 'deferred')
          -- Already deferred for the same reason to the same time: nothing to record.
          AND NOT (r.status = 'deferred' AND r.error_code IS NOT DISTINCT FROM v.code AND r.not_before IS NOT DISTINCT FROM v.not_before)
       RETURNING r.id, r.tenant_id, r.campaign_id, r.error_code, r.not_before)
     , hist AS (
       INSERT INTO recipient_events (tenant_id, campaign_id, recipient_id, status, source, error_code, detail)
       SELECT tenant_id, campaign_id, id, 'deferred', 'engine', error_code, 'until ' || to_char(not_before AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM upd)
     SELECT count(*) AS n FROM upd`,
    [writes.map((w) => w.id), writes.map((w) => w.notBefore), writes.map((w) => w.errorCode)],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Validity period: recipients of campaigns past their deadline that were never sent expire (failed, MESSAGE_EXPIRED). */
export async function expireOverdue(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients r SET status = 'failed', error_code = 'MESSAGE_EXPIRED', failed_at = now(), updated_at = now(),
              provider_error_text = 'Not sent before the campaign''s validity period ended.'
         FROM campaigns c
        WHERE c.expires_at IS NOT NULL AND c.expires_at <= now() AND c.status IN ('running', 'paused')
          AND r.campaign_id = c.id AND r.status IN ('pending', 'deferred', 'queued')
       RETURNING r.id, r.tenant_id, r.campaign_id),
     hist AS (${historyInsertSql('failed', 'engine', "'MESSAGE_EXPIRED'", "'Validity period ended.'")})
     SELECT count(*) AS n FROM upd`,
  );
  return Number(rows[0]?.n ?? 0);
}

export type ClaimedRecipient = {
  id: string;
  campaignId: string;
  phone: string;
  variables: string[];
  attempts: number;
};

export type ClaimResult = { claimed: ClaimedRecipient } | { claimed: null; status: RecipientStatus | null };

/**
 * Claims recipients for sending (queued -> sending) in one statement, only while their campaign
 * is running. The claim is durable before any provider call, which is what makes a crash
 * detectable: a recipient found `sending` afterwards is `unknown`, never resent blindly.
 */
export async function claimForSending(db: Queryable, ids: readonly string[]): Promise<Map<string, ClaimResult>> {
  const claimed = await db.query<{ id: string; campaign_id: string; phone: string; variables: string[]; attempts: number }>(
    `UPDATE recipients r SET status = 'sending', attempts = r.attempts + 1, claimed_at = now(), updated_at = now()
       FROM campaigns c
      WHERE r.id = ANY($1::bigint[]) AND r.status = 'queued' AND c.id = r.campaign_id AND c.status = 'running'
        -- A stopped account sends nothing more, even for jobs that were already waiting for a slot.
        AND EXISTS (SELECT 1 FROM provider_accounts a WHERE a.id = c.account_id AND a.status = 'active')
        AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = r.tenant_id AND s.phone = r.phone)
     RETURNING r.id::text, r.campaign_id, r.phone, r.variables, r.attempts`,
    [ids],
  );
  const results = new Map<string, ClaimResult>();
  for (const row of claimed.rows) {
    results.set(row.id, { claimed: { id: row.id, campaignId: row.campaign_id, phone: row.phone, variables: row.variables, attempts: row.attempts } });
  }
  // Rare: a redelivered job, a paused or cancelled campaign. Say why, so a recipient found
  // mid-send can be called unknown.
  const missed = ids.filter((id) => !results.has(id));
  if (missed.length > 0) {
    // Checked again just before the send: a phone that opted out after it was queued is not sent to.
    await db.query(
      `WITH upd AS (
         UPDATE recipients r SET status = 'failed', error_code = 'RECIPIENT_SUPPRESSED',
                provider_error_text = 'This phone is on the suppression list: it asked not to receive messages.', failed_at = now(), updated_at = now()
           FROM suppressions s
          WHERE r.id = ANY($1::bigint[]) AND r.status = 'queued' AND s.tenant_id = r.tenant_id AND s.phone = r.phone
         RETURNING r.id, r.tenant_id, r.campaign_id),
       hist AS (${historyInsertSql('failed', 'engine', "'RECIPIENT_SUPPRESSED'", "'On the suppression list at send time.'")})
       SELECT count(*) FROM upd`,
      [missed],
    );
    // A recipient still `queued` whose campaign is not running (a retry written back during a
    // pause or cancel) loses its job here: hand it back to the feeder (paused) or close it
    // (cancelled), so it is neither stuck nor resurrected.
    await db.query(
      `UPDATE recipients r
          SET status = CASE WHEN c.status = 'cancelled' THEN 'cancelled'::recipient_status ELSE 'pending'::recipient_status END,
              error_code = CASE WHEN c.status = 'cancelled' THEN 'CAMPAIGN_CANCELLED' ELSE r.error_code END,
              queued_at = NULL, updated_at = now()
         FROM campaigns c
        WHERE r.id = ANY($1::bigint[]) AND r.status = 'queued' AND c.id = r.campaign_id AND c.status <> 'running'`,
      [missed],
    );
    const { rows } = await db.query<{ id: string; status: RecipientStatus }>(`SELECT id::text, status FROM recipients WHERE id = ANY($1::bigint[])`, [missed]);
    for (const row of rows) results.set(row.id, { claimed: null, status: row.status });
    for (const id of missed) if (!results.has(id)) results.set(id, { claimed: null, status: null });
  }
  return results;
}

/** One send's result, as written back. */
export type SendResultWrite = {
  id: string;
  /** The attempt this result belongs to; a stale result (another attempt since) is dropped. */
  attempt: number;
  status: 'accepted' | 'sent' | 'failed' | 'unknown' | 'queued' | 'deferred';
  /** For `deferred`: not fed again before this time. */
  notBefore?: Date | null;
  providerMessageId?: string | null;
  errorCode?: string | null;
  providerErrorCode?: string | null;
  providerErrorText?: string | null;
  /** For `queued` (requeue): give the attempt back (rate limits and account stops spend none). */
  refundAttempt?: boolean;
  /** Not written; lets the caller count results per campaign. */
  campaignId?: string;
};

/**
 * Writes many send results in one statement. Only a recipient still `sending` (or `unknown`,
 * for a late true outcome) on the same attempt is updated. Returns the ids actually written.
 */
export async function writeSendResults(db: Queryable, results: readonly SendResultWrite[]): Promise<Set<string>> {
  if (results.length === 0) return new Set();
  // The history row is written in the same statement: one round trip, and no status change without its record.
  const { rows } = await db.query<{ id: string }>(
    `WITH upd AS (
     UPDATE recipients r SET
        status = v.status::recipient_status,
        attempts = CASE WHEN v.refund THEN greatest(r.attempts - 1, 0) ELSE r.attempts END,
        provider_message_id = coalesce(v.message_id, r.provider_message_id),
        error_code = CASE WHEN v.status IN ('sent', 'accepted') THEN NULL ELSE coalesce(v.error_code, r.error_code) END,
        provider_error_code = CASE WHEN v.status IN ('sent', 'accepted') THEN NULL ELSE coalesce(v.provider_code, r.provider_error_code) END,
        provider_error_text = CASE WHEN v.status IN ('sent', 'accepted') THEN NULL ELSE coalesce(v.provider_text, r.provider_error_text) END,
        sent_at = CASE WHEN v.status IN ('sent', 'accepted') THEN now() ELSE r.sent_at END,
        failed_at = CASE WHEN v.status = 'failed' THEN now() ELSE r.failed_at END,
        queued_at = CASE WHEN v.status = 'queued' THEN now() ELSE r.queued_at END,
        not_before = CASE WHEN v.status = 'deferred' THEN v.not_before ELSE r.not_before END,
        updated_at = now()
       FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::timestamptz[])
            AS v(id, attempt, status, message_id, error_code, provider_code, provider_text, refund, not_before)
      WHERE r.id = v.id AND r.attempts = v.attempt
        AND (r.status = 'sending' OR (r.status = 'unknown' AND v.status NOT IN ('queued', 'deferred')))
     RETURNING r.id, r.tenant_id, r.campaign_id, r.status, r.error_code, r.provider_error_code, r.provider_error_text, v.attempt),
     hist AS (
     INSERT INTO recipient_events (tenant_id, campaign_id, recipient_id, status, source, error_code, provider_code, detail)
     SELECT tenant_id, campaign_id, id, status::text, 'send', error_code, provider_error_code,
            'attempt ' || attempt || coalesce(': ' || left(provider_error_text, 300), '')
       FROM upd)
     SELECT id::text FROM upd`,
    [
      results.map((r) => r.id),
      results.map((r) => r.attempt),
      results.map((r) => r.status),
      results.map((r) => r.providerMessageId ?? null),
      results.map((r) => r.errorCode ?? null),
      results.map((r) => r.providerErrorCode ?? null),
      results.map((r) => (r.providerErrorText ?? null)?.slice(0, 1000) ?? null),
      results.map((r) => r.refundAttempt ?? false),
      results.map((r) => r.notBefore ?? null),
    ],
  );
  return new Set(rows.map((r) => r.id));
}

/** A recipient found `sending` by a redelivered job: its first send may have gone out. */
export async function markInterrupted(db: Queryable, ids: readonly string[], errorCode: string, text: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients SET status = 'unknown', error_code = $2, provider_error_text = $3, updated_at = now()
        WHERE id = ANY($1::bigint[]) AND status = 'sending'
       RETURNING id, tenant_id, campaign_id),
     hist AS (${historyInsertSql('unknown', 'engine', '$2', '$3')})
     SELECT count(*) AS n FROM upd`,
    [ids, errorCode, text],
  );
  return Number(rows[0]?.n ?? 0);
}

/** `sending` past its lease (the worker died and its job was lost with it): unknown. */
export async function expireStaleSending(db: Queryable, campaignIds: readonly string[], leaseMs: number): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients SET status = 'unknown', error_code = 'SEND_INTERRUPTED',
              provider_error_text = 'The worker stopped mid-send; the message may or may not have gone out.', updated_at = now()
        WHERE campaign_id = ANY($1::uuid[]) AND status = 'sending' AND claimed_at < now() - make_interval(secs => $2::double precision / 1000)
       RETURNING id, tenant_id, campaign_id),
     hist AS (${historyInsertSql('unknown', 'engine', "'SEND_INTERRUPTED'", "'The worker stopped mid-send (lease expired).'")})
     SELECT count(*) AS n FROM upd`,
    [campaignIds, leaseMs],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Pause: queued recipients go back to pending, so their jobs become no-ops and the feeder re-queues them on resume. */
export async function unqueueCampaign(db: Queryable, campaignId: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE recipients SET status = 'pending', queued_at = NULL, updated_at = now() WHERE campaign_id = $1 AND status = 'queued'`,
    [campaignId],
  );
  return rowCount ?? 0;
}

export async function cancelOpenRecipients(db: Queryable, campaignId: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients SET status = 'cancelled', error_code = 'CAMPAIGN_CANCELLED', updated_at = now()
        WHERE campaign_id = $1 AND status IN ('pending', 'deferred', 'queued')
       RETURNING id, tenant_id, campaign_id),
     hist AS (${historyInsertSql('cancelled', 'operator', "'CAMPAIGN_CANCELLED'", 'NULL')})
     SELECT count(*) AS n FROM upd`,
    [campaignId],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Operator's explicit request: resend recipients whose first send is in doubt. */
export async function requeueUnknown(db: Queryable, campaignId: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients SET status = 'pending', queued_at = NULL, claimed_at = NULL, updated_at = now()
        WHERE campaign_id = $1 AND status = 'unknown'
       RETURNING id, tenant_id, campaign_id),
     hist AS (${historyInsertSql('pending', 'operator', 'NULL', "'Resend requested by an operator.'")})
     SELECT count(*) AS n FROM upd`,
    [campaignId],
  );
  return Number(rows[0]?.n ?? 0);
}
