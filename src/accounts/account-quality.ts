/**
 * The quality guard: what a provider says about an account as a whole (quality rating, messaging
 * tier, restrictions; parsed by the provider's webhook capability) is recorded on the account,
 * inside the webhook processor's transaction.
 *
 * - Order: each notice carries the provider's time. A notice older than the latest one applied
 *   (`quality_updated_at`) is stale and changes nothing; a repeat changes nothing either, so a
 *   provider's retries and out-of-order deliveries leave the account as the newest notice says.
 * - A new tier sets the account's `messaging_limit` (null for unlimited), which the feeder reads
 *   on its next pass.
 * - Any change raises `account.quality_changed` through the outbox, in the same transaction.
 * - A drop to low quality (RED, or flagged) or a new restriction returns the account's running
 *   MARKETING campaigns, to be paused after the commit through the campaign actions with
 *   QUALITY_GUARD_LOW or QUALITY_GUARD_RESTRICTED. Utility and authentication campaigns keep going:
 *   Meta's quality rating is about unwanted marketing, and a tier cap is handled by the limit.
 * - A pool campaign is not paused for one member: the feeder gives a barred member no marketing
 *   work and hands its waiting recipients to the others (src/queue/pool-share.ts) until a notice
 *   lifts the bar. It is paused only when no member is left able to send (active, weight > 0,
 *   not barred).
 */
import { ENGINE_CODES, engineCodeSentence } from '../engine-codes.js';
import { recordAccountEvent, type Queryable } from '../events/record-events.js';
import { marketingBarredSql } from '../recipients/index.js';
import type { AccountHealthUpdate } from '../providers/types.js';

export type AccountHealth = {
  qualityRating: string | null;
  flagged: boolean;
  tier: string | null;
  messagingLimit: number | null;
  restriction: { code: string; until: Date | null } | null;
  updatedAt: Date | null;
};

export type QualityPause = { campaignId: string; code: string; message: string };

type Row = {
  quality_rating: string | null;
  quality_flagged: boolean;
  messaging_tier: string | null;
  messaging_limit: number | null;
  restriction_code: string | null;
  restriction_until: Date | null;
  quality_updated_at: Date | null;
};

function healthOf(row: Row): AccountHealth {
  return {
    qualityRating: row.quality_rating,
    flagged: row.quality_flagged,
    tier: row.messaging_tier,
    messagingLimit: row.messaging_limit,
    restriction: row.restriction_code ? { code: row.restriction_code, until: row.restriction_until } : null,
    updatedAt: row.quality_updated_at,
  };
}

/** Low quality as the guard reads it: RED, or flagged by the provider (in SQL, with a restriction: marketingBarredSql). */
export function isLowQuality(health: Pick<AccountHealth, 'qualityRating' | 'flagged'>): boolean {
  return health.flagged || health.qualityRating === 'RED';
}

/** The account's health after one notice (pure). Fields the notice does not mention stay. */
export function nextHealth(current: AccountHealth, update: AccountHealthUpdate): AccountHealth {
  return {
    qualityRating: update.qualityRating === undefined ? current.qualityRating : update.qualityRating,
    flagged: update.flagged ?? current.flagged,
    tier: update.tier ? update.tier.name : current.tier,
    messagingLimit: update.tier ? update.tier.messagingLimit : current.messagingLimit,
    restriction: update.restriction === undefined ? current.restriction : update.restriction,
    updatedAt: update.occurredAt,
  };
}

function sameHealth(a: AccountHealth, b: AccountHealth): boolean {
  return (
    a.qualityRating === b.qualityRating &&
    a.flagged === b.flagged &&
    a.tier === b.tier &&
    a.messagingLimit === b.messagingLimit &&
    a.restriction?.code === b.restriction?.code &&
    a.restriction?.until?.getTime() === b.restriction?.until?.getTime()
  );
}

