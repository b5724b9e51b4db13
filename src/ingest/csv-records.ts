/**
 * CSV text to records, as a spreadsheet writes it: a header line, one record per line, fields
 * in double quotes when they hold the delimiter, a quote ("" inside) or line breaks; lines end
 * with \n, \r\n or \r.
 *
 * Our own reader rather than csv-parse, because the ingest needs for every row the physical
 * line where its record starts, its raw text, and to go on past a broken row with bounded
 * memory. csv-parse gives line numbers only through `info`, which cut it from ~700k to ~240k
 * rows/s on the bench file here, and an unclosed quote makes it swallow the rest of the file.
 * Here a quote that is not closed within MAX_RECORD_CHARS makes its first line a rejected
 * record and reading resumes on the next line; text after a closing quote rejects that record
 * only. test/ingest/csv-records.test.ts checks it against csv-parse on random files.
 *
 * Lines without quotes, nearly all of them, are cut with indexOf and split().
 */
import { errors } from '../errors.js';
import { rowProblem } from './rejection-reasons.js';
import { isDelimiter, sniffDelimiter, type Delimiter } from './sniff-delimiter.js';
import { MAX_RECORD_CHARS, type RecordSource, type SourceRecord } from './source-record.js';

const QUOTE = 34;
const LF = 10;
const CR = 13;
/** Text read before guessing the delimiter (characters). */
const SNIFF_CHARS = 64 * 1024;

type Quoted = { cells: string[]; end: number; next: number; malformed: boolean };
const INCOMPLETE = 'incomplete';
const SEP_LINE = /^"?sep=(.?)"?[ \t]*(?:\r\n|\n|\r)/i;
const UNCLOSED = 'unclosed';

export class CsvRecordReader {
  private rest = '';
  /** Line number of the first character of `rest`. */
  private line = 1;
  /** Inside a line too long to keep, dropping text until its end. */
  private skippingLine = false;
  private readonly delimiterCode: number;

  /** `firstLine`: the line number of the first character pushed (2 after an Excel "sep=" line). */
  constructor(
    private readonly delimiter: string | null,
    firstLine = 1,
  ) {
    this.delimiterCode = delimiter === null ? -1 : delimiter.charCodeAt(0);
    this.line = firstLine;
  }

  /** Reads every complete record of what came before plus `text` into `out`. */
  push(text: string, out: SourceRecord[]): void {
    this.read(this.rest + text, false, out);
  }

  /** Reads what is left, the input having ended. */
  end(out: SourceRecord[]): void {
    this.read(this.rest, true, out);
    this.rest = '';
  }

  private read(buf: string, final: boolean, out: SourceRecord[]): void {
    let pos = 0;
    // Positions of the next \n, \r and quote, found once and reused across lines: indexOf on
    // every line for a character the file does not have would make reading quadratic.
    let nextLf = -2;
    let nextCr = -2;
    let nextQuote = -2;
    while (pos < buf.length) {
      if (nextLf !== -1 && nextLf < pos) nextLf = buf.indexOf('\n', pos);
      if (nextCr !== -1 && nextCr < pos) nextCr = buf.indexOf('\r', pos);
      const lineEnd = nextLf === -1 ? nextCr : nextCr === -1 ? nextLf : Math.min(nextLf, nextCr);
      // A \r at the very end may be the first half of \r\n.
      const lineComplete = lineEnd !== -1 && (final || lineEnd + 1 < buf.length || buf.charCodeAt(lineEnd) === LF);
      if (this.skippingLine) {
        if (!lineComplete) {
          pos = buf.length;
          if (final) this.skippingLine = false;
          break;
        }
        this.skippingLine = false;
        pos = afterLineBreak(buf, lineEnd);
        this.line++;
        continue;
      }
      if (!lineComplete && !final) {
        if (buf.length - pos > MAX_RECORD_CHARS) this.refuseLongLine(buf, pos, out);
        if (this.skippingLine) pos = buf.length;
        break;
      }
      const end = lineEnd === -1 ? buf.length : lineEnd;
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = buf.indexOf('"', pos);
      if (nextQuote === -1 || nextQuote >= end) {
        if (end - pos > MAX_RECORD_CHARS) {
          this.refuseLongLine(buf, pos, out);
          this.skippingLine = false;
        } else if (end > pos) {
          const text = buf.slice(pos, end);
          out.push({ line: this.line, cells: this.delimiterCode === -1 ? [text] : text.split(this.delimiter as string), raw: text });
        }
        pos = lineEnd === -1 ? buf.length : afterLineBreak(buf, lineEnd);
        this.line++;
        continue;
      }
      const quoted = this.readQuoted(buf, pos, final);
      if (quoted === INCOMPLETE) {
        if (buf.length - pos <= MAX_RECORD_CHARS) break;
        if (lineEnd === -1) {
          this.refuseLongLine(buf, pos, out);
          pos = buf.length;
          break;
        }
        this.refuseUnclosed(buf, pos, end, lineEnd, out);
        pos = afterLineBreak(buf, lineEnd);
        continue;
      }
      if (quoted === UNCLOSED || quoted.end - pos > MAX_RECORD_CHARS) {
        this.refuseUnclosed(buf, pos, end, lineEnd, out);
        pos = lineEnd === -1 ? buf.length : afterLineBreak(buf, lineEnd);
        continue;
      }
      const raw = buf.slice(pos, quoted.end);
      const record: SourceRecord = { line: this.line, cells: quoted.cells, raw };
      if (quoted.malformed) record.problem = rowProblem('ROW_MALFORMED', 'Text follows a closing quote; quote the whole field or none of it.');
      out.push(record);
      this.line += 1 + countLineBreaks(raw);
      pos = quoted.next;
    }
    this.rest = pos >= buf.length ? '' : buf.slice(pos);
  }

