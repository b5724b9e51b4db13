/**
 * NDJSON (one JSON object per line) to records; see json-items.ts for what an item holds.
 * `line` is the physical line: blank lines are skipped but counted. A line longer than
 * MAX_RECORD_CHARS is a rejected row, dropped as it streams by.
 */
import { JsonItemReader } from './json-items.js';
import { rowProblem } from './rejection-reasons.js';
import { MAX_RECORD_CHARS, type RecordSource, type SourceRecord } from './source-record.js';

export function openNdjsonRecords(chunks: AsyncIterable<string>, variableCount: number): RecordSource {
  const reader = new JsonItemReader(variableCount);

  async function* batches(): AsyncGenerator<SourceRecord[]> {
    let rest = '';
    let line = 0;
    let skipping = false;
    for await (const chunk of chunks) {
      const buf = rest + chunk;
      const out: SourceRecord[] = [];
      let pos = 0;
      for (let lf = buf.indexOf('\n'); lf !== -1; lf = buf.indexOf('\n', pos)) {
        line++;
        if (skipping) skipping = false;
        else readLine(buf.slice(pos, lf), line, out);
        pos = lf + 1;
      }
      rest = buf.slice(pos);
      if (!skipping && rest.length > MAX_RECORD_CHARS) {
        out.push(tooLong(line + 1, rest));
        skipping = true;
      }
      if (skipping) rest = '';
      if (out.length > 0) yield out;
    }
    const out: SourceRecord[] = [];
    if (!skipping) readLine(rest, line + 1, out);
    if (out.length > 0) yield out;
  }

  function readLine(text: string, line: number, out: SourceRecord[]): void {
    // A whole long line may arrive within one chunk: the limit holds there too.
    if (text.length > MAX_RECORD_CHARS) {
      out.push(tooLong(line, text));
      return;
    }
    const trimmed = text.trim();
    if (trimmed !== '') out.push(reader.read(line, trimmed));
  }

  function tooLong(line: number, text: string): SourceRecord {
    return {
      line,
      cells: [],
      raw: `${text.slice(0, 1024)}…`,
      problem: rowProblem('ROW_MALFORMED', `The line is longer than ${MAX_RECORD_CHARS / 1024} KiB; it was skipped.`),
    };
  }

  return { columns: () => reader.columns(), batches: batches() };
}
