/** Shared bench plumbing: a scratch database migrated from prisma/migrations, and timing. */
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
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

const ROOT = resolve(import.meta.dirname, '..');

/** A send worker process (workers/send-worker.ts) with these settings over the environment's; resolves once it is up. */
export function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolveStart, reject) => {
    const child = fork(resolve(ROOT, 'workers/send-worker.ts'), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', () => resolveStart(child));
    child.once('exit', (code) => reject(new Error(`worker exited ${code}`)));
  });
}

/** SIGTERM, and wait for the worker to finish what it has under way. */
export function stopWorker(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}
