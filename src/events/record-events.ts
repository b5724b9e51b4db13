/**
 * The outbox writer. Each function is called by the code that makes a change, with the client of
 * the transaction that makes it, so the event exists if and only if the change committed. A
 * tenant with no endpoint subscribed to the type pays one indexed SELECT and stores nothing.
 *
 * The payload is a snapshot read inside the same transaction (the campaign's new status, an
 * upload's counts), so retries send the same body and the receiver sees the state the event
 * describes, not whatever it is by the time the delivery gets through.
 */
import type pg from 'pg';
import { statusCounts } from '../recipients/status-counts.js';
import type { EventType } from './catalog.js';

/** A pg client inside a transaction, or a pool for a single-statement change. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

export type NewEvent = { tenantId: string; type: EventType; orderKey: string; data: Record<string, unknown> };

/** Writes the event and one delivery per enabled endpoint subscribed to its type. Returns whether any endpoint wanted it. */
export async function recordEvent(client: Queryable, event: NewEvent): Promise<boolean> {
  const { rowCount } = await client.query(
    `WITH ep AS (SELECT id FROM event_endpoints WHERE tenant_id = $1 AND enabled AND $2 = ANY(event_types)),
          ev AS (INSERT INTO outbound_events (id, tenant_id, type, order_key, data)
                 SELECT gen_random_uuid(), $1, $2, $3, $4::jsonb WHERE EXISTS (SELECT 1 FROM ep)
                 RETURNING id)
     INSERT INTO event_deliveries (tenant_id, event_id, endpoint_id, order_key)
     SELECT $1, ev.id, ep.id, $3 FROM ev CROSS JOIN ep ORDER BY ep.id`,
    [event.tenantId, event.type, event.orderKey, JSON.stringify(event.data)],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * A one-message campaign made by POST /v1/messages (src/messages/send-single-message.ts: top
 * priority, a generated name): its caller gets the outcome in the answer, so it raises no
 * campaign or upload events (replies to it still do).
 */
const SINGLE_MESSAGE_SQL = `(c.priority = 100 AND c.name LIKE 'single message to %')`;

type CampaignRow = {
  id: string;
  tenant_id: string;
  name: string;
  status: string;
  status_code: string | null;
  status_reason: string | null;
  account_id: string;
  started_at: Date | null;
  finished_at: Date | null;
  single_message: boolean;
};

async function campaignSnapshot(client: Queryable, campaignId: string): Promise<CampaignRow | null> {
  const { rows } = await client.query<CampaignRow>(
    `SELECT id, tenant_id, name, status::text, status_code, status_reason, account_id, started_at, finished_at, ${SINGLE_MESSAGE_SQL} AS single_message
       FROM campaigns c WHERE id = $1`,
    [campaignId],
  );
  return rows[0] ?? null;
}

function campaignData(c: CampaignRow): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    statusCode: c.status_code,
    statusReason: c.status_reason,
    accountId: c.account_id,
    startedAt: c.started_at?.toISOString() ?? null,
    finishedAt: c.finished_at?.toISOString() ?? null,
  };
}

/**
 * campaign.started / paused / completed / cancelled, after the campaign row was updated in
 * this transaction. A pause carries data.reason ({code, message}) when the engine paused it, null
 * for an operator. Completion carries the final counts by status.
 */
export async function recordCampaignEvent(client: Queryable, campaignId: string, type: EventType): Promise<void> {
  const campaign = await campaignSnapshot(client, campaignId);
  if (!campaign || campaign.single_message) return;
  const data: Record<string, unknown> = { campaign: campaignData(campaign) };
  if (type === 'campaign.paused') data.reason = campaign.status_code ? { code: campaign.status_code, message: campaign.status_reason } : null;
  if (type === 'campaign.completed' || type === 'campaign.cancelled') {
    data.counts = await statusCounts(client, campaignId);
  }
  await recordEvent(client, { tenantId: campaign.tenant_id, type, orderKey: `campaign:${campaignId}`, data });
}

/** upload.completed, from the uploads row as this transaction wrote it. */
export async function recordUploadCompleted(client: Queryable, uploadId: string): Promise<void> {
  const { rows } = await client.query<{ tenant_id: string; campaign_id: string; filename: string | null; total_rows: number; accepted: number; rejected: number; duplicates: number; name: string }>(
    `SELECT u.tenant_id, u.campaign_id, u.filename, u.total_rows, u.accepted, u.rejected, u.duplicates, c.name
       FROM uploads u JOIN campaigns c ON c.id = u.campaign_id WHERE u.id = $1 AND NOT ${SINGLE_MESSAGE_SQL}`,
    [uploadId],
  );
  const u = rows[0];
  if (!u) return;
  await recordEvent(client, {
    tenantId: u.tenant_id,
    type: 'upload.completed',
    orderKey: `campaign:${u.campaign_id}`,
    data: {
      campaign: { id: u.campaign_id, name: u.name },
      upload: { id: uploadId, filename: u.filename, totalRows: u.total_rows, accepted: u.accepted, rejected: u.rejected, duplicates: u.duplicates },
    },
  });
}

/** account.limited / resumed / auth_failed / quality_changed, after the account row was updated in this transaction. */
export async function recordAccountEvent(client: Queryable, accountId: string, type: EventType, extra: Record<string, unknown> = {}): Promise<void> {
  const { rows } = await client.query<{ tenant_id: string; name: string; provider: string; status: string; status_code: string | null; status_reason: string | null; next_probe_at: Date | null }>(
    `SELECT tenant_id, name, provider::text, status::text, status_code, status_reason, next_probe_at FROM provider_accounts WHERE id = $1`,
    [accountId],
  );
  const a = rows[0];
  if (!a) return;
  await recordEvent(client, {
    tenantId: a.tenant_id,
    type,
    orderKey: `account:${accountId}`,
    data: {
      account: { id: accountId, name: a.name, provider: a.provider, status: a.status, statusCode: a.status_code, statusReason: a.status_reason, nextProbeAt: a.next_probe_at?.toISOString() ?? null },
      ...extra,
    },
  });
}

/**
 * recipient.replied / recipient.opted_out. The phone goes to the customer's own system (it is
 * their recipient); Slack text never shows it. Ordered with the campaign's other events.
 */
export async function recordRecipientEvent(
  client: Queryable,
  scope: { tenantId: string; accountId: string },
  recipient: { id: string; campaign_id: string } | null,
  type: 'recipient.replied' | 'recipient.opted_out',
  detail: { phone: string; text?: string | null; buttonPayload?: string | null; occurredAt: Date; reason?: string },
): Promise<void> {
  await recordEvent(client, {
    tenantId: scope.tenantId,
    type,
    orderKey: recipient ? `campaign:${recipient.campaign_id}` : `account:${scope.accountId}`,
    data: {
      campaign: recipient ? { id: recipient.campaign_id } : null,
      recipient: { id: recipient?.id ?? null, phone: detail.phone },
      accountId: scope.accountId,
      ...(type === 'recipient.replied' ? { text: detail.text ?? null, buttonPayload: detail.buttonPayload ?? null } : { reason: detail.reason ?? null }),
      occurredAt: detail.occurredAt.toISOString(),
    },
  });
}
