/**
 * The `max` numbering plans of libphonenumber-js, compiled once into anchored RegExps.
 *
 * libphonenumber-js builds a `new RegExp` from metadata text on every call, which makes a
 * validated parse cost several microseconds; the ingest fast path (fast-normalize.ts) matches
 * the same patterns, compiled here once per country. The metadata is the very object the
 * library uses (`libphonenumber-js/metadata.max` resolves to the same module as
 * `libphonenumber-js/max`), read by position as the library's own `metadata.js` reads format
 * version 4. Any other version disables the fast path: `numberingPlan()` returns undefined and
 * every number goes through the library.
 */
import type { CountryCode } from 'libphonenumber-js/max';
import metadata from 'libphonenumber-js/metadata.max';

export type NumberingPlan = {
  country: CountryCode;
  callingCode: string;
  /** True when no other country shares the calling code (so the number alone names the country). */
  ownsCallingCode: boolean;
  /** International dialling prefix (IDD), anchored at the start. */
  iddPrefix: RegExp;
  /** National prefix (and carrier code) pattern used when parsing, anchored at the start. */
  nationalPrefixForParsing: RegExp | null;
  /** The general description: every national number of the country matches it. */
  nationalNumber: RegExp;
  possibleLengths: readonly number[];
  /** Fixed line, mobile, toll free, ...: a number of an assigned range matches one of them. */
  types: readonly { pattern: RegExp; possibleLengths: readonly number[] }[];
};

// Positions in a version-4 numbering plan tuple (libphonenumber-js es6/metadata.js accessors).
const CALLING_CODE = 0;
const IDD_PREFIX = 1;
const NATIONAL_NUMBER_PATTERN = 2;
const POSSIBLE_LENGTHS = 3;
const NATIONAL_PREFIX = 5;
const NATIONAL_PREFIX_FOR_PARSING = 7;
const TYPES = 11;

const SUPPORTED_METADATA_VERSION = 4;
const plans = new Map<string, NumberingPlan | null>();

/** Countries sharing each calling code, as in the metadata ("001" marks non-geographic codes). */
export function countriesForCallingCode(callingCode: string): readonly string[] | undefined {
  return metadata.country_calling_codes[callingCode];
}

/** The compiled plan of a country, or undefined when the metadata cannot be read safely. */
export function numberingPlan(country: string): NumberingPlan | undefined {
  let plan = plans.get(country);
  if (plan === undefined) {
    plan = compile(country);
    plans.set(country, plan);
  }
  return plan ?? undefined;
}

function compile(country: string): NumberingPlan | null {
  if (metadata.version !== SUPPORTED_METADATA_VERSION) return null;
  const tuple: unknown = (metadata.countries as Record<string, unknown>)[country];
  if (!Array.isArray(tuple)) return null;
  const callingCode = tuple[CALLING_CODE];
  const idd = tuple[IDD_PREFIX];
  const general = tuple[NATIONAL_NUMBER_PATTERN];
  const lengths = tuple[POSSIBLE_LENGTHS];
  if (typeof callingCode !== 'string' || typeof idd !== 'string' || typeof general !== 'string' || !isNumberArray(lengths)) return null;
  // The library falls back to the national prefix when no parsing pattern is given.
  const prefixForParsing = stringOrNull(tuple[NATIONAL_PREFIX_FOR_PARSING]) ?? stringOrNull(tuple[NATIONAL_PREFIX]);
  const types: { pattern: RegExp; possibleLengths: readonly number[] }[] = [];
  const rawTypes: unknown = tuple[TYPES];
  if (!Array.isArray(rawTypes)) return null;
  for (const type of rawTypes) {
    // A missing type is 0; an empty pattern means "same as fixed line" and never matches alone.
    if (!Array.isArray(type) || typeof type[0] !== 'string' || type[0] === '') continue;
    types.push({ pattern: entire(type[0]), possibleLengths: isNumberArray(type[1]) ? type[1] : lengths });
  }
  return {
    country: country as CountryCode,
    callingCode,
    ownsCallingCode: countriesForCallingCode(callingCode)?.length === 1,
    iddPrefix: new RegExp(`^(?:${idd})`),
    nationalPrefixForParsing: prefixForParsing === null ? null : new RegExp(`^(?:${prefixForParsing})`),
    nationalNumber: entire(general),
    possibleLengths: lengths,
    types,
  };
}

/**
 * The lenient test ingest applies: the national number has the country's shape (general
 * pattern) and either a possible length or the pattern of an assigned range.
 */
export function fitsNumberingPlan(plan: NumberingPlan, nationalNumber: string): boolean {
  if (!plan.nationalNumber.test(nationalNumber)) return false;
  if (plan.possibleLengths.includes(nationalNumber.length)) return true;
  return plan.types.some((t) => t.possibleLengths.includes(nationalNumber.length) && t.pattern.test(nationalNumber));
}

function entire(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number');
}
