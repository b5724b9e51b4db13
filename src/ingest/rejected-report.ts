/**
 * The rejected rows of an upload as a downloadable CSV ("line,reason,message,raw", made for
 * spreadsheets: see ../exports/spreadsheet-csv.ts), in file
 * order, duplicates included. Read a page at a time along the (upload_id, line) index, by
 * keyset rather than OFFSET, and only as fast as the reader takes it: a million rejected rows
 * are never in memory together.
 */
import type { Readable } from 'node:stream';
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';
import { spreadsheetCsv } from '../exports/spreadsheet-csv.js';

export type RejectedReportOptions = {
  /** Rows read per query. Default 1,000. */
  pageRows?: number;
};

type RejectedRow = { id: string; line: number; reason: string; message: string; raw: string };

const COLUMNS = ['line', 'reason', 'message', 'raw'];

/** Errors (an upload of another tenant: errors.uploadNotFound) come out as the stream's error, before any data. */
export function rejectedRowsCsv(db: Db, tenantId: string, uploadId: string, options: RejectedReportOptions = {}): Readable {
  const pageRows = options.pageRows ?? 1_000;

  async function* lines(): AsyncGenerator<readonly unknown[]> {
    const upload = await db.pool.query('SELECT 1 FROM uploads WHERE id = $1 AND tenant_id = $2', [uploadId, tenantId]);
    if (upload.rowCount === 0) throw errors.uploadNotFound(uploadId);
    let afterLine = 0;
    let afterId = '0';
    for (;;) {
      const { rows } = await db.pool.query<RejectedRow>(
        `SELECT id, line, reason, message, raw FROM rejected_rows
          WHERE upload_id = $1 AND tenant_id = $2 AND (line, id) > ($3, $4)
          ORDER BY line, id LIMIT $5`,
        [uploadId, tenantId, afterLine, afterId, pageRows],
      );
      for (const r of rows) yield [r.line, r.reason, r.message, r.raw];
      const last = rows.at(-1);
      if (!last || rows.length < pageRows) return;
      afterLine = last.line;
      afterId = last.id;
    }
  }

  return spreadsheetCsv(COLUMNS, lines());
}
