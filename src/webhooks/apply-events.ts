/**
 * Applies parsed webhook events to the engine's records, inside the processor's transaction.
 *
 * - Idempotent: a provider's retry of the same event changes nothing. Statuses only move
 *   forward, timestamps are first-wins, history rows carry a dedupe key, and inbound messages
 *   are unique per (account, provider message id). Effects of a failure (suppression, pausing)
 *   happen only when the failure changed the recipient.
 * - Order-safe: `read` without `delivered` is fine; `delivered` after `read` is a no-op.
 * - Early events: a status for a send whose response is not recorded yet (no recipient carries
 *   the message id, or the recipient is still `sending`) is reported as `waiting`, and the
 *   processor tries the whole request again later.
 * - Batched: consecutive delivery statuses, across the requests of a batch, are applied together
 *   (./apply-delivery-statuses.ts); a failure or an inbound message is applied on its own, after
 *   the delivery statuses that came before it, so arrival order is kept where it matters.
 *
 * Effects beyond this account's rows (pausing a campaign on a template failure, stopping the
 * account) are returned, to run after the transaction commits.
 */
import { addSuppressions, type SuppressionReason } from '../suppressions/suppression-list.js';
import { recordProviderOptOut, recordReply as recordReplyEvent } from '../events/hooks.js';
import type pg from 'pg';
import { phoneVariants } from '../phones/wa-id-variants.js';
import type { SendOutcome } from '../providers/types.js';
import { ENGINE_CODES } from '../engine-codes.js';
import { recordProviderFailure, recordReply } from '../recipients/index.js';
import { applyDeliveryStatuses, SENT_STATES, statusKey, type DeliveryStatus } from './apply-delivery-statuses.js';
import { findRecipientForReply, findSentRecipient } from './match-recipients.js';
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
  | { kind: 'pause_campaign'; campaignId: string; outcome: Pick<SendOutcome, 'code' | 'message' | 'providerText'> }
  | { kind: 'stop_account'; accountId: string; outcome: SendOutcome };

export type ApplyResult = { waiting: boolean; followUps: FollowUp[] };

export type EventRequest = { scope: EventScope; events: readonly WebhookItem[] };

const DEFER_MS = 24 * 3_600_000;

/** One stored request's events. */
export async function applyEvents(client: pg.PoolClient, scope: EventScope, events: readonly WebhookItem[]): Promise<ApplyResult> {
  const [result] = await applyRequests(client, [{ scope, events }]);
  return result ?? { waiting: false, followUps: [] };
}

/** The events of several stored requests, in order; one result per request. */
export async function applyRequests(client: pg.PoolClient, requests: readonly EventRequest[]): Promise<ApplyResult[]> {
  const results: ApplyResult[] = requests.map(() => ({ waiting: false, followUps: [] }));
  let group: (DeliveryStatus & { request: number })[] = [];
  const flush = async () => {
    if (group.length === 0) return;
    const waiting = await applyDeliveryStatuses(client, group);
    group.forEach((item, i) => {
      const result = results[item.request];
      if (waiting[i] && result) result.waiting = true;
    });
    group = [];
  };
  for (const [request, { scope, events }] of requests.entries()) {
    const result = results[request] as ApplyResult;
    for (const event of events) {
      if (event.type === 'status' && event.status !== 'failed') {
        group.push({ request, scope, event });
        continue;
      }
      await flush();
      if (event.type === 'inbound') {
        await applyInbound(client, scope, event);
        continue;
      }
      const outcome = await applyFailure(client, scope, event);
      if (outcome === 'waiting') result.waiting = true;
      else if (outcome) result.followUps.push(outcome);
    }
  }
  await flush();
  return results;
}

