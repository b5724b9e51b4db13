/**
 * The sweeper keeps Redis honest against Postgres, the source of truth:
 * - Redis lost its data (restart without persistence, failover, flush): detected by a missing
 *   epoch key; every `queued` recipient of a running campaign gets its job back at once.
 * - A `queued` recipient whose job is gone (crash between marking and adding): job re-added.
 *   Job ids are recipient ids, so re-adding a job that exists changes nothing.
 * - A `sending` recipient past its lease (worker killed and its job lost): `unknown`, counted
 *   and shown, and resent only on an operator's request.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { expireStaleSending } from '../recipients/index.js';
import type { Logger } from '../logger.js';
import { sendJobs, type SendQueues } from './queues.js';

export type SweepReport = { redisRebuilt: boolean; requeued: number; expired: number };

/** `queued` this long without a job counts as orphaned (ms); covers the feeder's mark-then-add gap. */
export const ORPHAN_AGE_MS = 15_000;
const PAGE = 2_000;

export class Sweeper {
  /** When this process last rebuilt the queues after Redis lost its data (epoch ms). */
  private rebuiltAt = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly redis: Redis,
    private readonly queues: SendQueues,
    private readonly options: { sendingLeaseMs: number },
    private readonly logger: Logger,
  ) {}

  private epochKey(): string {
    return `${this.queues.prefix}:engine:epoch`;
  }

  /** Marks this Redis as holding the engine's work; only once the queues are rebuilt. */
  private async markEpoch(): Promise<void> {
    await this.redis.set(this.epochKey(), randomUUID(), 'NX');
  }

  async sweepOnce(): Promise<SweepReport> {
    // No epoch means this Redis has never seen our jobs (or lost them): check every queued
    // recipient now rather than waiting for them to age. The epoch is written only after the
    // rebuild, so a rebuild cut short (Redis or Postgres gone again) is redone in full next time
    // instead of leaving the rest to the slow orphan check.
    const redisRebuilt = (await this.redis.exists(this.epochKey())) === 0;
    // Jobs under way when Redis lost its data finish afterwards: a retry writes its recipient
    // back to `queued` but cannot move the vanished job. For a while after a rebuild, look for
    // those at every sweep instead of leaving them to wait out ORPHAN_AGE_MS.
    const afterRebuild = Date.now() - this.rebuiltAt < ORPHAN_AGE_MS;
    const requeued = await this.requeueOrphans(redisRebuilt || afterRebuild ? 0 : ORPHAN_AGE_MS);
    if (redisRebuilt) {
      this.rebuiltAt = Date.now();
      await this.markEpoch();
      this.logger.info({ requeued }, 'Redis held no engine epoch (new, flushed or restarted); queues rebuilt from Postgres');
    }

    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT DISTINCT c.id FROM campaigns c WHERE c.status IN ('running', 'paused', 'cancelled')`,
    );
    const expired = rows.length ? await expireStaleSending(this.pool, rows.map((r) => r.id), this.options.sendingLeaseMs) : 0;
    if (expired > 0) this.logger.warn({ expired }, 'recipients found sending past their lease are now unknown');
    if (requeued > 0) this.logger.warn({ requeued }, 're-added jobs missing from Redis');
    return { redisRebuilt, requeued, expired };
  }

  private async requeueOrphans(minAgeMs: number): Promise<number> {
    let requeued = 0;
    let after = '0';
    for (;;) {
      const { rows } = await this.pool.query<{ id: string; campaign_id: string; account_id: string }>(
        `SELECT r.id::text, r.campaign_id, coalesce(r.account_id, c.account_id) AS account_id
           FROM campaigns c JOIN recipients r ON r.campaign_id = c.id AND r.status = 'queued'
          WHERE c.status = 'running' AND r.id > $1::bigint
            AND r.queued_at < now() - make_interval(secs => $2::double precision / 1000)
          ORDER BY r.id LIMIT $3`,
        [after, minAgeMs, PAGE],
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1]?.id ?? after;
      const pipeline = this.redis.pipeline();
      for (const row of rows) pipeline.exists(this.queues.jobKey(row.account_id, row.id));
      const exists = (await pipeline.exec()) ?? [];
      const missing = rows.filter((_, i) => exists[i]?.[1] === 0);
      const byAccount = new Map<string, typeof missing>();
      for (const row of missing) byAccount.set(row.account_id, [...(byAccount.get(row.account_id) ?? []), row]);
      for (const [accountId, list] of byAccount) {
        await this.queues.forAccount(accountId).addBulk(sendJobs(list.map((r) => ({ recipientId: r.id, campaignId: r.campaign_id, accountId }))));
      }
      requeued += missing.length;
      if (rows.length < PAGE) break;
    }
    return requeued;
  }
}
