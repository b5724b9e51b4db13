/**
 * The campaign funnel: how many recipients the provider accepted, and how many of those were
 * sent, delivered, read and replied to, failed, or opted out; failures broken down by the
 * engine's normalized code and by the provider's own code; and time-to-deliver percentiles.
 *
 * Stages are cumulative: a recipient that was read counts as delivered and sent even when the
 * provider's `delivered` event never came (WhatsApp does not guarantee one). A recipient that
 * failed after the provider accepted it (an asynchronous failure) counts as accepted and failed.
 */
import type { Db } from '../db/database.js';

export type CampaignFunnel = {
  total: number;
  accepted: number;
  sent: number;
  delivered: number;
  read: number;
  replied: number;
  failed: number;
  optedOut: number;
  /** Each stage over `accepted` (failed over total), 0..1, rounded to 4 places; null when the base is 0. */
  rates: { sent: number | null; delivered: number | null; read: number | null; replied: number | null; failed: number | null; optedOut: number | null };
  failuresByCode: { code: string; count: number }[];
  failuresByProviderCode: { providerCode: string; code: string; count: number }[];
  /**
   * Seconds from the provider's acceptance to delivery, over recipients with both times. Providers
   * stamp events in whole seconds, so a delivery within the send's own second counts as 0.
   */
  timeToDeliver: { count: number; p50: number | null; p90: number | null; p99: number | null };
};

export async function campaignFunnel(db: Db, campaignId: string): Promise<CampaignFunnel> {
  const [totals, byCode, byProviderCode] = await Promise.all([
    db.pool.query<{
      total: string;
      accepted: string;
      sent: string;
      delivered: string;
      read: string;
      replied: string;
      failed: string;
      opted_out: string;
      delivered_timed: string;
      p50: number | null;
      p90: number | null;
      p99: number | null;
    }>(
      `SELECT count(*) AS total,
              count(*) FILTER (WHERE sent_at IS NOT NULL OR status IN ('accepted', 'sent', 'delivered', 'read')) AS accepted,
              count(*) FILTER (WHERE status IN ('sent', 'delivered', 'read') OR delivered_at IS NOT NULL OR read_at IS NOT NULL) AS sent,
              count(*) FILTER (WHERE status IN ('delivered', 'read') OR delivered_at IS NOT NULL OR read_at IS NOT NULL) AS delivered,
              count(*) FILTER (WHERE status = 'read' OR read_at IS NOT NULL) AS read,
              count(*) FILTER (WHERE replied_at IS NOT NULL) AS replied,
              count(*) FILTER (WHERE status = 'failed') AS failed,
              count(*) FILTER (WHERE opted_out_at IS NOT NULL) AS opted_out,
              count(*) FILTER (WHERE delivered_at IS NOT NULL AND sent_at IS NOT NULL) AS delivered_timed,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY greatest(0, extract(epoch FROM delivered_at - sent_at))) FILTER (WHERE delivered_at IS NOT NULL AND sent_at IS NOT NULL) AS p50,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY greatest(0, extract(epoch FROM delivered_at - sent_at))) FILTER (WHERE delivered_at IS NOT NULL AND sent_at IS NOT NULL) AS p90,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY greatest(0, extract(epoch FROM delivered_at - sent_at))) FILTER (WHERE delivered_at IS NOT NULL AND sent_at IS NOT NULL) AS p99
         FROM recipients WHERE campaign_id = $1`,
      [campaignId],
    ),
    db.pool.query<{ code: string; n: string }>(
      `SELECT coalesce(error_code, 'UNSPECIFIED') AS code, count(*) AS n FROM recipients
        WHERE campaign_id = $1 AND status = 'failed' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 100`,
      [campaignId],
    ),
    db.pool.query<{ provider_code: string; code: string; n: string }>(
      `SELECT provider_error_code AS provider_code, coalesce(error_code, 'UNSPECIFIED') AS code, count(*) AS n FROM recipients
        WHERE campaign_id = $1 AND status = 'failed' AND provider_error_code IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT 100`,
      [campaignId],
    ),
  ]);
  const row = totals.rows[0];
  const n = (value: string | undefined) => Number(value ?? 0);
  const total = n(row?.total);
  const accepted = n(row?.accepted);
  const ratio = (part: number, base: number) => (base > 0 ? Math.round((part / base) * 10_000) / 10_000 : null);
  const seconds = (value: number | null | undefined) => (value === null || value === undefined ? null : Math.round(Number(value) * 1000) / 1000);
  const funnel = {
    sent: n(row?.sent),
    delivered: n(row?.delivered),
    read: n(row?.read),
    replied: n(row?.replied),
    failed: n(row?.failed),
    optedOut: n(row?.opted_out),
  };
  return {
    total,
    accepted,
    ...funnel,
    rates: {
      sent: ratio(funnel.sent, accepted),
      delivered: ratio(funnel.delivered, accepted),
      read: ratio(funnel.read, accepted),
      replied: ratio(funnel.replied, accepted),
      failed: ratio(funnel.failed, total),
      optedOut: ratio(funnel.optedOut, accepted),
    },
    failuresByCode: byCode.rows.map((r) => ({ code: r.code, count: n(r.n) })),
    failuresByProviderCode: byProviderCode.rows.map((r) => ({ providerCode: r.provider_code, code: r.code, count: n(r.n) })),
    timeToDeliver: { count: n(row?.delivered_timed), p50: seconds(row?.p50), p90: seconds(row?.p90), p99: seconds(row?.p99) },
  };
}

export type RecipientHistoryEntry = {
  status: string;
  source: string;
  occurredAt: Date;
  recordedAt: Date;
  errorCode: string | null;
  providerCode: string | null;
  detail: string | null;
};

/**
 * Every recorded status change of one recipient, oldest first. Within one second, in the order
 * they were recorded: providers give whole seconds (Meta's `sent` at 10:00:00 for a send the
 * engine recorded at 10:00:00.950), so sorting by the time alone would put the webhook's `sent`
 * before the send that caused it.
 */
export async function recipientHistory(db: Db, tenantId: string, campaignId: string, recipientId: string): Promise<RecipientHistoryEntry[] | null> {
  const found = await db.pool.query(`SELECT 1 FROM recipients WHERE id = $1 AND campaign_id = $2 AND tenant_id = $3`, [recipientId, campaignId, tenantId]);
  if (!found.rowCount) return null;
  const { rows } = await db.pool.query<{
    status: string;
    source: string;
    occurred_at: Date;
    recorded_at: Date;
    error_code: string | null;
    provider_code: string | null;
    detail: string | null;
  }>(
    `SELECT status, source::text, occurred_at, recorded_at, error_code, provider_code, detail FROM recipient_events
      WHERE recipient_id = $1 ORDER BY date_trunc('second', occurred_at), id`,
    [recipientId],
  );
  return rows.map((r) => ({
    status: r.status,
    source: r.source,
    occurredAt: r.occurred_at,
    recordedAt: r.recorded_at,
    errorCode: r.error_code,
    providerCode: r.provider_code,
    detail: r.detail,
  }));
}
