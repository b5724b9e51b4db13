/**
 * API keys: `wce_<prefix>_<secret>`, 32 random bytes of secret. Only the SHA-256 of the whole
 * key is stored (a fast hash is enough for a high-entropy random secret); the key itself is
 * shown once, at creation or rotation.
 *
 * Lifecycle: a key has a name, a scope (read: GET only; full: everything a tenant does; admin:
 * full plus managing keys), an optional expiry, and last_used_at. Revoking or rotating takes
 * effect at once on every API process: lookups are cached in Redis (shared) and, while an API
 * process hears revocations, in its memory too; revocation overwrites the Redis entry and waits
 * until every listening process has dropped its copy (ApiKeyCache, ./api-key-cache.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';
import { resolvedOf, type ApiKeyCache } from './api-key-cache.js';
import type { ApiKey, ApiKeyScope } from '../generated/prisma/client.js';

export const API_KEY_SCOPES = ['read', 'full', 'admin'] as const satisfies readonly ApiKeyScope[];
export type { ApiKeyScope };

const SCOPE_RANK: Record<ApiKeyScope, number> = { read: 0, full: 1, admin: 2 };
export function scopeAllows(scope: ApiKeyScope, required: ApiKeyScope): boolean {
  return SCOPE_RANK[scope] >= SCOPE_RANK[required];
}

const KEY_SHAPE = /^wce_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** True when the text has the shape of a key this engine issues; anything else is refused without a lookup. */
export function looksLikeApiKey(key: string): boolean {
  return KEY_SHAPE.test(key);
}

export type ApiKeyOptions = { scope?: ApiKeyScope; expiresAt?: Date | null };

export async function createApiKey(
  db: Db,
  tenantId: string,
  name: string,
  options: ApiKeyOptions = {},
): Promise<{ id: string; key: string; prefix: string; record: ApiKey }> {
  if (!UUID.test(tenantId) || !(await db.prisma.tenant.findUnique({ where: { id: tenantId }, select: { id: true } }))) throw errors.tenantNotFound(tenantId);
  const prefix = randomBytes(4).toString('hex');
  const key = `wce_${prefix}_${randomBytes(32).toString('base64url')}`;
  const record = await db.prisma.apiKey.create({
    data: { tenantId, name, prefix, hash: hashApiKey(key), scope: options.scope ?? 'full', expiresAt: options.expiresAt ?? null },
  });
  return { id: record.id, key, prefix, record };
}

/** Creates a tenant with its first API key, an admin key (it can make the others). */
export async function createTenant(db: Db, name: string): Promise<{ tenantId: string; apiKey: string }> {
  const tenant = await db.prisma.tenant.create({ data: { name } });
  const { key } = await createApiKey(db, tenant.id, 'default', { scope: 'admin' });
  return { tenantId: tenant.id, apiKey: key };
}

export function apiKeyState(k: Pick<ApiKey, 'revokedAt' | 'expiresAt'>, now = Date.now()): 'active' | 'expired' | 'revoked' {
  if (k.revokedAt) return 'revoked';
  return k.expiresAt && k.expiresAt.getTime() <= now ? 'expired' : 'active';
}

/** What listings show: never the key or its hash. */
export function publicApiKey(k: ApiKey) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scope: k.scope,
    state: apiKeyState(k),
    createdAt: k.createdAt,
    lastUsedAt: k.lastUsedAt,
    expiresAt: k.expiresAt,
    revokedAt: k.revokedAt,
  };
}

export async function listApiKeys(db: Db, tenantId: string): Promise<ApiKey[]> {
  return db.prisma.apiKey.findMany({ where: { tenantId }, orderBy: { createdAt: 'asc' } });
}

export async function findApiKey(db: Db, tenantId: string, id: string): Promise<ApiKey> {
  const row = UUID.test(id) ? await db.prisma.apiKey.findFirst({ where: { id, tenantId } }) : null;
  if (!row) throw errors.apiKeyNotFound(id);
  return row;
}

/** Revokes a key; it answers 401 on the next request to any API process. Revoking twice is harmless. */
export async function revokeApiKey(db: Db, cache: ApiKeyCache, tenantId: string, id: string): Promise<ApiKey> {
  const row = await findApiKey(db, tenantId, id);
  const revoked = row.revokedAt ? row : await db.prisma.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
  await cache.put(revoked.hash, resolvedOf(revoked));
  return revoked;
}

/**
 * A new key with the old one's name, scope and expiry. The old key stops at once, or after
 * `graceSeconds` (so clients can switch over), whichever the caller asks.
 */
export async function rotateApiKey(
  db: Db,
  cache: ApiKeyCache,
  tenantId: string,
  id: string,
  graceSeconds = 0,
): Promise<{ key: string; record: ApiKey; old: ApiKey }> {
  const old = await findApiKey(db, tenantId, id);
  if (apiKeyState(old) !== 'active') throw errors.apiKeyInactive(id, apiKeyState(old));
  const created = await createApiKey(db, tenantId, old.name, { scope: old.scope, expiresAt: old.expiresAt });
  const graceEnd = new Date(Date.now() + graceSeconds * 1000);
  const ended = await db.prisma.apiKey.update({
    where: { id },
    data: graceSeconds > 0 ? { expiresAt: old.expiresAt && old.expiresAt < graceEnd ? old.expiresAt : graceEnd } : { revokedAt: new Date() },
  });
  await cache.put(ended.hash, resolvedOf(ended));
  return { key: created.key, record: created.record, old: ended };
}
