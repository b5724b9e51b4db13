/** Validity period: what is still unsent past its campaign's deadline fails as MESSAGE_EXPIRED. */
import { ENGINE_CODES, engineCodeSentence } from '../engine-codes.js';
import { historyOfUpdate } from './history.js';
import { moves, type Queryable } from './transitions.js';

const EXPIRE_FROM = moves('expire', 'failed', ['pending', 'deferred', 'queued']);

export async function expireOverdue(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients r SET status = 'failed', error_code = $1, failed_at = now(), updated_at = now(), provider_error_text = $2
         FROM campaigns c
        WHERE c.expires_at IS NOT NULL AND c.expires_at <= now() AND c.status IN ('running', 'paused')
          AND r.campaign_id = c.id AND r.status IN (${EXPIRE_FROM})
       RETURNING r.id, r.tenant_id, r.campaign_id),
     hist AS (${historyOfUpdate('failed', 'engine', { errorCode: '$1', detail: "'Validity period ended.'" })})
     SELECT count(*) AS n FROM upd`,
    [ENGINE_CODES.MESSAGE_EXPIRED, engineCodeSentence(ENGINE_CODES.MESSAGE_EXPIRED)],
  );
  return Number(rows[0]?.n ?? 0);
}
