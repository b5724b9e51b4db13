/**
 * Adding the feeder's send jobs, and the one race a plain add cannot see: a recipient marked
 * `queued` again (a resume, a due deferral) while a job with its id still exists, typically
 * active, from before (it found the campaign paused and is finishing with nothing to send).
 * BullMQ ignores an add whose job id is taken, so when that old job completes and is removed
 * the recipient is `queued` with no job. Those recipients are watched, and the feeder's next
 * rounds give them their job as soon as the old one is gone; the sweeper's orphan check is the
 * backstop after ORPHAN_AGE_MS.
 */
import type pg from 'pg';
import { sendJobs, type SendJobData, type SendQueues } from './queues.js';
import { ORPHAN_AGE_MS } from './sweeper.js';

/**
 * Jobs per addBulk. BullMQ adds a bulk in one MULTI, which Redis runs whole while every other
 * client waits: while 5,000 jobs were added, a PING on another connection waited up to 28-38 ms
 * with 1,000 jobs per bulk and 9-15 ms with 200 (4-6 ms with nothing added), and the 5,000 took
 * no longer (`npm run bench:bullmq`). At
 * 1,000 sends a second, each such wait holds back every admission and departure stamp behind it.
 */
export const ADD_CHUNK = 200;

type Watched = { accountId: string; campaignId: string; since: number };

export class SendJobAdder {
  private readonly watched = new Map<string, Watched>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly queues: SendQueues,
  ) {}

  /** Adds a job per recipient; those whose job id was still taken are watched. */
  async add(accountId: string, recipients: readonly SendJobData[]): Promise<void> {
    for (let i = 0; i < recipients.length; i += ADD_CHUNK) {
      const chunk = recipients.slice(i, i + ADD_CHUNK);
      const taken = await this.taken(accountId, chunk.map((r) => r.recipientId));
      await this.queues.forAccount(accountId).addBulk(sendJobs(chunk.map((r) => ({ ...r, accountId }))));
      for (const r of chunk) if (taken.has(r.recipientId)) this.watched.set(r.recipientId, { accountId, campaignId: r.campaignId, since: Date.now() });
    }
  }

  /** Watched recipients still `queued` whose old job is gone get theirs; returns how many. */
  async recheck(): Promise<number> {
    if (this.watched.size === 0) return 0;
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id::text FROM recipients WHERE id = ANY($1::bigint[]) AND status = 'queued'`, [[...this.watched.keys()]]);
    const queued = new Set(rows.map((r) => r.id));
    const byAccount = new Map<string, SendJobData[]>();
    for (const [recipientId, w] of this.watched) {
      if (!queued.has(recipientId) || Date.now() - w.since > ORPHAN_AGE_MS) this.watched.delete(recipientId);
      else byAccount.set(w.accountId, [...(byAccount.get(w.accountId) ?? []), { recipientId, campaignId: w.campaignId }]);
    }
    let added = 0;
    for (const [accountId, list] of byAccount) {
      const taken = await this.taken(accountId, list.map((r) => r.recipientId));
      const missing = list.filter((r) => !taken.has(r.recipientId));
      if (missing.length === 0) continue;
      await this.queues.forAccount(accountId).addBulk(sendJobs(missing.map((r) => ({ ...r, accountId }))));
      for (const r of missing) this.watched.delete(r.recipientId);
      added += missing.length;
    }
    return added;
  }

  /** The recipients whose job id exists in the account's queue (one pipelined round trip). */
  private async taken(accountId: string, recipientIds: readonly string[]): Promise<Set<string>> {
    const pipeline = this.queues.connection.pipeline();
    for (const id of recipientIds) pipeline.exists(this.queues.jobKey(accountId, id));
    const replies = (await pipeline.exec()) ?? [];
    return new Set(recipientIds.filter((_, i) => replies[i]?.[1] === 1));
  }
}
