/**
 * Rows whose phone is on the tenant's suppression list (src/suppressions) are rejected as
 * PHONE_SUPPRESSED, never stored as recipients.
 *
 * Records are checked in groups of at least `groupRows` (2,000), with one query per group for the
 * group's phones, whatever size the input's chunks come in. The query runs on a pool
 * connection of its own (the ingest's connection is busy with an open COPY), and one group
 * ahead: while a group's query is out, the next group is parsed and checked, so the ingest
 * waits for the database only when the query is slower than that work. Memory stays at two
 * groups. A tenant with no suppressions, the usual case, costs one query per upload.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Db } from '../db/database.js';
import { hasSuppressions, suppressedAmong } from '../suppressions/suppression-list.js';
import type { CheckedRow } from './check-row.js';
import { rowProblem } from './rejection-reasons.js';
import type { SourceRecord } from './source-record.js';

/** The phones (E.164) of `phones` that are on the list. */
export type SuppressionLookup = (phones: readonly string[]) => Promise<ReadonlySet<string>>;

/** Records and their rows, in file order; a null row is a record that is skipped (a blank line). */
export type CheckedGroup = { records: SourceRecord[]; rows: (CheckedRow | null)[] };

export type GroupOptions = {
  /** Records per suppression query. Default 2,000: some 10 ms of parsing and checks, more than the query's round trip. */
  groupRows?: number;
  /** Records checked between two turns of the event loop, so the COPY under way keeps being fed. Default 500. */
  rowsBetweenYields?: number;
};

const NONE: ReadonlySet<string> = new Set();

/** The tenant's lookup; one that answers "none" without a query when its list is empty now. */
export async function suppressionLookup(db: Db, tenantId: string): Promise<SuppressionLookup> {
  if (!(await hasSuppressions(db, tenantId))) return async () => NONE;
  return (phones) => suppressedAmong(db, tenantId, phones);
}

/** `check` applied to every record of `batches`, then the suppression list to the rows it passed. */
export async function* checkRowGroups(
  batches: AsyncIterable<SourceRecord[]>,
  check: (record: SourceRecord) => CheckedRow | null,
  lookup: SuppressionLookup,
  options: GroupOptions = {},
): AsyncGenerator<CheckedGroup> {
  const groupRows = options.groupRows ?? 2_000;
  const rowsBetweenYields = options.rowsBetweenYields ?? 500;
  const start = async (records: SourceRecord[]): Promise<PendingGroup> => {
    const rows: (CheckedRow | null)[] = [];
    const phones: string[] = [];
    for (const record of records) {
      const row = check(record);
      rows.push(row);
      if (row?.ok) phones.push(row.e164);
      if (rows.length % rowsBetweenYields === 0) await yieldToEventLoop();
    }
    return { records, rows, suppressed: lookUp(lookup, phones) };
  };
  let ahead: PendingGroup | null = null;
  let records: SourceRecord[] = [];
  for await (const batch of batches) {
    for (const record of batch) records.push(record);
    if (records.length < groupRows) continue;
    const next = await start(records);
    records = [];
    if (ahead) yield await finishGroup(ahead);
    ahead = next;
  }
  const last = records.length > 0 ? await start(records) : null;
  if (ahead) yield await finishGroup(ahead);
  if (last) yield await finishGroup(last);
}

type PendingGroup = CheckedGroup & { suppressed: Promise<ReadonlySet<string>> };

function lookUp(lookup: SuppressionLookup, phones: readonly string[]): Promise<ReadonlySet<string>> {
  const suppressed = lookup(phones);
  // Awaited in finishGroup; a failure before then (or after a file-level error) is not unhandled.
  suppressed.catch(() => undefined);
  return suppressed;
}

async function finishGroup(group: PendingGroup): Promise<CheckedGroup> {
  const suppressed = await group.suppressed;
  if (suppressed.size === 0) return { records: group.records, rows: group.rows };
  const rows = group.rows.map((row): CheckedRow | null =>
    row?.ok && suppressed.has(row.e164)
      ? { ok: false, problem: rowProblem('PHONE_SUPPRESSED', `The phone ${row.e164} is on the suppression list: it asked not to receive messages, or an operator stopped it.`) }
      : row,
  );
  return { records: group.records, rows };
}
