/**
 * Applies pending migrations to DATABASE_URL (creating the database if needed), then seals any
 * provider credentials still stored in plaintext with the active key (SQL cannot: the key is
 * in the environment). Both steps are idempotent.
 */
import { loadConfig } from '../config.js';
import { createDatabase } from '../db/database.js';
import { applyMigrations } from '../db/schema-engine.js';
import { resealEndpointSecrets } from '../events/endpoint-secrets.js';
import { resealCredentials } from '../security/credential-rotation.js';
import { securitySettingsFrom } from '../security/security-settings.js';

const config = loadConfig();
const applied = await applyMigrations(config.databaseUrl);
process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
const db = createDatabase(config.databaseUrl, { max: 2 });
try {
  const { vault } = securitySettingsFrom(config);
  const report = await resealCredentials(db.pool, vault, { onlyPlaintext: true });
  if (vault.usesDevelopmentKey) process.stdout.write('warning: CREDENTIALS_KEYS is not set; credentials are sealed with the public development key\n');
  if (report.fromPlaintext > 0) process.stdout.write(`credentials encrypted: ${report.fromPlaintext} account(s)\n`);
  const endpoints = await resealEndpointSecrets(db.pool, vault, { onlyPlaintext: true });
  if (endpoints > 0) process.stdout.write(`event endpoint secrets encrypted: ${endpoints}\n`);
} finally {
  await db.close();
}
