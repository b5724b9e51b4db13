/**
 * Optiwe takes a phone as a country code ("+54") and a national number ("1155174499"), and
 * reports numbers back as "+543442567890". This file turns our E.164 into the first form and
 * matches the second form back to what we sent.
 */
import { parsePhoneNumber } from 'libphonenumber-js/max';
import { MessageBuildError } from '../types.js';

export type OptiwePhone = { countryCode: string; phone: string };

/**
 * Splits an E.164 number (with its +) into Optiwe's two fields. Throws MessageBuildError
 * ('recipient') on a string that is not E.164: ingest stores only parsed numbers, so this should
 * not happen, but if it does only this recipient is at fault.
 */
export function splitPhone(e164: string, argentineMobileNine: 'strip' | 'keep' = 'strip'): OptiwePhone {
  let parsed;
  try {
    parsed = parsePhoneNumber(e164);
  } catch {
    throw new MessageBuildError('recipient', `Not an E.164 phone number: "${e164}".`);
  }
  let national: string = parsed.nationalNumber;
  // +54 9 11 5517 4499 -> "+54" "1155174499", as every example in the manual writes it.
  if (argentineMobileNine === 'strip' && parsed.countryCallingCode === '54' && national.length === 11 && national.startsWith('9')) {
    national = national.slice(1);
  }
  return { countryCode: `+${parsed.countryCallingCode}`, phone: national };
}

/**
 * A key under which two spellings of one WhatsApp number meet: digits only, with Argentina's
 * mobile 9 and Mexico's old mobile 1 removed (wa_id keeps 549/521, numbers often do not).
 */
export function phoneMatchKey(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length === 13 && digits.startsWith('549')) return `54${digits.slice(3)}`;
  if (digits.length === 13 && digits.startsWith('521')) return `52${digits.slice(3)}`;
  return digits;
}
