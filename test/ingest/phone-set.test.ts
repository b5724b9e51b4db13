import { expect, it } from 'vitest';
import { PhoneSet } from '../../src/ingest/phone-set.js';

it('remembers each phone once, through growth, including phones that are not plain E.164', () => {
  const phones = new PhoneSet();
  const many = Array.from({ length: 200_000 }, (_, i) => `+${56_900_000_000 + i * 13}`);
  expect(many.filter((phone) => phones.add(phone))).toHaveLength(200_000);
  expect(many.filter((phone) => phones.add(phone))).toHaveLength(0);
  expect(phones.size).toBe(200_000);
  expect(phones.has('+56900000013')).toBe(true);
  expect(phones.has('+56900000014')).toBe(false);
  // Fifteen digits, the most E.164 allows, are kept exactly.
  expect(phones.add('+999999999999999')).toBe(true);
  expect(phones.has('+999999999999998')).toBe(false);
  expect(phones.add('not a phone')).toBe(true);
  expect(phones.add('not a phone')).toBe(false);
  expect(phones.size).toBe(200_002);
});
