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
import { redisKeys } from '../redis-keys.js';
import { confirmProbes, PROBING, probeKey, startDueProbes } from '../accounts/account-actions.js';
import { deferRecipients, expireOverdue, markQueued, markQueuedIds, peekFeedable, type DeferredWrite } from '../recipients/index.js';
import { ENGINE_CODES } from '../engine-codes.js';
import { queryWithEvents, recordCompleted } from '../events/hooks.js';
import { DailyBudget } from '../flow/daily-budget.js';
import { recordFeederRound } from '../observability/record.js';
import { nextWindowOpen, timeZoneForPhone } from '../flow/quiet-hours.js';
import type { Logger } from '../logger.js';
import { SEND_JOB_OPTIONS, sendJobId, type SendQueues } from './queues.js';

const ADD_CHUNK = 1_000;
const FEED_STEP = 2_000;
const DAY_MS = 86_400_000;

type RunningCampaign = {
  id: string;
  account_id: string;
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

  constructor(
    private readonly pool: pg.Pool,
    private readonly queues: SendQueues,
    private readonly options: { windowSeconds: number },
    private readonly logger: Logger,
  ) {
    this.budget = new DailyBudget(queues.connection, queues.prefix);
  }

  async feedOnce(): Promise<FeedReport> {
    // Limited accounts: start the probes that are due, and confirm the ones that got through.
    const db = { pool: this.pool };
    await startDueProbes(db, this.queues, this.logger);
    await confirmProbes(db, this.queues.connection, this.queues.prefix, this.logger);
    // Validity period: what is still unsent past the campaign's deadline expires.
    const expired = await expireOverdue(this.pool);
    if (expired > 0) this.logger.info({ expired }, 'recipients expired (validity period over)');

    const { rows } = await this.pool.query<RunningCampaign>(
      `SELECT c.id, c.account_id, c.priority, a.rate_per_second, a.status_code AS account_status_code, a.messaging_limit, c.window_start, c.window_end
         FROM campaigns c JOIN provider_accounts a ON a.id = c.account_id
        WHERE c.status = 'running' AND a.status = 'active' AND (c.start_at IS NULL OR c.start_at <= now())
        ORDER BY c.priority DESC, c.started_at ASC`,
    );
    const byAccount = new Map<string, RunningCampaign[]>();
    for (const row of rows) byAccount.set(row.account_id, [...(byAccount.get(row.account_id) ?? []), row]);

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
    const window = probing ? 1 : Math.max(100, rate * this.options.windowSeconds);
    const queue = this.queues.forAccount(accountId);
    const counts = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed');
    const inFlight = probing ? Object.values(counts).reduce((a, b) => a + b, 0) : (counts.wait ?? 0) + (counts.prioritized ?? 0) + (counts.active ?? 0);
    let free = window - inFlight;
    // Top up in chunks, not a trickle of tiny batches.
    if (free < Math.ceil(window / 4) || free <= 0) return 0;

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
          const { ids, examined } = await this.pick(campaign, asked);
          if (probing && ids[0]) await this.queues.connection.set(probeKey(this.queues.prefix, accountId), ids[0], 'EX', 86_400);
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
  private async pick(campaign: RunningCampaign, asked: number): Promise<{ ids: string[]; examined: number }> {
    const hasWindow = campaign.window_start !== null && campaign.window_end !== null && campaign.window_start !== campaign.window_end;
    if (!hasWindow && campaign.messaging_limit === null) {
      const ids = await markQueued(this.pool, campaign.id, asked);
      return { ids, examined: ids.length };
    }
    const candidates = await peekFeedable(this.pool, campaign.id, asked);
    if (candidates.length === 0) return { ids: [], examined: 0 };
    const now = new Date();
    const deferred: DeferredWrite[] = [];
    let open = candidates;
    if (hasWindow) {
      open = [];
      for (const c of candidates) {
        const opensAt = nextWindowOpen(now, c.time_zone ?? timeZoneForPhone(c.phone), campaign.window_start ?? 0, campaign.window_end ?? 0);
        if (opensAt) deferred.push({ id: c.id, notBefore: opensAt, errorCode: ENGINE_CODES.QUIET_HOURS });
        else open.push(c);
      }
    }
    let allowed = open;
    let added = new Set<string>();
    if (campaign.messaging_limit !== null && open.length > 0) {
      await this.ensureBudgetLoaded(campaign.account_id);
      const reservation = await this.budget.reserve(campaign.account_id, open.map((c) => c.phone), campaign.messaging_limit);
      const granted = new Set(reservation.granted);
      added = new Set(reservation.added);
      allowed = open.filter((c) => granted.has(c.phone));
      const retryAt = reservation.nextFreeAt ?? new Date(now.getTime() + 3_600_000);
      for (const c of open) if (!granted.has(c.phone)) deferred.push({ id: c.id, notBefore: retryAt, errorCode: ENGINE_CODES.DAILY_LIMIT_REACHED });
    }
    const ids = await markQueuedIds(this.pool, allowed.map((c) => c.id));
    if (deferred.length > 0) await deferRecipients(this.pool, deferred);
    if (campaign.messaging_limit !== null && ids.length < allowed.length) {
      // Paused or cancelled between the look and the mark: give their budget back.
      const queued = new Set(ids);
      // Only slots this reservation took: a phone counted by an earlier real send stays counted.
      await this.budget.release(campaign.account_id, allowed.filter((c) => !queued.has(c.id) && added.has(c.phone)).map((c) => c.phone));
    }
    return { ids, examined: candidates.length };
  }

  /**
   * The budget lives in Redis; a Redis that lost its data (or never had it) would start every
   * account at zero and let it exceed its tier. The first use in a Redis rebuilds the account's
   * budget from what Postgres says it sent in the last 24 h.
   */
  private async ensureBudgetLoaded(accountId: string): Promise<void> {
    const marker = redisKeys.budgetLoaded(this.queues.prefix, accountId);
    if ((await this.queues.connection.set(marker, '1', 'NX')) !== 'OK') return;
    try {
      const entries = await DailyBudget.loadFromPostgres(this.pool, accountId, DAY_MS);
      await this.budget.rebuild(accountId, entries);
      this.logger.info({ accountId, phones: entries.length }, 'messaging-limit budget rebuilt from Postgres');
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

function priorityTiers(campaigns: RunningCampaign[]): RunningCampaign[][] {
  const tiers = new Map<number, RunningCampaign[]>();
  for (const c of campaigns) tiers.set(c.priority, [...(tiers.get(c.priority) ?? []), c]);
  return [...tiers.entries()].sort((a, b) => b[0] - a[0]).map(([, list]) => list);
}
