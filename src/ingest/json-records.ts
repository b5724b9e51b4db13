/**
 * JSON recipient lists to records, without parsing the whole body: a JSON array is cut into
 * its top-level items by a small scanner (strings, escapes and nesting depth), NDJSON into
 * lines, and each item alone goes through JSON.parse. An item that is not valid JSON, or not
 * an object, is a rejected row; a body that is not an array at all, or is cut short, fails the
 * upload.
 *
 * Items are objects, `{"phone": "+56987654321", "nombre": "Ana", "monto": "1000"}`: the keys of
 * the first object are the columns. A `variables` (or `params`) array holds the template
 * variables by position: `{"phone": "...", "variables": ["Ana", "1000"]}` gives the columns
 * "variables.1", "variables.2", ...
 */
import { errors } from '../errors.js';
import { rowProblem } from './rejection-reasons.js';
import { MAX_RECORD_CHARS, type RecordSource, type SourceRecord } from './source-record.js';

const VARIABLE_ARRAY_KEYS = new Set(['variables', 'params', 'parameters']);

type Column = { name: string; key: string; index: number | null };

/** Turns parsed items into records, with the columns learnt from the first object. */
export class JsonItemReader {
  private columnList: Column[] | undefined;

  /** `variableCount` is the template's placeholder count: the length a `variables` array must have. */
  constructor(private readonly variableCount: number) {}

  columns(): readonly string[] | undefined {
    return this.columnList?.map((c) => c.name);
  }

  read(line: number, text: string): SourceRecord {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { line, cells: [], raw: text, problem: rowProblem('ROW_MALFORMED', `The item is not valid JSON: ${(error as Error).message}.`) };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { line, cells: [], raw: text, problem: rowProblem('ROW_MALFORMED', 'The item is not an object like {"phone": "+56987654321", ...}.') };
    }
    const item = value as Record<string, unknown>;
    this.columnList ??= this.learnColumns(item);
    const cells = this.columnList.map((column) => {
      const cell = item[column.key];
      return cellText(column.index === null ? cell : Array.isArray(cell) ? cell[column.index] : undefined);
    });
    const record: SourceRecord = { line, cells, raw: text };
    for (const column of this.columnList) {
      if (column.index !== 0) continue;
      const list = item[column.key];
      const length = Array.isArray(list) ? list.length : 0;
      if (length !== this.variableCount) {
        record.problem = rowProblem('VARIABLE_COUNT', `"${column.key}" has ${length} value(s); the template has ${this.variableCount} placeholder(s).`);
      }
    }
    return record;
  }

  private learnColumns(item: Record<string, unknown>): Column[] {
    const columns: Column[] = [];
    for (const key of Object.keys(item)) {
      if (VARIABLE_ARRAY_KEYS.has(key.toLowerCase()) && Array.isArray(item[key])) {
        for (let i = 0; i < this.variableCount; i++) columns.push({ name: `${key}.${i + 1}`, key, index: i });
      } else {
        columns.push({ name: key, key, index: null });
      }
    }
    return columns;
  }
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

type ArrayState = 'start' | 'first-item-or-end' | 'item' | 'comma-or-end' | 'item-after-comma' | 'end';

/** The text of one top-level item; `truncated` when it was longer than MAX_RECORD_CHARS and only its start was kept. */
export type ItemText = { text: string; truncated: boolean };

/**
 * Cuts a JSON array into the text of its top-level items, across chunks. Keeps only the item
 * being read; one larger than MAX_RECORD_CHARS is read to its end but kept as its first KiB.
 */
export class JsonArrayScanner {
  private state: ArrayState = 'start';
  private buf = '';
  /** Scan position inside the current item, relative to `buf`. */
  private scan = 0;
  private depth = 0;
  private inString = false;
  private truncatedHead: string | null = null;
  private items = 0;

