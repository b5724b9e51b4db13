/**
 * classifyMetaError against Meta's full error-code table (docs/providers.md), one row per code,
 * grouped by the action the notes call for.
 */
import { describe, expect, it } from 'vitest';
import { MARKETING_CAP_RETRY_MS, META_CLASSIFIED_CODES, PAIR_RATE_MAX_RETRY_MS, PAIR_RATE_RETRY_MS, classifyMetaError, pairRateRetryMs } from '../../src/providers/meta/index.js';
import { OUTCOME_CODES } from '../../src/providers/outcome.js';

/** [Meta code, normalized code, kind], transcribed from the notes' table. */
const TABLE = [
  // retry with backoff
  [130429, 'RATE_LIMITED', 'rate_limited'],
  [131056, 'RECIPIENT_PAIR_RATE', 'retry'],
  [131057, 'PROVIDER_UNAVAILABLE', 'retry'],
  [1, 'PROVIDER_UNAVAILABLE', 'retry'],
  [2, 'PROVIDER_UNAVAILABLE', 'retry'],
  [131000, 'PROVIDER_UNAVAILABLE', 'retry'],
  [131016, 'PROVIDER_UNAVAILABLE', 'retry'],
  [133004, 'PROVIDER_UNAVAILABLE', 'retry'],
  // pause the account and alert (call limits and payment stop it as `limited`: they clear without a fix)
  [4, 'ACCOUNT_RATE_LIMIT', 'account_limited'],
  [80007, 'ACCOUNT_RATE_LIMIT', 'account_limited'],
  [131048, 'ACCOUNT_RESTRICTED', 'account_error'],
  [131064, 'ACCOUNT_RESTRICTED', 'account_error'],
  [0, 'ACCOUNT_AUTH_FAILED', 'account_error'],
  [190, 'ACCOUNT_AUTH_FAILED', 'account_error'],
  [3, 'ACCOUNT_MISCONFIGURED', 'account_error'],
  [10, 'ACCOUNT_MISCONFIGURED', 'account_error'],
  [200, 'ACCOUNT_MISCONFIGURED', 'account_error'],
  [250, 'ACCOUNT_MISCONFIGURED', 'account_error'],
  [299, 'ACCOUNT_MISCONFIGURED', 'account_error'],
  [131042, 'ACCOUNT_NO_BALANCE', 'account_limited'],
  [368, 'ACCOUNT_RESTRICTED', 'account_error'],
  [131031, 'ACCOUNT_RESTRICTED', 'account_error'],
  // defer 24 h
  [131049, 'RECIPIENT_DAILY_CAP', 'deferred'],
  // fail the recipient
  [131026, 'RECIPIENT_NOT_ON_WHATSAPP', 'recipient_error'],
  [131050, 'RECIPIENT_OPTED_OUT', 'opted_out'],
  [130403, 'RECIPIENT_UNREACHABLE', 'recipient_error'],
  [131021, 'RECIPIENT_INVALID', 'recipient_error'],
  [131047, 'RECIPIENT_UNREACHABLE', 'recipient_error'],
  // fail the template
  [132000, 'TEMPLATE_PARAMS_INVALID', 'template_error'],
  [132001, 'TEMPLATE_NOT_FOUND', 'template_error'],
  [132005, 'TEMPLATE_PARAMS_INVALID', 'template_error'],
  [132007, 'TEMPLATE_PARAMS_INVALID', 'template_error'],
  [132012, 'TEMPLATE_PARAMS_INVALID', 'template_error'],
  [132015, 'TEMPLATE_PAUSED', 'template_error'],
  [132016, 'TEMPLATE_NOT_APPROVED', 'template_error'],
  [100, 'TEMPLATE_PARAMS_INVALID', 'template_error'],
  [131008, 'TEMPLATE_PARAMS_INVALID', 'template_error'],
  [131009, 'TEMPLATE_PARAMS_INVALID', 'template_error'],
] as const;

