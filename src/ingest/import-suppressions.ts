/**
 * A CSV of phones onto the tenant's suppression list, streamed: the ingest's reader (encoding
 * and delimiter sniffing, line numbers; src/ingest/csv-records.ts), its phone column mapping
 * (src/ingest/column-mapping.ts) and its phone normalizer. Other columns are ignored.
 *
 * Rows go in batches of `batchRows`, each committed as it is written: adding is idempotent, so
 * a file that fails half way (too large, the client gone) can simply be imported again.
 * Memory stays flat: one batch, and the first `maxRejectedListed` rejected rows.
 */
import type { Db } from '../db/database.js';
import { mapColumns } from './column-mapping.js';
import { isBlankRecord } from './check-row.js';
import { openCsvRecords } from './csv-records.js';
import { decodeText, type ByteInput, type TextEncodingName } from './decode-text.js';
import type { RowProblem } from './rejection-reasons.js';
import type { SourceRecord } from './source-record.js';
import { normalizePhone, type CountryCode } from '../phones/normalize-phone.js';
import { addSuppressions, type SuppressionEntry } from '../suppressions/suppression-list.js';

export type ImportOptions = {
  /** Country for numbers written without "+country code". */
  defaultCountry: CountryCode;
  /** The phone column's name. Default: found by its name (phone, telefono, celular, ...). */
  phoneColumn?: string;
  /** Stored with every phone added (e.g. the file's name). */
  detail?: string | null;
  /** Phones per INSERT. Default 5,000. */
  batchRows?: number;
  /** Rejected rows listed in the answer; the rest are only counted. Default 1,000. */
  maxRejectedListed?: number;
};

export type ImportedRowRejection = { line: number; reason: string; message: string };

export type ImportSummary = {
  /** Rows that are not blank. */
  totalRows: number;
  /** Phones that were not on the list before. */
  added: number;
  /** Good rows whose phone was on the list already, or earlier in the file. */
  alreadyPresent: number;
  /** Rows refused, all of them; `rejected` lists the first `maxRejectedListed`. */
  rejectedCount: number;
  rejected: ImportedRowRejection[];
  encoding: TextEncodingName;
  delimiter: string | null;
};

export async function importSuppressions(db: Db, tenantId: string, input: ByteInput, options: ImportOptions): Promise<ImportSummary> {
  const batchRows = options.batchRows ?? 5_000;
  const maxListed = options.maxRejectedListed ?? 1_000;
  const text = decodeText(input);
  const source = await openCsvRecords(text.chunks);
  const mapping = mapColumns(source.columns() ?? [], { paramCount: 0, ...(options.phoneColumn ? { phoneColumn: options.phoneColumn } : {}) });
  const summary: ImportSummary = { totalRows: 0, added: 0, alreadyPresent: 0, rejectedCount: 0, rejected: [], encoding: 'utf-8', delimiter: source.delimiter };
  let batch: SuppressionEntry[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const added = await addSuppressions(db, tenantId, batch);
    summary.added += added;
    summary.alreadyPresent += batch.length - added;
    batch = [];
  };

  for await (const records of source.batches) {
    for (const record of records) {
      if (isBlankRecord(record)) continue;
      summary.totalRows++;
      const phone = readPhone(record, mapping.phone, options.defaultCountry);
      if ('code' in phone) {
        summary.rejectedCount++;
        if (summary.rejected.length < maxListed) summary.rejected.push({ line: record.line, reason: phone.code, message: phone.message });
        continue;
      }
      batch.push({ phone: phone.e164, reason: 'IMPORT', detail: options.detail ?? null });
    }
    if (batch.length >= batchRows) await flush();
  }
  await flush();
  summary.encoding = text.encoding();
  return summary;
}

function readPhone(record: SourceRecord, column: number, defaultCountry: CountryCode): { e164: string } | RowProblem {
  if (record.problem) return record.problem;
  const phone = normalizePhone(record.cells[column] ?? '', defaultCountry);
  return phone.ok ? { e164: phone.e164 } : { code: phone.problem, message: phone.message };
}
