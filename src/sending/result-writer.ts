/**
 * Writes send results, micro-batched across concurrent jobs; each job waits until its own write
 * is durable. Then, for what was written: the per-second sent counters (live rate, ETA) and each
 * campaign's error budget, which pauses a campaign whose recent sends mostly fail.
 */
import type { RedisClient } from '../redis-client.js';
import { sentCounterKey } from '../campaigns/campaign-stats.js';
import { ENGINE_CODES } from '../engine-codes.js';
import type { ErrorBudget } from '../flow/error-budget.js';
import type { Logger } from '../logger.js';
import type { SendResultWrite } from '../recipients/index.js';
import { Batcher } from './batcher.js';
import { isConnectionLoss, isTransientConflict } from '../db/pg-errors.js';
import type { CampaignContexts } from './campaign-context.js';
import type { SendStore } from './send-ports.js';

/** A campaign's error budget is judged on at least this many recent results. */
export const ERROR_BUDGET_MIN_SAMPLE = 50;

export type ResultWriterDeps = {
  store: SendStore;
  redis: RedisClient;
  keyPrefix: string;
  errorBudget: ErrorBudget;
  contexts: CampaignContexts;
  /** How long a write keeps retrying while Postgres is unreachable (ms). */
  retryBudgetMs: number;
  logger: Logger;
};

export class ResultWriter {
  private readonly batcher: Batcher<SendResultWrite, boolean>;

  constructor(private readonly deps: ResultWriterDeps) {
    this.batcher = new Batcher(async (writes) => {
      const written = await retryWrite(() => deps.store.writeResults(writes), deps.retryBudgetMs, deps.logger);
      const durable = writes.filter((w) => written.has(w.id));
      await this.countSent(durable.filter((w) => w.status === 'sent' || w.status === 'accepted'));
      await this.spendErrorBudget(durable);
      return writes.map((w) => written.has(w.id));
    }, { maxSize: 500, maxWaitMs: 5 });
  }

  /** Resolves once durable; false when the write was stale (another attempt since). */
  write(result: SendResultWrite): Promise<boolean> {
    return this.batcher.add(result);
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }

  /**
   * Per-second sent counters per campaign, for the live rate and ETA (src/campaigns/campaign-stats.ts).
   * One MULTI per campaign: campaigns' keys live in different Redis Cluster slots.
   */
  private async countSent(writes: readonly SendResultWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const second = Math.floor(Date.now() / 1000);
    const perCampaign = new Map<string, number>();
    for (const w of writes) if (w.campaignId) perCampaign.set(w.campaignId, (perCampaign.get(w.campaignId) ?? 0) + 1);
    await Promise.all(
      [...perCampaign].map(([campaignId, n]) => {
        const key = sentCounterKey(this.deps.keyPrefix, campaignId, second);
        return this.deps.redis.multi().incrby(key, n).expire(key, 120).exec();
      }),
    );
  }

  /** Counts durable results against each campaign's error budget; pauses a campaign past it. */
  private async spendErrorBudget(writes: readonly SendResultWrite[]): Promise<void> {
    const perCampaign = new Map<string, { ok: number; failed: number }>();
    for (const w of writes) {
      if (!w.campaignId || (w.status !== 'sent' && w.status !== 'accepted' && w.status !== 'failed')) continue;
      const counts = perCampaign.get(w.campaignId) ?? { ok: 0, failed: 0 };
      if (w.status === 'failed') counts.failed += 1;
      else counts.ok += 1;
      perCampaign.set(w.campaignId, counts);
    }
    for (const [campaignId, counts] of perCampaign) {
      const context = await this.deps.contexts.get(campaignId).catch(() => null);
      if (!context || context.errorBudget === null) continue;
      const reading = await this.deps.errorBudget.record(campaignId, counts);
      if (counts.failed === 0 || reading.sample < ERROR_BUDGET_MIN_SAMPLE || reading.ratio <= context.errorBudget) continue;
      const percent = Math.round(reading.ratio * 100);
      await this.deps.store.pauseCampaign(
        campaignId,
        {
          code: ENGINE_CODES.ERROR_BUDGET_EXCEEDED,
          message: `${percent}% of the last ${reading.sample} sends failed, above the campaign's ${Math.round(context.errorBudget * 100)}% error budget; look at the failures by code, fix the list or template, then resume`,
        },
        this.deps.logger,
      );
    }
  }
}

/** How many times a result write chosen as a deadlock's victim (or failing serialization) is tried again. */
const CONFLICT_RETRIES = 5;

/**
 * Result writes outlive a Postgres restart, and a deadlock: the provider has answered, so the
 * outcome is known, and failing the write would fail the job and leave the recipient `sending`
 * (on a stopped account's paused queue, for as long as it stays stopped), to end as `unknown`.
 * The write is conditional (same attempt, still `sending`), so repeating it is safe.
 */
async function retryWrite<T>(write: () => Promise<T>, budgetMs: number, logger: Logger): Promise<T> {
  const deadline = Date.now() + budgetMs;
  let conflicts = 0;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await write();
    } catch (error) {
      if (isTransientConflict(error) && conflicts < CONFLICT_RETRIES) {
        conflicts += 1;
        logger.warn({ err: error instanceof Error ? error.message : String(error), conflicts }, 'send results write lost a lock conflict; retrying');
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(Math.random() * 20)));
        continue;
      }
      if (!isConnectionLoss(error) || Date.now() >= deadline) throw error;
      if (attempt === 0) logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'Postgres unreachable while writing send results; retrying');
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)));
    }
  }
}
