/**
 * The migrations must build exactly the database schema.prisma describes: one database from
 * prisma/migrations, one from a diff(empty -> schema), compared by pg_dump --schema-only.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { recipientStatusGuardSql } from '../src/recipients/transitions.js';
import { createTestDatabase, templateDatabase, testDatabaseUrl } from './support/databases.js';

const SINGLE_MESSAGES_MIGRATION = 'prisma/migrations/20261206140000_single_messages/migration.sql';
const RECIPIENT_COUNTS_MIGRATION = 'prisma/migrations/20261206180000_recipient_counts/migration.sql';
/** Where a migration's hand-written part, which schema.prisma cannot describe, begins. */
const BEYOND_SCHEMA = '-- Beyond schema.prisma:';

async function beyondSchema(path: string): Promise<string> {
  const sql = await readFile(path, 'utf8');
  const at = sql.indexOf(BEYOND_SCHEMA);
  expect(at, `${path} has no "${BEYOND_SCHEMA}" part`).toBeGreaterThan(0);
  return sql.slice(at);
}

const dumps: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const drop of dumps) await drop();
});

function schemaDump(url: string): string {
  const dump = execFileSync('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', '--exclude-table=_prisma_migrations', url], {
    encoding: 'utf8',
  });
  // pg_dump prints the source database's name and a random restrict key in comments; keep the DDL.
  return dump
    .split('\n')
    .filter((line) => !line.startsWith('--') && !line.startsWith('\\restrict') && !line.startsWith('\\unrestrict') && line.trim() !== '')
    .join('\n');
}

it('prisma/migrations produce exactly what schema.prisma describes', async () => {
  const fromMigrations = await createTestDatabase(); // the template is built from the migrations
  dumps.push(fromMigrations.drop);

  const fromSchema = `wce_t_${templateDatabase().runId}_schema`;
  const admin = new pg.Client({ connectionString: testDatabaseUrl('postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${fromSchema}`);
  await admin.end();
  dumps.push(async () => {
    const c = new pg.Client({ connectionString: testDatabaseUrl('postgres') });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${fromSchema} WITH (FORCE)`);
    await c.end();
  });

  const script = spawnSync(
    process.execPath,
    ['--experimental-wasm-modules', '--no-warnings', '--import', 'tsx', 'test/support/schema-sql.ts'],
    { encoding: 'utf8', env: { ...process.env, DATABASE_URL: testDatabaseUrl(fromSchema) } },
  );
  expect(script.status, script.stderr).toBe(0);
  const client = new pg.Client({ connectionString: testDatabaseUrl(fromSchema) });
  await client.connect();
  await client.query(script.stdout);
  // What schema.prisma cannot describe: the recipient status trigger (its migration holds this
  // text), and the single messages' trailer of their migration (the trigger on their status, the
  // one-subject CHECK on history; test/api/adereso-messages.test.ts shows both refuse), and the
  // triggers that keep the recipients' counts (test/recipients/status-counts.test.ts).
  await client.query(recipientStatusGuardSql());
  await client.query(await beyondSchema(SINGLE_MESSAGES_MIGRATION));
  await client.query(await beyondSchema(RECIPIENT_COUNTS_MIGRATION));
  await client.end();

  const expected = schemaDump(testDatabaseUrl(fromSchema));
  const actual = schemaDump(fromMigrations.url);
  expect(actual.length).toBeGreaterThan(1000);
  expect(actual).toBe(expected);
});

it('every migration folder has its migration.sql and the lock file names postgresql', async () => {
  const lock = await readFile('prisma/migrations/migration_lock.toml', 'utf8');
  expect(lock).toContain('provider = "postgresql"');
});
