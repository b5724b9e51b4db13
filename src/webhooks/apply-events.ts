/**
 * Applies parsed webhook events to the engine's records, inside the processor's transaction.
 *
 * - Idempotent: a provider's retry of the same event changes nothing. Statuses only move
 *   forward, timestamps are first-wins, history rows carry a dedupe key, and inbound messages
 *   are unique per (account, provider message id).
 * - Order-safe: `read` without `delivered` is fine; `delivered` after `read` is a no-op.
 * - Early events: a status for a send whose response is not recorded yet (no recipient carries
 *   the message id, or the recipient is still `sending`) is reported as `waiting`, and the
 *   processor tries the whole request again later.
 *
 * Effects beyond this account's rows (pausing a campaign on a template failure, stopping the
 * account) are returned, to run after the transaction commits.
 */
import type pg from 'pg';
import { phoneVariants } from '../phones/wa-id-variants.js';
import type { SendOutcome } from '../providers/types.js';
import { isStopReply } from './stop-words.js';
import type { InboundEvent, StatusEvent, WebhookItem } from './types.js';

export type EventScope = {
  tenantId: string;
  accountId: string;
  webhookEventId: string;
  stopWords: readonly string[];
  /**
   * Whether a status may be matched by phone when its message id matches nothing: yes for
   * providers whose send response may carry no id (multichat, Optiwe); never for Meta, whose
   * statuses also cover messages the engine did not send (an agent's chat on the same number).
   */
  statusByPhone: boolean;
};

/** Something to do once the transaction has committed. */
export type FollowUp =
  | { kind: 'pause_campaign'; campaignId: string; outcome: SendOutcome }
  | { kind: 'stop_account'; accountId: string; outcome: SendOutcome };

export type ApplyResult = { waiting: boolean; followUps: FollowUp[] };

type MatchedRecipient = { id: string; campaign_id: string; status: string };

/** Recipient statuses a delivery status can follow: the send's response has been recorded. */
const SENT_STATES = ['accepted', 'sent', 'delivered', 'read', 'failed', 'unknown', 'deferred'];
const RANK_SQL = `CASE $S WHEN 'accepted' THEN 1 WHEN 'sent' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 ELSE 0 END`;
const DEFER_MS = 24 * 3_600_000;

export async function applyEvents(client: pg.PoolClient, scope: EventScope, events: readonly WebhookItem[]): Promise<ApplyResult> {
  let waiting = false;
  const followUps: FollowUp[] = [];
  for (const event of events) {
    if (event.type === 'status') {
      const result = await applyStatus(client, scope, event);
      if (result === 'waiting') waiting = true;
      else if (result) followUps.push(result);
    } else {
      await applyInbound(client, scope, event);
    }
  }
  return { waiting, followUps };
}

async function applyStatus(client: pg.PoolClient, scope: EventScope, event: StatusEvent): Promise<FollowUp | 'waiting' | null> {
  const recipient = await findSentRecipient(client, scope, event);
  // The send's own response is not recorded yet (or the message is not one of ours yet): later.
  if (!recipient || !SENT_STATES.includes(recipient.status)) return 'waiting';

  const failure = event.status === 'failed' ? event.failure : undefined;
  if (failure?.kind === 'deferred') {
    // A per-user cap (Meta 131049): the message was not delivered and may be sent again later.
    const deferred = await client.query(
      `UPDATE recipients SET status = 'deferred', not_before = $2, error_code = $3, provider_error_code = $4, provider_error_text = $5, updated_at = now()
        WHERE id = $1 AND status IN ('accepted', 'sent', 'unknown')`,
      [recipient.id, new Date(event.occurredAt.getTime() + (failure.retryAfterMs ?? DEFER_MS)), failure.code, failure.providerCode ?? null, failure.providerText ?? failure.message],
    );
    // A campaign that completed meanwhile opens again, so the feeder picks the recipient up.
    if (deferred.rowCount) {
      await client.query(
        `UPDATE campaigns SET status = 'running', finished_at = NULL, updated_at = now() WHERE id = $1 AND status = 'completed'`,
        [recipient.campaign_id],
      );
    }
    await addHistory(client, scope, recipient, 'deferred', event.occurredAt, statusKey(event), failure);
    return null;
  }

  if (event.status === 'failed') {
    const failed = await client.query(
      `UPDATE recipients SET status = 'failed', failed_at = coalesce(failed_at, $2), error_code = $3, provider_error_code = $4, provider_error_text = $5,
              opted_out_at = CASE WHEN $6 THEN coalesce(opted_out_at, $2) ELSE opted_out_at END, updated_at = now()
        WHERE id = $1 AND status IN ('accepted', 'sent', 'unknown')`,
      [
        recipient.id,
        event.occurredAt,
        failure?.code ?? 'PROVIDER_REPORTED_FAILURE',
        failure?.providerCode ?? null,
        (failure?.providerText ?? failure?.message ?? null)?.slice(0, 1000) ?? null,
        failure?.kind === 'opted_out',
      ],
    );
    await addHistory(client, scope, recipient, 'failed', event.occurredAt, statusKey(event), failure);
    // A repeat (a provider retry, or a waiting request applied again) changed nothing, and must
    // not act again: the operator may have resumed the campaign or the account since.
    if (!failed.rowCount) return null;
    if (failure?.kind === 'opted_out') await suppress(client, scope.tenantId, [await phoneOf(client, recipient.id)], 'PROVIDER_OPTED_OUT', failure.providerText ?? failure.message);
    if (failure?.kind === 'template_error') return { kind: 'pause_campaign', campaignId: recipient.campaign_id, outcome: failure };
    if (failure?.kind === 'account_limited' || failure?.kind === 'account_error') return { kind: 'stop_account', accountId: scope.accountId, outcome: failure };
    return null;
  }

  // Forward only: the status moves when the event ranks higher; timestamps are first-wins.
  await client.query(
    `UPDATE recipients SET
        status = CASE WHEN ${RANK_SQL.replaceAll('$S', '$2')} > ${RANK_SQL.replaceAll('$S', 'status::text')} THEN $2::recipient_status ELSE status END,
        sent_at = coalesce(sent_at, $3),
        delivered_at = CASE WHEN $2 = 'delivered' THEN coalesce(delivered_at, $3) ELSE delivered_at END,
        read_at = CASE WHEN $2 = 'read' THEN coalesce(read_at, $3) ELSE read_at END,
        error_code = CASE WHEN status = 'unknown' THEN NULL ELSE error_code END,
        updated_at = now()
      WHERE id = $1 AND status IN ('accepted', 'sent', 'delivered', 'read', 'unknown')`,
    [recipient.id, event.status, event.occurredAt],
  );
  await addHistory(client, scope, recipient, event.status, event.occurredAt, statusKey(event));
  return null;
}