  private refuseUnclosed(buf: string, start: number, end: number, lineEnd: number, out: SourceRecord[]): void {
    out.push({
      line: this.line,
      cells: [],
      raw: end - start > MAX_RECORD_CHARS ? `${buf.slice(start, start + 1024)}…` : buf.slice(start, end),
      problem: rowProblem(
        'ROW_MALFORMED',
        `A quote opened on this line is not closed within ${MAX_RECORD_CHARS / 1024} KiB; the line was skipped and reading went on at the next one.`,
      ),
    });
    if (lineEnd !== -1) this.line++;
  }

  private refuseLongLine(buf: string, start: number, out: SourceRecord[]): void {
    out.push({
      line: this.line,
      cells: [],
      raw: `${buf.slice(start, start + 1024)}…`,
      problem: rowProblem('ROW_MALFORMED', `The line is longer than ${MAX_RECORD_CHARS / 1024} KiB; it was skipped.`),
    });
    this.skippingLine = true;
  }

  /** A record with quoted fields, from `start` to its line break (which may come lines later). */
  private readQuoted(buf: string, start: number, final: boolean): Quoted | typeof INCOMPLETE | typeof UNCLOSED {
    const cells: string[] = [];
    let malformed = false;
    let pos = start;
    for (;;) {
      let value: string;
      if (pos === buf.length) {
        if (!final) return INCOMPLETE;
        cells.push('');
        return { cells, end: pos, next: pos, malformed };
      }
      if (buf.charCodeAt(pos) === QUOTE) {
        value = '';
        let from = pos + 1;
        for (;;) {
          const quote = buf.indexOf('"', from);
          if (quote === -1) return final ? UNCLOSED : INCOMPLETE;
          value += buf.slice(from, quote);
          if (quote + 1 === buf.length && !final) return INCOMPLETE;
          if (buf.charCodeAt(quote + 1) === QUOTE) {
            value += '"';
            from = quote + 2;
            continue;
          }
          pos = quote + 1;
          break;
        }
        const stop = this.fieldEnd(buf, pos);
        if (stop !== pos) {
          if (stop === buf.length && !final) return INCOMPLETE;
          malformed = true;
          value += buf.slice(pos, stop);
          pos = stop;
        }
      } else {
        const stop = this.fieldEnd(buf, pos);
        if (stop === buf.length && !final) return INCOMPLETE;
        value = buf.slice(pos, stop);
        pos = stop;
      }
      cells.push(value);
      if (pos === buf.length) return { cells, end: pos, next: pos, malformed };
      const c = buf.charCodeAt(pos);
      if (c === this.delimiterCode) {
        pos++;
        continue;
      }
      if (c === CR && pos + 1 === buf.length && !final) return INCOMPLETE;
      return { cells, end: pos, next: afterLineBreak(buf, pos), malformed };
    }
  }

  /** Position of the next delimiter or line break from `pos` (quotes there are plain text). */
  private fieldEnd(buf: string, pos: number): number {
    for (let i = pos; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c === this.delimiterCode || c === LF || c === CR) return i;
    }
    return buf.length;
  }
}

function afterLineBreak(buf: string, at: number): number {
  return buf.charCodeAt(at) === CR && buf.charCodeAt(at + 1) === LF ? at + 2 : at + 1;
}

function countLineBreaks(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === LF) count++;
    else if (c === CR) {
      count++;
      if (text.charCodeAt(i + 1) === LF) i++;
    }
  }
  return count;
}

/**
 * Opens a CSV: reads enough text to guess the delimiter, then the header. Throws
 * errors.malformedInput for an empty file or a header that cannot be read.
 */
export async function openCsvRecords(chunks: AsyncIterable<string>): Promise<RecordSource & { delimiter: Delimiter | null }> {
  const iterator = chunks[Symbol.asyncIterator]();
  let head = '';
  let done = false;
  while (head.length < SNIFF_CHARS) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    head += next.value;
  }
  if (head.charCodeAt(0) === 0xfeff) head = head.slice(1); // a byte-order mark left by a caller's own decoding
  // Excel's own first line naming the delimiter ("sep=;"): it decides, and is not the header.
  const sepLine = SEP_LINE.exec(head);
  let delimiter: Delimiter | null;
  if (sepLine) {
    const named = sepLine[1] ?? '';
    if (!isDelimiter(named)) throw errors.malformedInput(`the first line names "${named}" as the separator ("sep="); only ";", "," and tab are read`);
    delimiter = named;
    head = head.slice(sepLine[0].length);
  } else {
    delimiter = sniffDelimiter(head);
  }
  const reader = new CsvRecordReader(delimiter, sepLine ? 2 : 1);
  const first: SourceRecord[] = [];
  reader.push(head, first);
  if (done) reader.end(first);
  const header = first.shift();
  if (!header) throw errors.malformedInput('the file is empty');
  if (header.problem) throw errors.malformedInput(`the header line cannot be read (${header.problem.message})`);
  const columns = header.cells.map((cell) => cell.trim());

  async function* batches(): AsyncGenerator<SourceRecord[]> {
    if (first.length > 0) yield first;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      const out: SourceRecord[] = [];
      if (next.done) {
        reader.end(out);
        if (out.length > 0) yield out;
        return;
      }
      reader.push(next.value, out);
      if (out.length > 0) yield out;
    }
  }

  return { delimiter, columns: () => columns, batches: batches() };
}
