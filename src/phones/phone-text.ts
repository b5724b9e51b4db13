/**
 * A phone cell as people really type or paste it, made plain before parsing:
 * - invisible marks that come along when a number is copied from WhatsApp Web or a phone's
 *   contacts (bidirectional embeddings U+202A-U+202E and isolates U+2066-U+2069, LRM/RLM,
 *   the Arabic letter mark, zero-width spaces and joiners, word joiner, BOM, soft hyphen) are
 *   removed;
 * - other spaces (no-break, thin, ideographic) become a space, Unicode dashes a "-", and
 *   full-width digits and plus (from Asian keyboards) their ASCII forms;
 * - a leading apostrophe ('+56912345678), the way spreadsheet users keep a number as text, is
 *   dropped;
 * - "(+56) 9-4444-5555" and "+(56) ...": a country code in parentheses loses them.
 *
 * A leading minus is NOT turned into a plus (normalize-phone.ts refuses it): "-56912345678" is
 * what a spreadsheet shows for a formula or a negative number, and nothing says the digits
 * after it are the number that was meant.
 */

const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const SPACES = /[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]/g;
const DASHES = /[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]/g;
const FULL_WIDTH = /[\uff0b\uff10-\uff19]/g;
const LEADING_APOSTROPHE = /^['\u2018\u2019`\u00b4]\s*/;
const PARENTHESIZED_COUNTRY_CODE = /^(?:\(\s*\+\s*(\d{1,3})\s*\)|\+\s*\(\s*(\d{1,3})\s*\))/;
/** Anything the cleaning would change: most cells have none of it and are returned as they are. */
const NEEDS_CLEANING = /[\t\u00a0\u00ad\u061c\u180e\u2000-\u200f\u2010-\u2015\u202a-\u202f\u205f-\u2069\u2212\u3000\ufe58\ufe63\ufeff\uff0b\uff0d\uff10-\uff19'\u2018\u2019`\u00b4(]/;

/** The cell with marks, odd spaces and dashes, a leading apostrophe and "(+56)" made plain; trimmed. */
export function cleanPhoneText(raw: string): string {
  if (!NEEDS_CLEANING.test(raw)) return raw.trim();
  let text = raw
    .replace(INVISIBLE, '')
    .replace(SPACES, ' ')
    .replace(DASHES, '-')
    .replace(FULL_WIDTH, (c) => (c === '\uff0b' ? '+' : String.fromCharCode(c.charCodeAt(0) - 0xff10 + 48)))
    .trim();
  text = text.replace(LEADING_APOSTROPHE, '');
  text = text.replace(PARENTHESIZED_COUNTRY_CODE, (_match, a: string | undefined, b: string | undefined) => `+${a ?? b ?? ''} `);
  return text.trim();
}

/** True when the number starts with a minus sign (ASCII or Unicode), not a plus. */
export function startsWithMinus(cleaned: string): boolean {
  return /^-\s*[\d(]/.test(cleaned);
}
