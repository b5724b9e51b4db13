/**
 * A send's result, written back: many results in one statement, each with its history row.
 * Only a recipient still `sending` on the same attempt is written (or `unknown`, for a late true
 * outcome), so a stale or repeated result changes nothing.
 */
import { historyInsert } from './history.js';
import { moves, statusList, type Queryable } from './transitions.js';

/** One send's result, as written back. */
export type SendResultWrite = {
  id: string;
  /** The attempt this result belongs to; a stale result (another attempt since) is dropped. */
  attempt: number;
  status: 'accepted' | 'sent' | 'failed' | 'unknown' | 'queued' | 'deferred';
  /** For `deferred`: not fed again before this time (null: until the account's limit clears). */
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

const OUTCOMES = ['accepted', 'sent', 'failed', 'unknown', 'queued', 'deferred'] as const;
for (const to of OUTCOMES) moves('send result', to, ['sending']);
/** A late true outcome may replace `unknown`; a requeue may not (the first send may have gone out). */
const LATE = ['accepted', 'sent', 'failed'] as const;
for (const to of LATE) moves('late send result', to, ['unknown']);

export async function writeSendResults(db: Queryable, unordered: readonly SendResultWrite[]): Promise<Set<string>> {
  if (unordered.length === 0) return new Set();
  // In id order, the order every other many-row writer of recipients locks them in (claims, account
  // holds, campaign moves): a batch in arrival order could deadlock with an account stop.
  const results = [...unordered].sort((a, b) => compareIds(a.id, b.id));
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
        -- In doubt on this account: no other account of a pool may ever send it.
        account_pinned = r.account_pinned OR v.status = 'unknown',
        updated_at = now()
       FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::timestamptz[])
            AS v(id, attempt, status, message_id, error_code, provider_code, provider_text, refund, not_before)
      WHERE r.id = v.id AND r.attempts = v.attempt
        AND (r.status = 'sending' OR (r.status = 'unknown' AND v.status IN (${statusList(LATE)})))
     RETURNING r.id, r.tenant_id, r.campaign_id, r.status, r.error_code, r.provider_error_code, r.provider_error_text, v.attempt),
     hist AS (${historyInsert({
       from: 'upd',
       tenantId: 'tenant_id',
       campaignId: 'campaign_id',
       recipientId: 'id',
       status: 'status::text',
       source: 'send',
       errorCode: 'error_code',
       providerCode: 'provider_error_code',
       detail: "'attempt ' || attempt || coalesce(': ' || left(provider_error_text, 300), '')",
     })})
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

/** Orders bigint ids given as decimal strings, without BigInt: shorter is smaller, then by digits. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
