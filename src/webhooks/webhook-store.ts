/**
 * Write before answering: a webhook request is stored raw, durably, before the receiver says
 * 200. Concurrent requests are inserted together (one multi-row INSERT per few milliseconds),
 * so a burst of provider callbacks costs a few commits, not one per request, while each request
 * still waits for its own row to be committed.
 */
import type pg from 'pg';
import type { ProviderName } from '../providers/types.js';
import { Batcher } from '../sending/batcher.js';

export type StoredWebhook = {
  tenantId: string;
  accountId: string;
  provider: ProviderName;
  contentType: string | null;
  body: string;
};

export class WebhookStore {
  private readonly batcher: Batcher<StoredWebhook, string>;

  constructor(pool: pg.Pool, options: { maxSize?: number; maxWaitMs?: number } = {}) {
    this.batcher = new Batcher(
      async (items) => {
        const { rows } = await pool.query<{ id: string }>(
          `INSERT INTO webhook_events (tenant_id, account_id, provider, content_type, body)
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::provider[], $4::text[], $5::text[])
           RETURNING id::text`,
          [items.map((i) => i.tenantId), items.map((i) => i.accountId), items.map((i) => i.provider), items.map((i) => i.contentType), items.map((i) => i.body)],
        );
        // INSERT ... SELECT FROM unnest keeps the input order for RETURNING in practice, but
        // callers only need "stored", so the ids are informational.
        return items.map((_, index) => rows[index]?.id ?? '');
      },
      { maxSize: options.maxSize ?? 200, maxWaitMs: options.maxWaitMs ?? 2 },
    );
  }

  /** Resolves once the request is committed; rejects when Postgres refused it (the receiver answers 503 and the provider retries). */
  store(event: StoredWebhook): Promise<string> {
    return this.batcher.add(event);
  }

  async drain(): Promise<void> {
    await this.batcher.drain();
  }
}
