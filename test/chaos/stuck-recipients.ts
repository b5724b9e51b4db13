/**
 * Describes recipients left in an open status (pending, queued, sending, deferred) after the
 * campaign should have finished: what Postgres holds and where, if anywhere, their job is in
 * Redis. Printed when the chaos test finds lost recipients, to say why they were lost.
 */
import { sendJobId, sendQueueName } from '../../src/queue/queues.js';
import { redisConnection } from '../../src/redis-client.js';
import type { TestContext } from '../support/test-context.js';

const LISTS = ['wait', 'active', 'paused'] as const;
const SORTED_SETS = ['delayed', 'prioritized', 'failed', 'completed'] as const;

export async function describeStuckRecipients(ctx: TestContext, campaignId: string, limit = 10): Promise<string[]> {
  const { rows } = await ctx.db.pool.query<{ id: string; status: string; attempts: number; queued_at: Date | null; claimed_at: Date | null; account_id: string }>(
    `SELECT r.id::text, r.status::text, r.attempts, r.queued_at, r.claimed_at, c.account_id
       FROM recipients r JOIN campaigns c ON c.id = r.campaign_id
      WHERE r.campaign_id = $1 AND r.status IN ('pending', 'deferred', 'queued', 'sending')
      ORDER BY r.id LIMIT $2`,
    [campaignId, limit],
  );
  const redis = redisConnection(ctx.config, { maxRetriesPerRequest: 3 });
  try {
    const lines: string[] = [];
    for (const r of rows) {
      const queue = `${ctx.queuePrefix}:${sendQueueName(r.account_id)}`;
      const jobId = sendJobId(r.id);
      const hash = await redis.hgetall(`${queue}:${jobId}`);
      const where: string[] = [];
      for (const list of LISTS) if ((await redis.lpos(`${queue}:${list}`, jobId)) !== null) where.push(list);
      for (const set of SORTED_SETS) if ((await redis.zscore(`${queue}:${set}`, jobId)) !== null) where.push(set);
      const lock = await redis.exists(`${queue}:${jobId}:lock`);
      const job = Object.keys(hash).length
        ? `job hash {attemptsMade: ${hash.attemptsMade ?? '-'}, delay: ${hash.delay ?? '-'}, processedOn: ${hash.processedOn ?? '-'}, finishedOn: ${hash.finishedOn ?? '-'}, failedReason: ${hash.failedReason ?? '-'}}`
        : 'no job hash';
      lines.push(
        `recipient ${r.id}: ${r.status}, attempts ${r.attempts}, queued_at ${r.queued_at?.toISOString() ?? '-'}, claimed_at ${r.claimed_at?.toISOString() ?? '-'}; ` +
          `${job}; in ${where.length ? where.join(', ') : 'no list'}; lock ${lock ? 'held' : 'none'}`,
      );
    }
    return lines;
  } finally {
    redis.disconnect();
  }
}
