/**
 * An account stopped by a provider limit (tier, plan, balance): its waiting recipients wait
 * visibly with the limit's code, and go back in line when the limit clears.
 */
import { historyOfUpdate } from './history.js';
import { moves, type Queryable } from './transitions.js';

const HOLD_FROM = moves('account limit: hold', 'deferred', ['pending', 'queued']);
const RELEASE_FROM = moves('account limit: release', 'pending', ['deferred']);

/**
 * The account's open recipients (pending, queued) become deferred with `code`, while the account
 * is `limited`. Also when another send stopped the account first: sends already under way come
 * back `queued` after that stop, and must wait with the rest, not go out beside the probe.
 */
export async function holdForAccountLimit(db: Queryable, accountId: string, code: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients r SET status = 'deferred', error_code = $2, not_before = NULL, queued_at = NULL, updated_at = now()
         FROM campaigns c JOIN provider_accounts a ON a.id = c.account_id
        WHERE c.account_id = $1 AND a.status = 'limited' AND c.status IN ('running', 'paused') AND r.campaign_id = c.id AND r.status IN (${HOLD_FROM})
       RETURNING r.id, r.tenant_id, r.campaign_id),
     hist AS (${historyOfUpdate('deferred', 'engine', { errorCode: '$2', detail: "'The account is stopped by a provider limit; waiting for it to clear.'" })})
     SELECT count(*) AS n FROM upd`,
    [accountId, code],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Recipients deferred by one of the account's limit codes go back to the feeder. */
export async function releaseFromAccountLimit(db: Queryable, accountId: string, limitCodes: readonly string[]): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients r SET status = 'pending', error_code = NULL, updated_at = now()
         FROM campaigns c
        WHERE c.account_id = $1 AND r.campaign_id = c.id AND r.status IN (${RELEASE_FROM}) AND r.not_before IS NULL
          AND r.error_code = ANY($2::text[])
       RETURNING r.id, r.tenant_id, r.campaign_id),
     hist AS (${historyOfUpdate('pending', 'engine', { detail: "'The account limit cleared; back in line to send.'" })})
     SELECT count(*) AS n FROM upd`,
    [accountId, limitCodes],
  );
  return Number(rows[0]?.n ?? 0);
}