/** A `failed` status: the recipient fails (or is deferred, for a per-user cap), with what that implies. */
async function applyFailure(client: pg.PoolClient, scope: EventScope, event: StatusEvent): Promise<FollowUp | 'waiting' | null> {
  const recipient = await findSentRecipient(client, scope, event);
  // The send's own response is not recorded yet (or the message is not one of ours yet): later.
  if (!recipient || !SENT_STATES.includes(recipient.status)) return 'waiting';

  const failure = event.failure;
  const write = {
    recipientId: recipient.id,
    tenantId: scope.tenantId,
    campaignId: recipient.campaign_id,
    occurredAt: event.occurredAt,
    dedupeKey: statusKey(event),
    errorCode: failure?.code ?? ENGINE_CODES.PROVIDER_REPORTED_FAILURE,
    providerCode: failure?.providerCode ?? null,
    providerText: failure?.providerText ?? failure?.message ?? null,
    detail: failure?.providerText ?? null,
  };
  if (failure?.kind === 'deferred') {
    // A per-user cap (Meta 131049): the message was not delivered and may be sent again later.
    const deferred = await recordProviderFailure(client, { ...write, deferUntil: new Date(event.occurredAt.getTime() + (failure.retryAfterMs ?? DEFER_MS)) });
    // A campaign that completed meanwhile opens again, so the feeder picks the recipient up.
    if (deferred) {
      await client.query(
        `UPDATE campaigns SET status = 'running', finished_at = NULL, updated_at = now() WHERE id = $1 AND status = 'completed'`,
        [recipient.campaign_id],
      );
    }
    return null;
  }

  const failed = await recordProviderFailure(client, { ...write, optedOut: failure?.kind === 'opted_out' });
  // A repeat (a provider retry, or a waiting request applied again) changed nothing, and must
  // not act again: the operator may have resumed the campaign or the account since.
  if (!failed) return null;
  if (failure?.kind === 'opted_out') await suppress(client, scope.tenantId, [await phoneOf(client, recipient.id)], 'PROVIDER_OPTED_OUT', failure.providerText ?? failure.message);
  if (failure?.kind === 'opted_out') await recordProviderOptOut(client, scope, recipient, event.occurredAt);
  if (failure?.kind === 'template_error') return { kind: 'pause_campaign', campaignId: recipient.campaign_id, outcome: failure };
  if (failure?.kind === 'account_limited' || failure?.kind === 'account_error') return { kind: 'stop_account', accountId: scope.accountId, outcome: failure };
  return null;
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
  await recordReplyEvent(client, scope, recipient, event, optOut);
  if (recipient) {
    const said = event.buttonPayload ? `button: ${event.buttonPayload}` : (event.text ?? '');
    await recordReply(client, {
      recipientId: recipient.id,
      tenantId: scope.tenantId,
      campaignId: recipient.campaign_id,
      occurredAt: event.occurredAt,
      providerMessageId: event.providerMessageId,
      said,
      optOut,
    });
  }
  if (optOut) {
    // Every form WhatsApp may give this user's number (wa_id 521... is +52... in E.164), and the
    // number the engine sent to: the suppression list is checked against E.164 as ingested.
    const phones = recipient ? [await phoneOf(client, recipient.id), ...phoneVariants(event.phone)] : phoneVariants(event.phone);
    await suppress(client, scope.tenantId, phones, 'OPT_OUT_REPLY', (event.text ?? event.buttonPayload ?? '').slice(0, 500));
  }
}

async function phoneOf(client: pg.PoolClient, recipientId: string): Promise<string> {
  const { rows } = await client.query<{ phone: string }>(`SELECT phone FROM recipients WHERE id = $1`, [recipientId]);
  return rows[0]?.phone ?? '';
}

async function suppress(client: pg.PoolClient, tenantId: string, phones: readonly string[], reason: SuppressionReason, detail: string): Promise<void> {
  const distinct = [...new Set(phones.filter((phone) => phone !== ''))];
  if (distinct.length === 0) return;
  await addSuppressions(client, tenantId, distinct.map((phone) => ({ phone, reason, detail: detail || null })));
}
