/**
 * Each provider account has its own webhook URL, /webhooks/<accountId>/<secret>. The secret is
 * random, shown once (at account creation or rotation) and stored only as its SHA-256, like an
 * API key, so neither the database nor a response leaks a working URL.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function newWebhookSecret(): { secret: string; hash: string } {
  const secret = randomBytes(24).toString('base64url');
  return { secret, hash: hashWebhookSecret(secret) };
}

export function hashWebhookSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time comparison of a presented secret against the stored hash. */
export function webhookSecretMatches(presented: string, storedHash: string | null): boolean {
  if (!storedHash) return false;
  const a = Buffer.from(hashWebhookSecret(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The path to give the provider; prefix it with the engine's public URL. */
export function webhookPath(accountId: string, secret: string): string {
  return `/webhooks/${accountId}/${secret}`;
}
