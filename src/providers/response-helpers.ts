/**
 * Response helpers shared by adapters, so every adapter classifies a generic 429 or 5xx the
 * same way and redacts secrets the same way; the send pipeline scrubs each outcome of the
 * account's own credential values (src/security/secret-scrubber.ts) before anything is stored or logged.
 */
import { SecretScrubber, scrubCredentialPatterns } from '../security/secret-scrubber.js';
import { outcome, undocumented } from './outcome.js';
import type { HttpResponse, SendOutcome } from './types.js';

/**
 * What a generic HTTP status means when the provider's manual says nothing more specific:
 * 429 slows the account down (no attempt spent); any 5xx is retried later.
 * Returns null for every other status, so the adapter's own table decides.
 */
export function classifyGenericStatus(response: HttpResponse): SendOutcome | null {
  const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
  const timing = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (response.status === 429) {
    return outcome('RATE_LIMITED', 'The provider asked to slow down (HTTP 429).', {
      providerCode: '429',
      providerText: providerTextOf(response.body),
      ...timing,
    });
  }
  if (response.status >= 500 && response.status <= 599) {
    return outcome('PROVIDER_UNAVAILABLE', `The provider answered HTTP ${response.status}; the send will be retried.`, {
      providerCode: String(response.status),
      providerText: providerTextOf(response.body),
      ...timing,
    });
  }
  return null;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** A response's Retry-After header (any case; seconds or an HTTP date) in ms, when it has one. */
export function retryAfterMs(headers: Record<string, string>, now: number = Date.now()): number | undefined {
  const value = Object.entries(headers).find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
  return parseRetryAfter(value, now);
}

/** Pattern-based redaction for parse functions (they never see the account): see src/security/secret-scrubber.ts. */
export const redactSecrets = scrubCredentialPatterns;

/** Replaces every encoded form of each known secret value in an outcome's texts (the one scrubber). */
export function redactOutcome(result: SendOutcome, secrets: readonly string[]): SendOutcome {
  return new SecretScrubber(secrets).scrubOutcome(result);
}

/** A short provider text for an outcome: the body itself, redacted and cut to 500 characters. */
export function providerTextOf(body: string): string | undefined {
  const text = body.trim();
  return text ? redactSecrets(text).slice(0, 500) : undefined;
}

/** undocumented() with credentials that look echoed back taken out of the kept body. */
export function undocumentedReply(response: HttpResponse): SendOutcome {
  return undocumented(response.status, redactSecrets(response.body));
}

/** A body kept as an outcome's `raw`: redacted and cut to 2,000 characters, like undocumented(). */
export function rawOf(body: string): string {
  return redactSecrets(body).slice(0, 2000);
}

/** E.164 (+56911111111) to the digits-only form these providers take (56911111111). */
export function e164ToDigits(phone: string): string {
  return phone.replace(/^\+/, '');
}

/** Reads a string property from parsed JSON; numbers are turned into strings. */
export function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const field = (value as Record<string, unknown>)[key];
  if (typeof field === 'string') return field;
  if (typeof field === 'number' && Number.isFinite(field)) return String(field);
  return undefined;
}

/** Reads an integer property from parsed JSON, accepting "400" as well as 400. */
export function integerField(value: unknown, key: string): number | undefined {
  const text = stringField(value, key);
  return text !== undefined && /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
}
