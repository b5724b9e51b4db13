/**
 * Resuming a campaign while a job of its recipient is still active: the feeder marks the
 * recipient `queued` again, but its add is a no-op (the job id, the recipient's, is still taken
 * by the active job), and the active job then completes and is removed. The feeder must notice
 * and give the recipient its job back, without waiting for the sweeper.
 *
 * Played step by step with a manual BullMQ worker, so the race is the same on every run.
 */
import { Worker } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { Feeder } from '../../src/queue/feeder.js';
import { sendJobId, sendQueueName } from '../../src/queue/queues.js';
import { redisConnection } from '../../src/redis-client.js';
import { createSandboxCampaign, insertRecipients, statusCounts } from '../support/fixtures.js';
import { startEngine, type Engine } from '../support/engine-harness.js';

let engine: Engine<{ config: { queueWindowSeconds: 1 } }>;

beforeAll(async () => {
  engine = await startEngine({ config: { queueWindowSeconds: 1 } });
});

afterAll(async () => {
  await engine?.close();
});

it('a recipient re-queued while its old job is still active gets a job once that job is gone', async () => {
  const { ctx, queues } = engine;
  const feeder = new Feeder(ctx.db.pool, queues, { windowSeconds: 1, maxJobs: 20_000 }, ctx.logger);
  const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9' });
  await insertRecipients(ctx, campaignId, 1);
  const { rows } = await ctx.db.pool.query<{ id: string }>('SELECT id::text FROM recipients WHERE campaign_id = $1', [campaignId]);
  const recipientId = rows[0]?.id ?? '';
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
  await feeder.feedOnce();
  expect(await statusCounts(ctx, campaignId)).toEqual({ queued: 1 });

  // A worker takes the job; the campaign is paused and resumed while the job is active.
  const worker = new Worker(sendQueueName(accountId), null, { connection: redisConnection(engine.ctx.config, { maxRetriesPerRequest: null }), prefix: ctx.config.queuePrefix, autorun: false });
  try {
    const job = await worker.getNextJob('stale-token');
    expect(job?.id).toBe(sendJobId(recipientId));
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'pause');
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'resume');
    await feeder.feedOnce();
    expect(await statusCounts(ctx, campaignId)).toEqual({ queued: 1 });

    // The active job ends (its claim found the recipient pending: nothing to send) and is removed.
    await job?.moveToCompleted('done', 'stale-token', false);
    expect(await queues.forAccount(accountId).getJob(sendJobId(recipientId))).toBeUndefined();

    // The next feeder round gives the queued recipient its job back.
    await feeder.feedOnce();
    const again = await queues.forAccount(accountId).getJob(sendJobId(recipientId));
    expect(again?.data).toEqual({ recipientId, campaignId, accountId });
    expect(await again?.getState()).toBe('waiting');
  } finally {
    await worker.close();
    await worker.disconnect();
  }
});
