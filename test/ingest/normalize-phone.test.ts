import { getCountries, getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/examples.mobile.json' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import { normalizePhoneFast } from '../../src/phones/fast-normalize.js';
import { normalizePhone, normalizePhoneWithLibrary } from '../../src/phones/normalize-phone.js';

describe('normalizePhone', () => {
  it.each([
    ['+56 9 1234 5678', 'CL', '+56912345678'],
    ['912345678', 'CL', '+56912345678'],
    ['9 8765 4321', 'CL', '+56987654321'],
    ['56987654321', 'CL', '+56987654321'],
    ['+56-9-8765-4321', 'CL', '+56987654321'],
    ['0056987654321', 'CL', '+56987654321'],
    ['(11) 98765-4321', 'BR', '+5511987654321'],
    ['011 98765-4321', 'BR', '+5511987654321'],
    ['300 123 4567', 'CO', '+573001234567'],
    ['+57 300 123 4567', 'CL', '+573001234567'],
    ['+1 (212) 555-0123', 'CL', '+12125550123'],
    ['\u00a0+56 9 8765 4321\u00a0', 'CL', '+56987654321'],
  ] as const)('reads %j (default %s) as %s', (raw, country, e164) => {
    expect(normalizePhone(raw, country)).toEqual({ ok: true, e164 });
  });

  it.each([
    ['5.69123E+10', 'PHONE_SCIENTIFIC_NOTATION'],
    ['5,69123E+10', 'PHONE_SCIENTIFIC_NOTATION'],
    ['5.69123e10', 'PHONE_SCIENTIFIC_NOTATION'],
    ['', 'PHONE_MISSING'],
    ['   ', 'PHONE_MISSING'],
    ['abc', 'PHONE_INVALID'],
    ['12345', 'PHONE_INVALID'],
    ['9123456789012', 'PHONE_INVALID'],
    ['+999 1234 5678', 'PHONE_INVALID'],
    ['Call 987654321', 'PHONE_INVALID'],
    ['+56 9 8765 4321 ext. 12', 'PHONE_INVALID'],
    ['56987654321.0', 'PHONE_INVALID'],
  ] as const)('refuses %j with %s', (raw, problem) => {
    const result = normalizePhone(raw, 'CL');
    expect(result).toMatchObject({ ok: false, problem });
    if (!result.ok) expect(result.message.length).toBeGreaterThan(20);
  });

  it('says why a number is invalid, in words', () => {
    expect(normalizePhone('12345', 'CL')).toMatchObject({ message: expect.stringContaining('too short') });
    expect(normalizePhone('+999 1234 5678', 'CL')).toMatchObject({ message: expect.stringContaining('country code') });
  });
});

/** Ways people write a number: each variant goes through both paths. */
function variants(country: CountryCode, national: string, seed: number): string[] {
  const cc = getCountryCallingCode(country);
  const spaced = national.replace(/(\d{3})(?=\d)/g, '$1 ');
  const mutated = national.slice(0, -2) + String((seed * 7) % 100).padStart(2, '0');
  return [
    `+${cc}${national}`,
    `+${cc} ${spaced}`,
    `+${cc}-${national.slice(0, 3)}-${national.slice(3)}`,
    national,
    spaced,
    `(${national.slice(0, 2)}) ${national.slice(2)}`,
    `${cc}${national}`,
    `0${national}`,
    `00${cc}${national}`,
    `+${cc}${national.slice(1)}`,
    `+${cc}${national}1`,
    national.slice(1),
    `${national}9`,
    mutated,
    `${cc}${mutated}`,
    `+${cc}${mutated}`,
    `${national.slice(0, 4)}.${national.slice(4)}`,
  ];
}

describe('the fast path agrees with libphonenumber-js', () => {
  const countries = getCountries();
  const byCountry = examples as Partial<Record<CountryCode, string>>;

  it('on example numbers of every country, in many writings and with every default country', () => {
    let compared = 0;
    let seed = 1;
    for (const country of countries) {
      const national = byCountry[country];
      if (!national) continue;
      // Read each number with its own country, a Latin American default and a shared-code one.
      for (const defaultCountry of [country, 'CL', 'BR', 'US'] as const) {
        for (const text of variants(country, national, seed++)) {
          const fast = normalizePhoneFast(text, defaultCountry);
          if (fast === undefined) continue;
          const reference = normalizePhoneWithLibrary(text, defaultCountry);
          expect({ text, defaultCountry, result: fast }).toEqual({
            text,
            defaultCountry,
            result: reference.ok ? reference.e164 : null,
          });
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(5_000);
  });

  it('on random digit strings of every length for the Latin American countries', () => {
    let state = 42;
    const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let compared = 0;
    for (const country of ['CL', 'BR', 'CO', 'MX', 'AR', 'PE', 'EC', 'UY', 'ES'] as const) {
      for (let i = 0; i < 3_000; i++) {
        const length = 3 + Math.floor(random() * 13);
        let digits = '';
        for (let d = 0; d < length; d++) digits += String(Math.floor(random() * 10));
        for (const text of [digits, `+${digits}`, `+${getCountryCallingCode(country)}${digits}`]) {
          const fast = normalizePhoneFast(text, country);
          if (fast === undefined) continue;
          const reference = normalizePhoneWithLibrary(text, country);
          expect({ text, country, result: fast }).toEqual({ text, country, result: reference.ok ? reference.e164 : null });
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(40_000);
  });

  it('takes the usual spreadsheet writings of Chilean, Brazilian and Colombian numbers', () => {
    const usual: [string, CountryCode][] = [
      ['+56987654321', 'CL'],
      ['987654321', 'CL'],
      ['+56 9 8765 4321', 'CL'],
      ['56987654321', 'CL'],
      ['(11) 98765-4321', 'BR'],
      ['+55 11 98765-4321', 'BR'],
      ['3001234567', 'CO'],
    ];
    for (const [text, country] of usual) expect(normalizePhoneFast(text, country), text).toMatch(/^\+\d+$/);
  });

  it('accepts every number libphonenumber-js calls valid, and only possible or valid ones', async () => {
    const { parsePhoneNumberWithError } = await import('libphonenumber-js/max');
    for (const country of countries) {
      const national = byCountry[country];
      if (!national) continue;
      for (const text of variants(country, national, 3)) {
        let parsed;
        try {
          parsed = parsePhoneNumberWithError(text, { defaultCountry: country, extract: false });
        } catch {
          continue;
        }
        const ours = normalizePhone(text, country);
        if (parsed.isValid() && !parsed.ext) expect({ text, ours }).toEqual({ text, ours: { ok: true, e164: parsed.number } });
        if (ours.ok) expect({ text, possible: parsed.isPossible() || parsed.isValid() }).toEqual({ text, possible: true });
      }
    }
  });
});
