/**
 * The one-line calls the engine's state changes make into the outbox. They live here, not in
 * the callers, so the files that change state stay about their own concern.
 */
import type pg from 'pg';
import type { EventType } from './catalog.js';
import { recordCampaignEvent, recordRecipientEvent, type Queryable } from './record-events.js';

const CAMPAIGN_ACTION_EVENTS: Record<string, EventType | undefined> = {
  start: 'campaign.started',
  pause: 'campaign.paused',
  resume: 'campaign.resumed',
  cancel: 'campaign.cancelled',
};

/** After a campaign action's UPDATE, in its transaction (src/campaigns/campaign-actions.ts). */
export async function recordCampaignAction(client: Queryable, campaignId: string, action: string): Promise<void> {
  const type = CAMPAIGN_ACTION_EVENTS[action];
  if (type) await recordCampaignEvent(client, campaignId, type);
}

/**
 * A single-statement change that must raise events: runs the statement and `after` (which
 * records the events its rows imply) in one transaction.
 */
export async function queryWithEvents<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  sql: string,
  params: unknown[],
  after: (client: pg.PoolClient, result: pg.QueryResult<R>) => Promise<unknown>,
): Promise<pg.QueryResult<R>> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await client.query<R>(sql, params);
    await after(client, result);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** campaign.completed for each campaign the feeder just completed. */
export async function recordCompleted(client: Queryable, rows: readonly { id: string }[]): Promise<void> {
  for (const { id } of rows) await recordCampaignEvent(client, id, 'campaign.completed');
}

/** A reply stored by the webhook processor (src/webhooks/apply-events.ts), in its transaction. */
export async function recordReply(
  client: Queryable,
  scope: { tenantId: string; accountId: string },
  recipient: { id: string; campaign_id: string } | null,
  event: { phone: string; text?: string | null; buttonPayload?: string | null; occurredAt: Date },
  optOut: boolean,
): Promise<void> {
  const detail = { phone: event.phone, text: event.text ?? null, buttonPayload: event.buttonPayload ?? null, occurredAt: event.occurredAt };
  await recordRecipientEvent(client, scope, recipient, 'recipient.replied', detail);
  if (optOut) await recordRecipientEvent(client, scope, recipient, 'recipient.opted_out', { ...detail, reason: 'OPT_OUT_REPLY' });
}

/** The provider reported that the recipient stopped marketing messages (a failed status with an opt-out code). */
export async function recordProviderOptOut(client: Queryable, scope: { tenantId: string; accountId: string }, recipient: { id: string; campaign_id: string }, occurredAt: Date): Promise<void> {
  const { rows } = await client.query<{ phone: string }>(`SELECT phone FROM recipients WHERE id = $1`, [recipient.id]);
  await recordRecipientEvent(client, scope, recipient, 'recipient.opted_out', { phone: rows[0]?.phone ?? '', occurredAt, reason: 'PROVIDER_OPTED_OUT' });
}