/**
 * One history row per (message, status): a provider's retry of the same event is the same row,
 * while a later send to the same recipient (a new message id after a 24 h deferral) gets its own.
 */
function statusKey(event: StatusEvent): string {
  return `wh:${event.providerMessageId ?? ''}:${event.status}`;
}

async function applyInbound(client: pg.PoolClient, scope: EventScope, event: InboundEvent): Promise<void> {
  const recipient = await findRecipientForReply(client, scope, event);
  const optOut = isStopReply(event.text, scope.stopWords) || isStopReply(event.buttonPayload, scope.stopWords);
  const inserted = await client.query(
    `INSERT INTO inbound_messages (id, tenant_id, account_id, webhook_event_id, provider_message_id, phone, recipient_id, campaign_id, text, button_payload, opt_out, received_at)
     VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (account_id, provider_message_id) DO NOTHING`,
    [
      scope.tenantId,
      scope.accountId,
      scope.webhookEventId,
      event.providerMessageId,
      event.phone,
      recipient?.id ?? null,
      recipient?.campaign_id ?? null,
      event.text?.slice(0, 4096) ?? null,
      event.buttonPayload?.slice(0, 1024) ?? null,
      optOut,
      event.occurredAt,
    ],
  );
  // Seen before: a provider retry.
  if (!inserted.rowCount) return;
  if (recipient) {
    await client.query(
      `UPDATE recipients SET replied_at = coalesce(replied_at, $2),
              opted_out_at = CASE WHEN $3 THEN coalesce(opted_out_at, $2) ELSE opted_out_at END, updated_at = now()
        WHERE id = $1`,
      [recipient.id, event.occurredAt, optOut],
    );
    const said = event.buttonPayload ? `button: ${event.buttonPayload}` : (event.text ?? '');
    await addHistory(client, scope, recipient, 'replied', event.occurredAt, `in:${event.providerMessageId}`, undefined, said.slice(0, 500));
    if (optOut) await addHistory(client, scope, recipient, 'opted_out', event.occurredAt, 'opted_out', undefined, said.slice(0, 500));
  }
  if (optOut) {
    // Every form WhatsApp may give this user's number (wa_id 521... is +52... in E.164), and the
    // number the engine sent to: the suppression list is checked against E.164 as ingested.
    const phones = recipient ? [await phoneOf(client, recipient.id), ...phoneVariants(event.phone)] : phoneVariants(event.phone);
    await suppress(client, scope.tenantId, phones, 'OPT_OUT_REPLY', (event.text ?? event.buttonPayload ?? '').slice(0, 500));
  }
}

