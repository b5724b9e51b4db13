/**
 * Operator commands.
 *   npm run cli -- create-tenant <name>     creates a tenant and prints its first API key (shown once)
 *   npm run cli -- create-api-key <tenantId> [name]
 *   npm run cli -- migrate                  same as npm run db:migrate
 */
import { createApiKey, createTenant } from '../api/api-keys.js';
import { loadConfig } from '../config.js';
import { createDatabase } from '../db/database.js';
import { applyMigrations } from '../db/schema-engine.js';

const [command, ...args] = process.argv.slice(2);
const config = loadConfig();

async function main(): Promise<number> {
  if (command === 'migrate') {
    const applied = await applyMigrations(config.databaseUrl);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    return 0;
  }
  const db = createDatabase(config.databaseUrl, { max: 2 });
  try {
    if (command === 'create-tenant' && args[0]) {
      const { tenantId, apiKey } = await createTenant(db, args[0]);
      console.log(`tenant ${tenantId}\napi key (shown once): ${apiKey}`);
      return 0;
    }
    if (command === 'create-api-key' && args[0]) {
      const { id, key } = await createApiKey(db, args[0], args[1] ?? 'cli');
      console.log(`api key ${id} (shown once): ${key}`);
      return 0;
    }
    console.error('usage: npm run cli -- create-tenant <name> | create-api-key <tenantId> [name] | migrate');
    return 2;
  } finally {
    await db.close();
  }
}

process.exit(await main());