describe('classifyMetaError', () => {
  it.each(TABLE)('%i -> %s (%s)', (metaCode, code, kind) => {
    const outcome = classifyMetaError(metaCode, `(#${metaCode}) Title`, 'Some details');
    expect(outcome).toMatchObject({ kind, code, providerCode: String(metaCode), providerText: `(#${metaCode}) Title | Some details` });
    expect(OUTCOME_CODES[code]).toBe(kind);
    expect(outcome.message).toMatch(/\w+ \w+ \w+/);
  });

  it('covers exactly the codes of the notes (200-299 as a range)', () => {
    const listed = TABLE.map(([code]) => code).filter((code) => code < 200 || code > 299);
    expect([...META_CLASSIFIED_CODES].sort((a, b) => a - b)).toEqual([...listed].sort((a, b) => a - b));
  });

  it('every kind of the table is one the notes call for: the account stops, never a slowdown, for its "pause" row', () => {
    const pause = [131048, 4, 80007, 131064, 0, 190, 3, 10, 200, 299, 131042, 368, 131031];
    for (const code of pause) expect(['account_error', 'account_limited']).toContain(classifyMetaError(code).kind);
  });

  it('gives the waits the notes call for', () => {
    expect(classifyMetaError(131049).retryAfterMs).toBe(24 * 60 * 60 * 1000);
    expect(MARKETING_CAP_RETRY_MS).toBe(86_400_000);
    expect(classifyMetaError(131056).retryAfterMs).toBe(PAIR_RATE_RETRY_MS);
    expect(classifyMetaError(131000).retryAfterMs).toBeUndefined();
  });

  it('waits 4^n s after the nth pair-rate failure (n counted from 0, as Meta does), at least one pair window, at most an hour', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => classifyMetaError(131056, undefined, undefined, { attempt }).retryAfterMs)).toEqual([
      6_000, 6_000, 16_000, 64_000, 256_000, 1_024_000,
    ]);
    expect(pairRateRetryMs(20)).toBe(PAIR_RATE_MAX_RETRY_MS);
    expect(pairRateRetryMs(0)).toBe(PAIR_RATE_RETRY_MS);
    // The attempt only matters for 131056.
    expect(classifyMetaError(131049, undefined, undefined, { attempt: 4 }).retryAfterMs).toBe(MARKETING_CAP_RETRY_MS);
  });

  it.each([
    ['a wrong phone number id (the URL object)', 'ACCOUNT_MISCONFIGURED', "Unsupported post request. Object with ID '123' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", undefined],
    ['a wrong WABA id', 'ACCOUNT_MISCONFIGURED', "Unsupported get request. Object with ID '456' does not exist.", undefined],
    ['the phone number id by name', 'ACCOUNT_MISCONFIGURED', '(#100) Invalid parameter | phone_number_id is not valid', undefined],
    ['subcode 33 (object does not exist)', 'ACCOUNT_MISCONFIGURED', '(#100) Invalid parameter', 33],
    ["a parameter's text", 'RECIPIENT_VARIABLES_INVALID', '(#100) Invalid parameter | Param text cannot have new-line/tab characters or more than 4 consecutive spaces', undefined],
    ['a template parameter', 'TEMPLATE_PARAMS_INVALID', '(#100) Invalid parameter | Parameter name is missing or empty', undefined],
    ['nothing more', 'TEMPLATE_PARAMS_INVALID', '(#100) Invalid parameter', undefined],
  ] as const)('code 100 naming %s -> %s', (_name, code, text, subcode) => {
    const [message, details] = text.split(' | ');
    expect(classifyMetaError(100, message, details, { subcode })).toMatchObject({ code, providerCode: '100', providerText: text });
  });

  it('retries an unknown code later, keeping its code and text', () => {
    expect(classifyMetaError(131999, 'New', 'Brand new error')).toMatchObject({
      kind: 'retry',
      code: 'PROVIDER_UNDOCUMENTED_RESPONSE',
      providerCode: '131999',
      providerText: 'New | Brand new error',
    });
    expect(classifyMetaError(300)).toMatchObject({ code: 'PROVIDER_UNDOCUMENTED_RESPONSE', providerText: '' });
    expect(classifyMetaError(199)).toMatchObject({ code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
  });
});
