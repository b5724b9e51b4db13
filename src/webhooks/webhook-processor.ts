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
import { isTransientConflict } from '../db/pg-errors.js';
import type { Logger } from '../logger.js';
import type { SendQueues } from '../queue/queues.js';
import { pauseCampaignForOutcome } from '../campaigns/campaign-actions.js';
import { CampaignStops } from '../campaigns/campaign-stops.js';
import { stopAccount } from '../accounts/account-actions.js';
import { applyAccountHealth } from '../accounts/account-quality.js';
import { applyRequests, type ApplyResult, type EventRequest, type FollowUp } from './apply-events.js';
import { parseWebhook, webhookCapability } from './parse-webhook.js';
import { DEFAULT_STOP_WORDS } from './stop-words.js';
import type { ProviderName } from '../providers/types.js';

const WAIT_LIMIT_MS = 24 * 3_600_000;
const STOP_WORDS_CACHE_MS = 30_000;

type EventRow = {
  id: string;
  tenant_id: string;
  account_id: string;
  provider: ProviderName;
  content_type: string | null;
  body: string;
  attempts: number;
  received_at: Date;
  /** The account's config, so parts addressed to another account are dropped here too. */
  account_config: unknown;
};

export type ProcessReport = { processed: number; waiting: number; ignored: number; failed: number };

/** What became of one stored request; `delayMs` is the wait before a `waiting` one is tried again. */
type RowOutcome = { id: string; state: keyof ProcessReport; error: string | null; delayMs: number | null; followUps: FollowUp[] };

function outcomeOf(row: EventRow, result: ApplyResult): RowOutcome {
  if (!result.waiting) return { id: row.id, state: 'processed', error: null, delayMs: null, followUps: result.followUps };
  if (Date.now() - row.received_at.getTime() > WAIT_LIMIT_MS) {
    return { id: row.id, state: 'ignored', error: 'No message sent by the engine matched this status within 24 h.', delayMs: null, followUps: result.followUps };
  }
  // 1 s, 2 s, 4 s ... up to 10 min: the send's response is usually recorded within a second.
  const delayMs = Math.min(600_000, 1_000 * 2 ** Math.min(row.attempts, 10));
  return { id: row.id, state: 'waiting', error: null, delayMs, followUps: result.followUps };
}

/** The batch's requests closed (or rescheduled) in one statement. */
async function recordOutcomes(client: pg.PoolClient, outcomes: readonly RowOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  await client.query(
    `UPDATE webhook_events e SET
        status = v.state::webhook_event_status,
        attempts = e.attempts + 1,
        processed_at = CASE WHEN v.state = 'waiting' THEN e.processed_at ELSE now() END,
        next_attempt_at = CASE WHEN v.state = 'waiting' THEN now() + make_interval(secs => v.delay_ms / 1000) ELSE e.next_attempt_at END,
        error = v.error
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::double precision[]) AS v(id, state, error, delay_ms)
      WHERE e.id = v.id`,
    [outcomes.map((o) => o.id), outcomes.map((o) => o.state), outcomes.map((o) => o.error), outcomes.map((o) => o.delayMs)],
  );
}

export class WebhookProcessor {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly stopWords = new Map<string, { words: readonly string[]; until: number }>();

  /** A quality drop's pause marks the campaign stopped for its sends already claimed (src/campaigns/campaign-stops.ts). */
  private readonly stops: CampaignStops;

  constructor(
    private readonly deps: { db: Db; queues: SendQueues; logger: Logger },
    private readonly options: { pollMs: number; batchSize?: number },
  ) {
    this.stops = new CampaignStops(deps.queues.connection, deps.queues.prefix, deps.db.pool, deps.logger);
  }

