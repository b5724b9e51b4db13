/**
 * Console sign-in sessions, kept in Redis so they hold across API instances. A session is
 * found by a random id (the cookie's value); Redis holds only the SHA-256 of that id, so a copy
 * of Redis gives no usable cookie. A session stores the tenant and the id of the API key it was
 * opened with (never the key), and a CSRF token the pages echo in a header.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';

export type ConsoleSession = { tenantId: string; apiKeyId: string; csrfToken: string; createdAt: string };

export class SessionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    /** Lifetime of a session, seconds (CONSOLE_SESSION_TTL_SECONDS). */
    private readonly ttlSeconds: number,
  ) {}

  /** Opens a session; returns the cookie value, shown to the browser only. */
  async create(tenantId: string, apiKeyId: string): Promise<{ id: string; session: ConsoleSession }> {
    const id = randomBytes(32).toString('base64url');
    const session: ConsoleSession = { tenantId, apiKeyId, csrfToken: randomBytes(24).toString('base64url'), createdAt: new Date().toISOString() };
    await this.redis.set(this.key(id), JSON.stringify(session), 'EX', this.ttlSeconds);
    return { id, session };
  }

  async get(id: string): Promise<ConsoleSession | null> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(id)) return null;
    const raw = await this.redis.get(this.key(id));
    if (!raw) return null;
    try {
      return JSON.parse(raw) as ConsoleSession;
    } catch {
      return null;
    }
  }

  async destroy(id: string): Promise<void> {
    await this.redis.del(this.key(id));
  }

  private key(id: string): string {
    return redisKeys.consoleSession(this.prefix, createHash('sha256').update(id).digest('hex'));
  }
}

/** Constant-time comparison of a CSRF token from a header with the session's. */
export function csrfMatches(session: ConsoleSession, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(session.csrfToken);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
