/**
 * The sweeper keeps Redis honest against Postgres, the source of truth:
 * - Redis lost an account's data (restart without persistence, failover, flush, or in a Redis
 *   Cluster the loss of the shard that holds the account): detected by the account's missing
 *   epoch key, which lives in the account's own slot (src/redis-keys.ts), so losing any shard
 *   is noticed for exactly the accounts it held. Every `queued` recipient of a running campaign
 *   then gets its job back at once.
 * - A `queued` recipient whose job is gone (crash between marking and adding): job re-added.
 *   Job ids are recipient ids, so re-adding a job that exists changes nothing.
 * - A `queued` recipient whose job hash is there but in no queue list (a failover that kept the
 *   hash and lost the list entry; a job that ended failed or completed while its recipient stayed
 *   `queued`): the dead job is removed and a new one added. Checked for recipients queued past
 *   ORPHAN_AGE_MS, each at most once a minute and a bounded number per sweep.
 * - A `sending` recipient past its lease (worker killed and its job lost): `unknown`, counted
 *   and shown, and resent only on an operator's request.
 * - Once per process: jobs left in queues under their names from before Redis Cluster support
 *   are dropped (src/queue/legacy-queues.ts); their recipients are still `queued` in Postgres and
 *   come back through the rebuild above, since the new epoch keys do not exist yet.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { expireStaleSending } from '../recipients/index.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import { dropLegacyQueues } from './legacy-queues.js';
import { sendJobId, sendJobs, type SendQueues } from './queues.js';

export type SweepReport = { redisRebuilt: boolean; rebuiltAccounts: string[]; requeued: number; expired: number; legacyKeysDropped: number };

/** `queued` this long without a job counts as orphaned (ms); covers the feeder's mark-then-add gap. */
export const ORPHAN_AGE_MS = 15_000;
const PAGE = 2_000;
/** Job-state checks per sweep (one small script each), and how soon the same recipient is checked again. */
const STATE_CHECKS_PER_SWEEP = 500;
const STATE_RECHECK_MS = 60_000;
/** Job states that no worker will ever take from again. */
const DEAD_JOB_STATES = new Set(['completed', 'failed', 'unknown']);

