/** A send in doubt: found `sending` by a redelivered job, or past its lease. Never resent without an operator. */
import { ENGINE_CODES, engineCodeSentence } from '../engine-codes.js';
import { historyOfUpdate } from './history.js';
import { moves, type Queryable } from './transitions.js';

const UNKNOWN_FROM = moves('send interrupted', 'unknown', ['sending']);

/** A recipient found `sending` by a redelivered job: its first send may have gone out. */
export async function markInterrupted(db: Queryable, ids: readonly string[]): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients SET status = 'unknown', account_pinned = true, error_code = $2, provider_error_text = $3, updated_at = now()
        WHERE id = ANY($1::bigint[]) AND status IN (${UNKNOWN_FROM})
       RETURNING id, tenant_id, campaign_id),
     hist AS (${historyOfUpdate('unknown', 'engine', { errorCode: '$2', detail: '$3' })})
     SELECT count(*) AS n FROM upd`,
    [ids, ENGINE_CODES.SEND_INTERRUPTED, engineCodeSentence(ENGINE_CODES.SEND_INTERRUPTED)],
  );
  return Number(rows[0]?.n ?? 0);
}

/** `sending` past its lease (the worker died and its job was lost with it): unknown. */
export async function expireStaleSending(db: Queryable, campaignIds: readonly string[], leaseMs: number): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients SET status = 'unknown', account_pinned = true, error_code = $3, provider_error_text = $4, updated_at = now()
        WHERE campaign_id = ANY($1::uuid[]) AND status IN (${UNKNOWN_FROM}) AND claimed_at < now() - make_interval(secs => $2::double precision / 1000)
       RETURNING id, tenant_id, campaign_id),
     hist AS (${historyOfUpdate('unknown', 'engine', { errorCode: '$3', detail: "'The worker stopped mid-send (lease expired).'" })})
     SELECT count(*) AS n FROM upd`,
    [campaignIds, leaseMs, ENGINE_CODES.SEND_INTERRUPTED, engineCodeSentence(ENGINE_CODES.SEND_INTERRUPTED)],
  );
  return Number(rows[0]?.n ?? 0);
}
