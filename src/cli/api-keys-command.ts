/**
 * `npm run cli -- api-keys <list|create|revoke|rotate> ...`: the operator's side of the API key
 * lifecycle, the same functions the API's /v1/api-keys routes call (revocation reaches every
 * API process at once through the shared Redis cache).
 *
 *   api-keys list <tenantId>
 *   api-keys create <tenantId> [--name <name>] [--scope read|full|admin] [--expires-in-days <n>]
 *   api-keys revoke <tenantId> <keyId>
 *   api-keys rotate <tenantId> <keyId> [--grace-seconds <n>]
 */
import type { RedisClient } from '../redis-client.js';
import { ApiKeyCache } from '../tenants/api-key-cache.js';
import { API_KEY_SCOPES, createApiKey, listApiKeys, publicApiKey, revokeApiKey, rotateApiKey, type ApiKeyScope } from '../tenants/api-keys.js';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';

export const API_KEYS_USAGE =
  'api-keys list <tenantId> | api-keys create <tenantId> [--name <name>] [--scope read|full|admin] [--expires-in-days <n>] | api-keys revoke <tenantId> <keyId> | api-keys rotate <tenantId> <keyId> [--grace-seconds <n>]';

export class UsageError extends Error {}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

function count(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} must be a whole number`);
  return Number(value);
}

/** Runs one api-keys command; returns the lines to print. */
export async function apiKeysCommand(args: string[], deps: { db: Db; redis: () => RedisClient; config: Config }): Promise<string[]> {
  const [action, tenantId, keyId] = args;
  if (!tenantId) throw new UsageError(`usage: npm run cli -- ${API_KEYS_USAGE}`);
  const cache = () => new ApiKeyCache(deps.redis(), deps.config.queuePrefix, deps.config.apiKeyCacheSeconds);
  switch (action) {
    case 'list':
      return (await listApiKeys(deps.db, tenantId)).map((k) => {
        const p = publicApiKey(k);
        return `${p.id}  ${p.prefix}  ${p.scope.padEnd(5)}  ${p.state.padEnd(7)}  ${p.name}  last used ${p.lastUsedAt?.toISOString() ?? 'never'}${p.expiresAt ? `  expires ${p.expiresAt.toISOString()}` : ''}`;
      });
    case 'create': {
      const scope = option(args, '--scope') ?? 'full';
      if (!(API_KEY_SCOPES as readonly string[]).includes(scope)) throw new UsageError(`--scope must be one of ${API_KEY_SCOPES.join(', ')}`);
      const days = count(option(args, '--expires-in-days'), '--expires-in-days');
      const { id, key } = await createApiKey(deps.db, tenantId, option(args, '--name') ?? 'cli', {
        scope: scope as ApiKeyScope,
        expiresAt: days === undefined ? null : new Date(Date.now() + days * 86_400_000),
      });
      return [`api key ${id} (${scope}; shown once): ${key}`];
    }
    case 'revoke': {
      if (!keyId) throw new UsageError(`usage: npm run cli -- ${API_KEYS_USAGE}`);
      const revoked = await revokeApiKey(deps.db, cache(), tenantId, keyId);
      return [`api key ${revoked.id} revoked`];
    }
    case 'rotate': {
      if (!keyId) throw new UsageError(`usage: npm run cli -- ${API_KEYS_USAGE}`);
      const grace = count(option(args, '--grace-seconds'), '--grace-seconds') ?? 0;
      const { key, record } = await rotateApiKey(deps.db, cache(), tenantId, keyId, grace);
      return [`api key ${record.id} replaces ${keyId}${grace > 0 ? ` (the old one works for ${grace} s more)` : ''}; shown once: ${key}`];
    }
    default:
      throw new UsageError(`usage: npm run cli -- ${API_KEYS_USAGE}`);
  }
}
