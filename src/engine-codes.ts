/**
 * Codes the engine itself writes (not a provider's, not an API error): in `recipients.error_code`,
 * a campaign's or an account's `status_code`, and history rows. Each has one sentence a person
 * can read in an export or on the dashboard. test/engine-codes.test.ts keeps the table honest
 * (unique, real sentences) and checks no module spells one of these codes as a bare string.
 *
 * Provider outcomes have their own table (src/providers/outcome.ts); API errors theirs (src/errors.ts).
 */
type EngineCodeEntry = {
  /** What carries the code. */
  on: 'recipient' | 'campaign' | 'account';
  sentence: string;
};

const TABLE = {
  SEND_INTERRUPTED: { on: 'recipient', sentence: 'The worker stopped mid-send; the message may or may not have gone out.' },
  RECIPIENT_SUPPRESSED: { on: 'recipient', sentence: 'This phone is on the suppression list: it asked not to receive messages.' },
  MESSAGE_EXPIRED: { on: 'recipient', sentence: "Not sent before the campaign's validity period ended." },
  CAMPAIGN_CANCELLED: { on: 'recipient', sentence: 'The campaign was cancelled before this recipient was sent.' },
  QUIET_HOURS: { on: 'recipient', sentence: "Waiting for the campaign's send window to open in the recipient's own time zone." },
  DAILY_LIMIT_REACHED: { on: 'recipient', sentence: "Waiting for the account's 24-hour messaging limit to free up." },
  PROVIDER_REPORTED_FAILURE: { on: 'recipient', sentence: 'The provider reported the message failed after taking it, without saying why.' },
  ERROR_BUDGET_EXCEEDED: { on: 'campaign', sentence: "Too many recent sends failed, above the campaign's error budget; the campaign paused itself." },
  QUALITY_GUARD_LOW: { on: 'campaign', sentence: "The provider rated the sending number's quality low (or flagged it); marketing campaigns on it paused themselves." },
  QUALITY_GUARD_RESTRICTED: { on: 'campaign', sentence: 'The provider restricted the sending account; marketing campaigns on it paused themselves.' },
  PROBING: { on: 'account', sentence: 'Sending one message to see whether the provider limit has cleared.' },
} as const satisfies Record<string, EngineCodeEntry>;

export type EngineCode = keyof typeof TABLE;

/** `ENGINE_CODES.MESSAGE_EXPIRED === 'MESSAGE_EXPIRED'`: spell codes through this, never as bare strings. */
export const ENGINE_CODES = Object.freeze(Object.fromEntries(Object.keys(TABLE).map((code) => [code, code]))) as { readonly [K in EngineCode]: K };

export function engineCodeSentence(code: EngineCode): string {
  return TABLE[code].sentence;
}

export function engineCodeEntries(): readonly (EngineCodeEntry & { code: EngineCode })[] {
  return (Object.keys(TABLE) as EngineCode[]).map((code) => ({ code, ...TABLE[code] }));
}
