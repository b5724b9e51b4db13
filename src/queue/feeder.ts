/**
 * The feeder moves recipients from Postgres into the account queues in windows: each account
 * queue holds about QUEUE_WINDOW_SECONDS of sending (rate x window, at least 100 jobs, at most
 * QUEUE_WINDOW_MAX_JOBS), topped
 * up as jobs finish. Redis therefore stays small whatever the campaign size, pause and fair
 * share act within seconds, and the checkpoint is the recipients' own status in Postgres.
 *
 * Order of writes: recipients are marked `queued` in Postgres first, then their jobs are added.
 * A crash between the two leaves `queued` recipients with no job; the sweeper re-adds them. A
 * recipient re-queued while its old job still exists (a resume while that job is active) is
 * watched by ./send-jobs.ts and gets its job in a following round.
 */
import type pg from 'pg';
import { redisKeys } from '../redis-keys.js';
import { confirmProbes, PROBING, probeKey, startDueProbes } from '../accounts/account-actions.js';
import { deferRecipients, expireOverdue, holdLimitStragglers, markQueued, markQueuedIds, peekFeedable, type FeedTarget } from '../recipients/index.js';
import { queryWithEvents, recordCompleted } from '../events/hooks.js';
import { DailyBudget } from '../flow/daily-budget.js';
import { recordFeederRound } from '../observability/record.js';
import type { Logger } from '../logger.js';
import { freeRoom, priorityTiers, queueWindowSize, sendWindowOf, shareOf, stepAsked, splitByBudget, splitByWindow } from './feed-decisions.js';
import { PoolShare } from './pool-share.js';
import type { SendQueues } from './queues.js';
import { SendJobAdder } from './send-jobs.js';

const DAY_MS = 86_400_000;

type RunningCampaign = {
  id: string;
  /** The account fed: the campaign's own, or one of its pool's (a pool campaign appears once per active member). */
  account_id: string;
  pool_id: string | null;
  sticky: boolean;
  weight: number;
  max_weight: number;
  /** Set when the account's portfolio has a messaging limit: that limit, shared by its accounts, replaces the account's own. */
  portfolio_id: string | null;
  priority: number;
  rate_per_second: number;
  /** PROBING while the account lets one message through to test a cleared limit. */
  account_status_code: string | null;
  messaging_limit: number | null;
  window_start: number | null;
  window_end: number | null;
};

export type FeedReport = { accounts: number; queued: number; completed: string[] };

export class Feeder {
  private readonly budget: DailyBudget;
  private readonly jobs: SendJobAdder;

  constructor(
    private readonly pool: pg.Pool,
    private readonly queues: SendQueues,
    /** `maxJobs`: the window's absolute cap per account (QUEUE_WINDOW_MAX_JOBS), whatever the rate. */
    private readonly options: { windowSeconds: number; maxJobs: number },
    private readonly logger: Logger,
  ) {
    this.budget = new DailyBudget(queues.connection, queues.prefix);
    this.jobs = new SendJobAdder(pool, queues);
    this.poolShare = new PoolShare(pool, queues.connection, queues.prefix, options.windowSeconds);
  }

  private readonly poolShare: PoolShare;

