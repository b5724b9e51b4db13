/**
 * Delivers the outbox, in every worker process. Several processes share the backlog safely:
 *
 * - A claim takes only the head of each (endpoint, order key) line: the oldest pending delivery
 *   of that campaign (or account) for that endpoint. Rows are locked with FOR UPDATE SKIP LOCKED
 *   and leased (lease_until) before the lock is released, so no two processes hold the same
 *   line, and a later event of a campaign never overtakes an earlier one.
 * - A process killed mid-delivery leaves a lease that runs out; another process tries again.
 *   Delivery is therefore at least once: the event id header lets receivers drop a repeat.
 * - A failed attempt is retried with exponential backoff (EVENTS_RETRY_BASE_MS doubling up to
 *   EVENTS_RETRY_MAX_MS, with jitter) until EVENTS_RETRY_HOURS after the event (at least 24 h);
 *   then the delivery is marked failed and the line moves on.
 * - Result writes are fenced by the attempt number: a process whose lease ran out cannot
 *   overwrite the result of the one that took over.
 */
import type pg from 'pg';
import pLimit from 'p-limit';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { EventEnvelope, EventType } from './catalog.js';
import { deliverOnce, type AttemptResult, type EndpointFormat } from './deliver.js';
import { openEndpointSecret } from './endpoint-secrets.js';
import { securitySettings } from '../security/security-settings.js';

const CLAIM_BATCH = 50;
const PARALLEL = 8;
/** Extra lease time beyond the HTTP timeout, for the result write. */
const LEASE_MARGIN_MS = 5_000;
/** How often a process deletes events past their retention (ms); any process may, the DELETE is idempotent. */
const PRUNE_EVERY_MS = 600_000;

type Claimed = {
  id: string;
  attempts: number;
  event_id: string;
  type: EventType;
  data: Record<string, unknown>;
  event_created_at: Date;
  url: string;
  secret: string;
  secret_key_id: string | null;
  format: EndpointFormat;
  endpoint_id: string;
};

export type DeliveryLoopOptions = Pick<
  Config,
  'eventsPollMs' | 'eventsRetryBaseMs' | 'eventsRetryMaxMs' | 'eventsRetryHours' | 'eventsTimeoutMs' | 'eventsAllowPrivateUrls' | 'eventsRetentionDays'
>;

export class EventDeliveryLoop {
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private lastPrune = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: DeliveryLoopOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.current = this.runOnce()
        .then((delivered) => this.schedule(delivered > 0 ? 0 : this.options.eventsPollMs))
        .catch((error: unknown) => {
          this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'event delivery round failed');
          this.schedule(this.options.eventsPollMs);
        });
    }, delayMs);
  }

  /** One round: claim the heads of due lines, deliver them in parallel, record each result. Returns how many were tried. */
  async runOnce(): Promise<number> {
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now();
      await this.prune();
    }
    const claimed = await this.claim();
    const limit = pLimit(PARALLEL);
    await Promise.all(claimed.map((row) => limit(() => this.deliver(row))));
    return claimed.length;
  }

  /** Events older than the retention with nothing pending are deleted (their deliveries and tries cascade). */
  async prune(): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM outbound_events ev
        WHERE ev.created_at < now() - make_interval(days => $1)
          AND NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = ev.id AND d.status = 'pending')`,
      [this.options.eventsRetentionDays],
    );
    if (rowCount) this.logger.info({ deleted: rowCount }, 'old outbound events deleted');
    return rowCount ?? 0;
  }

  private async claim(): Promise<Claimed[]> {
    const leaseMs = this.options.eventsTimeoutMs + LEASE_MARGIN_MS;
    const { rows } = await this.pool.query<Claimed>(
      // heads: the oldest pending delivery of each line (one pass over the pending rows, in index
      // order). The due conditions are on d, not on heads, so that FOR UPDATE re-checks them on
      // the row's latest version: a head another process leased after this snapshot is skipped.
      `WITH heads AS (
         SELECT DISTINCT ON (endpoint_id, order_key) id FROM event_deliveries
          WHERE status = 'pending' ORDER BY endpoint_id, order_key, id),
       due AS (
         SELECT d.id FROM event_deliveries d JOIN heads h ON h.id = d.id
          WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now())
            AND EXISTS (SELECT 1 FROM event_endpoints e WHERE e.id = d.endpoint_id AND e.enabled)
          ORDER BY d.id
          LIMIT $1
          FOR UPDATE OF d SKIP LOCKED),
       leased AS (
         UPDATE event_deliveries d SET lease_until = now() + make_interval(secs => $2::double precision / 1000), attempts = d.attempts + 1
           FROM due WHERE d.id = due.id
         RETURNING d.id, d.attempts, d.event_id, d.endpoint_id)
       SELECT l.id, l.attempts, l.event_id, l.endpoint_id, ev.type, ev.data, ev.created_at AS event_created_at, e.url, e.secret, e.secret_key_id, e.format
         FROM leased l JOIN outbound_events ev ON ev.id = l.event_id JOIN event_endpoints e ON e.id = l.endpoint_id
        ORDER BY l.id`,
      [CLAIM_BATCH, leaseMs],
    );
    return rows;
  }

  private async deliver(row: Claimed): Promise<void> {
    const envelope: EventEnvelope = { id: row.event_id, type: row.type, createdAt: row.event_created_at.toISOString(), data: row.data };
    const secret = openEndpointSecret(securitySettings().vault, row.endpoint_id, row.secret, row.secret_key_id);
    const result = await deliverOnce({ url: row.url, secret, format: row.format }, envelope, {
      timeoutMs: this.options.eventsTimeoutMs,
      allowPrivateUrls: this.options.eventsAllowPrivateUrls,
    });
    await this.record(row, result);
    const log = { eventId: row.event_id, type: row.type, endpointId: row.endpoint_id, attempt: row.attempts, statusCode: result.statusCode };
    if (result.ok) this.logger.debug(log, 'event delivered');
    else this.logger.info({ ...log, error: result.error }, 'event delivery failed; will retry');
  }

  private async record(row: Claimed, result: AttemptResult): Promise<void> {
    const giveUpAt = row.event_created_at.getTime() + this.options.eventsRetryHours * 3_600_000;
    const delay = retryDelayMs(row.attempts, this.options.eventsRetryBaseMs, this.options.eventsRetryMaxMs);
    const status = result.ok ? 'delivered' : Date.now() + delay > giveUpAt ? 'failed' : 'pending';
    await this.pool.query(
      `WITH upd AS (
         UPDATE event_deliveries SET status = $3::event_delivery_status, lease_until = NULL, last_status_code = $4, last_error = $5,
                delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END,
                next_attempt_at = CASE WHEN $3 = 'pending' THEN now() + make_interval(secs => $6::double precision / 1000) ELSE next_attempt_at END
          WHERE id = $1 AND attempts = $2 AND status = 'pending'
          RETURNING id)
       -- The try is logged even when another process took over meanwhile; not when the endpoint was deleted.
       INSERT INTO event_delivery_attempts (delivery_id, status_code, error, duration_ms)
       SELECT $1, $4, $5, $7 WHERE EXISTS (SELECT 1 FROM event_deliveries WHERE id = $1)`,
      [row.id, row.attempts, status, result.statusCode, result.error, delay, result.durationMs],
    );
    if (status === 'failed') this.logger.warn({ eventId: row.event_id, endpointId: row.endpoint_id, attempts: row.attempts }, 'event given up on after the retry period');
  }
}

/** Exponential backoff with jitter: half the delay fixed, half random, so retries of many events spread out. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + Math.random() * (full / 2));
}
