/**
 * Meta signs every webhook: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body,
 * keyed by the app secret>`. The HMAC must be taken over the bytes as received, before any JSON
 * parsing, since re-serializing changes them.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE_HEADER = /^sha256=([0-9a-f]{64})$/i;

/**
 * True when `header` is the app secret's signature of `rawBody`. False, never an exception, for
 * a missing or malformed header or an empty secret (an unset secret must not verify anything).
 * The comparison is constant-time.
 */
export function verifyMetaSignature(rawBody: Buffer | string, header: string | undefined, appSecret: string): boolean {
  if (typeof header !== 'string' || appSecret === '') return false;
  const match = SIGNATURE_HEADER.exec(header.trim());
  if (!match) return false;
  const given = Buffer.from(match[1] as string, 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}
