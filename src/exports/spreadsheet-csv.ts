/**
 * CSV for people who open it in a spreadsheet: a UTF-8 byte-order mark (so Excel shows "é"),
 * CRLF lines, and cells that a spreadsheet would run as a formula neutralized with a leading
 * apostrophe (OWASP's CSV-injection advice). A cell that is only a number, such as an E.164
 * phone "+56912345678", is left alone: it cannot carry a formula.
 */
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?\d[\d\s.,]*$/;

export function neutralizeFormula(value: string): string {
  return FORMULA_START.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
}

/** A failure reading `rows` (a lookup that finds nothing, a lost connection) errors the returned stream. */
export function spreadsheetCsv(columns: readonly string[], rows: AsyncIterable<readonly unknown[]>): Readable {
  const csv = stringify({
    bom: true,
    header: true,
    columns: [...columns],
    record_delimiter: 'windows',
    // With CRLF records, a lone LF inside a value would otherwise go out unquoted and split the row.
    quoted_match: /[\r\n]/,
    cast: { string: neutralizeFormula },
  });
  const source = Readable.from(rows);
  // pipe() does not forward errors; without this the reader would wait forever.
  source.on('error', (error) => csv.destroy(error));
  return source.pipe(csv);
}
