/**
 * Response helpers shared by adapters, so every adapter classifies a generic 429 or 5xx the
 * same way and redacts secrets the same way; the send pipeline redacts each outcome with the
 * account's own credential values (redactOutcome) before anything is stored or logged.
 */
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

// Secrets a provider might echo back in an error body: auth headers and form/JSON fields.
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/\b(Bearer|Key)\s+[^\s"',;}]+/gi, '$1 [redacted]'],
  [/\b(token|login|password|api_?key)=[^&\s"']*/gi, '$1=[redacted]'],
  [/("(?:token|login|password|api_?key|authorization)"\s*:\s*)"[^"]*"/gi, '$1"[redacted]"'],
  [/\b(public token)\s+(?!\[redacted\]|Bearer\b)[^\s"',;}]+/gi, '$1 [redacted]'],
];

/**
 * Removes what looks like a credential from provider text. Pattern-based, because a parse
 * function does not see the account; the sender should also call redactOutcome with the
 * account's own secret values.
 */
export function redactSecrets(text: string): string {
  let result = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) result = result.replace(pattern, replacement);
  return result;
}

/** Replaces each known secret value wherever it appears in an outcome's texts. */
export function redactOutcome(result: SendOutcome, secrets: readonly string[]): SendOutcome {
  const values = secrets.filter((s) => s.length >= 4);
  if (values.length === 0) return result;
  const scrub = (text: string | undefined): string | undefined => {
    if (text === undefined) return undefined;
    let clean = text;
    for (const secret of values) clean = clean.split(secret).join('[redacted]');
    return clean;
  };
  const scrubbed: SendOutcome = { ...result, message: scrub(result.message) ?? '' };
  for (const key of ['providerText', 'raw', 'providerCode'] as const) {
    if (result[key] !== undefined) scrubbed[key] = scrub(result[key]);
  }
  return scrubbed;
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
