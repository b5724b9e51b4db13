/**
 * One record against the rules of a recipient row: its shape, its phone, then its variables.
 * The first rule broken is the row's reason; duplicates are judged later, among good rows only.
 */
import { isValidTimeZone } from '../flow/quiet-hours.js';
import { normalizePhone, type CountryCode } from '../phones/normalize-phone.js';
import type { ColumnMapping } from './column-mapping.js';
import { rowProblem, type RowProblem } from './rejection-reasons.js';
import type { SourceRecord } from './source-record.js';

export type RowRules = {
  mapping: ColumnMapping;
  defaultCountry: CountryCode;
  phoneRule?: (e164: string) => RowProblem | null;
};

export type CheckedRow =
  | { ok: true; e164: string; rawPhone: string; variables: string[]; timeZone: string | null }
  | { ok: false; problem: RowProblem };

// Control characters, Unicode line breaks (NEL, line and paragraph separators), U+FFFD (bytes the
// decoder could not read), surrogates, 5 spaces in a row.
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const SUSPICIOUS = /[\u0000-\u001f\u007f\u0085\u2028\u2029\ufffd\ud800-\udfff]| {5}/;
/**
 * Longest template variable, in characters. Meta caps a text parameter at 1,024 characters in
 * a body that has a header, footer or buttons (32,768 when the body is alone, 60 in a header);
 * ingest holds every variable to the 1,024 that fits any body.
 */
export const MAX_VARIABLE_CHARS = 1024;
/** Characters of the row shown around an unreadable byte. */
const CONTEXT_CHARS = 12;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function checkRow(record: SourceRecord, rules: RowRules): CheckedRow {
  if (record.problem) return { ok: false, problem: record.problem };
  const unreadable = record.raw.indexOf('\ufffd');
  if (unreadable !== -1) return { ok: false, problem: encodingProblem(record.raw, unreadable) };
  const { mapping } = rules;
  const { cells } = record;
  if (cells.length < mapping.requiredCells || (cells.length > mapping.columns.length && !onlyEmptyExtraCells(cells, mapping.columns.length))) {
    return {
      ok: false,
      problem: rowProblem('VARIABLE_COUNT', `The row has ${cells.length} values; the header has ${mapping.columns.length} columns.`),
    };
  }
  const rawPhone = cells[mapping.phone] ?? '';
  const phone = normalizePhone(rawPhone, rules.defaultCountry);
  if (!phone.ok) return { ok: false, problem: { code: phone.problem, message: phone.message } };
  const ruled = rules.phoneRule?.(phone.e164);
  if (ruled) return { ok: false, problem: ruled };
  const variables: string[] = [];
  for (let i = 0; i < mapping.variables.length; i++) {
    const index = mapping.variables[i] as number;
    const value = (cells[index] ?? '').trim();
    if (value === '') return { ok: false, problem: rowProblem('VARIABLE_EMPTY', `Variable ${variableName(mapping, i)} is empty.`) };
    if (value.length > MAX_VARIABLE_CHARS) {
      const length = characterCount(value);
      if (length > MAX_VARIABLE_CHARS) {
        return {
          ok: false,
          problem: rowProblem(
            'VARIABLE_TOO_LONG',
            `Variable ${variableName(mapping, i)} has ${length.toLocaleString('en-US')} characters; WhatsApp takes at most ${MAX_VARIABLE_CHARS.toLocaleString('en-US')} in a template parameter. Shorten it.`,
          ),
        };
      }
    }
    if (SUSPICIOUS.test(value)) {
      const why = unusable(value);
      if (why) return { ok: false, problem: rowProblem('VARIABLE_INVALID', `Variable ${variableName(mapping, i)} ${why}.`) };
    }
    variables.push(value);
  }
  let timeZone: string | null = null;
  if (mapping.timeZone !== undefined) {
    const given = (cells[mapping.timeZone] ?? '').trim();
    if (given !== '') {
      if (!isValidTimeZone(given)) return { ok: false, problem: rowProblem('TIME_ZONE_INVALID', `"${given.slice(0, 60)}" is not an IANA time zone (such as America/Santiago).`) };
      timeZone = given;
    }
  }
  return { ok: true, e164: phone.e164, rawPhone, variables, timeZone };
}

/** True when every cell is blank: a spreadsheet's empty row (";;;"), skipped and not counted. */
export function isBlankRecord(record: SourceRecord): boolean {
  if (record.problem) return false;
  for (const cell of record.cells) if (cell.trim() !== '') return false;
  return true;
}

/** Characters as a person counts them: a surrogate pair (an emoji) is one. */
function characterCount(value: string): number {
  let count = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff || i === 0 || (value.charCodeAt(i - 1) & 0xfc00) !== 0xd800) count++;
  }
  return count;
}

function encodingProblem(raw: string, at: number): RowProblem {
  const from = Math.max(0, at - CONTEXT_CHARS);
  // eslint-disable-next-line no-control-regex -- control characters are what it removes
  const near = raw.slice(from, at + CONTEXT_CHARS).replace(/[\u0000-\u001f\u007f]/g, ' ');
  return rowProblem(
    'ENCODING_INVALID',
    `The row has bytes that are not valid in the file's encoding (shown as \u201c\ufffd\u201d near \u201c${near}\u201d); it was not stored. Fix those characters, or save the file again as "CSV UTF-8".`,
  );
}

function variableName(mapping: ColumnMapping, position: number): string {
  return `{{${position + 1}}} (column "${mapping.columns[mapping.variables[position] as number]}")`;
}

function onlyEmptyExtraCells(cells: readonly string[], expected: number): boolean {
  for (let i = expected; i < cells.length; i++) if ((cells[i] as string).trim() !== '') return false;
  return true;
}

/** Why WhatsApp would refuse `value` as a template parameter, or null when it would not. */
function unusable(value: string): string | null {
  if (/[\n\r\t\u0085\u2028\u2029]/.test(value)) {
    return 'has a line break (a Unicode line or paragraph separator counts too) or a tab, which WhatsApp does not allow in a template parameter';
  }
  if (/ {5}/.test(value)) return 'has more than 4 spaces in a row, which WhatsApp does not allow in a template parameter';
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'has control characters';
  if (value.includes('\ufffd') || LONE_SURROGATE.test(value)) {
    return 'has characters that could not be read (is part of the file in another encoding?); save the file as "CSV UTF-8"';
  }
  return null;
}
