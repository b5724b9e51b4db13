/**
 * Write before answering: a webhook request is stored raw, durably, before the receiver says
 * 200. Concurrent requests are inserted together, one multi-row INSERT for all the requests
 * that arrived while the previous INSERTs were running (group commit), so a burst of provider
 * callbacks costs a few commits, not one per request, while each request still waits for its
 * own row to be committed.
 *
 * Unlike a timer (flush every few ms), this never makes a request wait when nothing else is
 * being written: at low load each request is its own INSERT, at once; as load grows, batches
 * grow by themselves, up to `maxRows`.
 */
import type pg from 'pg';
import type { ProviderName } from '../providers/types.js';

export type StoredWebhook = {
  tenantId: string;
  accountId: string;
  provider: ProviderName;
  contentType: string | null;
  body: string;
};

export type WebhookStoreOptions = {
  /** INSERTs running at once; more requests wait and go in the next one. Default 8: enough that a few concurrent callers never wait for each other, and under half of the API process's 20 connections. */
  maxInFlight?: number;
  /** Rows per INSERT at most. Default 500 (about 1 MB of typical Meta bodies). */
  maxRows?: number;
};

type Waiting = { event: StoredWebhook; resolve: (id: string) => void; reject: (error: unknown) => void };

export class WebhookStore {
  private waiting: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idle: (() => void)[] = [];
  private readonly maxInFlight: number;
  private readonly maxRows: number;

  constructor(
    private readonly pool: pg.Pool,
    options: WebhookStoreOptions = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? 8;
    this.maxRows = options.maxRows ?? 500;
  }

  /** Resolves with the row's id once it is committed; rejects when Postgres refused it (the receiver answers 503 and the provider retries). */
  store(event: StoredWebhook): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.waiting.push({ event, resolve, reject });
      // Requests whose bodies were read in this turn of the event loop go in together.
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Resolves once every request handed to store() is written or refused (graceful shutdown). */
  async drain(): Promise<void> {
    if (this.waiting.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxRows);
      this.inFlight += 1;
      void this.insert(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
        if (this.waiting.length === 0 && this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async insert(batch: Waiting[]): Promise<void> {
    const events = batch.map((w) => w.event);
    try {
      const { rows } = await this.pool.query<{ id: string }>(
        `INSERT INTO webhook_events (tenant_id, account_id, provider, content_type, body)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::provider[], $4::text[], $5::text[])
         RETURNING id::text`,
        [events.map((e) => e.tenantId), events.map((e) => e.accountId), events.map((e) => e.provider), events.map((e) => e.contentType), events.map((e) => e.body)],
      );
      // INSERT ... SELECT FROM unnest keeps the input order for RETURNING in practice, but
      // callers only need "stored", so the ids are informational.
      batch.forEach((w, i) => w.resolve(rows[i]?.id ?? ''));
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }
}