export function healthJson(h: AccountHealth): Record<string, unknown> {
  return {
    qualityRating: h.qualityRating,
    flagged: h.flagged,
    tier: h.tier,
    messagingLimit: h.messagingLimit,
    restriction: h.restriction ? { code: h.restriction.code, until: h.restriction.until?.toISOString() ?? null } : null,
    updatedAt: h.updatedAt?.toISOString() ?? null,
  };
}

/**
 * Applies the notices in the provider's time order. Returns the running marketing campaigns to
 * pause (empty unless quality dropped to low or a restriction began).
 */
export async function applyAccountHealth(client: Queryable, accountId: string, updates: readonly AccountHealthUpdate[]): Promise<QualityPause[]> {
  const { rows } = await client.query<Row>(
    `SELECT quality_rating, quality_flagged, messaging_tier, messaging_limit, restriction_code, restriction_until, quality_updated_at
       FROM provider_accounts WHERE id = $1 FOR UPDATE`,
    [accountId],
  );
  const row = rows[0];
  if (!row) return [];
  const before = healthOf(row);
  let health = before;
  const events: string[] = [];
  for (const update of [...updates].sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime())) {
    if (health.updatedAt && update.occurredAt < health.updatedAt) continue;
    const next = nextHealth(health, update);
    if (!sameHealth(next, health)) events.push(update.event);
    health = next;
  }
  if (health.updatedAt?.getTime() === before.updatedAt?.getTime() && events.length === 0) return [];
  await client.query(
    `UPDATE provider_accounts SET quality_rating = $2, quality_flagged = $3, messaging_tier = $4, messaging_limit = $5,
            restriction_code = $6, restriction_until = $7, quality_updated_at = $8, updated_at = now()
      WHERE id = $1`,
    [accountId, health.qualityRating, health.flagged, health.tier, health.messagingLimit, health.restriction?.code ?? null, health.restriction?.until ?? null, health.updatedAt],
  );
  if (events.length === 0) return [];
  const droppedToLow = isLowQuality(health) && !isLowQuality(before);
  const restricted = health.restriction !== null && before.restriction?.code !== health.restriction.code;
  const pauses = droppedToLow || restricted ? await marketingToPause(client, accountId, restricted ? health.restriction?.code ?? '' : null) : [];
  await recordAccountEvent(client, accountId, 'account.quality_changed', {
    quality: healthJson(health),
    previous: healthJson(before),
    providerEvents: events,
    // Barred: the account sends no marketing now (a pool gives its share to the others).
    barsMarketing: isLowQuality(health) || health.restriction !== null,
    // Paused: the campaigns this notice stopped, those with no other account to send them.
    pausesMarketing: pauses.length > 0,
    pausedCampaigns: pauses.map((p) => p.campaignId),
  });
  return pauses;
}

/**
 * The running marketing campaigns a drop to low quality (`restriction` null) or a restriction
 * stops: the account's own, and its pools' where no other member may still send marketing.
 */
async function marketingToPause(client: Queryable, accountId: string, restriction: string | null): Promise<QualityPause[]> {
  const code = restriction !== null ? ENGINE_CODES.QUALITY_GUARD_RESTRICTED : ENGINE_CODES.QUALITY_GUARD_LOW;
  const detail = restriction !== null ? ` (${restriction})` : '';
  const { rows: campaigns } = await client.query<{ id: string }>(
    `SELECT c.id FROM campaigns c JOIN templates t ON t.id = c.template_id
      WHERE c.status = 'running' AND t.category = 'MARKETING'
        AND ((c.pool_id IS NULL AND c.account_id = $1)
          OR (c.pool_id IN (SELECT pool_id FROM sender_pool_members WHERE account_id = $1)
              AND NOT EXISTS (SELECT 1 FROM sender_pool_members m JOIN provider_accounts a ON a.id = m.account_id
                               WHERE m.pool_id = c.pool_id AND m.weight > 0 AND a.status = 'active' AND NOT ${marketingBarredSql('a')})))
      ORDER BY c.id`,
    [accountId],
  );
  return campaigns.map((c) => ({ campaignId: c.id, code, message: `${engineCodeSentence(code)}${detail}` }));
}
