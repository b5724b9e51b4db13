/**
 * Recipient ingest: a list of phones and template variables (CSV, JSON array or NDJSON) into
 * a campaign, streamed, whatever its size.
 *
 * Glossary:
 * - record: what the file holds at one place (a CSV line or lines, a JSON item), with the
 *   `line` where it starts and its `raw` text (source-record.ts).
 * - row: a record that is not blank; `totalRows` counts them. Each row ends up exactly once as
 * - accepted: stored in `recipients` (status pending), or
 * - rejected: stored in `rejected_rows` with a reason code (rejection-reasons.ts), a phone on
 *   the tenant's suppression list included (PHONE_SUPPRESSED), or
 * - duplicate: its phone is already in the campaign; stored in `rejected_rows` as
 *   DUPLICATE_PHONE for the report, counted apart from the rejected.
 * - file-level error: the whole upload fails (no phone column, variables that cannot match
 *   the template, a body that is not a JSON array, a binary file, UTF-32); nothing of it is stored.
 *
 * The pipeline: bytes -> text (decode-text.ts: UTF-8, Windows-1252 or UTF-16, binary refused) -> records (csv-records.ts,
 * json-array-records.ts, ndjson-records.ts) -> column mapping, once (column-mapping.ts) -> row
 * checks (check-row.ts, phones in src/phones) -> the tenant's suppression list, one query per
 * group of records (suppression-check.ts) -> duplicates (phone-set.ts) -> binary COPY, streamed
 * in batches (recipient-copy-writer.ts). bench/ingest.ts measures it against \copy.
 *
 * One upload is one transaction: the uploads row is created first (status processing) so it
 * can be seen while the file streams in, then every row and the final counts commit together
 * (completed), or nothing does (failed, with `error`). The transaction holds the campaign's
 * recipients lock (campaign-phones.ts), so concurrent uploads to one campaign run in turn.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { CountryCode } from '../phones/country.js';
import type pg from 'pg';
import type { Db } from '../db/database.js';
import { AppError, errors } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkRow, isBlankRecord, type CheckedRow, type RowRules } from './check-row.js';
import { mapColumns } from './column-mapping.js';
import { lockCampaignRecipients, loadCampaignPhones } from './campaign-phones.js';
import { openCsvRecords } from './csv-records.js';
import { decodeText, type ByteInput, type TextEncodingName } from './decode-text.js';
import { openJsonArrayRecords } from './json-array-records.js';
import { openNdjsonRecords } from './ndjson-records.js';
import { PhoneSet } from './phone-set.js';
import { RecipientCopyWriter } from './recipient-copy-writer.js';
import { checkRowGroups, suppressionLookup, type SuppressionLookup } from './suppression-check.js';
import type { RecordSource, SourceRecord } from './source-record.js';
import { recordUploadCompleted } from '../events/record-events.js';
import { countIngest } from '../observability/record.js';

export type IngestFormat = 'csv' | 'json' | 'ndjson';

export type IngestOptions = {
  tenantId: string;
  campaignId: string;
  format: IngestFormat;
  filename?: string;
  /** Stored on the uploads row. Default: text/csv, application/json or application/x-ndjson by format. */
  contentType?: string;
  /** The charset the sender declared (Content-Type "charset="): honored over detection (decode-text.ts). */
  charset?: string;
  /** Country used to read numbers written without "+country code" (the campaign's). */
  defaultCountry: CountryCode;
  /** Placeholders in the template: each row must give exactly this many non-empty variables. */
  paramCount: number;
  /** Placeholder names by position; columns with these names map to them. */
  paramNames?: readonly string[];
  /** The phone column's name. Default: found by its name (phone, telefono, celular, ...). */
  phoneColumn?: string;
  /** Column of each placeholder, {{1}} first: names or 1-based positions. Default: see column-mapping.ts. */
  variables?: readonly (string | number)[];
  /** A provider's own rule (e.g. Colombian numbers only): a non-null answer rejects the row with that code. */
  phoneRule?: (e164: string) => { code: string; message: string } | null;
  /** Rows (accepted and rejected) per COPY batch. Default 5,000, as INGEST_BATCH_ROWS. */
  batchRows?: number;
  /** Progress and outcome are logged here when given. */
  logger?: Logger;
};

