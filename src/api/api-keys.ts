/**
 * API keys: `wce_<prefix>_<secret>`, 32 random bytes of secret. Only the SHA-256 of the whole
 * key is stored (a fast hash is enough for a high-entropy random secret); the key itself is
 * shown once, at creation.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/database.js';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export async function createApiKey(db: Db, tenantId: string, name: string): Promise<{ id: string; key: string; prefix: string }> {
  const prefix = randomBytes(4).toString('hex');
  const key = `wce_${prefix}_${randomBytes(32).toString('base64url')}`;
  const row = await db.prisma.apiKey.create({ data: { tenantId, name, prefix, hash: hashApiKey(key) } });
  return { id: row.id, key, prefix };
}

/** Creates a tenant with its first API key. */
export async function createTenant(db: Db, name: string): Promise<{ tenantId: string; apiKey: string }> {
  const tenant = await db.prisma.tenant.create({ data: { name } });
  const { key } = await createApiKey(db, tenant.id, 'default');
  return { tenantId: tenant.id, apiKey: key };
}
