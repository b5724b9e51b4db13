/**
 * Builds the template database once per run, from the migrations, through the same CLI a user
 * runs (`src/cli/migrate.ts`). Every test file then clones it (CREATE DATABASE ... TEMPLATE).
 */
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { adminUrl, TEMPLATE_DB, testDatabaseUrl } from './databases.js';

export default async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
    // Databases left by an earlier run that was killed.
    const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'wce_t_%'");
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  const result = spawnSync(
    process.execPath,
    ['--experimental-wasm-modules', '--no-warnings', '--import', 'tsx', 'src/cli/migrate.ts'],
    { env: { ...process.env, DATABASE_URL: testDatabaseUrl(TEMPLATE_DB) }, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`migrating the test template failed:\n${result.stdout}\n${result.stderr}`);
}
