/**
 * What every input format (CSV, JSON array, NDJSON) becomes: records with their cells in the
 * order of the file's columns, the line where each starts and its raw text for the report.
 */
import type { RowProblem } from './rejection-reasons.js';

export type SourceRecord = {
  /** CSV and NDJSON: the physical line where the record starts (1-based, a CSV header is line 1). JSON array: the item's 1-based position. */
  line: number;
  /** Cell values by column position; may be shorter or longer than the columns when the row is. */
  cells: readonly string[];
  /** The record as it came in, for the rejected-rows report. */
  raw: string;
  /** Set when the record could not be read properly; it is rejected with this reason. */
  problem?: RowProblem;
};

export type RecordSource = {
  /** Column names (CSV header, keys of the first JSON object); undefined until known, and for a file with no readable row. */
  columns(): readonly string[] | undefined;
  /** Records in file order, in batches (one per chunk of input) so a million rows are not a million awaits. */
  batches: AsyncGenerator<SourceRecord[]>;
};

/** Longest record kept in memory (characters): a longer one is refused, and reading goes on at the next line. */
export const MAX_RECORD_CHARS = 64 * 1024;
