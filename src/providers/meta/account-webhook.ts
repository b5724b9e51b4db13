/**
 * Meta's account-level webhook fields, read into AccountHealthUpdate. Pure.
 *
 * - `phone_number_quality_update`: `{display_phone_number, event, current_limit, old_limit?,
 *   max_daily_conversations_per_business?}`. `event` FLAGGED means Meta marked the number's
 *   quality Low (read as RED); UNFLAGGED means it is no longer Low (Meta does not say whether it
 *   is now Medium or High: the rating is recorded as unknown, null). DOWNGRADE, UPGRADE,
 *   THROUGHPUT_UPGRADE, ONBOARDING carry a tier. The tier is read from
 *   `max_daily_conversations_per_business` when present (Meta's replacement), else
 *   `current_limit`: TIER_50 ... TIER_100K, TIER_UNLIMITED; TIER_NOT_SET changes nothing.
 *   A `quality_rating` of GREEN / YELLOW / RED, where a body carries one, is taken as said.
 * - `account_update`: ACCOUNT_RESTRICTION with `restriction_info[]` (a restriction other than
 *   RESTRICTED_ADD_PHONE_NUMBER_ACTION stops business-initiated sends; an empty list lifts it),
 *   DISABLED_UPDATE with `ban_info.waba_ban_state` (DISABLE and SCHEDULE_FOR_DISABLE restrict,
 *   REINSTATE lifts), ACCOUNT_DELETED. Other account events change nothing the engine acts on.
 *
 * The notice's time is the entry's `time` (unix seconds), falling back to the receive time.
 */
import { z } from 'zod';
import { QUALITY_RATINGS, type AccountHealthUpdate } from '../types.js';

export const META_ACCOUNT_FIELDS = ['phone_number_quality_update', 'account_update'] as const;

const TIERS: Record<string, number | null> = {
  TIER_50: 50,
  TIER_250: 250,
  TIER_1K: 1_000,
  TIER_2K: 2_000,
  TIER_10K: 10_000,
  TIER_100K: 100_000,
  TIER_UNLIMITED: null,
};

/** Restrictions that do not stop the engine's sends. */
const HARMLESS_RESTRICTIONS = new Set(['RESTRICTED_ADD_PHONE_NUMBER_ACTION', 'RESTRICTED_CUSTOMER_INITIATED_MESSAGING']);

const qualitySchema = z.object({
  event: z.string(),
  current_limit: z.string().optional(),
  max_daily_conversations_per_business: z.string().optional(),
  quality_rating: z.string().optional(),
});

const accountSchema = z.object({
  event: z.string(),
  restriction_info: z.array(z.object({ restriction_type: z.string().optional(), expiration: z.union([z.string(), z.number()]).optional() })).optional(),
  ban_info: z.object({ waba_ban_state: z.string().optional() }).optional(),
});

/** A Meta tier name's messaging limit: a number, null for unlimited, undefined when unknown or not set. */
export function metaTierLimit(name: string): number | null | undefined {
  return name in TIERS ? TIERS[name] : undefined;
}

/** The update one change carries, or null when it says nothing the engine records. Throws a zod error for a malformed value. */
export function parseMetaAccountChange(field: string, value: unknown, occurredAt: Date): AccountHealthUpdate | null {
  if (field === 'phone_number_quality_update') {
    const v = qualitySchema.parse(value);
    const update: AccountHealthUpdate = { event: v.event, occurredAt };
    if (v.event === 'FLAGGED') Object.assign(update, { flagged: true, qualityRating: 'RED' });
    if (v.event === 'UNFLAGGED') Object.assign(update, { flagged: false, qualityRating: null });
    const rating = v.quality_rating?.toUpperCase();
    if (rating && (QUALITY_RATINGS as readonly string[]).includes(rating)) update.qualityRating = rating as AccountHealthUpdate['qualityRating'];
    const tierName = [v.max_daily_conversations_per_business, v.current_limit].find((t) => t !== undefined && metaTierLimit(t) !== undefined);
    if (tierName) update.tier = { name: tierName, messagingLimit: metaTierLimit(tierName) ?? null };
    return Object.keys(update).length > 2 ? update : null;
  }
  if (field === 'account_update') {
    const v = accountSchema.parse(value);
    if (v.event === 'ACCOUNT_RESTRICTION') {
      const stopping = (v.restriction_info ?? []).find((r) => !HARMLESS_RESTRICTIONS.has(r.restriction_type ?? ''));
      return { event: v.event, occurredAt, restriction: stopping ? { code: stopping.restriction_type ?? v.event, until: expiration(stopping.expiration) } : null };
    }
    if (v.event === 'DISABLED_UPDATE') {
      const state = v.ban_info?.waba_ban_state;
      if (state === 'REINSTATE') return { event: v.event, occurredAt, restriction: null };
      if (state === 'DISABLE' || state === 'SCHEDULE_FOR_DISABLE') return { event: v.event, occurredAt, restriction: { code: `WABA_${state}`, until: null } };
      return null;
    }
    if (v.event === 'ACCOUNT_DELETED') return { event: v.event, occurredAt, restriction: { code: 'ACCOUNT_DELETED', until: null } };
  }
  return null;
}

function expiration(raw: string | number | undefined): Date | null {
  if (raw === undefined) return null;
  const date = typeof raw === 'number' || /^\d+$/.test(raw) ? new Date(Number(raw) * 1000) : new Date(raw);
  return Number.isNaN(date.getTime()) ? null : date;
}
