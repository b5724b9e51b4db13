/**
 * Which column holds the phone and which hold the template variables, decided once per file
 * from its column names.
 *
 * Phone: `phoneColumn` when given, else the first column named like a phone (whatsapp, celular,
 * móvil, mobile, phone, teléfono, fono, ...; case, accents and punctuation ignored), else one
 * named just "número"/"number" (only then: on its own it could be any number).
 *
 * Variables: `variables` when given (column names or 1-based positions). Otherwise columns that
 * name a placeholder ("1", "var1", "{{1}}", "param_1", "variables.1") or carry one of the
 * template's `paramNames`; if there are none, the other columns in file order. A count that
 * cannot match the template is a file-level error: rows are never mapped by a guess.
 */
import { errors, someNames } from '../errors.js';

export type ColumnMapping = {
  columns: readonly string[];
  /** Cells a row must have: up to the last named column (a header's trailing empty columns may be missing). */
  requiredCells: number;
  /** Index of the phone column. */
  phone: number;
  /** Index of the column of each placeholder, {{1}} first. */
  variables: readonly number[];
  /** Index of a column naming the recipient's IANA time zone (for quiet hours), when the file has one. */
  timeZone?: number;
};

export type MappingOptions = {
  paramCount: number;
  paramNames?: readonly string[];
  phoneColumn?: string;
  variables?: readonly (string | number)[];
};

// Most specific first: a file with both "teléfono" and "celular" is sent to the mobile.
const PHONE_NAMES: readonly (readonly string[])[] = [
  ['whatsapp', 'numerowhatsapp', 'whatsappnumber', 'nrowhatsapp', 'wa', 'waid', 'wanumber'],
  ['celular', 'numerocelular', 'numerodecelular', 'nrocelular', 'cel', 'movil', 'numeromovil', 'telefonomovil', 'telefonocelular'],
  ['mobile', 'mobilenumber', 'mobilephone', 'cellphone', 'cell', 'msisdn'],
  ['phone', 'phonenumber', 'telephone', 'telefono', 'numerotelefono', 'numerodetelefono', 'nrotelefono', 'tel', 'fono'],
];
const PHONE_WORDS = ['whatsapp', 'celular', 'movil', 'mobile', 'phone', 'telefono'];
const BARE_NUMBER_NAMES = ['numero', 'number', 'nro', 'num'];
/**
 * A column giving each recipient's time zone ("America/Bogota"); not a template variable unless
 * named as one. Not a bare "zona": in Latin American lists that is usually a sales zone ("Norte"),
 * and reading it as a time zone would reject every row.
 */
const TIME_ZONE_NAMES = ['timezone', 'tz', 'zonahoraria', 'husohorario', 'fusohorario'];
const PLACEHOLDER_NAME = /^(?:var|variable|variables|param|params|parameter|parameters|parametro|parametros|p|v)?(\d{1,3})$/;
const MUSTACHE = /^\{\{\s*(\d{1,3})\s*\}\}$/;

/** Lower case, no accents, letters and digits only: "Teléfono Móvil" -> "telefonomovil". */
export function normalizeColumnName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

export function mapColumns(columns: readonly string[], options: MappingOptions): ColumnMapping {
  const names = columns.map(normalizeColumnName);
  const phone = options.phoneColumn === undefined ? findPhoneColumn(names) : findColumn(columns, names, options.phoneColumn, 'phoneColumn');
  if (phone === -1) throw errors.noPhoneColumn(columns);
  const timeZone = names.findIndex((name, index) => index !== phone && TIME_ZONE_NAMES.includes(name));
  const variables =
    options.variables === undefined ? defaultVariables(columns, names, phone, options, timeZone) : explicitVariables(columns, names, options);
  const lastNamed = names.reduce((last, name, index) => (name === '' ? last : index), -1);
  const requiredCells = Math.max(lastNamed, phone, ...variables) + 1;
  return { columns, requiredCells, phone, variables, ...(timeZone === -1 || variables.includes(timeZone) ? {} : { timeZone }) };
}

function findPhoneColumn(names: readonly string[]): number {
  for (const group of PHONE_NAMES) {
    const index = names.findIndex((name) => group.includes(name));
    if (index !== -1) return index;
  }
  const containing = names.findIndex((name) => PHONE_WORDS.some((word) => name.includes(word)));
  if (containing !== -1) return containing;
  return names.findIndex((name) => BARE_NUMBER_NAMES.includes(name));
}

function findColumn(columns: readonly string[], names: readonly string[], wanted: string, option: string): number {
  const exact = columns.indexOf(wanted);
  if (exact !== -1) return exact;
  const normalized = normalizeColumnName(wanted);
  const index = normalized === '' ? -1 : names.indexOf(normalized);
  if (index === -1) throw errors.validation([`${option}: the file has no column "${wanted.slice(0, 60)}" (its columns: ${someNames(columns)})`]);
  return index;
}

function explicitVariables(columns: readonly string[], names: readonly string[], options: MappingOptions): number[] {
  const wanted = options.variables ?? [];
  const indexes = wanted.map((column, i) => {
    if (typeof column === 'string') return findColumn(columns, names, column, `variables[${i}]`);
    if (!Number.isInteger(column) || column < 1 || column > columns.length) {
      throw errors.validation([`variables[${i}]: column position ${column} is not between 1 and ${columns.length}`]);
    }
    return column - 1;
  });
  if (indexes.length !== options.paramCount) {
    throw errors.templateVariableMismatch(options.paramCount, indexes.length, indexes.map((i) => columns[i] ?? ''));
  }
  return indexes;
}

function defaultVariables(columns: readonly string[], names: readonly string[], phone: number, options: MappingOptions, timeZone: number): number[] {
  const count = options.paramCount;
  // A template without placeholders ignores every other column.
  if (count === 0) return [];
  const byPosition = new Map<number, number>();
  const paramNames = (options.paramNames ?? []).map(normalizeColumnName);
  columns.forEach((column, index) => {
    if (index === phone) return;
    const match = MUSTACHE.exec(column.trim()) ?? PLACEHOLDER_NAME.exec(names[index] as string);
    let position = match ? Number(match[1]) : 0;
    const named = paramNames.indexOf(names[index] as string);
    if (position === 0 && named !== -1 && names[index] !== '') position = named + 1;
    if (position >= 1 && position <= count && !byPosition.has(position)) byPosition.set(position, index);
  });
  if (byPosition.size === count) return [...byPosition.entries()].sort((a, b) => a[0] - b[0]).map(([, index]) => index);
  if (byPosition.size > 0) {
    throw errors.templateVariableMismatch(count, byPosition.size, [...byPosition.values()].map((i) => columns[i] ?? ''));
  }
  const others = columns.map((_, index) => index).filter((index) => index !== phone && index !== timeZone && names[index] !== '');
  if (others.length !== count) throw errors.templateVariableMismatch(count, others.length, others.map((i) => columns[i] ?? ''));
  return others;
}
