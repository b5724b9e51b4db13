/**
 * Stopping, probing and resuming a provider account.
 *
 * - A tier, plan or balance limit marks it `limited`: its queue is paused in Redis (which holds
 *   across every worker process) while other accounts keep sending, and its waiting recipients
 *   become `deferred` with the limit's code as the reason. The engine then probes: at
 *   `next_probe_at` it lets exactly one message through. If that one goes out, the account is
 *   active again and its deferred recipients are fed; if it meets the limit again, the next
 *   probe waits twice as long (1 min, 2, 4 ... up to 1 h).
 * - An auth or configuration error marks it `paused`: nothing is probed, an operator must fix
 *   the account and resume it.
 * - An operator may resume either at once.
 */
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import type { Db } from '../db/database.js';
import { ENGINE_CODES } from '../engine-codes.js';
import { AccountStates } from './account-state.js';
import { errors } from '../errors.js';
import { queryWithEvents } from '../events/hooks.js';
import { recordAccountEvent } from '../events/record-events.js';
import type { Logger } from '../logger.js';
import { OUTCOME_CODES } from '../providers/outcome.js';
import type { SendOutcome } from '../providers/types.js';
import type { SendQueues } from '../queue/queues.js';
import { holdForAccountLimit, releaseFromAccountLimit, releasePoolWork } from '../recipients/index.js';

/** status_code of an account letting one message through to see whether its limit cleared. */
export const PROBING = ENGINE_CODES.PROBING;
const FIRST_PROBE_S = 60;
const MAX_PROBE_S = 3_600;
/** Codes that stop an account until its limit clears; recipients deferred with one of them are released on resume. */
const LIMIT_CODES = Object.entries(OUTCOME_CODES).filter(([, kind]) => kind === 'account_limited').map(([code]) => code);

/** Redis key naming the recipient the feeder handed to a probing account. */
export function probeKey(prefix: string, accountId: string): string {
  return redisKeys.probe(prefix, accountId);
}

/** What an account-level refusal makes of the account. */
export function stopStatus(outcome: Pick<SendOutcome, 'kind'>): 'limited' | 'paused' {
  return outcome.kind === 'account_limited' ? 'limited' : 'paused';
}

/**
 * Stops the account: at once in Redis (sends past their rate slot put themselves back), then in
 * Postgres and its queue. With `generation` (the one the refused send started under), a result
 * from before the latest resume or credentials change is stale and stops nothing: returns false.
 */
export async function stopAccount(
  db: Pick<Db, 'pool'>,
  queues: SendQueues,
  accountId: string,
  outcome: SendOutcome,
  log: Logger,
  options: { generation?: number; marked?: boolean; startedAt?: Date } = {},
): Promise<boolean> {
  const status = stopStatus(outcome);
  const { generation, marked = false, startedAt = null } = options;
  if (!marked && !(await new AccountStates(queues.connection, queues.prefix).markStopped(accountId, status, outcome.code, generation))) {
    log.info({ accountId, code: outcome.code, generation }, 'refusal from before the account was resumed or changed; not stopping it again');
    return false;
  }
  const client = await db.pool.connect();
  let stopped: boolean;
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ probe_failures: number; next_probe_at: Date | null }>(
      `UPDATE provider_accounts SET
          status = $2::account_status, status_code = $3, status_reason = $4, status_at = now(), updated_at = now(),
          probe_failures = CASE WHEN status_code = '${PROBING}' THEN probe_failures + 1 ELSE 0 END,
          next_probe_at = CASE WHEN $2 = 'limited'
            THEN now() + make_interval(secs => least(${MAX_PROBE_S}, ${FIRST_PROBE_S} * power(2, CASE WHEN status_code = '${PROBING}' THEN probe_failures + 1 ELSE 0 END)))
            ELSE NULL END
        WHERE id = $1 AND status = 'active'
          -- Resumed (or probing) since the refused send was claimed: its refusal is stale.
          AND ($5::timestamptz IS NULL OR status_at IS NULL OR status_at <= $5::timestamptz)
        RETURNING probe_failures, next_probe_at`,
      [accountId, status, outcome.code, `${outcome.message}${outcome.providerText ? ` (provider: ${outcome.providerText})` : ''}`, startedAt],
    );
    stopped = rows.length > 0;
    if (stopped) await recordAccountEvent(client, accountId, status === 'limited' ? 'account.limited' : 'account.auth_failed');
    if (!stopped) {
      const { rows: now } = await client.query<{ status: string }>(`SELECT status::text FROM provider_accounts WHERE id = $1`, [accountId]);
      if (now[0]?.status === 'active') {
        await client.query('ROLLBACK');
        log.info({ accountId, code: outcome.code }, 'refusal from before the account was resumed; not stopping it again');
        return false;
      }
    }
    if (status === 'limited') {
      // Waiting recipients wait visibly, with the reason; their queued jobs become no-ops. Also
      // when another send stopped the account first: sends already under way come back `queued`
      // after that stop, and must wait with the rest, not go out beside the probe.
      await holdForAccountLimit(client, accountId, outcome.code);
    }
    // Sender pools: its waiting share goes to the pool's other accounts now (stragglers put back
    // later are handed over by the feeder's next round).
    await releasePoolWork(client, accountId);
    await client.query('COMMIT');
    if (stopped) log.error({ accountId, code: outcome.code, status, nextProbeAt: rows[0]?.next_probe_at }, 'provider account stopped');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  await queues.forAccount(accountId).pause();
  return true;
}

