import { describe, expect, it } from 'vitest';
import { JsonArrayScanner, openJsonArrayRecords, type ItemText } from '../../src/ingest/json-array-records.js';
import { openNdjsonRecords } from '../../src/ingest/ndjson-records.js';
import { MAX_RECORD_CHARS, type SourceRecord } from '../../src/ingest/source-record.js';

function scan(text: string, size: number): ItemText[] {
  const scanner = new JsonArrayScanner();
  const out: ItemText[] = [];
  for (let i = 0; i < text.length; i += size) scanner.push(text.slice(i, i + size), out);
  scanner.end();
  return out;
}

async function* pieces(text: string, size: number) {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function records(source: { batches: AsyncGenerator<SourceRecord[]> }) {
  const all: SourceRecord[] = [];
  for await (const batch of source.batches) all.push(...batch);
  return all.map((r) => ({ line: r.line, cells: r.cells, ...(r.problem ? { problem: r.problem.code } : {}) }));
}

describe('JsonArrayScanner', () => {
  const body = `[
    {"phone": "+56987654321", "name": "Ana \\"la\\" [jefa] {x}", "tags": [1, [2]]},
    {"phone": "+56987654322", "name": "back\\\\slash"} ,
    "not an object", 42, null,
    {"phone": "+56987654323", "nested": {"a": "]}"}}
  ]`;

  it('cuts the top-level items whatever the chunking, strings, escapes and nesting included', () => {
    const whole = scan(body, body.length).map((i) => i.text);
    expect(whole.map((t) => JSON.parse(t))).toEqual(JSON.parse(body));
    for (const size of [1, 2, 3, 7, 64]) expect(scan(body, size).map((i) => i.text)).toEqual(whole);
  });

  it('fails a body that is not an array, is cut short, or has text after it', () => {
    expect(() => scan('{"phone": "1"}', 100)).toThrow(/must start with "\["/);
    expect(() => scan('[{"phone": "1"}', 100)).toThrow(/not closed/);
    expect(() => scan('[{"phone": "1"} {"phone": "2"}]', 100)).toThrow(/"," or "\]" was expected after item 1/);
    expect(() => scan('[1] x', 100)).toThrow(/after the end/);
    expect(scan(' \n[ ]\n', 100)).toEqual([]);
  });

  it('reads an item larger than the limit to its end but keeps only its start', () => {
    const big = `{"phone": "1", "note": "${'x'.repeat(MAX_RECORD_CHARS * 2)}"}`;
    const items = scan(`[${big}, {"phone": "2"}]`, 4096);
    expect(items.map((i) => i.truncated)).toEqual([true, false]);
    expect(items[0]?.text.length).toBeLessThan(2048);
    expect(items[1]?.text).toBe('{"phone": "2"}');
  });
});

describe('openJsonArrayRecords', () => {
  it('takes the columns from the first object, numbers items from 1 and rejects non-objects', async () => {
    const text = '[5, {"telefono": "+56987654321", "nombre": "Ana", "monto": 1000}, {"telefono": "+56987654322", "extra": true}, {"bad": }]';
    const source = openJsonArrayRecords(pieces(text, 5), 2);
    expect(await records(source)).toEqual([
      { line: 1, cells: [], problem: 'ROW_MALFORMED' },
      { line: 2, cells: ['+56987654321', 'Ana', '1000'] },
      { line: 3, cells: ['+56987654322', '', ''] },
      { line: 4, cells: [], problem: 'ROW_MALFORMED' },
    ]);
    expect(source.columns()).toEqual(['telefono', 'nombre', 'monto']);
  });

  it('spreads a "variables" array over placeholder columns and checks its length', async () => {
    const text = JSON.stringify([
      { phone: '+56987654321', variables: ['Ana', 1000] },
      { phone: '+56987654322', variables: ['Bea'] },
    ]);
    const source = openJsonArrayRecords(pieces(text, 1000), 2);
    expect(await records(source)).toEqual([
      { line: 1, cells: ['+56987654321', 'Ana', '1000'] },
      { line: 2, cells: ['+56987654322', 'Bea', ''], problem: 'VARIABLE_COUNT' },
    ]);
    expect(source.columns()).toEqual(['phone', 'variables.1', 'variables.2']);
  });
});

describe('openNdjsonRecords', () => {
  it('reads one object per line, numbering physical lines and skipping blank ones', async () => {
    const text = '{"phone": "+56987654321", "name": "Ana"}\r\n\n{"phone": "+56987654322", "name": "Bea"}\nnot json\n{"phone": "3", "name": "C"}';
    for (const size of [1, 4, 1000]) {
      expect(await records(openNdjsonRecords(pieces(text, size), 1))).toEqual([
        { line: 1, cells: ['+56987654321', 'Ana'] },
        { line: 3, cells: ['+56987654322', 'Bea'] },
        { line: 4, cells: [], problem: 'ROW_MALFORMED' },
        { line: 5, cells: ['3', 'C'] },
      ]);
    }
  });
});
