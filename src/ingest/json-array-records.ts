/**
 * A JSON array body to records without parsing it whole: a small scanner (strings, escapes,
 * nesting depth) cuts out each top-level item across chunks, and each item alone goes through
 * JSON.parse (json-items.ts). A body that is not an array, has text between or after its
 * items, or is cut short, fails the upload; a bad item is a rejected row.
 */
import { errors } from '../errors.js';
import { JsonItemReader } from './json-items.js';
import { rowProblem } from './rejection-reasons.js';
import { MAX_RECORD_CHARS, type RecordSource, type SourceRecord } from './source-record.js';

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
      // An item that came whole within one chunk may still be over the limit.
      if (this.truncatedHead === null && ended - pos > MAX_RECORD_CHARS) this.truncatedHead = buf.slice(pos, pos + 1024);
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