/** An operator says the limit cleared or the credentials are fixed. */
export async function resumeAccount(db: Pick<Db, 'pool'>, queues: SendQueues, tenantId: string, accountId: string): Promise<void> {
  const { rows } = await queryWithEvents<{ status_code: string | null }>(
    db.pool,
    `UPDATE provider_accounts a SET status = 'active', status_code = NULL, status_reason = NULL, status_at = now(), updated_at = now(),
            probe_failures = 0, next_probe_at = NULL
       FROM (SELECT id, status_code FROM provider_accounts WHERE id = $1 AND tenant_id = $2 FOR UPDATE) old
      WHERE a.id = old.id
      RETURNING old.status_code`,
    [accountId, tenantId],
    async (client, result) => result.rowCount && recordAccountEvent(client, accountId, 'account.resumed'),
  );
  if (rows.length === 0) throw errors.accountNotFound(accountId);
  await new AccountStates(queues.connection, queues.prefix).markActive(accountId);
  await releaseDeferred(db, accountId);
  await queues.forAccount(accountId).resume();
}

/**
 * Leader duty: start the probe of every limited account whose time has come. The account turns
 * `active` with status_code PROBING; the feeder gives it one recipient at a time until
 * confirmProbes() sees a result.
 */
export async function startDueProbes(db: Pick<Db, 'pool'>, queues: SendQueues, log: Logger): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(
    `UPDATE provider_accounts SET status = 'active', status_code = '${PROBING}', status_at = now(), updated_at = now(),
            status_reason = 'Sending one message to see whether the limit has cleared. Before: ' || coalesce(status_reason, status_code, 'limited')
      WHERE status = 'limited' AND next_probe_at IS NOT NULL AND next_probe_at <= now()
      RETURNING id`,
  );
  const states = new AccountStates(queues.connection, queues.prefix);
  for (const { id } of rows) {
    await states.markActive(id);
    await queues.forAccount(id).resume();
    log.info({ accountId: id }, 'probing limited account');
  }
  return rows.map((r) => r.id);
}

/**
 * Leader duty: a probing account whose probe recipient got a result (accepted, sent, or a
 * recipient-level failure) is active again, and its deferred recipients are released. A probe
 * that met the limit again was handled by stopAccount (limited, longer wait).
 */
export async function confirmProbes(db: Pick<Db, 'pool'>, redis: RedisClient, prefix: string, log: Logger): Promise<string[]> {
  const { rows: probing } = await db.pool.query<{ id: string; status_at: Date }>(
    `SELECT id, status_at FROM provider_accounts WHERE status = 'active' AND status_code = '${PROBING}'`,
  );
  const confirmed: string[] = [];
  for (const account of probing) {
    const recipientId = await redis.get(probeKey(prefix, account.id));
    if (!recipientId) continue;
    const { rowCount } = await queryWithEvents(
      db.pool,
      `UPDATE provider_accounts SET status_code = NULL, status_reason = NULL, probe_failures = 0, next_probe_at = NULL, updated_at = now()
        WHERE id = $1 AND status = 'active' AND status_code = '${PROBING}'
          AND EXISTS (SELECT 1 FROM recipients WHERE id = $2 AND status IN ('accepted', 'sent', 'delivered', 'read', 'failed') AND updated_at >= $3)`,
      [account.id, recipientId, account.status_at],
      async (client, result) => result.rowCount && recordAccountEvent(client, account.id, 'account.resumed'),
    );
    if (!rowCount) continue;
    await redis.del(probeKey(prefix, account.id));
    const released = await releaseDeferred(db, account.id);
    log.info({ accountId: account.id, released }, 'probe got through; account active again');
    confirmed.push(account.id);
  }
  return confirmed;
}

/** Recipients deferred by the account's limit go back to the feeder. */
async function releaseDeferred(db: Pick<Db, 'pool'>, accountId: string): Promise<number> {
  return releaseFromAccountLimit(db.pool, accountId, LIMIT_CODES);
}
