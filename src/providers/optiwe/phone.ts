/**
 * Optiwe takes a phone as a country code ("+54") and a national number ("1155174499"), and
 * reports numbers back as "+543442567890". This file turns our E.164 into the first form and
 * matches the second form back to what we sent.
 */
import { splitE164 } from '../../phones/e164-parts.js';
import { MessageBuildError } from '../types.js';

export type OptiwePhone = { countryCode: string; phone: string };

/**
 * Splits an E.164 number (with its +) into Optiwe's two fields. Throws MessageBuildError
 * ('recipient') on a string that is not E.164: ingest stores only parsed numbers, so this should
 * not happen, but if it does only this recipient is at fault.
 */
export function splitPhone(e164: string, argentineMobileNine: 'strip' | 'keep' = 'strip'): OptiwePhone {
  const parsed = splitE164(e164);
  if (!parsed) throw new MessageBuildError('recipient', `Not an E.164 phone number: "${e164}".`);
  let national: string = parsed.nationalNumber;
  // +54 9 11 5517 4499 -> "+54" "1155174499", as every example in the manual writes it.
  if (argentineMobileNine === 'strip' && parsed.callingCode === '54' && national.length === 11 && national.startsWith('9')) {
    national = national.slice(1);
  }
  return { countryCode: `+${parsed.callingCode}`, phone: national };
}

// One rule for every provider's spellings of a number (src/phones).
export { phoneMatchKey } from '../../phones/wa-id-variants.js';
