/**
 * Delivery statuses (sent, delivered, read) of many events at once: the bulk of webhook traffic,
 * so they are matched in one query and written in one statement, whatever their number.
 *
 * Forward only, in SQL: per recipient the highest status of the group wins if it ranks above the
 * recipient's own; times are first-wins (the earliest of the group when the recipient has none).
 * So the result does not depend on the order of the events within the group, which is why the
 * caller may gather consecutive delivery statuses of several requests into one group. Every
 * event also gets its history row (dedupe key: message id and status, so a repeat adds nothing).
 */
import type pg from 'pg';
import { recordDeliveryStatuses } from '../recipients/index.js';
import type { EventScope } from './apply-events.js';
import { findManyByMessageId, findSentRecipientWithoutId, type MatchedRecipient } from './match-recipients.js';
import type { StatusEvent } from './types.js';

export type DeliveryStatus = { scope: EventScope; event: StatusEvent };

/** Recipient statuses a delivery status can follow: the send's response has been recorded. */
export const SENT_STATES: readonly string[] = ['accepted', 'sent', 'delivered', 'read', 'failed', 'unknown', 'deferred'];

/**
 * One history row per (message, status): a provider's retry of the same event is the same row,
 * while a later send to the same recipient (a new message id after a 24 h deferral) gets its own.
 */
export function statusKey(event: StatusEvent): string {
  return `wh:${event.providerMessageId ?? ''}:${event.status}`;
}

/**
 * Applies `items` (statuses other than `failed`); returns, for each, whether it must wait: no
 * recipient matches yet, or the matching send's response is not recorded (still `sending`).
 */
export async function applyDeliveryStatuses(client: pg.PoolClient, items: readonly DeliveryStatus[]): Promise<boolean[]> {
  const recipients = await matchAll(client, items);
  const writes: { item: DeliveryStatus; recipient: MatchedRecipient }[] = [];
  const waiting = items.map((item, i) => {
    const recipient = recipients[i];
    if (!recipient || !SENT_STATES.includes(recipient.status)) return true;
    writes.push({ item, recipient });
    return false;
  });
  if (writes.length > 0) await writeAll(client, writes);
  return waiting;
}

async function matchAll(client: pg.PoolClient, items: readonly DeliveryStatus[]): Promise<(MatchedRecipient | null)[]> {
  const withId = items.flatMap((item, i) => (item.event.providerMessageId ? [{ i, scope: item.scope, providerMessageId: item.event.providerMessageId }] : []));
  const byId = await findManyByMessageId(client, withId);
  const matched: (MatchedRecipient | null)[] = items.map(() => null);
  withId.forEach((lookup, j) => (matched[lookup.i] = byId[j] ?? null));
  // Providers with no id (or an id the send did not record): reference, then phone, one by one.
  for (const [i, item] of items.entries()) {
    matched[i] ??= await findSentRecipientWithoutId(client, item.scope, item.event);
  }
  return matched;
}

async function writeAll(client: pg.PoolClient, writes: readonly { item: DeliveryStatus; recipient: MatchedRecipient }[]): Promise<void> {
  await recordDeliveryStatuses(
    client,
    writes.map((w) => ({
      recipientId: w.recipient.id,
      tenantId: w.item.scope.tenantId,
      campaignId: w.recipient.campaign_id,
      status: w.item.event.status,
      occurredAt: w.item.event.occurredAt,
      dedupeKey: statusKey(w.item.event),
    })),
  );
}
