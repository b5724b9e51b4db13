/**
 * The tenant's suppression list: phones that are never sent to again, because they asked to
 * stop (a reply, a provider's opt-out) or an operator stopped them. Table `suppressions`,
 * one row per (tenant, E.164 phone), primary key (tenant_id, phone); every read here walks
 * that key, so a list of millions costs an index probe per phone asked about.
 *
 * Adding is idempotent: a phone already on the list keeps its first reason and date.
 */
import type pg from 'pg';
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';

/** The database, or a client inside a transaction (a webhook applying events, an ingest). */
export type SuppressionStore = Db | pg.ClientBase;

/**
 * Why a phone is on the list:
 * - OPT_OUT_REPLY: the recipient replied asking to stop (webhooks).
 * - PROVIDER_OPTED_OUT: the provider refused a send because the recipient opted out.
 * - MANUAL: an operator added it (POST /v1/suppressions).
 * - IMPORT: it came in a file (POST /v1/suppressions/import).
 */
export const SUPPRESSION_REASONS = ['OPT_OUT_REPLY', 'PROVIDER_OPTED_OUT', 'MANUAL', 'IMPORT'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export type SuppressionEntry = {
  /** E.164, as normalizePhone (src/phones/normalize-phone.ts) writes it. */
  phone: string;
  reason: SuppressionReason;
  /** Where it came from: the reply text, the campaign, the operator's note. */
  detail?: string | null;
};

export type Suppression = { phone: string; reason: string; detail: string | null; createdAt: Date };

export type SuppressionPage = {
  suppressions: Suppression[];
  /** The phone to pass as `cursor` for the next page; null on the last page. */
  next: string | null;
};

export type ListOptions = {
  /** The `next` of the previous page: the list resumes after this phone. */
  cursor?: string;
  /** Rows per page. */
  limit: number;
  /** Only phones whose E.164 form starts with this ("+569", or a whole number). */
  phone?: string;
};

type Sql = <R extends pg.QueryResultRow>(text: string, values: unknown[]) => Promise<pg.QueryResult<R>>;

function sqlOf(store: SuppressionStore): Sql {
  if ('pool' in store) return (text, values) => store.pool.query(text, values);
  return (text, values) => store.query(text, values);
}

/** Rows per INSERT: keeps one statement's arrays (and its lock time) bounded. */
const INSERT_ROWS = 10_000;
const E164 = /^\+[1-9]\d{1,14}$/;

/**
 * Puts `entries` on the tenant's list and returns how many were not on it before (a phone
 * already listed, or listed twice in `entries`, is not counted). Each INSERT_ROWS entries
 * commit on their own (unless `db` is a client in a transaction): adding is idempotent, so a
 * failed call can simply be repeated.
 */
export async function addSuppressions(db: SuppressionStore, tenantId: string, entries: readonly SuppressionEntry[]): Promise<number> {
  const notE164 = entries.filter((entry) => !E164.test(entry.phone)).map((entry) => entry.phone);
  if (notE164.length > 0) throw errors.validation(notE164.slice(0, 10).map((phone) => `phone "${phone}" is not in E.164 form`));
  let added = 0;
  for (let from = 0; from < entries.length; from += INSERT_ROWS) {
    const chunk = entries.slice(from, from + INSERT_ROWS);
    const { rowCount } = await sqlOf(db)(
      `INSERT INTO suppressions (tenant_id, phone, reason, detail)
       SELECT $1, e.phone, e.reason, e.detail FROM unnest($2::text[], $3::text[], $4::text[]) AS e (phone, reason, detail)
       ON CONFLICT (tenant_id, phone) DO NOTHING`,
      [tenantId, chunk.map((e) => e.phone), chunk.map((e) => e.reason), chunk.map((e) => e.detail ?? null)],
    );
    added += rowCount ?? 0;
  }
  return added;
}

/** Takes `phone` (E.164) off the list; false when it was not on it. */
export async function removeSuppression(db: SuppressionStore, tenantId: string, phone: string): Promise<boolean> {
  const { rowCount } = await sqlOf(db)('DELETE FROM suppressions WHERE tenant_id = $1 AND phone = $2', [tenantId, phone]);
  return (rowCount ?? 0) > 0;
}

/**
 * One page of the list in phone order, by keyset along the primary key (no OFFSET, so the
 * millionth row costs what the first does). Phone order rather than newest first: the table
 * has no (tenant_id, created_at) index, and sorting a whole list for every page would not scale.
 */
export async function listSuppressions(db: SuppressionStore, tenantId: string, options: ListOptions): Promise<SuppressionPage> {
  const { rows } = await sqlOf(db)<Suppression>(
    `SELECT phone, reason, detail, created_at AS "createdAt" FROM suppressions
      WHERE tenant_id = $1 AND phone > $2 AND ($3::text IS NULL OR phone LIKE $3 || '%')
      ORDER BY phone LIMIT $4`,
    [tenantId, options.cursor ?? '', options.phone ?? null, options.limit],
  );
  const last = rows.at(-1);
  return { suppressions: rows, next: rows.length === options.limit && last ? last.phone : null };
}

/** Which of `phones` (E.164) are on the tenant's list, in one query. */
export async function suppressedAmong(db: SuppressionStore, tenantId: string, phones: readonly string[]): Promise<Set<string>> {
  if (phones.length === 0) return new Set();
  const { rows } = await sqlOf(db)<{ phone: string }>(
    'SELECT phone FROM suppressions WHERE tenant_id = $1 AND phone = ANY($2::text[])',
    [tenantId, phones],
  );
  return new Set(rows.map((row) => row.phone));
}

export async function isSuppressed(db: SuppressionStore, tenantId: string, phone: string): Promise<boolean> {
  return (await suppressedAmong(db, tenantId, [phone])).has(phone);
}

/** Whether the tenant has any suppression at all: when not, ingest skips its per-batch lookups. */
export async function hasSuppressions(db: SuppressionStore, tenantId: string): Promise<boolean> {
  const { rows } = await sqlOf(db)<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM suppressions WHERE tenant_id = $1) AS any', [tenantId]);
  return rows[0]?.any ?? false;
}
