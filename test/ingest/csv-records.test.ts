import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvRecordReader, openCsvRecords } from '../../src/ingest/csv-records.js';
import { sniffDelimiter } from '../../src/ingest/sniff-delimiter.js';
import { MAX_RECORD_CHARS, type SourceRecord } from '../../src/ingest/source-record.js';

/** Reads `text` fed in pieces of `size` characters (every size must give the same records). */
function read(text: string, delimiter: string | null, size = text.length || 1): SourceRecord[] {
  const reader = new CsvRecordReader(delimiter);
  const out: SourceRecord[] = [];
  for (let i = 0; i < text.length; i += size) reader.push(text.slice(i, i + size), out);
  reader.end(out);
  return out;
}

function summary(records: SourceRecord[]) {
  return records.map((r) => ({ line: r.line, cells: r.cells, ...(r.problem ? { problem: r.problem.code } : {}) }));
}

describe('CsvRecordReader', () => {
  it('gives each record the physical line where it starts, across quoted line breaks', () => {
    const text = [
      'telefono;nombre;nota', // line 1
      '+56987654321;Ana;simple', // 2
      '+56987654322;"Pérez; Juan";"two', // 3
      'lines"', // 4
      '+56987654323;"three', // 5
      '',
      'lines with a blank one";x', // 7
      '', // 8: an empty line is skipped but counted
      '+56987654324;"say ""hi""";y', // 9
    ].join('\n');
    const expected = [
      { line: 1, cells: ['telefono', 'nombre', 'nota'] },
      { line: 2, cells: ['+56987654321', 'Ana', 'simple'] },
      { line: 3, cells: ['+56987654322', 'Pérez; Juan', 'two\nlines'] },
      { line: 5, cells: ['+56987654323', 'three\n\nlines with a blank one', 'x'] },
      { line: 9, cells: ['+56987654324', 'say "hi"', 'y'] },
    ];
    for (const size of [1, 2, 3, 5, 7, 16, 1000]) expect(summary(read(text, ';', size)), `pieces of ${size}`).toEqual(expected);
  });

  it('keeps the raw text of each record, quotes and inner line breaks included', () => {
    const records = read('a,b\n1,"x\r\ny"\r\n2,z\r\n', ',');
    expect(records.map((r) => r.raw)).toEqual(['a,b', '1,"x\r\ny"', '2,z']);
    expect(records.map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it('reads \\r\\n, \\n and lone \\r line endings, even when \\r\\n is cut between chunks', () => {
    for (const text of ['h\r\n1\r\n2\r\n', 'h\n1\n2\n', 'h\r1\r2\r', 'h\r\n1\r\n2']) {
      for (const size of [1, 2, 3, 100]) {
        expect(summary(read(text, ','))).toEqual(summary(read(text, ',', size)));
        expect(summary(read(text, ',', size))).toEqual([
          { line: 1, cells: ['h'] },
          { line: 2, cells: ['1'] },
          { line: 3, cells: ['2'] },
        ]);
      }
    }
  });

  it('rejects a record with text after a closing quote, and reads on', () => {
    const records = read('h1;h2\n"ab"c;d\nok;1\n', ';');
    expect(summary(records)).toEqual([
      { line: 1, cells: ['h1', 'h2'] },
      { line: 2, cells: ['abc', 'd'], problem: 'ROW_MALFORMED' },
      { line: 3, cells: ['ok', '1'] },
    ]);
  });

  it('treats a quote inside an unquoted field as text', () => {
    expect(summary(read('a;b\n5" tablet;x\n', ';'))).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['5" tablet', 'x'] },
    ]);
  });

  it('rejects only the first line of a quote that is never closed, and reads on from the next line', () => {
    const text = 'phone;name\n+56987654321;"Ana\n+56987654322;Bea\n+56987654323;Cata\n';
    for (const size of [1, 4, 1000]) {
      expect(summary(read(text, ';', size))).toEqual([
        { line: 1, cells: ['phone', 'name'] },
        { line: 2, cells: [], problem: 'ROW_MALFORMED' },
        { line: 3, cells: ['+56987654322', 'Bea'] },
        { line: 4, cells: ['+56987654323', 'Cata'] },
      ]);
    }
    expect(read(text, ';')[1]?.raw).toBe('+56987654321;"Ana');
  });

  it('gives up on a quoted field longer than the record limit without holding the rest of the file', () => {
    const long = 'x'.repeat(MAX_RECORD_CHARS + 10);
    const text = `phone;name\n+56987654321;"${long}\n${long}\n+56987654322;Bea\n`;
    for (const size of [4096, 50_000, text.length]) {
      const records = read(text, ';', size);
      expect(summary(records).map((r) => [r.line, r.problem ?? 'ok'])).toEqual([
        [1, 'ok'],
        [2, 'ROW_MALFORMED'],
        [3, 'ROW_MALFORMED'],
        [4, 'ok'],
      ]);
      expect(records[3]?.cells).toEqual(['+56987654322', 'Bea']);
      expect(records[1]?.raw.length).toBeLessThan(2048);
    }
  });

  it('agrees with csv-parse on random well-formed files, in any chunking', () => {
    let state = 7;
    const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const pieces = ['a', 'Pérez', ' ', ';', ',', '"', '\n', '\r\n', '5', 'ñ', "'"];
    for (let file = 0; file < 40; file++) {
      const delimiter = file % 2 === 0 ? ';' : ',';
      const rows: string[][] = [];
      const starts: number[] = [];
      let line = 1;
      let text = '';
      for (let r = 0; r < 30; r++) {
        const cells: string[] = [];
        for (let c = 0; c < 3; c++) {
          let cell = '';
          for (let k = Math.floor(random() * 5); k > 0; k--) cell += pieces[Math.floor(random() * pieces.length)];
          cells.push(cell);
        }
        if (cells.join('') === '') cells[0] = 'x';
        rows.push(cells);
        starts.push(line);
        const encoded = cells.map((cell) => (/[;,"\r\n]/.test(cell) || cell.startsWith(' ') ? `"${cell.replace(/"/g, '""')}"` : cell));
        const record = encoded.join(delimiter);
        text += `${record}${r % 3 === 0 ? '\r\n' : '\n'}`;
        line += 1 + (record.match(/\r\n|\n|\r/g)?.length ?? 0);
      }
      const reference = parse(text, { delimiter, relax_column_count: true, record_delimiter: ['\r\n', '\n'] }) as string[][];
      expect(reference).toEqual(rows);
      for (const size of [1, 3, 17, 256, text.length]) {
        const records = read(text, delimiter, size);
        expect(records.map((r) => r.cells)).toEqual(rows);
        expect(records.map((r) => r.line)).toEqual(starts);
      }
    }
  });

  it('reads a single-column file without a delimiter', () => {
    expect(summary(read('telefono\n+56 9 8765 4321\n', null))).toEqual([
      { line: 1, cells: ['telefono'] },
      { line: 2, cells: ['+56 9 8765 4321'] },
    ]);
  });
});

describe('sniffDelimiter', () => {
  it.each([
    ['telefono;nombre;monto\n+56987654321;Ana;1,5\n+56987654322;Bea;2,5\n', ';'],
    ['phone,name\n+56987654321,Ana\n', ','],
    ['phone\tname\n+56987654321\tAna\n', '\t'],
    ['phone,name,note\n+56987654321,"Ana; Bea",x\n+56987654321,"a;b;c",y\n', ','],
    ['"tel;efono";nombre\n"1;2";x\n', ';'],
    ['telefono\n+56987654321\n', null],
    ['phone;name;amount\n1;"Pérez, Ana";3\n2;"López, Bea";4\n;;\n', ';'],
  ])('%j -> %j', (sample, expected) => {
    expect(sniffDelimiter(sample)).toBe(expected);
  });
});

describe('openCsvRecords', () => {
  async function* chunks(...parts: string[]) {
    yield* parts;
  }

  it('reads the header, guesses the delimiter and yields the rows after it', async () => {
    const source = await openCsvRecords(chunks('\ufeffTeléfono;Nombre\n+5698765', '4321;Ana\n'));
    expect(source.delimiter).toBe(';');
    expect(source.columns()).toEqual(['Teléfono', 'Nombre']);
    const rows: SourceRecord[] = [];
    for await (const batch of source.batches) rows.push(...batch);
    expect(summary(rows)).toEqual([{ line: 2, cells: ['+56987654321', 'Ana'] }]);
  });

  it('fails an empty file', async () => {
    await expect(openCsvRecords(chunks('', '\n\n'))).rejects.toMatchObject({ code: 'MALFORMED_INPUT' });
  });
});
