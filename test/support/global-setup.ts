/**
 * Builds this run's template database once, from the migrations, through the same CLI a user
 * runs (`src/cli/migrate.ts`). Every test file then clones it (CREATE DATABASE ... TEMPLATE).
 * Names carry a run id, so concurrent runs on one server never touch each other's databases.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { adminUrl, testDatabaseUrl } from './databases.js';

declare module 'vitest' {
  export interface ProvidedContext {
    testRunId: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = randomUUID().replace(/-/g, '').slice(0, 8);
  const template = `wce_tpl_${runId}`;
  project.provide('testRunId', runId);
  const result = spawnSync(
    process.execPath,
    ['--experimental-wasm-modules', '--no-warnings', '--import', 'tsx', 'src/cli/migrate.ts'],
    { env: { ...process.env, DATABASE_URL: testDatabaseUrl(template) }, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`migrating the test template failed:\n${result.stdout}\n${result.stderr}`);

  return async () => {
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2`,
        [template, `wce_t_${runId}_%`],
      );
      for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  };
}
