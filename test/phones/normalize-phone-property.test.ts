/**
 * Property: any valid number, written in any of the ways people write it (spaces, dashes, dots,
 * parentheses, a leading apostrophe, invisible marks from a copy and paste, with the country
 * code or in national form for the default country), normalizes to the same E.164.
 */
import fc from 'fast-check';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/examples.mobile.json' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import { normalizePhone } from '../../src/phones/normalize-phone.js';

const COUNTRIES: CountryCode[] = ['CL', 'AR', 'MX', 'BR', 'CO', 'PE', 'EC', 'UY', 'PY', 'BO', 'VE', 'CR', 'GT', 'DO', 'US', 'ES', 'GB', 'DE', 'IT', 'FR'];
const INVISIBLE = ['\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2069', '\ufeff', '\u2060'];
const SEPARATORS = [' ', '-', '.', '\u00a0', ' - '];

/** A valid number: a country's example mobile number with its last digits replaced, kept only when libphonenumber calls it valid. */
const validNumber = fc
  .record({ country: fc.constantFrom(...COUNTRIES), tail: fc.integer({ min: 0, max: 9999 }) })
  .map(({ country, tail }) => {
    const national = (examples as Partial<Record<CountryCode, string>>)[country] as string;
    const digits = national.slice(0, -4) + String(tail).padStart(4, '0');
    return { country, phone: parsePhoneNumberFromString(digits, country) };
  })
  .filter((value) => value.phone !== undefined && value.phone.isValid())
  .map(({ country, phone }) => ({ country, e164: phone?.number as string, callingCode: phone?.countryCallingCode as string, national: phone?.formatNational() as string }));

/** `digits` cut into groups at random points, joined by separators, one group maybe in parentheses. */
function grouped(digits: string, cuts: boolean[], separator: string, parenthesized: number | null): string {
  const groups: string[] = [];
  let current = '';
  for (let i = 0; i < digits.length; i++) {
    current += digits[i];
    if (cuts[i % cuts.length] && i < digits.length - 1) {
      groups.push(current);
      current = '';
    }
  }
  groups.push(current);
  if (parenthesized !== null && groups.length > 1) {
    const index = parenthesized % (groups.length - 1);
    groups[index] = `(${groups[index] as string})`;
  }
  return groups.join(separator);
}

/** Inserts invisible marks at the given positions. */
function withMarks(text: string, marks: { at: number; mark: string }[]): string {
  let out = text;
  for (const { at, mark } of marks) {
    const index = at % (out.length + 1);
    out = out.slice(0, index) + mark + out.slice(index);
  }
  return out;
}

const writing = fc.record({
  form: fc.constantFrom('international', 'international-parenthesized', 'national', 'national-digits'),
  cuts: fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
  separator: fc.constantFrom(...SEPARATORS),
  parenthesized: fc.option(fc.nat(), { nil: null }),
  apostrophe: fc.boolean(),
  marks: fc.array(fc.record({ at: fc.nat(), mark: fc.constantFrom(...INVISIBLE) }), { maxLength: 4 }),
  wrapped: fc.boolean(),
});

describe('normalizePhone (property)', () => {
  it('reads every common writing of a valid number as that number', () => {
    fc.assert(
      fc.property(validNumber, writing, (number, how) => {
        const nationalDigits = number.national.replace(/\D/g, '');
        const significant = number.e164.slice(1 + number.callingCode.length);
        let text: string;
        switch (how.form) {
          case 'international':
            text = `+${number.callingCode}${how.separator}${grouped(significant, how.cuts, how.separator, how.parenthesized)}`;
            break;
          case 'international-parenthesized':
            text = `(+${number.callingCode}) ${grouped(significant, how.cuts, how.separator, null)}`;
            break;
          case 'national':
            text = grouped(nationalDigits, how.cuts, how.separator, how.parenthesized);
            break;
          default:
            text = nationalDigits;
        }
        text = withMarks(text, how.marks);
        if (how.wrapped) text = `\u202a${text}\u202c`;
        if (how.apostrophe) text = `'${text}`;
        expect({ text, result: normalizePhone(text, number.country) }).toEqual({ text, result: { ok: true, e164: number.e164 } });
      }),
      { numRuns: 3000 },
    );
  });
});
