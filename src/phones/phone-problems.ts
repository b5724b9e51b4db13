/**
 * Why a phone number was refused, as stable codes with a sentence a person can act on. Ingest
 * stores these codes on rejected rows; webhooks and the API can show the same sentences. Each
 * refused number also gets its own message (normalize-phone.ts) naming the value and the fix.
 */
export const PHONE_PROBLEMS = {
  PHONE_MISSING: 'The phone number is empty.',
  PHONE_SCIENTIFIC_NOTATION:
    'The phone number is in scientific notation (like 5.69123E+10): the spreadsheet rounded it and its last digits are lost. Format the column as text and export the file again.',
  PHONE_LEADING_MINUS:
    'The phone number starts with a minus sign, not a "+": the spreadsheet may have read it as a formula or a negative number. Write it with "+" and the country code, and format the column as text.',
  PHONE_INVALID: 'The phone number is not a valid number for its country.',
} as const;

export type PhoneProblem = keyof typeof PHONE_PROBLEMS;