  async feedOnce(): Promise<FeedReport> {
    // Limited accounts: what came back `queued` after the stop waits on the limit with the rest
    // (before a probe resumes the queue), then start the probes that are due, and confirm the
    // ones that got through.
    const stragglers = await holdLimitStragglers(this.pool);
    if (stragglers > 0) this.logger.info({ stragglers }, 'sends put back after their account stopped now wait on its limit');
    const db = { pool: this.pool };
    await startDueProbes(db, this.queues, this.logger);
    await confirmProbes(db, this.queues.connection, this.queues.prefix, this.logger);
    // Validity period: what is still unsent past the campaign's deadline expires.
    const expired = await expireOverdue(this.pool);
    if (expired > 0) this.logger.info({ expired }, 'recipients expired (validity period over)');

    // Sender pools: waiting work of stopped accounts goes back to the pool's other accounts.
    await this.poolShare.releaseStopped(this.logger);

    const { rows } = await this.pool.query<RunningCampaign>(
      `SELECT c.id, a.id AS account_id, c.pool_id, coalesce(p.sticky, false) AS sticky, coalesce(m.weight, 1) AS weight,
              coalesce((SELECT max(weight) FROM sender_pool_members mm WHERE mm.pool_id = c.pool_id), 1) AS max_weight,
              c.priority, a.rate_per_second, a.status_code AS account_status_code,
              coalesce(pf.messaging_limit, a.messaging_limit) AS messaging_limit, CASE WHEN pf.messaging_limit IS NOT NULL THEN pf.id END AS portfolio_id,
              c.window_start, c.window_end
         FROM campaigns c
         LEFT JOIN sender_pools p ON p.id = c.pool_id
         LEFT JOIN sender_pool_members m ON m.pool_id = c.pool_id
         JOIN provider_accounts a ON a.id = coalesce(m.account_id, c.account_id)
         LEFT JOIN business_portfolios pf ON pf.id = a.portfolio_id
        WHERE c.status = 'running' AND a.status = 'active' AND (c.start_at IS NULL OR c.start_at <= now())
          AND (c.pool_id IS NULL OR m.weight > 0)
        ORDER BY c.priority DESC, c.started_at ASC`,
    );
    const byAccount = new Map<string, RunningCampaign[]>();
    for (const row of rows) byAccount.set(row.account_id, [...(byAccount.get(row.account_id) ?? []), row]);

    // Recipients re-queued while an old job still held their job id: their job, once it is gone.
    await this.jobs.recheck();
    let queued = 0;
    for (const [accountId, campaigns] of byAccount) {
      queued += await this.feedAccount(accountId, campaigns);
    }
    const completed = await this.completeFinishedCampaigns();
    await recordFeederRound(this.queues.connection, this.queues.prefix);
    return { accounts: byAccount.size, queued, completed };
  }

  private async feedAccount(accountId: string, campaigns: RunningCampaign[]): Promise<number> {
    const rate = campaigns[0]?.rate_per_second ?? 1;
    const probing = campaigns[0]?.account_status_code === PROBING;
    // A probing account gets one message at a time until the probe is confirmed.
    // Capped whatever the rate: a rate set high to mean "unlimited" would otherwise move most of a
    // big campaign into Redis (jobs cost about 800 bytes each there) and slow every script.
    const window = queueWindowSize(rate, this.options.windowSeconds, probing, this.options.maxJobs);
    const queue = this.queues.forAccount(accountId);
    const counts = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed');
    const inFlight = probing ? Object.values(counts).reduce((a, b) => a + b, 0) : (counts.wait ?? 0) + (counts.prioritized ?? 0) + (counts.active ?? 0);
    // Top up in chunks, not a trickle of tiny batches.
    let free = freeRoom(window, inFlight);
    if (free === 0) return 0;

    let added = 0;
    for (const tier of priorityTiers(campaigns)) {
      // Campaigns of equal priority split what is free; what one cannot use passes to the next.
      let remaining = [...tier];
      while (free > 0 && remaining.length > 0) {
        const share = shareOf(free, remaining.length);
        const stillHasWork: RunningCampaign[] = [];
        for (const campaign of remaining) {
          if (free <= 0) break;
          // Small steps, so the first jobs reach Redis (and workers) at once; a pool campaign takes
          // only this account's share of it (src/queue/pool-share.ts).
          const room = campaign.pool_id ? await this.poolShare.room({ campaignId: campaign.id, accountId, ratePerSecond: rate, weight: campaign.weight, maxWeight: campaign.max_weight }) : Infinity;
          const asked = Math.min(stepAsked(share, free), room);
          if (asked <= 0) continue;
          const { ids, examined } = await this.pick(campaign, asked);
          if (probing && ids[0]) await this.queues.connection.set(probeKey(this.queues.prefix, accountId), ids[0], 'EX', 86_400);
          await this.jobs.add(accountId, ids.map((id) => ({ recipientId: id, campaignId: campaign.id })));
          if (ids.length > 0) {
            free -= ids.length;
            added += ids.length;
          }
          if (examined === asked) stillHasWork.push(campaign);
        }
        remaining = stillHasWork;
      }
      if (free <= 0) break;
    }
    if (added > 0) this.logger.debug({ accountId, added, inFlight }, 'fed account queue');
    return added;
  }

