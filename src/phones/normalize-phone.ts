/**
 * Phone numbers as people type them ("+56 9 8765 4321", "987654321", "(11) 98765-4321") to
 * E.164 ("+56987654321"), with the campaign's country for numbers written without "+country".
 *
 * What counts as valid: the number has its country's shape in libphonenumber's `max` metadata
 * (the general national pattern) and a possible length, or matches an assigned range. We do not
 * demand an assigned range: the metadata lags new allocations, and refusing a real customer at
 * ingest is worse than letting the provider report a number that is not on WhatsApp. So
 * "+56 9 1234 5678" is accepted although libphonenumber does not list 9 1xxx as assigned.
 *
 * Nothing is guessed: a number Excel turned into scientific notation lost its last digits and
 * is refused with its own code; text around a number ("Call 9876...") is refused, not searched.
 *
 * Text as pasted is made plain first (phone-text.ts: invisible marks, a leading apostrophe,
 * "(+56)"); a leading minus is refused with its own code. Mexico's old mobile form
 * "+52 1 55 1234 5678" is read as today's "+52 55 1234 5678" (the "1" was dropped from dialing
 * in 2019; wa_id-variants.ts matches WhatsApp's ids that still carry it).
 *
 * Most rows are read by a fast path with precompiled patterns (fast-normalize.ts) that answers
 * only when it is sure to agree with the library; everything else goes through the library.
 */
import { getCountryCallingCode, parsePhoneNumberWithError, validatePhoneNumberLength, ParseError, type CountryCode } from 'libphonenumber-js/max';
import { normalizePhoneFast } from './fast-normalize.js';
import { fitsNumberingPlan, numberingPlan } from './numbering-plans.js';
import { PHONE_PROBLEMS, type PhoneProblem } from './phone-problems.js';
import { cleanPhoneText, startsWithMinus } from './phone-text.js';

export type { CountryCode };

export type NormalizedPhone =
  | { ok: true; /** E.164 with the leading "+". */ e164: string }
  | { ok: false; problem: PhoneProblem; /** A sentence about this very number. */ message: string };

// "5.69123E+10", "5,69123E+10" (decimal comma), "5.69123e10".
const SCIENTIFIC_NOTATION = /^[+-]?\d+(?:[.,]\d+)?\s?[eE][+-]?\d+$/;
// Excel writes long numbers as text with these; anything longer is not a phone number.
const MAX_PHONE_CHARS = 64;

export function normalizePhone(raw: string, defaultCountry: CountryCode): NormalizedPhone {
  const text = raw.trim();
  if (text === '') return { ok: false, problem: 'PHONE_MISSING', message: PHONE_PROBLEMS.PHONE_MISSING };
  // A number the fast path refuses goes through the library too: it says why, or reads a form
  // (Mexico's old "+52 1") the fast path leaves to it.
  if (text.charCodeAt(0) !== 45) {
    const fast = normalizePhoneFast(text, defaultCountry);
    if (fast) return { ok: true, e164: fast };
  }
  return normalizePhoneWithLibrary(text, defaultCountry);
}

// "+52 1 55 1234 5678" written compactly: the old mobile "1" and ten digits.
const MEXICO_OLD_MOBILE = /^(?:\+|00)521(\d{10})$/;

/** The reference path: libphonenumber-js parses; the fast path must agree with this. */
export function normalizePhoneWithLibrary(raw: string, defaultCountry: CountryCode): NormalizedPhone {
  let text = cleanPhoneText(raw);
  if (text === '') return { ok: false, problem: 'PHONE_MISSING', message: PHONE_PROBLEMS.PHONE_MISSING };
  if (startsWithMinus(text)) {
    const digits = text.replace(/\D/g, '');
    return {
      ok: false,
      problem: 'PHONE_LEADING_MINUS',
      message: `"${shown(text)}" starts with a minus sign, not a "+": the spreadsheet may have read it as a formula or a negative number. Write it as "+${digits.slice(0, 20)}" if that is the number, with its country code, and format the column as text.`,
    };
  }
  if (SCIENTIFIC_NOTATION.test(text)) {
    return {
      ok: false,
      problem: 'PHONE_SCIENTIFIC_NOTATION',
      message: `"${text}" is in scientific notation: the spreadsheet rounded the number and its last digits are lost. Format the column as text and export the file again.`,
    };
  }
  if (text.length > MAX_PHONE_CHARS) return invalid(text, defaultCountry);
  const mexican = MEXICO_OLD_MOBILE.exec(text.replace(/[\s\-.()]/g, ''));
  if (mexican) text = `+52${mexican[1] as string}`;
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(text, { defaultCountry, extract: false });
  } catch (error) {
    if (error instanceof ParseError) return invalid(text, defaultCountry);
    throw error;
  }
  // A WhatsApp number has no extension; "ext. 12" would be silently dropped otherwise.
  if (parsed.ext) return invalid(text, defaultCountry, 'it has an extension');
  const plan = parsed.country ? numberingPlan(parsed.country) : undefined;
  const fits = plan ? fitsNumberingPlan(plan, parsed.nationalNumber) : parsed.isValid();
  return fits ? { ok: true, e164: parsed.number } : invalid(text, defaultCountry);
}

function invalid(text: string, defaultCountry: CountryCode, detail?: string): NormalizedPhone {
  return {
    ok: false,
    problem: 'PHONE_INVALID',
    message: `"${shown(text)}" is not a valid phone number: ${detail ?? explain(text, defaultCountry)}. ${fix(defaultCountry)}`,
  };
}

/** The value as it can be shown in a message: control characters out, at most 40 characters. */
function shown(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it removes
  const plain = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
  return plain.length > 40 ? `${plain.slice(0, 40)}…` : plain;
}

function fix(defaultCountry: CountryCode): string {
  let example = '';
  try {
    example = ` (+${getCountryCallingCode(defaultCountry)} for ${defaultCountry})`;
  } catch {
    // an unknown default country: no example
  }
  return `Write it in full with "+" and the country code${example}, digits only or separated by spaces or dashes.`;
}

function explain(text: string, defaultCountry: CountryCode): string {
  const without = `numbers without "+country code" are read as ${defaultCountry}`;
  switch (text.length > MAX_PHONE_CHARS ? 'TOO_LONG' : validatePhoneNumberLength(text, { defaultCountry })) {
    case 'TOO_SHORT':
      return `it is too short (${without})`;
    case 'TOO_LONG':
      return `it is too long (${without})`;
    case 'INVALID_COUNTRY':
      return 'its country code does not exist';
    case 'NOT_A_NUMBER':
      return 'it has letters or signs that are not part of a phone number';
    default:
      return `it does not match the numbering plan of its country (${without})`;
  }
}
