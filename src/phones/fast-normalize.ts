/**
 * The fast path of normalizePhone: plain digits with spaces, dashes, dots or parentheses, read
 * with precompiled patterns. It follows libphonenumber-js's parse step by step for the cases it
 * takes, and declines (returns undefined) wherever the library would do something more: a
 * national or international prefix to strip, a calling code shared by several countries, any
 * other character. test/ingest/normalize-phone.test.ts checks it against the library.
 */
import { countriesForCallingCode, fitsNumberingPlan, numberingPlan, type NumberingPlan } from './numbering-plans.js';

// The library's bounds on a national number (MIN_LENGTH_FOR_NSN, MAX_LENGTH_FOR_NSN).
const MIN_NATIONAL_LENGTH = 2;
const MAX_NATIONAL_LENGTH = 17;
const MAX_CALLING_CODE_LENGTH = 3;

/**
 * E.164 when sure the number is valid, null when sure it is not, undefined when unsure.
 * `text` is already trimmed and not empty.
 */
export function normalizePhoneFast(text: string, defaultCountry: string): string | null | undefined {
  const first = text.charCodeAt(0);
  if (first === 45 || first === 46) return undefined; // a leading "-" or ".": normalize-phone.ts refuses it
  const international = first === 43; // '+'
  const digits = plainDigits(text, international ? 1 : 0);
  if (digits === undefined || digits.length < 3) return undefined;
  return international ? readInternational(digits) : readNational(digits, defaultCountry);
}

function readInternational(digits: string): string | null | undefined {
  if (digits.charCodeAt(0) === 48) return undefined; // "+0...": the library's own rejection
  for (let length = 1; length <= MAX_CALLING_CODE_LENGTH; length++) {
    const callingCode = digits.slice(0, length);
    const countries = countriesForCallingCode(callingCode);
    if (!countries) continue;
    // Calling codes are prefix-free: the first one found is the only one.
    if (countries.length !== 1 || countries[0] === '001') return undefined;
    const plan = numberingPlan(countries[0] as string);
    if (!plan) return undefined;
    const national = digits.slice(length);
    // Mexico's old mobile "1" (+52 1 55 ...): normalize-phone.ts reads it, not this path.
    if (callingCode === '52' && national.length === 11 && national.charCodeAt(0) === 49) return undefined;
    return readNationalNumber(plan, national);
  }
  return undefined;
}

function readNational(digits: string, defaultCountry: string): string | null | undefined {
  const plan = numberingPlan(defaultCountry);
  if (!plan || !plan.ownsCallingCode || plan.iddPrefix.test(digits)) return undefined;
  if (!digits.startsWith(plan.callingCode)) return readNationalNumber(plan, digits);
  // "56987654321" with CL: the library drops the calling code when the rest fits the plan
  // and the whole does not, or when the whole is too long.
  const shorter = digits.slice(plan.callingCode.length);
  const prefix = plan.nationalPrefixForParsing;
  if (prefix && (prefix.test(digits) || prefix.test(shorter))) return undefined;
  const maxLength = plan.possibleLengths[plan.possibleLengths.length - 1] ?? 0;
  const dropCallingCode =
    (!plan.nationalNumber.test(digits) && plan.nationalNumber.test(shorter)) || digits.length > maxLength;
  return readNationalNumber(plan, dropCallingCode ? shorter : digits);
}

function readNationalNumber(plan: NumberingPlan, nationalNumber: string): string | null | undefined {
  if (plan.nationalPrefixForParsing?.test(nationalNumber)) return undefined;
  if (nationalNumber.length < MIN_NATIONAL_LENGTH || nationalNumber.length > MAX_NATIONAL_LENGTH) return undefined;
  return fitsNumberingPlan(plan, nationalNumber) ? `+${plan.callingCode}${nationalNumber}` : null;
}

/** The ASCII digits of `text` from `start`, or undefined if anything but digits and " -.()" is there. */
function plainDigits(text: string, start: number): string | undefined {
  let separators = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) continue;
    if (c === 32 || c === 45 || c === 46 || c === 40 || c === 41) separators++;
    else return undefined;
  }
  const body = start === 0 ? text : text.slice(start);
  return separators === 0 ? body : body.replace(/[ \-.()]/g, '');
}
