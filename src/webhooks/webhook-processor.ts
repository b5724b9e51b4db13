/**
 * Processes stored webhook requests (webhook_events) in every worker process: batches are taken
 * with FOR UPDATE SKIP LOCKED, so processes share the backlog without doing anything twice, and
 * each request's events are applied in the same transaction that marks it processed. A crash
 * mid-batch rolls back and the batch is taken again; applying is idempotent anyway.
 *
 * States: pending → processed | ignored | failed, or → waiting when a status refers to a send
 * whose response is not recorded yet. Waiting requests are retried with backoff and, after
 * WAIT_LIMIT_MS, closed as ignored with the reason (a status for a message the engine never sent,
 * such as an agent's chat reply on the same number).
 */
import type pg from 'pg';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { SendQueues } from '../queue/queues.js';
import { pauseCampaignForOutcome } from '../campaigns/campaign-actions.js';
import { stopAccount } from '../accounts/account-actions.js';
import { applyEvents, type FollowUp } from './apply-events.js';
import { parseWebhook, hasWebhooks } from './parse-webhook.js';
import { DEFAULT_STOP_WORDS } from './stop-words.js';
import type { ProviderName } from '../providers/types.js';

const WAIT_LIMIT_MS = 24 * 3_600_000;
const STOP_WORDS_CACHE_MS = 30_000;

type EventRow = { id: string; tenant_id: string; account_id: string; provider: ProviderName; content_type: string | null; body: string; attempts: number; received_at: Date };

export type ProcessReport = { processed: number; waiting: number; ignored: number; failed: number };

export class WebhookProcessor {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly stopWords = new Map<string, { words: readonly string[]; until: number }>();

  constructor(
    private readonly deps: { db: Db; queues: SendQueues; logger: Logger },
    private readonly options: { pollMs: number; batchSize?: number },
  ) {}

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.drainBacklog()
        .then(() => undefined)
        .catch((error: unknown) => this.deps.logger.error({ err: error }, 'webhook processing failed; will retry'))
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Processes batches until none is left. */
  async drainBacklog(): Promise<ProcessReport> {
    const total: ProcessReport = { processed: 0, waiting: 0, ignored: 0, failed: 0 };
    for (;;) {
      const report = await this.processOnce();
      for (const key of Object.keys(total) as (keyof ProcessReport)[]) total[key] += report[key];
      const handled = report.processed + report.waiting + report.ignored + report.failed;
      if (handled < (this.options.batchSize ?? 100) || this.stopped) return total;
    }
  }

