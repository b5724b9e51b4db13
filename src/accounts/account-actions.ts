/**
 * Stopping and resuming a provider account. A tier, plan or balance limit marks it `limited`;
 * an auth or configuration error marks it `paused`. Either way its queue is paused in Redis,
 * which holds across every worker process, while other accounts keep sending.
 */
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SendOutcome } from '../providers/types.js';
import type { SendQueues } from '../queue/queues.js';

export async function stopAccount(db: Db, queues: SendQueues, accountId: string, outcome: SendOutcome, log: Logger): Promise<void> {
  const status = outcome.kind === 'account_limited' ? 'limited' : 'paused';
  const { rowCount } = await db.pool.query(
    `UPDATE provider_accounts SET status = $2::account_status, status_code = $3, status_reason = $4, status_at = now(), updated_at = now()
      WHERE id = $1 AND status = 'active'`,
    [accountId, status, outcome.code, `${outcome.message}${outcome.providerText ? ` (provider: ${outcome.providerText})` : ''}`],
  );
  await queues.forAccount(accountId).pause();
  if (rowCount) log.error({ accountId, code: outcome.code, status }, 'provider account stopped');
}

/** An operator says the limit cleared or the credentials are fixed. */
export async function resumeAccount(db: Db, queues: SendQueues, tenantId: string, accountId: string): Promise<void> {
  const { rowCount } = await db.pool.query(
    `UPDATE provider_accounts SET status = 'active', status_code = NULL, status_reason = NULL, status_at = now(), updated_at = now()
      WHERE id = $1 AND tenant_id = $2`,
    [accountId, tenantId],
  );
  if (!rowCount) throw errors.accountNotFound(accountId);
  await queues.forAccount(accountId).resume();
}
