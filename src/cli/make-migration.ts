/**
 * Writes the next migration: the SQL from the committed migrations to prisma/schema.prisma.
 * Usage: npm run db:diff -- <name>
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { diffMigrationsToSchema, MIGRATIONS_DIR, SCHEMA_PATH } from '../db/schema-engine.js';

const name = (process.argv[2] ?? '').replace(/[^a-z0-9_]/gi, '_');
if (!name) {
  process.stderr.write('usage: npm run db:diff -- <migration_name>\n');
  process.exit(2);
}
const config = loadConfig();
const sql = await diffMigrationsToSchema(config.databaseUrl, await readFile(SCHEMA_PATH, 'utf8'));
if (!sql.trim() || /^-- This is an empty migration/m.test(sql)) {
  process.stdout.write('schema.prisma and the migrations agree; nothing to write.\n');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = join(MIGRATIONS_DIR, `${stamp}_${name}`);
await mkdir(dir, { recursive: true });
await writeFile(join(dir, 'migration.sql'), sql);
await writeFile(join(MIGRATIONS_DIR, 'migration_lock.toml'), 'provider = "postgresql"\n');
process.stdout.write(`wrote ${dir}/migration.sql\n`);