  /** One batch, one transaction. */
  async processOnce(): Promise<ProcessReport> {
    const report: ProcessReport = { processed: 0, waiting: 0, ignored: 0, failed: 0 };
    const followUps: FollowUp[] = [];
    const client = await this.deps.db.pool.connect();
    try {
      await client.query('BEGIN');
      // SKIP LOCKED where the rows are chosen, so a second process takes the next batch rather
      // than the first one's ids (which it would skip, leaving it nothing to do). Oldest first,
      // by the numeric id (e.id: the output column `id` is text and would sort "10" before "9").
      const { rows } = await client.query<EventRow>(
        `WITH fresh AS (
           SELECT id FROM webhook_events WHERE status = 'pending' ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED),
         due AS (
           SELECT id FROM webhook_events WHERE status = 'waiting' AND next_attempt_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
         SELECT e.id::text AS id, e.tenant_id, e.account_id, e.provider, e.content_type, e.body, e.attempts, e.received_at FROM webhook_events e
          WHERE e.id IN (SELECT id FROM fresh UNION ALL SELECT id FROM due)
          ORDER BY e.id LIMIT $1`,
        [this.options.batchSize ?? 100],
      );
      for (const row of rows) {
        await client.query('SAVEPOINT one_event');
        try {
          const outcome = await this.processRow(client, row);
          report[outcome.state] += 1;
          followUps.push(...outcome.followUps);
          await client.query('RELEASE SAVEPOINT one_event');
        } catch (error) {
          // One bad request must not hold up the others: record why, move on.
          await client.query('ROLLBACK TO SAVEPOINT one_event');
          await client.query(`UPDATE webhook_events SET status = 'failed', attempts = attempts + 1, processed_at = now(), error = $2 WHERE id = $1`, [
            row.id,
            error instanceof Error ? error.message.slice(0, 1000) : String(error),
          ]);
          this.deps.logger.error({ err: error, webhookEventId: row.id }, 'webhook event could not be processed');
          report.failed += 1;
        }
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    await this.runFollowUps(followUps);
    return report;
  }

  private async processRow(client: pg.PoolClient, row: EventRow): Promise<{ state: keyof ProcessReport; followUps: FollowUp[] }> {
    if (!hasWebhooks(row.provider)) {
      await this.close(client, row.id, 'ignored', `${row.provider} webhooks are not processed`);
      return { state: 'ignored', followUps: [] };
    }
    const parsed = parseWebhook(row.provider, row.body, row.content_type);
    if (parsed.events.length === 0) {
      await this.close(client, row.id, 'ignored', null);
      return { state: 'ignored', followUps: [] };
    }
    const scope = {
      tenantId: row.tenant_id,
      accountId: row.account_id,
      webhookEventId: row.id,
      stopWords: await this.stopWordsFor(client, row.tenant_id),
      statusByPhone: row.provider !== 'meta',
    };
    const result = await applyEvents(client, scope, parsed.events);
    if (!result.waiting) {
      await this.close(client, row.id, 'processed', null);
      return { state: 'processed', followUps: result.followUps };
    }
    if (Date.now() - row.received_at.getTime() > WAIT_LIMIT_MS) {
      await this.close(client, row.id, 'ignored', 'No message sent by the engine matched this status within 24 h.');
      return { state: 'ignored', followUps: result.followUps };
    }
    // 1 s, 2 s, 4 s ... up to 10 min: the send's response is usually recorded within a second.
    const delayMs = Math.min(600_000, 1_000 * 2 ** Math.min(row.attempts, 10));
    await client.query(
      `UPDATE webhook_events SET status = 'waiting', attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2::double precision / 1000) WHERE id = $1`,
      [row.id, delayMs],
    );
    return { state: 'waiting', followUps: result.followUps };
  }

  private async close(client: pg.PoolClient, id: string, status: 'processed' | 'ignored', error: string | null): Promise<void> {
    await client.query(`UPDATE webhook_events SET status = $2::webhook_event_status, attempts = attempts + 1, processed_at = now(), error = $3 WHERE id = $1`, [id, status, error]);
  }

  private async stopWordsFor(client: pg.PoolClient, tenantId: string): Promise<readonly string[]> {
    const hit = this.stopWords.get(tenantId);
    if (hit && hit.until > Date.now()) return hit.words;
    const { rows } = await client.query<{ stop_words: string[] | null }>(`SELECT stop_words FROM tenants WHERE id = $1`, [tenantId]);
    const own = rows[0]?.stop_words ?? [];
    const words = own.length > 0 ? own : DEFAULT_STOP_WORDS;
    this.stopWords.set(tenantId, { words, until: Date.now() + STOP_WORDS_CACHE_MS });
    return words;
  }

  private async runFollowUps(followUps: readonly FollowUp[]): Promise<void> {
    const seen = new Set<string>();
    for (const followUp of followUps) {
      const key = followUp.kind === 'pause_campaign' ? `c:${followUp.campaignId}` : `a:${followUp.accountId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (followUp.kind === 'pause_campaign') {
        // A template paused or disabled after the send: every other recipient would fail alike.
        await pauseCampaignForOutcome(this.deps.db, followUp.campaignId, followUp.outcome, this.deps.logger);
      } else {
        await stopAccount(this.deps.db, this.deps.queues, followUp.accountId, followUp.outcome, this.deps.logger);
      }
    }
  }
}