  push(text: string, out: ItemText[]): void {
    const buf = this.buf + text;
    let pos = 0;
    let nextQuote = -2;
    let nextBackslash = -2;
    while (pos < buf.length) {
      if (this.state !== 'item') {
        const c = buf.charCodeAt(pos);
        if (c === 32 || c === 10 || c === 13 || c === 9 || c === 0xfeff) pos++;
        else pos = this.punctuation(c, pos);
        continue;
      }
      // Inside an item (starting at `pos`): find where it ends.
      let i = this.scan;
      let ended = -1;
      while (i < buf.length) {
        if (this.inString) {
          if (nextQuote !== -1 && nextQuote < i) nextQuote = buf.indexOf('"', i);
          if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = buf.indexOf('\\', i);
          if (nextBackslash !== -1 && (nextQuote === -1 || nextBackslash < nextQuote)) {
            if (nextBackslash + 1 >= buf.length) {
              i = nextBackslash; // the escaped character is in the next chunk
              break;
            }
            i = nextBackslash + 2;
            continue;
          }
          if (nextQuote === -1) {
            i = buf.length;
            break;
          }
          i = nextQuote + 1;
          this.inString = false;
          if (this.depth === 0) {
            ended = i;
            break;
          }
          continue;
        }
        const c = buf.charCodeAt(i);
        if (c === 34) this.inString = true;
        else if (c === 123 || c === 91) this.depth++;
        else if (c === 125 || c === 93) {
          if (this.depth === 0) {
            ended = i; // the "]" closing the array, right after a bare value
            break;
          }
          this.depth--;
          if (this.depth === 0) {
            ended = i + 1;
            break;
          }
        } else if (this.depth === 0 && (c === 44 || c === 32 || c === 10 || c === 13 || c === 9)) {
          ended = i; // the end of a bare value (a number, true, null)
          break;
        }
        i++;
      }
      if (ended === -1) {
        if (this.truncatedHead === null && i - pos > MAX_RECORD_CHARS) this.truncatedHead = buf.slice(pos, pos + 1024);
        if (this.truncatedHead !== null) {
          // Read on to the item's end without keeping its text.
          this.buf = buf.slice(i);
          this.scan = 0;
          return;
        }
        this.buf = buf.slice(pos);
        this.scan = i - pos;
        return;
      }
      this.items++;
      if (this.truncatedHead !== null) {
        out.push({ text: `${this.truncatedHead}…`, truncated: true });
        this.truncatedHead = null;
      } else {
        out.push({ text: buf.slice(pos, ended), truncated: false });
      }
      pos = ended;
      this.state = 'comma-or-end';
    }
    this.buf = '';
  }

  end(): void {
    if (this.state !== 'end') throw errors.malformedInput('the JSON array is not closed: the body ends before its "]"');
  }

  /** Handles the text between items; returns the next position. */
  private punctuation(c: number, pos: number): number {
    switch (this.state) {
      case 'start':
        if (c !== 91) throw errors.malformedInput('a JSON array of recipients was expected: the body must start with "["');
        this.state = 'first-item-or-end';
        return pos + 1;
      case 'first-item-or-end':
      case 'item-after-comma':
        if (c === 93) {
          this.state = 'end';
          return pos + 1;
        }
        if (c === 44) throw errors.malformedInput(`the JSON array has an empty item after item ${this.items}`);
        return this.startItem(pos);
      case 'comma-or-end':
        if (c === 44) {
          this.state = 'item-after-comma';
          return pos + 1;
        }
        if (c === 93) {
          this.state = 'end';
          return pos + 1;
        }
        throw errors.malformedInput(`"," or "]" was expected after item ${this.items} of the JSON array`);
      default:
        throw errors.malformedInput('there is text after the end of the JSON array');
    }
  }

  private startItem(pos: number): number {
    this.state = 'item';
    this.scan = pos;
    this.depth = 0;
    this.inString = false;
    return pos;
  }
}

/** A JSON array body as records; an item's `line` is its 1-based position in the array. */
export function openJsonArrayRecords(chunks: AsyncIterable<string>, variableCount: number): RecordSource {
  const reader = new JsonItemReader(variableCount);
  const scanner = new JsonArrayScanner();
  let position = 0;

  async function* batches(): AsyncGenerator<SourceRecord[]> {
    const items: ItemText[] = [];
    for await (const chunk of chunks) {
      scanner.push(chunk, items);
      if (items.length === 0) continue;
      yield items.map((item) => toRecord(++position, item));
      items.length = 0;
    }
    scanner.end();
  }

  function toRecord(line: number, item: ItemText): SourceRecord {
    if (!item.truncated) return reader.read(line, item.text);
    return { line, cells: [], raw: item.text, problem: rowProblem('ROW_MALFORMED', `The item is larger than ${MAX_RECORD_CHARS / 1024} KiB.`) };
  }

  return { columns: () => reader.columns(), batches: batches() };
}

/** NDJSON (one JSON object per line) as records; `line` is the physical line. */
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
