/**
 * Recipient ingest: a list of phones and template variables (CSV, JSON array or NDJSON) into
 * a campaign, streamed, whatever its size.
 *
 * Glossary:
 * - record: what the file holds at one place (a CSV line or lines, a JSON item), with the
 *   `line` where it starts and its `raw` text (source-record.ts).
 * - row: a record that is not blank; `totalRows` counts them. Each row ends up exactly once as
 * - accepted: stored in `recipients` (status pending), or
 * - rejected: stored in `rejected_rows` with a reason code (rejection-reasons.ts), or
 * - duplicate: its phone is already in the campaign; stored in `rejected_rows` as
 *   DUPLICATE_PHONE for the report, counted apart from the rejected.
 * - file-level error: the whole upload fails (no phone column, variables that cannot match
 *   the template, a body that is not a JSON array, UTF-16); nothing of it is stored.
 *
 * The pipeline: bytes -> text (decode-text.ts: UTF-8 or Windows-1252) -> records (csv-records.ts,
 * json-records.ts) -> column mapping, once (column-mapping.ts) -> row checks (check-row.ts) ->
 * duplicates (phone-set.ts) -> COPY in batches (recipient-copy-writer.ts).
 *
 * One upload is one transaction: the uploads row is created first (status processing) so it
 * can be seen while the file streams in, then every row and the final counts commit together
 * (completed), or nothing does (failed, with `error`). The transaction holds the campaign's
 * recipients lock (campaign-phones.ts), so concurrent uploads to one campaign run in turn.
 */
import type { CountryCode } from 'libphonenumber-js/max';
import type pg from 'pg';
import type { Db } from '../db/database.js';
import { AppError, errors } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkRow, isBlankRecord, type RowRules } from './check-row.js';
import { mapColumns } from './column-mapping.js';
import { lockCampaignRecipients, loadCampaignPhones } from './campaign-phones.js';
import { openCsvRecords } from './csv-records.js';
import { decodeText, type ByteInput, type TextEncodingName } from './decode-text.js';
import { openJsonArrayRecords, openNdjsonRecords } from './json-records.js';
import { PhoneSet } from './phone-set.js';
import { RecipientCopyWriter } from './recipient-copy-writer.js';
import { REJECTION_REASONS } from './rejection-reasons.js';
import type { RecordSource } from './source-record.js';

export type IngestFormat = 'csv' | 'json' | 'ndjson';

export type IngestOptions = {
  tenantId: string;
  campaignId: string;
  format: IngestFormat;
  filename?: string;
  /** Stored on the uploads row. Default: text/csv, application/json or application/x-ndjson by format. */
  contentType?: string;
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
const CONTENT_TYPES: Record<IngestFormat, string> = { csv: 'text/csv', json: 'application/json', ndjson: 'application/x-ndjson' };

export async function ingestRecipients(db: Db, input: ByteInput, options: IngestOptions): Promise<IngestSummary> {
  checkOptions(options);
  const campaign = await db.prisma.campaign.findFirst({ where: { id: options.campaignId, tenantId: options.tenantId }, select: { id: true } });
  if (!campaign) throw errors.campaignNotFound(options.campaignId);
  const upload = await db.prisma.upload.create({
    data: {
      tenantId: options.tenantId,
      campaignId: options.campaignId,
      filename: options.filename ?? null,
      contentType: options.contentType ?? CONTENT_TYPES[options.format],
      status: 'processing',
    },
    select: { id: true },
  });
  const logger = options.logger?.child({ campaignId: options.campaignId, uploadId: upload.id });
  logger?.info({ format: options.format, filename: options.filename }, 'ingest started');
  const client = await db.pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const summary = await ingestInTransaction(client, upload.id, input, options);
    await client.query('COMMIT');
    logger?.info({ ...summary }, 'ingest completed');
    return summary;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    const message = error instanceof AppError ? error.message : errors.internal().message;
    await db.prisma.upload.update({ where: { id: upload.id }, data: { status: 'failed', error: message, finishedAt: new Date() } });
    if (error instanceof AppError) logger?.warn({ code: error.code }, `ingest failed: ${error.message}`);
    else logger?.error({ err: error }, 'ingest failed');
    throw error;
  } finally {
    client.release(broken);
  }
}

