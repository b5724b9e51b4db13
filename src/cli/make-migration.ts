/**
 * Writes the next migration: the SQL from the schema as it was when the latest migration was
 * committed to prisma/schema.prisma as it is now. Usage: npm run db:diff -- <name>
 *
 * Why from git and not from the migrations: diffing from the migrations makes the WebAssembly
 * engine introspect a shadow database, and introspection through the JS Postgres adapter fails
 * on the catalogs' internal "char" type (measured here; see the header of src/db/schema-engine.ts). Schema-to-schema needs no database,
 * and test/migrations.test.ts keeps every committed migration equal to its committed schema.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { diffSchemas, MIGRATIONS_DIR, SCHEMA_PATH } from '../db/schema-engine.js';

const name = (process.argv[2] ?? '').replace(/[^a-z0-9_]/gi, '_');
if (!name) {
  process.stderr.write('usage: npm run db:diff -- <migration_name>\n');
  process.exit(2);
}
const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
const lastMigrationCommit = git('log', '-1', '--format=%H', '--', 'prisma/migrations');
if (git('status', '--porcelain', '--', 'prisma/migrations')) {
  process.stderr.write('prisma/migrations has uncommitted changes; commit (or remove) them first, so the base schema is known.\n');
  process.exit(2);
}
const from = git('show', `${lastMigrationCommit}:prisma/schema.prisma`);
// The engine opens a connection even for a diff that needs no database: use the server's own.
const serverUrl = new URL(loadConfig().databaseUrl);
serverUrl.pathname = '/postgres';
const sql = await diffSchemas(serverUrl.toString(), from, await readFile(SCHEMA_PATH, 'utf8'));
if (!sql.trim() || /^-- This is an empty migration/m.test(sql)) {
  process.stdout.write('schema.prisma matches the latest migration; nothing to write.\n');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = join(MIGRATIONS_DIR, `${stamp}_${name}`);
await mkdir(dir, { recursive: true });
await writeFile(join(dir, 'migration.sql'), sql);
process.stdout.write(`wrote ${dir}/migration.sql\n`);
