/**
 * The E.164 spellings under which one WhatsApp user may appear. Meta's `wa_id` (the id a status
 * or a reply carries) is not always the number the engine sent to:
 * - Mexico: wa_id keeps the old mobile "1" (+52 1 55 1234 5678) that E.164 dropped in 2019;
 * - Argentina: mobiles are +54 9 <area> <number>, but lists (and Optiwe) often omit the 9;
 * - Brazil: mobiles gained a ninth digit (+55 11 9 8765 4321); accounts registered before it
 *   keep their 8-digit wa_id.
 * Matching an inbound event to a recipient tries every variant.
 *
 * These numbers are not checked against libphonenumber's numbering plans on purpose: "+521..."
 * and Brazil's 8-digit mobiles are exactly the forms the plans call invalid, and a wa_id is
 * WhatsApp's own id of a real account.
 */

/** 521 + ten digits: Mexico's old mobile form, still in some wa_ids. */
const MEXICO_OLD_MOBILE = /^521\d{10}$/;
/** 549 + ten digits: an Argentine mobile with its 9, which lists and providers often drop. */
const ARGENTINA_MOBILE = /^549\d{10}$/;

// E.164 allows 15 digits; 8 is below every real mobile number of the countries we serve.
const E164_DIGITS = /^[1-9]\d{7,14}$/;

/**
 * A phone as a provider reports it ("5215512345678", "+54 341 555-1234") in E.164 with its "+",
 * or undefined when it is not a plausible international number. Only spaces, dashes, dots and
 * parentheses are removed; a national number (no country code) is not guessed here.
 */
export function e164FromWaId(raw: string): string | undefined {
  const compact = raw.trim().replace(/[\s\-.()]/g, '');
  const digits = compact.startsWith('+') ? compact.slice(1) : compact;
  return E164_DIGITS.test(digits) ? `+${digits}` : undefined;
}

/**
 * Every E.164 form of the same WhatsApp user, the input first, without duplicates. Input that is
 * not "+digits" comes back alone.
 *
 * - Mexico: +52 + 10 digits <-> +521 + 10 digits (national numbers never start with 1).
 * - Argentina: +54 + 10 digits <-> +549 + 10 digits (area codes never start with 9).
 * - Brazil: +55 DD 9nnnnnnnn <-> +55 DD nnnnnnnn, only when the 8-digit part is in the old
 *   mobile range (first digit 6-9); landlines (2-5) never had a ninth digit. DDD area codes
 *   have no zero digit.
 */
export function phoneVariants(e164: string): string[] {
  const variants = [e164];
  const match = /^\+(\d+)$/.exec(e164);
  if (!match) return variants;
  const digits = match[1] as string;
  const add = (other: string): void => {
    if (!variants.includes(`+${other}`)) variants.push(`+${other}`);
  };

  if (MEXICO_OLD_MOBILE.test(digits)) add(`52${digits.slice(3)}`);
  else if (/^52[2-9]\d{9}$/.test(digits)) add(`521${digits.slice(2)}`);

  if (ARGENTINA_MOBILE.test(digits)) add(`54${digits.slice(3)}`);
  else if (/^54[1-8]\d{9}$/.test(digits)) add(`549${digits.slice(2)}`);

  const brazilNine = /^55([1-9]{2})9([6-9]\d{7})$/.exec(digits);
  if (brazilNine) add(`55${brazilNine[1]}${brazilNine[2]}`);
  const brazilEight = /^55([1-9]{2})([6-9]\d{7})$/.exec(digits);
  if (brazilEight) add(`55${brazilEight[1]}9${brazilEight[2]}`);

  return variants;
}

/**
 * A key under which two spellings of one WhatsApp number meet (for a provider that reports
 * numbers in its own form): digits only, with Argentina's mobile 9 and Mexico's old mobile 1
 * removed, the same rules as phoneVariants. Brazil's ninth digit is not folded: an 8-digit
 * and a 9-digit Brazilian mobile are both real numbers.
 */
export function phoneMatchKey(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (ARGENTINA_MOBILE.test(digits) || MEXICO_OLD_MOBILE.test(digits)) return `${digits.slice(0, 2)}${digits.slice(3)}`;
  return digits;
}
