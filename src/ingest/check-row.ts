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

// Control characters, U+FFFD (bytes the decoder could not read), surrogates, 5 spaces in a row.
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const SUSPICIOUS = /[\u0000-\u001f\u007f\ufffd\ud800-\udfff]| {5}/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function checkRow(record: SourceRecord, rules: RowRules): CheckedRow {
  if (record.problem) return { ok: false, problem: record.problem };
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

function variableName(mapping: ColumnMapping, position: number): string {
  return `{{${position + 1}}} (column "${mapping.columns[mapping.variables[position] as number]}")`;
}

function onlyEmptyExtraCells(cells: readonly string[], expected: number): boolean {
  for (let i = expected; i < cells.length; i++) if ((cells[i] as string).trim() !== '') return false;
  return true;
}

/** Why WhatsApp would refuse `value` as a template parameter, or null when it would not. */
function unusable(value: string): string | null {
  if (/[\n\r\t]/.test(value)) return 'has a line break or a tab, which WhatsApp does not allow in a template parameter';
  if (/ {5}/.test(value)) return 'has more than 4 spaces in a row, which WhatsApp does not allow in a template parameter';
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'has control characters';
  if (value.includes('\ufffd') || LONE_SURROGATE.test(value)) {
    return 'has characters that could not be read (is part of the file in another encoding?); save the file as "CSV UTF-8"';
  }
  return null;
}
