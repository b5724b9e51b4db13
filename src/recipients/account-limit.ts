/**
 * An account stopped by a provider limit (tier, plan, balance): its waiting recipients wait
 * visibly with the limit's code, and go back in line when the limit clears.
 */
import { historyOfUpdate } from './history.js';
import { moves, type Queryable } from './transitions.js';

const HOLD_FROM = moves('account limit: hold', 'deferred', ['pending', 'queued']);
const STRAGGLER_FROM = moves('account limit: hold stragglers', 'deferred', ['queued']);
const RELEASE_FROM = moves('account limit: release', 'pending', ['deferred']);
const POOL_FAILOVER_FROM = moves('pool failover', 'pending', ['queued', 'deferred']);

/**
 * The account's open recipients (pending, queued) become deferred with `code`, while the account
 * is `limited`. Also when another send stopped the account first: sends already under way come
 * back `queued` after that stop, and must wait with the rest, not go out beside the probe.
 */
export async function holdForAccountLimit(db: Queryable, accountId: string, code: string): Promise<number> {
  // Locked in id order first, the order claims and result writes lock recipients in: the account
  // stops while its sends are being claimed and written, and a plain UPDATE locks in whatever
  // order its scan meets the rows, which deadlocked with a result write (that send's job then
  // failed, its recipient left `sending`).
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients r SET status = 'deferred', error_code = $2, not_before = NULL, queued_at = NULL, updated_at = now()
        WHERE r.id IN (
                SELECT h.id FROM recipients h
                  JOIN campaigns c ON c.id = h.campaign_id JOIN provider_accounts a ON a.id = c.account_id
                 WHERE c.account_id = $1 AND a.status = 'limited' AND c.status IN ('running', 'paused') AND h.status IN (${HOLD_FROM})
                   -- A pool campaign does not wait for one account: releasePoolWork hands its recipients to the others.
                   AND c.pool_id IS NULL
                 ORDER BY h.id FOR UPDATE OF h)
          AND r.status IN (${HOLD_FROM})
       RETURNING r.id, r.tenant_id, r.campaign_id),
     hist AS (${historyOfUpdate('deferred', 'engine', { errorCode: '$2', detail: "'The account is stopped by a provider limit; waiting for it to clear.'" })})
     SELECT count(*) AS n FROM upd`,
    [accountId, code],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Leader duty, every round: a send under way when its account was stopped can still come back
 * `queued` after the stop's hold (a retryable failure, a rate limit), its job then waiting on
 * the paused queue. Left so, it would not show as waiting on the limit, and would go out beside
 * the probe when the queue resumes for it. Every limited account's queued recipients are deferred
 * with the account's code, in id order as the hold locks. Returns how many.
 */
export async function holdLimitStragglers(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients r SET status = 'deferred', error_code = x.code, not_before = NULL, queued_at = NULL, updated_at = now()
         FROM (SELECT h.id, a.status_code AS code FROM recipients h
                 JOIN campaigns c ON c.id = h.campaign_id JOIN provider_accounts a ON a.id = c.account_id
                WHERE a.status = 'limited' AND c.status IN ('running', 'paused') AND c.pool_id IS NULL AND h.status IN (${STRAGGLER_FROM})
                ORDER BY h.id FOR UPDATE OF h) x
        WHERE r.id = x.id AND r.status IN (${STRAGGLER_FROM})
       RETURNING r.id, r.tenant_id, r.campaign_id, r.error_code),
     hist AS (${historyOfUpdate('deferred', 'engine', { errorCode: 'error_code', detail: "'The account is stopped by a provider limit; waiting for it to clear.'" })})
     SELECT count(*) AS n FROM upd`,
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

/**
 * The quality guard's bar on marketing, in SQL over a provider_accounts row `a`: low quality (RED,
 * or flagged) or a provider restriction (src/accounts/account-quality.ts, isLowQuality). While it
 * holds, the account takes no MARKETING pool work; a later notice lifting it gives its share back.
 * Never null (a rating not reported is not low), so `NOT` of it reads right.
 */
export function marketingBarredSql(a: string): string {
  return `(${a}.quality_flagged OR coalesce(${a}.quality_rating = 'RED', false) OR ${a}.restriction_code IS NOT NULL)`;
}

/**
 * Failover: the waiting recipients (pending, queued, deferred until the account clears) that pool
 * campaigns handed to a stopped account go back to the pool, unassigned, for its other accounts.
 * With `marketingOnly`, the account is not stopped but barred from marketing by the quality guard:
 * only its MARKETING pool campaigns' recipients go back, while the bar holds.
 * Never a recipient in flight (`sending`) and never a pinned one (its send there ended `unknown`:
 * it may have gone out, so no other account may send it). Their jobs left in the stopped
 * account's queue claim nothing (src/recipients/claim-for-sending.ts). Returns how many moved.
 */
export async function releasePoolWork(db: Queryable, accountId: string, options: { marketingOnly?: boolean } = {}): Promise<number> {
  const why = options.marketingOnly
    ? `EXISTS (SELECT 1 FROM templates t WHERE t.id = c.template_id AND t.category = 'MARKETING')
          AND EXISTS (SELECT 1 FROM provider_accounts a WHERE a.id = $1 AND ${marketingBarredSql('a')})`
    : `EXISTS (SELECT 1 FROM provider_accounts a WHERE a.id = $1 AND a.status <> 'active')`;
  const detail = options.marketingOnly
    ? "'Its account is barred from marketing by low quality or a restriction; back to the pool for its other accounts.'"
    : "'Its account stopped; back to the pool for its other accounts.'";
  const { rows } = await db.query<{ n: string }>(
    `WITH upd AS (
       UPDATE recipients r SET status = 'pending', account_id = NULL, queued_at = NULL, not_before = NULL,
              error_code = CASE WHEN r.status = 'deferred' THEN NULL ELSE r.error_code END, updated_at = now()
        WHERE r.id IN (
                -- In id order, as holdForAccountLimit locks: beside the account's claims and result writes.
                SELECT p.id FROM recipients p JOIN campaigns c ON c.id = p.campaign_id
                 WHERE c.pool_id IN (SELECT pool_id FROM sender_pool_members WHERE account_id = $1) AND c.status IN ('running', 'paused')
                   AND p.account_id = $1 AND NOT p.account_pinned
                   AND (p.status IN ('pending', ${POOL_FAILOVER_FROM}) AND (p.status <> 'deferred' OR p.not_before IS NULL OR p.not_before <= now()))
                   AND ${why}
                 ORDER BY p.id FOR UPDATE OF p)
          AND r.account_id = $1 AND NOT r.account_pinned
          AND (r.status IN ('pending', ${POOL_FAILOVER_FROM}) AND (r.status <> 'deferred' OR r.not_before IS NULL OR r.not_before <= now()))
       RETURNING r.id, r.tenant_id, r.campaign_id),
     hist AS (${historyOfUpdate('pending', 'engine', { detail })})
     SELECT count(*) AS n FROM upd`,
    [accountId],
  );
  return Number(rows[0]?.n ?? 0);
}
