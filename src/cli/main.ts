/**
 * Operator commands.
 *   npm run cli -- create-tenant <name>     creates a tenant and prints its first (admin) API key, shown once
 *   npm run cli -- create-api-key <tenantId> [name]
 *   npm run cli -- api-keys list|create|revoke|rotate ...   (see src/cli/api-keys-command.ts)
 *   npm run cli -- migrate                  same as npm run db:migrate
 *   npm run cli -- credentials rotate       re-encrypts every account's credentials to CREDENTIALS_KEY_ID (safe while the engine runs)
 *   npm run cli -- credentials status       how many accounts are not yet on the active key
 * Errors print one sentence (no stack) and exit 1; wrong usage exits 2.
 */
import type { RedisClient } from '../redis-client.js';
import { createApiKey, createTenant } from '../tenants/api-keys.js';
import { loadConfig } from '../config.js';
import { createDatabase } from '../db/database.js';
import { applyMigrations } from '../db/schema-engine.js';
import { resealEndpointSecrets } from '../events/endpoint-secrets.js';
import { countNotOnActiveKey, resealCredentials } from '../security/credential-rotation.js';
import { securitySettingsFrom } from '../security/security-settings.js';
import { AppError } from '../errors.js';
import { redisConnection } from '../redis-client.js';
import { API_KEYS_USAGE, apiKeysCommand, UsageError } from './api-keys-command.js';

const USAGE = `usage: npm run cli -- create-tenant <name> | create-api-key <tenantId> [name] | ${API_KEYS_USAGE} | migrate`;
const [command, ...args] = process.argv.slice(2);
const config = loadConfig();

async function main(): Promise<number> {
  if (command === 'migrate') {
    const applied = await applyMigrations(config.databaseUrl);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    const sealing = createDatabase(config.databaseUrl, { max: 2 });
    try {
      const report = await resealCredentials(sealing.pool, securitySettingsFrom(config).vault, { onlyPlaintext: true });
      if (report.fromPlaintext > 0) console.log(`credentials encrypted: ${report.fromPlaintext} account(s)`);
      const endpoints = await resealEndpointSecrets(sealing.pool, securitySettingsFrom(config).vault, { onlyPlaintext: true });
      if (endpoints > 0) console.log(`event endpoint secrets encrypted: ${endpoints}`);
    } finally {
      await sealing.close();
    }
    return 0;
  }
  const db = createDatabase(config.databaseUrl, { max: 2 });
  let redis: RedisClient | undefined;
  try {
    if (command === 'create-tenant' && args[0]) {
      const { tenantId, apiKey } = await createTenant(db, args[0]);
      console.log(`tenant ${tenantId}\napi key (admin; shown once): ${apiKey}`);
      return 0;
    }
    if (command === 'credentials' && (args[0] === 'rotate' || args[0] === 'status')) {
      const { vault } = securitySettingsFrom(config);
      if (vault.usesDevelopmentKey) console.error('warning: CREDENTIALS_KEYS is not set; the public development key is the active key');
      if (args[0] === 'status') {
        console.log(`active key ${vault.activeKeyId}: ${await countNotOnActiveKey(db.pool, vault)} account(s) not on it`);
        return 0;
      }
      const report = await resealCredentials(db.pool, vault);
      console.log(`re-encrypted ${report.resealed} account(s) to key ${vault.activeKeyId} (${report.fromPlaintext} were plaintext)`);
      console.log(`re-encrypted ${await resealEndpointSecrets(db.pool, vault)} event endpoint secret(s)`);
      if (report.unreadable.length > 0) {
        console.error(`${report.unreadable.length} account(s) could not be decrypted with CREDENTIALS_KEYS: ${report.unreadable.join(', ')}`);
        return 1;
      }
      return 0;
    }
    if (command === 'create-api-key' && args[0]) {
      const { id, key } = await createApiKey(db, args[0], args[1] ?? 'cli');
      console.log(`api key ${id} (full; shown once): ${key}`);
      return 0;
    }
    if (command === 'api-keys') {
      const lines = await apiKeysCommand(args, { db, config, redis: () => (redis ??= redisConnection(config)) });
      console.log(lines.join('\n') || 'no api keys');
      return 0;
    }
    console.error(USAGE);
    return 2;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message);
      return 2;
    }
    console.error(error instanceof AppError ? error.message : `failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    return 1;
  } finally {
    redis?.disconnect();
    await db.close();
  }
}

process.exit(await main());
