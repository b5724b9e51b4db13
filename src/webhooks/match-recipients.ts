/**
 * Which recipient a webhook event is about. In order of certainty: the provider's message id
 * (Meta wamid), the engine's own reference echoed back (multichat custom_field = recipient id),
 * the message a reply quotes (a button tap's template), and last the phone, under every form
 * WhatsApp may report it in (src/phones/wa-id-variants.ts). Every lookup is scoped to the
 * account the webhook URL belongs to.
 */
import type pg from 'pg';
import { phoneVariants } from '../phones/wa-id-variants.js';
import type { EventScope } from './apply-events.js';
import type { InboundEvent, StatusEvent } from './types.js';

export type MatchedRecipient = { id: string; campaign_id: string; status: string };

/** Recipient statuses in which a message may have gone out (a reply or a status may be about it). */
const MAY_HAVE_SENT = ['sending', 'accepted', 'sent', 'delivered', 'read', 'unknown'];

/** The recipient a status is about, when its message id matched nothing: by the engine's reference, then by phone. */
export async function findSentRecipientWithoutId(client: pg.PoolClient, scope: EventScope, event: StatusEvent): Promise<MatchedRecipient | null> {
  const byReference = await findByReference(client, scope, event.reference);
  if (byReference) return byReference;
  // A status with a message id that matches nothing yet waits for the send's response to be recorded.
  if (!scope.statusByPhone || !event.phone) return null;
  return findLatestByPhone(client, scope, event.phone, MAY_HAVE_SENT);
}

/** The recipient a status is about: by message id, then by the engine's own reference, then by phone. */
export async function findSentRecipient(client: pg.PoolClient, scope: EventScope, event: StatusEvent): Promise<MatchedRecipient | null> {
  return (await findByMessageId(client, scope, event.providerMessageId)) ?? findSentRecipientWithoutId(client, scope, event);
}

/** The recipient a reply answers: by the engine's reference, then by the message it quotes (a button tap's template), then by phone. */
export async function findRecipientForReply(client: pg.PoolClient, scope: EventScope, event: InboundEvent): Promise<MatchedRecipient | null> {
  return (
    (await findByReference(client, scope, event.reference)) ??
    (await findByMessageId(client, scope, event.inReplyTo ?? null)) ??
    findLatestByPhone(client, scope, event.phone, [...MAY_HAVE_SENT, 'failed'])
  );
}

export async function findByMessageId(client: pg.PoolClient, scope: EventScope, providerMessageId: string | null): Promise<MatchedRecipient | null> {
  if (!providerMessageId) return null;
  const [match] = await findManyByMessageId(client, [{ scope, providerMessageId }]);
  return match ?? null;
}

/**
 * The recipient of each (account, message id), in one query; null where none matches. When a
 * message id was recorded twice (a provider reusing ids), the latest recipient wins.
 */
export async function findManyByMessageId(
  client: pg.PoolClient,
  lookups: readonly { scope: EventScope; providerMessageId: string }[],
): Promise<(MatchedRecipient | null)[]> {
  if (lookups.length === 0) return [];
  // LATERAL, with no ORDER BY inside: one probe of the message id's index per lookup, whatever
  // the planner's statistics say (with thin ones it would rather hash the whole recipients
  // table, or, for an ORDER BY id LIMIT 1, walk the primary key backwards).
  const { rows } = await client.query<MatchedRecipient & { ord: string }>(
    `SELECT DISTINCT ON (e.ord) e.ord::text, m.id::text, m.campaign_id, m.status::text
       FROM unnest($1::text[], $2::uuid[], $3::uuid[]) WITH ORDINALITY AS e(message_id, tenant_id, account_id, ord)
       CROSS JOIN LATERAL (
         SELECT r.id, r.campaign_id, r.status FROM recipients r JOIN campaigns c ON c.id = r.campaign_id
          WHERE r.provider_message_id = e.message_id AND r.tenant_id = e.tenant_id AND coalesce(r.account_id, c.account_id) = e.account_id) m
      ORDER BY e.ord, m.id DESC`,
    [lookups.map((l) => l.providerMessageId), lookups.map((l) => l.scope.tenantId), lookups.map((l) => l.scope.accountId)],
  );
  const found: (MatchedRecipient | null)[] = lookups.map(() => null);
  for (const { ord, ...match } of rows) found[Number(ord) - 1] = match;
  return found;
}

async function findByReference(client: pg.PoolClient, scope: EventScope, reference: string | null): Promise<MatchedRecipient | null> {
  if (!reference || !/^\d{1,18}$/.test(reference)) return null;
  const { rows } = await client.query<MatchedRecipient>(
    `SELECT r.id::text, r.campaign_id, r.status::text FROM recipients r JOIN campaigns c ON c.id = r.campaign_id
      WHERE r.id = $1 AND r.tenant_id = $2 AND coalesce(r.account_id, c.account_id) = $3`,
    [reference, scope.tenantId, scope.accountId],
  );
  return rows[0] ?? null;
}

/** The latest message this account sent to the phone, under any of the forms WhatsApp may report it in. */
async function findLatestByPhone(client: pg.PoolClient, scope: EventScope, phone: string, statuses: readonly string[]): Promise<MatchedRecipient | null> {
  const { rows } = await client.query<MatchedRecipient>(
    `SELECT r.id::text, r.campaign_id, r.status::text FROM recipients r
      WHERE r.campaign_id IN (SELECT id FROM campaigns WHERE (account_id = $2 OR pool_id IS NOT NULL) AND tenant_id = $3)
        AND coalesce(r.account_id, (SELECT account_id FROM campaigns WHERE id = r.campaign_id)) = $2
        AND r.phone = ANY($1::text[]) AND r.status::text = ANY($4::text[])
      ORDER BY coalesce(r.sent_at, r.claimed_at) DESC NULLS LAST, r.id DESC LIMIT 1`,
    [phoneVariants(phone), scope.accountId, scope.tenantId, statuses],
  );
  return rows[0] ?? null;
}
