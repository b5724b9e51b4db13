/**
 * The feeder moves recipients from Postgres into the account queues in windows: each account
 * queue holds about QUEUE_WINDOW_SECONDS of sending (rate x window, at least 100 jobs), topped
 * up as jobs finish. Redis therefore stays small whatever the campaign size, pause and fair
 * share act within seconds, and the checkpoint is the recipients' own status in Postgres.
 *
 * Order of writes: recipients are marked `queued` in Postgres first, then their jobs are added.
 * A crash between the two leaves `queued` recipients with no job; the sweeper re-adds them.
 */
import type pg from 'pg';
import type { Logger } from '../logger.js';
import { markQueued } from '../db/recipient-status.js';
import { SEND_JOB_OPTIONS, sendJobId, type SendQueues } from './queues.js';

const ADD_CHUNK = 1_000;
const FEED_STEP = 2_000;

type RunningCampaign = { id: string; account_id: string; priority: number; rate_per_second: number };

export type FeedReport = { accounts: number; queued: number; completed: string[] };

export class Feeder {
  constructor(
    private readonly pool: pg.Pool,
    private readonly queues: SendQueues,
    private readonly options: { windowSeconds: number },
    private readonly logger: Logger,
  ) {}

  async feedOnce(): Promise<FeedReport> {
    const { rows } = await this.pool.query<RunningCampaign>(
      `SELECT c.id, c.account_id, c.priority, a.rate_per_second
         FROM campaigns c JOIN provider_accounts a ON a.id = c.account_id
        WHERE c.status = 'running' AND a.status = 'active'
        ORDER BY c.priority DESC, c.started_at ASC`,
    );
    const byAccount = new Map<string, RunningCampaign[]>();
    for (const row of rows) byAccount.set(row.account_id, [...(byAccount.get(row.account_id) ?? []), row]);

    let queued = 0;
    for (const [accountId, campaigns] of byAccount) {
      queued += await this.feedAccount(accountId, campaigns);
    }
    const completed = await this.completeFinishedCampaigns();
    return { accounts: byAccount.size, queued, completed };
  }

  private async feedAccount(accountId: string, campaigns: RunningCampaign[]): Promise<number> {
    const rate = campaigns[0]?.rate_per_second ?? 1;
    const window = Math.max(100, rate * this.options.windowSeconds);
    const queue = this.queues.forAccount(accountId);
    const counts = await queue.getJobCounts('wait', 'prioritized', 'active');
    const inFlight = Object.values(counts).reduce((a, b) => a + b, 0);
    let free = window - inFlight;
    // Top up in chunks, not a trickle of tiny batches.
    if (free < Math.ceil(window / 4)) return 0;

    let added = 0;
    for (const tier of priorityTiers(campaigns)) {
      // Campaigns of equal priority split what is free; what one cannot use passes to the next.
      let remaining = [...tier];
      while (free > 0 && remaining.length > 0) {
        const share = Math.max(1, Math.ceil(free / remaining.length));
        const stillHasWork: RunningCampaign[] = [];
        for (const campaign of remaining) {
          if (free <= 0) break;
          // Small steps, so the first jobs reach Redis (and workers) at once.
          const asked = Math.min(share, free, FEED_STEP);
          const ids = await markQueued(this.pool, campaign.id, asked);
          // addBulk in chunks: one huge MULTI would block Redis for every other client.
          for (let i = 0; i < ids.length; i += ADD_CHUNK) {
            await queue.addBulk(
              ids.slice(i, i + ADD_CHUNK).map((id) => ({ name: 'send', data: { recipientId: id, campaignId: campaign.id }, opts: { ...SEND_JOB_OPTIONS, jobId: sendJobId(id) } })),
            );
          }
          if (ids.length > 0) {
            free -= ids.length;
            added += ids.length;
          }
          if (ids.length === asked) stillHasWork.push(campaign);
        }
        remaining = stillHasWork;
      }
      if (free <= 0) break;
    }
    if (added > 0) this.logger.debug({ accountId, added, inFlight }, 'fed account queue');
    return added;
  }

  /** Running campaigns with nothing left to do become completed. */
  private async completeFinishedCampaigns(): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `UPDATE campaigns c SET status = 'completed', finished_at = now(), updated_at = now()
        WHERE c.status = 'running'
          AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.campaign_id = c.id AND r.status IN ('pending', 'deferred', 'queued', 'sending'))
        RETURNING c.id`,
    );
    for (const { id } of rows) this.logger.info({ campaignId: id }, 'campaign completed');
    return rows.map((r) => r.id);
  }
}

function priorityTiers(campaigns: RunningCampaign[]): RunningCampaign[][] {
  const tiers = new Map<number, RunningCampaign[]>();
  for (const c of campaigns) tiers.set(c.priority, [...(tiers.get(c.priority) ?? []), c]);
  return [...tiers.entries()].sort((a, b) => b[0] - a[0]).map(([, list]) => list);
}
