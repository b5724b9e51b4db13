/**
 * Why a row of a recipient list was not stored: a stable code (kept in rejected_rows.reason and
 * counted in IngestSummary.rejectedByReason) and a sentence an operator can act on. Each
 * rejected row also carries its own message, naming the value and column at fault.
 *
 * DUPLICATE_PHONE rows are recorded too, so the downloadable report is complete, but they are
 * counted as `duplicates`, not as `rejected`. PHONE_SUPPRESSED (the phone is on the tenant's
 * suppression list, src/suppressions) is a rejection like the others. A provider rule
 * (IngestOptions.phoneRule) may add codes of its own.
 */
import { PHONE_PROBLEMS } from '../phones/phone-problems.js';

export const REJECTION_REASONS = {
  ...PHONE_PROBLEMS,
  VARIABLE_COUNT: 'The row does not have as many values as the header has columns, or as the template has placeholders.',
  VARIABLE_EMPTY: 'A template variable is empty; every placeholder needs a value.',
  VARIABLE_INVALID:
    'A template variable has a line break (Unicode line and paragraph separators included), a tab, more than 4 spaces in a row or unreadable characters, which WhatsApp refuses in template parameters.',
  VARIABLE_TOO_LONG: 'A template variable is longer than the 1,024 characters WhatsApp takes in a template parameter.',
  ENCODING_INVALID:
    'The row has bytes that are not valid in the encoding of the rest of the file (shown as \u201c\ufffd\u201d); fix those characters or save the file again as "CSV UTF-8".',
  TIME_ZONE_INVALID: 'The time zone column holds something that is not an IANA time zone name (such as America/Santiago).',
  ROW_MALFORMED: 'The row could not be read: a quote is never closed, text follows a closing quote, the JSON item is not valid, or the record is longer than 64 KiB.',
  DUPLICATE_PHONE: 'The phone number is already in this campaign (earlier in this file or in an earlier upload); the first one is kept.',
  PHONE_SUPPRESSED: 'This phone asked not to receive messages (suppression list).',
} as const;

export type RejectionReason = keyof typeof REJECTION_REASONS;

/** A reason for one row: a code from REJECTION_REASONS (or a provider rule's) and its sentence. */
export type RowProblem = { code: string; message: string };

export function rowProblem(code: RejectionReason, message: string = REJECTION_REASONS[code]): RowProblem {
  return { code, message };
}
