import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { neutralizeFormula, spreadsheetCsv } from '../../src/exports/spreadsheet-csv.js';

describe('spreadsheet CSV', () => {
  it('neutralizes cells a spreadsheet would run as formulas, and leaves phone numbers alone', () => {
    expect(neutralizeFormula('=HYPERLINK("http://evil","click")')).toBe(`'=HYPERLINK("http://evil","click")`);
    expect(neutralizeFormula('@SUM(A1)')).toBe(`'@SUM(A1)`);
    expect(neutralizeFormula('+cmd|calc!A0')).toBe(`'+cmd|calc!A0`);
    expect(neutralizeFormula('-2+3')).toBe(`'-2+3`);
    expect(neutralizeFormula('+56912345678')).toBe('+56912345678');
    expect(neutralizeFormula('+56 9 1234 5678')).toBe('+56 9 1234 5678');
    expect(neutralizeFormula('José Pérez')).toBe('José Pérez');
  });

  it('starts with a UTF-8 byte-order mark and quotes what needs quoting', async () => {
    async function* rows() {
      yield [1, 'Ana, "la jefa"', '=1+1'];
      yield [2, 'línea\nnueva', '+56912345678'];
    }
    const csv = (await buffer(spreadsheetCsv(['line', 'name', 'value'], rows()))).toString('utf8');
    expect(csv).toBe('\uFEFFline,name,value\r\n1,"Ana, ""la jefa""",\'=1+1\r\n2,"línea\nnueva",+56912345678\r\n');
  });
});
