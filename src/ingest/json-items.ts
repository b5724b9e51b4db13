/**
 * JSON items (already cut out of the body) to records. Items are objects,
 * `{"phone": "+56987654321", "nombre": "Ana", "monto": "1000"}`: the keys of the first object
 * are the columns. A `variables` (or `params`, `parameters`) array holds the template variables
 * by position: `{"phone": "...", "variables": ["Ana", "1000"]}` gives the columns "variables.1",
 * "variables.2", ... An item that is not valid JSON, or not an object, is a rejected row.
 */
import { rowProblem } from './rejection-reasons.js';
import type { SourceRecord } from './source-record.js';

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
