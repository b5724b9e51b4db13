/**
 * Queue layout: one BullMQ queue per provider account (`send-{a.<accountId>}`, its Redis Cluster
 * hash tag in the name: src/redis-keys.ts), one job per
 * recipient (job id = `r<recipient id>`, so re-adding a job that still exists is a no-op).
 *
 * Why per account: BullMQ's worker `limiter` holds for a whole queue across every worker
 * process, so a queue per account gives a per-account rate limit that holds cluster-wide, and
 * `queue.pause()` stops one account (tier limit, auth error) while the others keep sending.
 * Fair sharing between campaigns on one account is done upstream by the feeder, which keeps
 * only a few seconds of work in each queue and splits it between campaigns.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';

/** accountId: the queue's account (a pool campaign's recipients are claimed only from the account they were handed to). */
export type SendJobData = { recipientId: string; campaignId: string; accountId?: string };

/** BullMQ refuses integer-looking custom ids, so recipient ids get a letter in front. */
export function sendJobId(recipientId: string): string {
  return `r${recipientId}`;
}

export function sendQueueName(accountId: string): string {
  return redisKeys.sendQueueName(accountId);
}

export const SEND_JOB_OPTIONS: JobsOptions = {
  removeOnComplete: true,
  // A failed job would keep its id and block re-adding the recipient's job; the recipient's
  // state lives in Postgres, so nothing is lost by removing it.
  removeOnFail: true,
  // Only infrastructure faults (Postgres down) make a job fail; provider outcomes never do.
  attempts: 1_000,
  backoff: { type: 'infrastructure' },
};

/** The jobs for these recipients, as the feeder and the sweeper add them (job id = the recipient's). */
export function sendJobs(recipients: readonly SendJobData[]): { name: 'send'; data: SendJobData; opts: JobsOptions }[] {
  return recipients.map((data) => ({ name: 'send', data, opts: { ...SEND_JOB_OPTIONS, jobId: sendJobId(data.recipientId) } }));
}

/** Queues for sending, one per account, created on first use and shared within a process. */
export class SendQueues {
  private readonly queues = new Map<string, Queue<SendJobData>>();

  constructor(
    readonly connection: RedisClient,
    readonly prefix: string,
  ) {}

  forAccount(accountId: string): Queue<SendJobData> {
    let queue = this.queues.get(accountId);
    if (!queue) {
      queue = new Queue<SendJobData>(sendQueueName(accountId), { connection: this.connection, prefix: this.prefix });
      queue.on('error', () => undefined);
      this.queues.set(accountId, queue);
    }
    return queue;
  }

  /** The Redis key of a job's hash, to test existence without loading it. */
  jobKey(accountId: string, recipientId: string): string {
    return `${this.prefix}:${sendQueueName(accountId)}:${sendJobId(recipientId)}`;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