/** The recipient a status is about: by message id, then by the engine's own reference, then by phone. */
async function findSentRecipient(client: pg.PoolClient, scope: EventScope, event: StatusEvent): Promise<MatchedRecipient | null> {
  const byMessageId = await findByMessageId(client, scope, event.providerMessageId);
  if (byMessageId) return byMessageId;
  const byReference = await findByReference(client, scope, event.reference);
  if (byReference) return byReference;
  // A status with a message id that matches nothing yet waits for the send's response to be recorded.
  if (!scope.statusByPhone || !event.phone) return null;
  return findLatestByPhone(client, scope, event.phone, ['sending', 'accepted', 'sent', 'delivered', 'read', 'unknown']);
}

/** The recipient a reply answers: by the engine's reference, then by the message it quotes (a button tap's template), then by phone. */
async function findRecipientForReply(client: pg.PoolClient, scope: EventScope, event: InboundEvent): Promise<MatchedRecipient | null> {
  return (
    (await findByReference(client, scope, event.reference)) ??
    (await findByMessageId(client, scope, event.inReplyTo ?? null)) ??
    findLatestByPhone(client, scope, event.phone, ['sending', 'accepted', 'sent', 'delivered', 'read', 'unknown', 'failed'])
  );
}

async function findByMessageId(client: pg.PoolClient, scope: EventScope, providerMessageId: string | null): Promise<MatchedRecipient | null> {
  if (!providerMessageId) return null;
  const { rows } = await client.query<MatchedRecipient>(
    `SELECT r.id::text, r.campaign_id, r.status::text FROM recipients r JOIN campaigns c ON c.id = r.campaign_id
      WHERE r.provider_message_id = $1 AND r.tenant_id = $2 AND c.account_id = $3
      ORDER BY r.id DESC LIMIT 1`,
    [providerMessageId, scope.tenantId, scope.accountId],
  );
  return rows[0] ?? null;
}

async function findByReference(client: pg.PoolClient, scope: EventScope, reference: string | null): Promise<MatchedRecipient | null> {
  if (!reference || !/^\d{1,18}$/.test(reference)) return null;
  const { rows } = await client.query<MatchedRecipient>(
    `SELECT r.id::text, r.campaign_id, r.status::text FROM recipients r JOIN campaigns c ON c.id = r.campaign_id
      WHERE r.id = $1 AND r.tenant_id = $2 AND c.account_id = $3`,
    [reference, scope.tenantId, scope.accountId],
  );
  return rows[0] ?? null;
}

/** The latest message this account sent to the phone, under any of the forms WhatsApp may report it in. */
async function findLatestByPhone(client: pg.PoolClient, scope: EventScope, phone: string, statuses: readonly string[]): Promise<MatchedRecipient | null> {
  const { rows } = await client.query<MatchedRecipient>(
    `SELECT r.id::text, r.campaign_id, r.status::text FROM recipients r
      WHERE r.campaign_id IN (SELECT id FROM campaigns WHERE account_id = $2 AND tenant_id = $3)
        AND r.phone = ANY($1::text[]) AND r.status::text = ANY($4::text[])
      ORDER BY coalesce(r.sent_at, r.claimed_at) DESC NULLS LAST, r.id DESC LIMIT 1`,
    [phoneVariants(phone), scope.accountId, scope.tenantId, statuses],
  );
  return rows[0] ?? null;
}

async function phoneOf(client: pg.PoolClient, recipientId: string): Promise<string> {
  const { rows } = await client.query<{ phone: string }>(`SELECT phone FROM recipients WHERE id = $1`, [recipientId]);
  return rows[0]?.phone ?? '';
}

async function suppress(client: pg.PoolClient, tenantId: string, phones: readonly string[], reason: string, detail: string): Promise<void> {
  const distinct = [...new Set(phones.filter((phone) => phone !== ''))];
  if (distinct.length === 0) return;
  await client.query(
    `INSERT INTO suppressions (tenant_id, phone, reason, detail) SELECT $1, p, $3, $4 FROM unnest($2::text[]) AS p ON CONFLICT (tenant_id, phone) DO NOTHING`,
    [tenantId, distinct, reason, detail || null],
  );
}

async function addHistory(
  client: pg.PoolClient,
  scope: EventScope,
  recipient: MatchedRecipient,
  status: string,
  occurredAt: Date,
  dedupeKey: string,
  failure?: SendOutcome,
  detail?: string,
): Promise<void> {
  await client.query(
    `INSERT INTO recipient_events (tenant_id, campaign_id, recipient_id, status, source, occurred_at, error_code, provider_code, detail, dedupe_key)
     VALUES ($1, $2, $3, $4, 'webhook', $5, $6, $7, $8, $9)
     ON CONFLICT (recipient_id, dedupe_key) DO NOTHING`,
    [scope.tenantId, recipient.campaign_id, recipient.id, status, occurredAt, failure?.code ?? null, failure?.providerCode ?? null, detail ?? failure?.providerText ?? null, dedupeKey],
  );
}