export class Sweeper {
  /** When this process last rebuilt the queues after Redis lost data (epoch ms). */
  private rebuiltAt = 0;
  private legacyChecked = false;
  /** Recipients whose job's state was checked, and when (bounded by the queued recipients aged past ORPHAN_AGE_MS). */
  private readonly stateCheckedAt = new Map<string, number>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly redis: RedisClient,
    private readonly queues: SendQueues,
    private readonly options: { sendingLeaseMs: number },
    private readonly logger: Logger,
  ) {}

  /** Accounts of running campaigns whose epoch key is missing: their shard never saw our jobs, or lost them. */
  private async lostAccounts(): Promise<string[]> {
    const { rows } = await this.pool.query<{ account_id: string }>(`SELECT DISTINCT account_id FROM campaigns WHERE status = 'running'`);
    // One command per account: their keys live in different cluster slots.
    const present = await Promise.all(rows.map((r) => this.redis.exists(redisKeys.accountEpoch(this.queues.prefix, r.account_id))));
    return rows.filter((_, i) => present[i] === 0).map((r) => r.account_id);
  }

  /** Marks the accounts' shards as holding the engine's work; only once the queues are rebuilt. */
  private async markEpochs(accountIds: string[]): Promise<void> {
    await Promise.all(accountIds.map((id) => this.redis.set(redisKeys.accountEpoch(this.queues.prefix, id), randomUUID(), 'NX')));
  }

  async sweepOnce(): Promise<SweepReport> {
    // No epoch means this Redis has never seen our jobs (or lost them): check every queued
    // recipient now rather than waiting for them to age. The epoch is written only after the
    // rebuild, so a rebuild cut short (Redis or Postgres gone again) is redone in full next time
    // instead of leaving the rest to the slow orphan check.
    let legacyKeysDropped = 0;
    if (!this.legacyChecked) {
      legacyKeysDropped = await dropLegacyQueues(this.redis, this.queues.prefix, this.logger);
      this.legacyChecked = true;
    }
    const rebuiltAccounts = await this.lostAccounts();
    const redisRebuilt = rebuiltAccounts.length > 0;
    // Jobs under way when Redis lost its data finish afterwards: a retry writes its recipient
    // back to `queued` but cannot move the vanished job. For a while after a rebuild, look for
    // those at every sweep instead of leaving them to wait out ORPHAN_AGE_MS.
    const afterRebuild = Date.now() - this.rebuiltAt < ORPHAN_AGE_MS;
    const requeued = await this.requeueOrphans(redisRebuilt || afterRebuild ? 0 : ORPHAN_AGE_MS);
    if (redisRebuilt) {
      this.rebuiltAt = Date.now();
      await this.markEpochs(rebuiltAccounts);
      this.logger.info({ requeued, accounts: rebuiltAccounts.length }, 'Redis held no engine epoch for some accounts (new, flushed, restarted or a shard lost); queues rebuilt from Postgres');
    }

    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT DISTINCT c.id FROM campaigns c WHERE c.status IN ('running', 'paused', 'cancelled')`,
    );
    const expired = rows.length ? await expireStaleSending(this.pool, rows.map((r) => r.id), this.options.sendingLeaseMs) : 0;
    if (expired > 0) this.logger.warn({ expired }, 'recipients found sending past their lease are now unknown');
    if (requeued > 0) this.logger.warn({ requeued }, 're-added jobs missing from Redis');
    return { redisRebuilt, rebuiltAccounts, requeued, expired, legacyKeysDropped };
  }

  private async requeueOrphans(minAgeMs: number): Promise<number> {
    let requeued = 0;
    let after = '0';
    let stateChecks = 0;
    const seen = new Set<string>();
    for (;;) {
      const { rows } = await this.pool.query<{ id: string; campaign_id: string; account_id: string; aged: boolean }>(
        `SELECT r.id::text, r.campaign_id, coalesce(r.account_id, c.account_id) AS account_id,
                r.queued_at < now() - make_interval(secs => $4::double precision / 1000) AS aged
           FROM campaigns c JOIN recipients r ON r.campaign_id = c.id AND r.status = 'queued'
          WHERE c.status = 'running' AND r.id > $1::bigint
            AND r.queued_at < now() - make_interval(secs => $2::double precision / 1000)
          ORDER BY r.id LIMIT $3`,
        [after, minAgeMs, PAGE, ORPHAN_AGE_MS],
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1]?.id ?? after;
      const byAccount = new Map<string, typeof rows>();
      for (const row of rows) byAccount.set(row.account_id, [...(byAccount.get(row.account_id) ?? []), row]);
      let missingHere = 0;
      for (const [accountId, candidates] of byAccount) {
        // One pipeline per account: its job keys share its slot (a cluster pipeline must).
        const pipeline = this.redis.pipeline();
        for (const row of candidates) pipeline.exists(this.queues.jobKey(accountId, row.id));
        const exists = (await pipeline.exec()) ?? [];
        const list = candidates.filter((_, i) => exists[i]?.[1] === 0);
        // Only those queued past ORPHAN_AGE_MS: a send under way is never that old, so a campaign
        // sending at full speed costs no state checks.
        const present = candidates.filter((r, i) => exists[i]?.[1] === 1 && r.aged);
        for (const row of present) seen.add(row.id);
        const due = present.filter((r) => Date.now() - (this.stateCheckedAt.get(r.id) ?? 0) >= STATE_RECHECK_MS).slice(0, Math.max(0, STATE_CHECKS_PER_SWEEP - stateChecks));
        stateChecks += due.length;
        list.push(...(await this.deadJobsRemoved(accountId, due)));
        if (list.length === 0) continue;
        missingHere += list.length;
        await this.queues.forAccount(accountId).addBulk(sendJobs(list.map((r) => ({ recipientId: r.id, campaignId: r.campaign_id, accountId }))));
      }
      requeued += missingHere;
      if (rows.length < PAGE) break;
    }
    // Forget recipients this sweep no longer found (sent, or their job was taken meanwhile).
    for (const id of this.stateCheckedAt.keys()) if (!seen.has(id)) this.stateCheckedAt.delete(id);
    return requeued;
  }

  /** Of `rows` (their job hash exists), those whose job is in no live state: the job is removed so a new one can be added. */
  private async deadJobsRemoved<T extends { id: string }>(accountId: string, rows: readonly T[]): Promise<T[]> {
    const queue = this.queues.forAccount(accountId);
    const states = await Promise.all(rows.map((r) => queue.getJobState(sendJobId(r.id))));
    const dead: T[] = [];
    for (const [i, row] of rows.entries()) {
      this.stateCheckedAt.set(row.id, Date.now());
      if (!DEAD_JOB_STATES.has(states[i] ?? 'unknown')) continue;
      // 0: locked by a worker after all (it took the job meanwhile); leave it to that worker.
      if ((await queue.remove(sendJobId(row.id))) === 1) dead.push(row);
    }
    if (dead.length > 0) this.logger.warn({ accountId, recipients: dead.length }, 'queued recipients whose job had ended or left every queue list get a new job');
    return dead;
  }
}
