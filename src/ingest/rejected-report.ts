/**
 * The rejected rows of an upload as a downloadable CSV ("line,reason,message,raw"), in file
 * order, duplicates included. Read a page at a time along the (upload_id, line) index, by
 * keyset rather than OFFSET, and only as fast as the reader takes it: a million rejected rows
 * are never in memory together.
 */
import { Readable } from 'node:stream';
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';

export type RejectedReportOptions = {
  /** Rows read per query. Default 1,000. */
  pageRows?: number;
};

type RejectedRow = { id: string; line: number; reason: string; message: string; raw: string };

const HEADER = 'line,reason,message,raw\r\n';

/** Errors (an upload of another tenant: errors.uploadNotFound) come out as the stream's error, before any data. */
export function rejectedRowsCsv(db: Db, tenantId: string, uploadId: string, options: RejectedReportOptions = {}): Readable {
  const pageRows = options.pageRows ?? 1_000;

  async function* lines(): AsyncGenerator<string> {
    const upload = await db.pool.query('SELECT 1 FROM uploads WHERE id = $1 AND tenant_id = $2', [uploadId, tenantId]);
    if (upload.rowCount === 0) throw errors.uploadNotFound(uploadId);
    yield HEADER;
    let afterLine = 0;
    let afterId = '0';
    for (;;) {
      const { rows } = await db.pool.query<RejectedRow>(
        `SELECT id, line, reason, message, raw FROM rejected_rows
          WHERE upload_id = $1 AND tenant_id = $2 AND (line, id) > ($3, $4)
          ORDER BY line, id LIMIT $5`,
        [uploadId, tenantId, afterLine, afterId, pageRows],
      );
      if (rows.length > 0) yield rows.map((r) => `${r.line},${csvField(r.reason)},${csvField(r.message)},${csvField(r.raw)}\r\n`).join('');
      const last = rows.at(-1);
      if (!last || rows.length < pageRows) return;
      afterLine = last.line;
      afterId = last.id;
    }
  }

  return Readable.from(lines(), { objectMode: false });
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