  start(): void {
    this.stopped = false;
    // While Postgres is away, back off (up to 5 s) and say so once, not every poll.
    let failures = 0;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.drainBacklog()
        .then(() => {
          if (failures > 0) this.deps.logger.info({ failures }, 'webhook processing resumed');
          failures = 0;
        })
        .catch((error: unknown) => {
          failures += 1;
          if (failures === 1) this.deps.logger.error({ err: error }, 'webhook processing failed; retrying with backoff');
        })
        .finally(() => {
          this.running = null;
          const delay = failures === 0 ? this.options.pollMs : Math.min(5_000, this.options.pollMs * 2 ** Math.min(failures, 10));
          if (!this.stopped) this.timer = setTimeout(tick, delay);
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

  /**
   * One batch, one transaction. The batch is first applied straight through; should one request
   * throw, the transaction is rolled back and the batch applied again with a savepoint around
   * each request, so that request is marked failed and the others still go through. (Savepoints
   * on every request would cost two more round trips each on the hot path.)
   */
  async processOnce(): Promise<ProcessReport> {
    const first = await this.processBatch(false);
    return first ?? (await this.processBatch(true)) ?? { processed: 0, waiting: 0, ignored: 0, failed: 0 };
  }

  /** Null when a request threw and `isolate` was off: nothing was committed, take the batch again. */
  private async processBatch(isolate: boolean): Promise<ProcessReport | null> {
    const report: ProcessReport = { processed: 0, waiting: 0, ignored: 0, failed: 0 };
    const followUps: FollowUp[] = [];
    const outcomes: RowOutcome[] = [];
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
         SELECT e.id::text AS id, e.tenant_id, e.account_id, e.provider, e.content_type, e.body, e.attempts, e.received_at, a.config AS account_config
           FROM webhook_events e LEFT JOIN provider_accounts a ON a.id = e.account_id
          WHERE e.id IN (SELECT id FROM fresh UNION ALL SELECT id FROM due)
          ORDER BY e.id LIMIT $1`,
        [this.options.batchSize ?? 100],
      );
      if (!isolate) {
        try {
          outcomes.push(...(await this.applyRows(client, rows)));
        } catch (error) {
          this.deps.logger.warn({ err: error }, 'a webhook event failed; applying its batch again one event at a time');
          await client.query('ROLLBACK');
          return null;
        }
      } else {
        for (const row of rows) {
          await client.query('SAVEPOINT one_event');
          try {
            outcomes.push(...(await this.applyRows(client, [row])));
            await client.query('RELEASE SAVEPOINT one_event');
          } catch (error) {
            // A deadlock or serialization failure is nobody's fault: the batch is taken again later.
            if (isTransientConflict(error)) throw error;
            // One bad request must not hold up the others: record why, move on.
            await client.query('ROLLBACK TO SAVEPOINT one_event');
            this.deps.logger.error({ err: error, webhookEventId: row.id }, 'webhook event could not be processed');
            outcomes.push({ id: row.id, state: 'failed', error: error instanceof Error ? error.message.slice(0, 1000) : String(error), delayMs: null, followUps: [] });
          }
        }
      }
      await recordOutcomes(client, outcomes);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    for (const outcome of outcomes) {
      report[outcome.state] += 1;
      followUps.push(...outcome.followUps);
    }
    await this.runFollowUps(followUps);
    return report;
  }

  /** Parses the rows and applies their events together (src/webhooks/apply-events.ts); throws if any row cannot be. */
  private async applyRows(client: pg.PoolClient, rows: readonly EventRow[]): Promise<RowOutcome[]> {
    const outcomes: RowOutcome[] = [];
    const applicable: { row: EventRow; request: EventRequest; pauses: FollowUp[] }[] = [];
    for (const row of rows) {
      const done = (error: string | null): RowOutcome => ({ id: row.id, state: 'ignored', error, delayMs: null, followUps: [] });
      const webhook = webhookCapability(row.provider);
      if (!webhook) {
        outcomes.push(done(`${row.provider} webhooks are not processed`));
        continue;
      }
      const parsed = parseWebhook(row.provider, row.body, row.content_type, { config: row.account_config });
      if (parsed.otherAccount) {
        this.deps.logger.warn({ webhookEventId: row.id, accountId: row.account_id, otherAccount: parsed.otherAccount }, 'webhook parts for another account dropped');
      }
      // Quality, tier and restriction notices: recorded on the account; a drop pauses its marketing campaigns after the commit.
      const qualityPauses = parsed.accountHealth?.length ? await applyAccountHealth(client, row.account_id, parsed.accountHealth) : [];
      const pauseFollowUps: FollowUp[] = qualityPauses.map((p) => ({ kind: 'pause_campaign', campaignId: p.campaignId, outcome: { code: p.code, message: p.message } }));
      if (parsed.events.length === 0) {
        outcomes.push({ ...done(null), state: parsed.accountHealth?.length ? 'processed' : 'ignored', followUps: pauseFollowUps });
        continue;
      }
      const scope = {
        tenantId: row.tenant_id,
        accountId: row.account_id,
        webhookEventId: row.id,
        stopWords: await this.stopWordsFor(client, row.tenant_id),
        statusByPhone: webhook.statusesByPhone,
      };
      applicable.push({ row, request: { scope, events: parsed.events }, pauses: pauseFollowUps });
    }
    const results = await applyRequests(client, applicable.map((a) => a.request));
    applicable.forEach(({ row, pauses }, i) => {
      const outcome = outcomeOf(row, results[i] ?? { waiting: false, followUps: [] });
      outcomes.push({ ...outcome, followUps: [...pauses, ...outcome.followUps] });
    });
    return outcomes;
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
        await pauseCampaignForOutcome(this.deps.db, this.stops, followUp.campaignId, followUp.outcome, this.deps.logger);
      } else {
        await stopAccount(this.deps.db, this.deps.queues, followUp.accountId, followUp.outcome, this.deps.logger);
      }
    }
  }
}