  /**
   * Marks up to `asked` recipients queued. With no sending window and no messaging limit this is
   * one statement. Otherwise the candidates are looked at first: those outside their local
   * sending window, or past the account's rolling 24 h budget, are deferred until the window
   * opens or budget frees up, with the reason.
   */
  private async pick(campaign: RunningCampaign, wanted: number): Promise<{ ids: string[]; examined: number }> {
    const window = sendWindowOf(campaign.window_start, campaign.window_end);
    const target: FeedTarget = { accountId: campaign.account_id, poolId: campaign.pool_id, sticky: campaign.sticky };
    if (!window && campaign.messaging_limit === null) {
      const ids = await markQueued(this.pool, campaign.id, wanted, target);
      return { ids, examined: ids.length };
    }
    const budgetOwner = campaign.portfolio_id ? portfolioBudgetId(campaign.portfolio_id) : campaign.account_id;
    let asked = wanted;
    if (campaign.pool_id && campaign.messaging_limit !== null) {
      // A pool campaign takes no more than the account's limit has left: the rest is for the other accounts.
      await this.ensureBudgetLoaded(budgetOwner, campaign.portfolio_id);
      asked = Math.min(asked, (await this.budget.usage(budgetOwner, campaign.messaging_limit)).remaining);
      if (asked <= 0) return { ids: [], examined: 0 };
    }
    const candidates = await peekFeedable(this.pool, campaign.id, asked, target);
    if (candidates.length === 0) return { ids: [], examined: 0 };
    const now = new Date();
    const { open, deferred } = splitByWindow(candidates, window, now);
    let allowed = open;
    let added = new Set<string>();
    if (campaign.messaging_limit !== null && open.length > 0) {
      await this.ensureBudgetLoaded(budgetOwner, campaign.portfolio_id);
      const reservation = await this.budget.reserve(budgetOwner, open.map((c) => c.phone), campaign.messaging_limit);
      added = new Set(reservation.added);
      const split = splitByBudget(open, new Set(reservation.granted), reservation.nextFreeAt, now);
      allowed = split.allowed;
      // A pool campaign's refused recipients stay unassigned, for the pool's other accounts.
      if (!campaign.pool_id) deferred.push(...split.deferred);
    }
    const ids = await markQueuedIds(this.pool, allowed.map((c) => c.id), target);
    // Only while the campaign still has the window read at the round's start.
    if (deferred.length > 0) await deferRecipients(this.pool, deferred, { campaignId: campaign.id, windowStart: campaign.window_start, windowEnd: campaign.window_end });
    if (campaign.messaging_limit !== null && ids.length < allowed.length) {
      // Paused or cancelled between the look and the mark: give their budget back.
      const queued = new Set(ids);
      // Only slots this reservation took: a phone counted by an earlier real send stays counted.
      await this.budget.release(budgetOwner, allowed.filter((c) => !queued.has(c.id) && added.has(c.phone)).map((c) => c.phone));
    }
    return { ids, examined: candidates.length };
  }

  /**
   * The budget lives in Redis; a Redis that lost its data (or never had it) would start every
   * account at zero and let it exceed its tier. The first use in a Redis rebuilds the account's
   * budget from what Postgres says it sent in the last 24 h.
   */
  private async ensureBudgetLoaded(budgetOwner: string, portfolioId: string | null): Promise<void> {
    const marker = redisKeys.budgetLoaded(this.queues.prefix, budgetOwner);
    if ((await this.queues.connection.set(marker, '1', 'NX')) !== 'OK') return;
    try {
      // A portfolio's budget counts what every one of its accounts sent.
      const accountIds = portfolioId
        ? (await this.pool.query<{ id: string }>(`SELECT id FROM provider_accounts WHERE portfolio_id = $1`, [portfolioId])).rows.map((r) => r.id)
        : [budgetOwner];
      const entries = await DailyBudget.loadFromPostgres(this.pool, accountIds, DAY_MS);
      await this.budget.rebuild(budgetOwner, entries);
      this.logger.info({ budgetOwner, phones: entries.length }, 'messaging-limit budget rebuilt from Postgres');
    } catch (error) {
      await this.queues.connection.del(marker);
      throw error;
    }
  }

  /** Running campaigns with nothing left to do become completed. */
  private async completeFinishedCampaigns(): Promise<string[]> {
    const { rows } = await queryWithEvents<{ id: string }>(
      this.pool,
      `UPDATE campaigns c SET status = 'completed', finished_at = now(), updated_at = now()
        WHERE c.status = 'running'
          AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.campaign_id = c.id AND r.status IN ('pending', 'deferred', 'queued', 'sending'))
        RETURNING c.id`,
      [],
      (client, result) => recordCompleted(client, result.rows),
    );
    for (const { id } of rows) this.logger.info({ campaignId: id }, 'campaign completed');
    return rows.map((r) => r.id);
  }
}

/** The budget key of a portfolio's shared messaging limit (DailyBudget keys it like an account). */
export function portfolioBudgetId(portfolioId: string): string {
  return `portfolio-${portfolioId}`;
}
