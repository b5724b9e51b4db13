/**
 * Signing of outbound events. Each delivery carries:
 *
 *   X-Wce-Event-Id:   the event's id (the same on every retry: receivers dedupe on it)
 *   X-Wce-Event-Type: campaign.completed, ...
 *   X-Wce-Timestamp:  Unix seconds when this attempt was signed
 *   X-Wce-Signature:  v1=<hex HMAC-SHA256 of `${timestamp}.${body}`, keyed by the endpoint secret>
 *
 * A receiver recomputes the HMAC over the raw body, compares in constant time, and refuses a
 * timestamp outside its replay window (default 5 minutes), so a captured request cannot be
 * replayed later. The timestamp is signed per attempt, so a retry a day later still verifies.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-wce-signature';
export const TIMESTAMP_HEADER = 'x-wce-timestamp';
export const EVENT_ID_HEADER = 'x-wce-event-id';
export const EVENT_TYPE_HEADER = 'x-wce-event-type';
/** Default replay window for receivers, in seconds. */
export const REPLAY_WINDOW_SECONDS = 300;

export function newEndpointSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}

export function signPayload(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'missing_headers' | 'stale_timestamp' | 'bad_signature' };

/** What a receiver does; exported for receivers written in TypeScript and for the tests. */
export function verifySignature(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  options: { nowSeconds?: number; windowSeconds?: number } = {},
): VerifyResult {
  if (!headers.signature || !headers.timestamp || !/^\d+$/.test(headers.timestamp)) return { ok: false, reason: 'missing_headers' };
  const timestamp = Number(headers.timestamp);
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.windowSeconds ?? REPLAY_WINDOW_SECONDS)) return { ok: false, reason: 'stale_timestamp' };
  const expected = Buffer.from(signPayload(secret, timestamp, body));
  // Several signatures may be sent, space-separated, while a secret is being rotated.
  const matches = headers.signature.split(' ').some((candidate) => {
    const given = Buffer.from(candidate.trim());
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? { ok: true } : { ok: false, reason: 'bad_signature' };
}
