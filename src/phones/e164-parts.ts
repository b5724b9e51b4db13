/**
 * An E.164 number cut into its country calling code and national number, for providers that
 * take them apart (Optiwe's "+54" and "1155174499").
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type E164Parts = { callingCode: string; nationalNumber: string };

/** The parts of `e164`, or undefined when it is not an international number. */
export function splitE164(e164: string): E164Parts | undefined {
  const parsed = parsePhoneNumberFromString(e164);
  return parsed ? { callingCode: parsed.countryCallingCode, nationalNumber: parsed.nationalNumber } : undefined;
}

/** The ISO 3166 country of `e164` (a +1 number the metadata does not place: US), or null. */
export function countryOfE164(e164: string): string | null {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return null;
  return parsed.country ?? (parsed.countryCallingCode === '1' ? 'US' : null);
}