async function ingestInTransaction(client: pg.PoolClient, uploadId: string, input: ByteInput, options: IngestOptions): Promise<IngestSummary> {
  const { tenantId, campaignId } = options;
  await lockCampaignRecipients(client, campaignId);
  const stored = await loadCampaignPhones(client, campaignId);
  const seen = new PhoneSet();
  const text = decodeText(input);
  let delimiter: string | null = null;
  let source: RecordSource;
  if (options.format === 'csv') {
    const csv = await openCsvRecords(text.chunks);
    delimiter = csv.delimiter;
    source = csv;
  } else if (options.format === 'json') {
    source = openJsonArrayRecords(text.chunks, options.paramCount);
  } else {
    source = openNdjsonRecords(text.chunks, options.paramCount);
  }

  let rules: RowRules | undefined;
  const makeRules = (columns: readonly string[]): RowRules => ({
    mapping: mapColumns(columns, options),
    defaultCountry: options.defaultCountry,
    ...(options.phoneRule ? { phoneRule: options.phoneRule } : {}),
  });
  // A CSV's header is known now: a file with no phone column fails before any row is read.
  const csvColumns = options.format === 'csv' ? source.columns() : undefined;
  if (csvColumns) rules = makeRules(csvColumns);

  const writer = new RecipientCopyWriter(client, { tenantId, campaignId, uploadId }, options.batchRows ?? DEFAULT_BATCH_ROWS);
  const rejectedByReason: Record<string, number> = {};
  let totalRows = 0;
  let accepted = 0;
  let rejected = 0;
  let duplicates = 0;
  try {
    for await (const batch of source.batches) {
      for (const record of batch) {
        if (options.format === 'csv' && isBlankRecord(record)) continue;
        totalRows++;
        if (!rules && !record.problem) rules = makeRules(source.columns() ?? []);
        const row = rules ? checkRow(record, rules) : { ok: false as const, problem: record.problem ?? { code: 'ROW_MALFORMED', message: REJECTION_REASONS.ROW_MALFORMED } };
        if (!row.ok) {
          rejected++;
          rejectedByReason[row.problem.code] = (rejectedByReason[row.problem.code] ?? 0) + 1;
          writer.addRejected(record.line, row.problem.code, row.problem.message, record.raw);
        } else if (stored.has(row.e164) || !seen.add(row.e164)) {
          duplicates++;
          const where = stored.has(row.e164) ? 'an earlier upload to this campaign' : 'an earlier row of this file';
          writer.addRejected(record.line, 'DUPLICATE_PHONE', `${row.e164} is already in ${where}; the first one is kept.`, record.raw);
        } else {
          accepted++;
          writer.addRecipient(record.line, row.e164, row.rawPhone, row.variables);
        }
      }
      await writer.write();
    }
    await writer.finish();
  } catch (error) {
    await writer.abort();
    throw error;
  }

  const encoding = text.encoding();
  await client.query(
    `UPDATE uploads SET status = 'completed', encoding = $2, delimiter = $3, total_rows = $4, accepted = $5, rejected = $6,
       duplicates = $7, finished_at = now() WHERE id = $1`,
    [uploadId, encoding, delimiter, totalRows, accepted, rejected, duplicates],
  );
  return { uploadId, totalRows, accepted, rejected, duplicates, encoding, delimiter, rejectedByReason };
}

function checkOptions(options: IngestOptions): void {
  const problems: string[] = [];
  if (!(options.format in CONTENT_TYPES)) problems.push(`format: "${options.format}" is not csv, json or ndjson`);
  if (!Number.isInteger(options.paramCount) || options.paramCount < 0) problems.push('paramCount: must be a whole number, 0 or more');
  if (options.batchRows !== undefined && (!Number.isInteger(options.batchRows) || options.batchRows < 1)) {
    problems.push('batchRows: must be a whole number, 1 or more');
  }
  if (problems.length > 0) throw errors.validation(problems);
}
