/**
 * A preview of a recipient file as the ingest will read it: the first rows, through the same
 * decoder (encoding sniffing), record readers (delimiter sniffing for CSV), column mapping and
 * row checks as a real upload, but nothing is stored. The console's upload wizard sends the
 * file's first bytes here and shows the result, so the browser never parses a file itself.
 */
import { AppError } from '../errors.js';
import type { CountryCode } from '../phones/normalize-phone.js';
import { checkRow, isBlankRecord } from './check-row.js';
import { mapColumns, type ColumnMapping } from './column-mapping.js';
import { openCsvRecords } from './csv-records.js';
import { decodeText, type ByteInput, type TextEncodingName } from './decode-text.js';
import type { IngestFormat } from './ingest-recipients.js';
import { openJsonArrayRecords } from './json-array-records.js';
import { openNdjsonRecords } from './ndjson-records.js';
import type { RecordSource } from './source-record.js';

export type PreviewOptions = {
  format: IngestFormat;
  paramCount: number;
  paramNames?: readonly string[];
  phoneColumn?: string;
  variables?: readonly (string | number)[];
  defaultCountry: CountryCode;
  /** Rows shown. */
  maxRows: number;
  /** The bytes are the file's beginning only: a last record may be cut, so it is left out. */
  truncated: boolean;
};

export type PreviewRow = {
  line: number;
  cells: readonly string[];
  ok: boolean;
  phone?: string;
  variables?: string[];
  problem?: { code: string; message: string };
};

export type UploadPreview = {
  format: IngestFormat;
  encoding: TextEncodingName;
  delimiter: string | null;
  columns: readonly string[];
  /** The mapping the upload will use, by column name; null when no mapping fits (see mappingError). */
  mapping: { phoneColumn: string; variables: string[]; timeZoneColumn: string | null } | null;
  /** The phone column found even when the placeholders could not be mapped, so the user only has those left to choose. */
  phoneColumn: string | null;
  mappingError: { code: string; message: string } | null;
  rows: PreviewRow[];
};

export async function previewUpload(input: ByteInput, options: PreviewOptions): Promise<UploadPreview> {
  const text = decodeText(input);
  let source: RecordSource;
  let delimiter: string | null = null;
  if (options.format === 'csv') {
    const csv = await openCsvRecords(text.chunks);
    source = csv;
    delimiter = csv.delimiter;
  } else {
    source = (options.format === 'json' ? openJsonArrayRecords : openNdjsonRecords)(text.chunks, options.paramCount);
  }

  const records: { line: number; cells: readonly string[]; problem?: { code: string; message: string } }[] = [];
  // One more than shown, so a cut last record can be dropped without showing fewer rows.
  const wanted = options.maxRows + (options.truncated ? 1 : 0);
  try {
    outer: for await (const batch of source.batches) {
      for (const record of batch) {
        if (options.format === 'csv' && isBlankRecord(record)) continue;
        records.push({ line: record.line, cells: record.cells, ...(record.problem ? { problem: record.problem } : {}) });
        if (records.length >= wanted) break outer;
      }
    }
  } catch (error) {
    // A sample cut inside a JSON item or a quoted field ends the preview where it broke.
    if (!options.truncated) throw error;
  }
  if (options.truncated && records.length > options.maxRows) records.length = options.maxRows;
  else if (options.truncated && records.length > 0 && records.length < options.maxRows) records.pop();

  const columns = source.columns() ?? [];
  let mapping: ColumnMapping | null = null;
  let mappingError: UploadPreview['mappingError'] = null;
  let phoneOnly: ColumnMapping | null = null;
  try {
    mapping = mapColumns(columns, options);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    mappingError = { code: error.code, message: error.message };
    try {
      phoneOnly = mapColumns(columns, { phoneColumn: options.phoneColumn, paramCount: 0 });
    } catch {
      phoneOnly = null;
    }
  }
  const rows = records.map((record): PreviewRow => {
    if (!mapping) return { line: record.line, cells: record.cells, ok: false };
    const checked = checkRow({ line: record.line, cells: record.cells, raw: '', ...(record.problem ? { problem: record.problem } : {}) }, { mapping, defaultCountry: options.defaultCountry });
    return checked.ok
      ? { line: record.line, cells: record.cells, ok: true, phone: checked.e164, variables: checked.variables }
      : { line: record.line, cells: record.cells, ok: false, problem: checked.problem };
  });
  const name = (index: number) => columns[index] ?? String(index + 1);
  return {
    format: options.format,
    encoding: text.encoding(),
    delimiter,
    columns,
    mapping: mapping
      ? { phoneColumn: name(mapping.phone), variables: mapping.variables.map(name), timeZoneColumn: mapping.timeZone === undefined ? null : name(mapping.timeZone) }
      : null,
    phoneColumn: mapping ? name(mapping.phone) : phoneOnly ? name(phoneOnly.phone) : null,
    mappingError,
    rows,
  };
}