export type IngestSummary = {
  uploadId: string;
  totalRows: number;
  accepted: number;
  rejected: number;
  duplicates: number;
  encoding: TextEncodingName;
  delimiter: string | null;
  /** Rejected rows by reason code (duplicates are not in here). */
  rejectedByReason: Record<string, number>;
};

export type { CountryCode };

const DEFAULT_BATCH_ROWS = 5_000;
/** Rows checked between two turns of the event loop (about 1 ms of work). */
const ROWS_BETWEEN_YIELDS = 500;
const CONTENT_TYPES: Record<IngestFormat, string> = { csv: 'text/csv', json: 'application/json', ndjson: 'application/x-ndjson' };

export async function ingestRecipients(db: Db, input: ByteInput, options: IngestOptions): Promise<IngestSummary> {
  checkOptions(options);
  const uploadId = await createUpload(db, options);
  const logger = options.logger?.child({ campaignId: options.campaignId, uploadId });
  logger?.info({ format: options.format, filename: options.filename }, 'ingest started');
  const suppressions = await suppressionLookup(db, options.tenantId);
  const client = await db.pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const summary = await ingestInTransaction(client, uploadId, input, options, suppressions);
    await client.query('COMMIT');
    countIngest(summary);
    logger?.info({ ...summary }, 'ingest completed');
    return summary;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    const message = error instanceof AppError ? error.message : errors.internal().message;
    await db.pool
      .query("UPDATE uploads SET status = 'failed', error = $2, finished_at = now() WHERE id = $1", [uploadId, message])
      .catch((updateError: unknown) => logger?.error({ err: updateError }, 'could not mark the upload failed'));
    if (error instanceof AppError) logger?.warn({ code: error.code }, `ingest failed: ${error.message}`);
    else logger?.error({ err: error }, 'ingest failed');
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * The uploads row, committed at once (status processing) so the upload can be seen while it
 * streams in. Raw SQL like the rest of the ingest: it never needs the Prisma engine started.
 */
async function createUpload(db: Db, options: IngestOptions): Promise<string> {
  const id = randomUUID();
  const { rowCount } = await db.pool.query(
    `INSERT INTO uploads (id, tenant_id, campaign_id, filename, content_type, status)
     SELECT $1, c.tenant_id, c.id, $4, $5, 'processing' FROM campaigns c WHERE c.id = $2 AND c.tenant_id = $3`,
    [id, options.campaignId, options.tenantId, options.filename ?? null, options.contentType ?? CONTENT_TYPES[options.format]],
  );
  if (rowCount === 0) throw errors.campaignNotFound(options.campaignId);
  return id;
}

async function ingestInTransaction(
  client: pg.PoolClient,
  uploadId: string,
  input: ByteInput,
  options: IngestOptions,
  suppressions: SuppressionLookup,
): Promise<IngestSummary> {
  const { tenantId, campaignId } = options;
  await lockCampaignRecipients(client, campaignId);
  const isDuplicate = duplicateCheck(await loadCampaignPhones(client, campaignId));
  const text = decodeText(input, options.charset ? { charset: options.charset } : {});
  const { source, delimiter } = await openSource(options, text.chunks);
  const makeRules = (columns: readonly string[]): RowRules => ({
    mapping: mapColumns(columns, options),
    defaultCountry: options.defaultCountry,
    ...(options.phoneRule ? { phoneRule: options.phoneRule } : {}),
  });
  // A CSV's header is known already: a file without a phone column fails before any row.
  // JSON columns come from the first object.
  let rules = options.format === 'csv' ? makeRules(source.columns() ?? []) : undefined;
  /** The record's row, or null for a CSV's blank line (skipped, not counted). */
  const check = (record: SourceRecord): CheckedRow | null => {
    if (options.format === 'csv' && isBlankRecord(record)) return null;
    if (record.problem) return { ok: false, problem: record.problem };
    return checkRow(record, (rules ??= makeRules(source.columns() ?? [])));
  };

  const writer = new RecipientCopyWriter(client, { tenantId, campaignId, uploadId }, options.batchRows ?? DEFAULT_BATCH_ROWS);
  const summary: IngestSummary = { uploadId, totalRows: 0, accepted: 0, rejected: 0, duplicates: 0, encoding: 'utf-8', delimiter, rejectedByReason: {} };
  try {
    let sinceYield = 0;
    for await (const { records, rows } of checkRowGroups(source.batches, check, suppressions, { rowsBetweenYields: ROWS_BETWEEN_YIELDS })) {
      for (let i = 0; i < records.length; i++) {
        const record = records[i] as SourceRecord;
        const row = rows[i];
        if (!row) continue;
        summary.totalRows++;
        if (!row.ok) {
          summary.rejected++;
          summary.rejectedByReason[row.problem.code] = (summary.rejectedByReason[row.problem.code] ?? 0) + 1;
          writer.addRejected(record.line, row.problem.code, row.problem.message, record.raw);
        } else {
          const earlier = isDuplicate(row.e164);
          if (earlier) {
            summary.duplicates++;
            writer.addRejected(record.line, 'DUPLICATE_PHONE', `${row.e164} is already in ${earlier}; the first one is kept.`, record.raw);
          } else {
            summary.accepted++;
            writer.addRecipient(record.line, row.e164, row.rawPhone, row.variables, row.timeZone);
          }
        }
        if (++sinceYield === ROWS_BETWEEN_YIELDS) {
          sinceYield = 0;
          await writer.write();
          // Let Postgres's replies (and other requests) in: a reply waiting behind a whole
          // chunk of rows leaves the database idle, at every COPY boundary.
          await yieldToEventLoop();
        }
      }
      await writer.write();
    }
    await writer.finish();
  } catch (error) {
    await writer.abort();
    throw error;
  }

  summary.encoding = text.encoding();
  await client.query(
    `UPDATE uploads SET status = 'completed', encoding = $2, delimiter = $3, total_rows = $4, accepted = $5, rejected = $6,
       duplicates = $7, finished_at = now() WHERE id = $1`,
    [uploadId, summary.encoding, delimiter, summary.totalRows, summary.accepted, summary.rejected, summary.duplicates],
  );
  await recordUploadCompleted(client, uploadId);
  return summary;
}

async function openSource(options: IngestOptions, chunks: AsyncIterable<string>): Promise<{ source: RecordSource; delimiter: string | null }> {
  if (options.format === 'csv') {
    const source = await openCsvRecords(chunks);
    return { source, delimiter: source.delimiter };
  }
  const open = options.format === 'json' ? openJsonArrayRecords : openNdjsonRecords;
  return { source: open(chunks, options.paramCount), delimiter: null };
}

/** Remembers the phones kept; for a phone seen before, says where, else null. */
function duplicateCheck(stored: PhoneSet): (e164: string) => string | null {
  const seen = new PhoneSet();
  return (e164) => {
    if (stored.has(e164)) return 'an earlier upload to this campaign';
    return seen.add(e164) ? null : 'an earlier row of this file';
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkOptions(options: IngestOptions): void {
  if (!UUID.test(options.campaignId)) throw errors.campaignNotFound(options.campaignId);
  const problems: string[] = [];
  if (!UUID.test(options.tenantId)) problems.push('tenantId: must be a UUID');
  if (!(options.format in CONTENT_TYPES)) problems.push(`format: "${options.format}" is not csv, json or ndjson`);
  if (!Number.isInteger(options.paramCount) || options.paramCount < 0) problems.push('paramCount: must be a whole number, 0 or more');
  if (options.batchRows !== undefined && (!Number.isInteger(options.batchRows) || options.batchRows < 1)) {
    problems.push('batchRows: must be a whole number, 1 or more');
  }
  if (problems.length > 0) throw errors.validation(problems);
}
