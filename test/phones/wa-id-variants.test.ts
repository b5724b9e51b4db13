/**
 * phoneVariants: the forms one WhatsApp user may take between what we sent and Meta's wa_id
 * (Mexico 52/521, Argentina 54/549, Brazil's ninth digit); e164FromWaId: a reported id to E.164.
 */
import { describe, expect, it } from 'vitest';
import { e164FromWaId, phoneVariants } from '../../src/phones/wa-id-variants.js';

describe('phoneVariants', () => {
  it.each([
    ['Mexico, as sent', '+525512345678', ['+525512345678', '+5215512345678']],
    ['Mexico, as wa_id', '+5215512345678', ['+5215512345678', '+525512345678']],
    ['Argentina, with the mobile 9', '+5491155174499', ['+5491155174499', '+541155174499']],
    ['Argentina, without it', '+541155174499', ['+541155174499', '+5491155174499']],
    ['Argentina, provincial area code', '+543442567890', ['+543442567890', '+5493442567890']],
    ['Brazil mobile, nine digits', '+5511987654321', ['+5511987654321', '+551187654321']],
    ['Brazil mobile, old eight digits', '+551187654321', ['+551187654321', '+5511987654321']],
    ['Brazil mobile in another area', '+5521998765432', ['+5521998765432', '+552198765432']],
  ])('%s: %s', (_name, input, expected) => {
    expect(phoneVariants(input)).toEqual(expected);
  });

  it.each([
    ['a Brazilian landline (2-5 after the area code)', '+551133334444'],
    ['a Brazilian 9 + landline-range digits', '+5511933334444'],
    ['a Brazilian area code with a 0', '+5501987654321'],
    ['Colombia', '+573002222222'],
    ['Chile', '+56987654321'],
    ['the US', '+14155552671'],
    ['Mexico, too short', '+52551234567'],
    ['Mexico, national number starting with 1 (not a number)', '+52155123456'],
    ['Argentina, too long', '+54911551744990'],
  ])('%s has no other form', (_name, input) => {
    expect(phoneVariants(input)).toEqual([input]);
  });

  it('always includes the input first, once, even when it is not E.164', () => {
    for (const input of ['', '5215512345678', 'not a phone', '+52 55 1234 5678']) expect(phoneVariants(input)).toEqual([input]);
  });

  it('variants are symmetric: each variant lists the others', () => {
    for (const input of ['+525512345678', '+5491155174499', '+5511987654321']) {
      for (const variant of phoneVariants(input)) expect(new Set(phoneVariants(variant))).toEqual(new Set(phoneVariants(input)));
    }
  });
});

describe('e164FromWaId', () => {
  it.each([
    ['5215512345678', '+5215512345678'],
    ['+573002222222', '+573002222222'],
    [' +54 (11) 5517-4499 ', '+541155174499'],
    ['551187654321', '+551187654321'],
  ])('%j -> %s', (raw, e164) => {
    expect(e164FromWaId(raw)).toBe(e164);
  });

  it.each(['', '+', '1234567', '0573002222222', '1234567890123456', '57300abc2222', '120363025xyz@g.us', '++573002222222'])('%j is not a phone', (raw) => {
    expect(e164FromWaId(raw)).toBeUndefined();
  });
});
