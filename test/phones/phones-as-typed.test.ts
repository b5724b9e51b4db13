/** Phones as people type and paste them (issue 14, item 2): read, or refused with a code and a fix. */
import { describe, expect, it } from 'vitest';
import { normalizePhone } from '../../src/phones/normalize-phone.js';
import { phoneMatchKey } from '../../src/phones/wa-id-variants.js';
import { countryCodeSchema } from '../../src/phones/country.js';

describe('phones as people write them', () => {
  it.each([
    ['(+56) 9-4444-5555', '+56944445555'],
    ['(+56) 9 1234 5678', '+56912345678'],
    ['+(56) 9 1234 5678', '+56912345678'],
    ["'+56912345678", '+56912345678'],
    ['\u2019+56 9 1234 5678', '+56912345678'],
    ['\u202a+56 9 1234 5678\u202c', '+56912345678'],
    ['\u200e+56 9 1234 5678\u200f', '+56912345678'],
    ['\ufeff+56912345678', '+56912345678'],
    ['+56\u200b9\u200c1234\u200d5678\u2060', '+56912345678'],
    ['\u2066+56 9 1234 5678\u2069', '+56912345678'],
    ['+56\u00a09\u202f1234\u20115678', '+56912345678'],
    ['\uff0b\uff15\uff16\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18', '+56912345678'],
    ['+52 1 55 1234 5678', '+525512345678'],
    ['+521 55 1234 5678', '+525512345678'],
    ['+5215512345678', '+525512345678'],
    ['00 52 1 55 1234 5678', '+525512345678'],
  ])('reads %j as %s', (raw, e164) => {
    expect(normalizePhone(raw, 'CL')).toEqual({ ok: true, e164 });
  });

  it.each(['-56912345678', '- 56 9 1234 5678', '\u221256912345678', "'-56912345678"])('refuses %j: a minus is not a plus', (raw) => {
    const result = normalizePhone(raw, 'CL');
    expect(result).toMatchObject({ ok: false, problem: 'PHONE_LEADING_MINUS', message: expect.stringContaining('"+56912345678"') });
  });

  it('gives every refusal a fix, and never echoes control characters or a whole paragraph', () => {
    for (const raw of ['12345', 'abc', '+999 1234 5678', `+56 9 1234 5678 ${'x'.repeat(200)}`, '5691234\u0001']) {
      const result = normalizePhone(raw, 'CL');
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.message).toContain('Write it in full with "+" and the country code (+56 for CL)');
      expect(result.message.length).toBeLessThan(300);
      // eslint-disable-next-line no-control-regex -- control characters are what it looks for
      expect(result.message).not.toMatch(/[\u0000-\u001f]/);
    }
  });
});

describe('one rule for wa_id spellings', () => {
  it('folds the Argentine 9 and the Mexican 1 the same way phoneVariants does', () => {
    expect(phoneMatchKey('+5491155174499')).toBe('541155174499');
    expect(phoneMatchKey('+541155174499')).toBe('541155174499');
    expect(phoneMatchKey('5215512345678')).toBe('525512345678');
    expect(phoneMatchKey('+55 11 98765-4321')).toBe('5511987654321');
  });
});

describe('the country schema', () => {
  it('takes any case and spacing, and refuses what is not a country', () => {
    expect(countryCodeSchema.parse(' cl ')).toBe('CL');
    expect(countryCodeSchema.safeParse('XX').success).toBe(false);
    expect(countryCodeSchema.safeParse('CHL').success).toBe(false);
  });
});
