/** Shared bench plumbing: a scratch database migrated from prisma/migrations, and timing. */
import pg from 'pg';
import { applyMigrations, connectionFields } from '../src/db/schema-engine.js';

export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/wce_bench';

/** Drops and recreates the bench database, then migrates it. */
export async function freshBenchDatabase(url = BENCH_DATABASE_URL): Promise<string> {
  const fields = connectionFields(url);
  const admin = new pg.Client({ ...fields, database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(String(fields.database))} WITH (FORCE)`);
  await admin.end();
  await applyMigrations(url);
  return url;
}

export function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

export function table(rows: (string | number)[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join('  ')).join('\n');
}
