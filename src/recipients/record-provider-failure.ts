/**
 * A failure the provider reports after taking a message (a `failed` status webhook): the
 * recipient fails, or, for a per-user cap, is deferred to be sent again later. The history row is
 * written whether or not the recipient changed (a repeat is still history, deduplicated by key).
 */
import { historyInsert } from './history.js';
import { moves, type Queryable } from './transitions.js';

const FAIL_FROM = moves('provider reported failure', 'failed', ['accepted', 'sent', 'unknown']);
const DEFER_FROM = moves('provider reported per-user cap', 'deferred', ['accepted', 'sent', 'unknown']);

export type ProviderFailureWrite = {
  recipientId: string;
  tenantId: string;
  campaignId: string;
  occurredAt: Date;
  dedupeKey: string;
  errorCode: string;
  providerCode: string | null;
  providerText: string | null;
  /** The history row's detail. */
  detail: string | null;
  /** Deferred until this time instead of failed (a per-user cap). */
  deferUntil?: Date;
  /** The person stopped marketing: record when. */
  optedOut?: boolean;
};

/** Returns whether the recipient changed (a repeat changes nothing and must not act again). */
export async function recordProviderFailure(db: Queryable, write: ProviderFailureWrite): Promise<boolean> {
  const deferred = write.deferUntil !== undefined;
  const update = deferred
    ? `UPDATE recipients SET status = 'deferred', not_before = $10::timestamptz, error_code = $6, provider_error_code = $7, provider_error_text = $8, updated_at = now()
        WHERE id = $1 AND status IN (${DEFER_FROM})`
    : `UPDATE recipients SET status = 'failed', failed_at = coalesce(failed_at, $4), error_code = $6, provider_error_code = $7, provider_error_text = $8,
              opted_out_at = CASE WHEN $10::boolean THEN coalesce(opted_out_at, $4) ELSE opted_out_at END, updated_at = now()
        WHERE id = $1 AND status IN (${FAIL_FROM})`;
  const { rows } = await db.query<{ changed: number }>(
    `WITH upd AS (${update} RETURNING 1),
          hist AS (${historyInsert({
            tenantId: '$2::uuid',
            campaignId: '$3::uuid',
            recipientId: '$1::bigint',
            status: deferred ? "'deferred'" : "'failed'",
            source: 'webhook',
            occurredAt: '$4::timestamptz',
            errorCode: '$6::text',
            providerCode: '$7::text',
            detail: '$9::text',
            dedupeKey: '$5::text',
          })})
     SELECT count(*)::int AS changed FROM upd`,
    [
      write.recipientId,
      write.tenantId,
      write.campaignId,
      write.occurredAt,
      write.dedupeKey,
      write.errorCode,
      write.providerCode,
      write.providerText?.slice(0, 1000) ?? null,
      write.detail,
      deferred ? write.deferUntil : (write.optedOut ?? false),
    ],
  );
  return (rows[0]?.changed ?? 0) > 0;
}
