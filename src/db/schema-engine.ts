/**
 * Migrations through Prisma's WebAssembly schema engine.
 *
 * The native schema engine cannot be downloaded on the machines this runs on, so
 * `prisma migrate deploy` is not an option; the WebAssembly build applies the same
 * `prisma/migrations/<name>/migration.sql` files and records them in `_prisma_migrations`
 * exactly as `migrate deploy` does. Node 20 needs `--experimental-wasm-modules` to load it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaEngine as WasmSchemaEngine } from '@prisma/schema-engine-wasm';
import pg from 'pg';

export const PRISMA_DIR = resolve(import.meta.dirname, '../../prisma');
export const SCHEMA_PATH = join(PRISMA_DIR, 'schema.prisma');
export const MIGRATIONS_DIR = join(PRISMA_DIR, 'migrations');

const NO_FILTERS = { externalTables: [], externalEnums: [] };

/** Connection fields, not a URL: with a URL the adapter replays shadow work onto the main database. */
export function connectionFields(databaseUrl: string): pg.ClientConfig {
  const url = new URL(databaseUrl);
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username || 'postgres'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
  };
}

/**
 * The pg adapter splits a migration script at every ';', which breaks a function body (the
 * recipient status trigger). Postgres' simple query protocol takes a whole script at once, as
 * `prisma migrate deploy` sends it, so scripts go through whole.
 */
class WholeScriptPg extends PrismaPg {
  override async connect(): ReturnType<PrismaPg['connect']> {
    return wholeScripts(await super.connect());
  }

  override async connectToShadowDb(): ReturnType<PrismaPg['connectToShadowDb']> {
    return wholeScripts(await super.connectToShadowDb());
  }
}

function wholeScripts<A extends { executeScript(script: string): Promise<void>; underlyingDriver(): unknown }>(adapter: A): A {
  adapter.executeScript = async (script: string) => {
    await (adapter.underlyingDriver() as pg.Pool).query(script);
  };
  return adapter;
}

async function openEngine(databaseUrl: string, schemaText?: string): Promise<WasmSchemaEngine> {
  const { SchemaEngine } = await import('@prisma/schema-engine-wasm');
  const factory = bindMigrationAwareSqlAdapterFactory(new WholeScriptPg(connectionFields(databaseUrl)));
  const datamodels: [string, string][] = [[SCHEMA_PATH, schemaText ?? (await readFile(SCHEMA_PATH, 'utf8'))]];
  // The engine logs through this callback; its chatter is not ours to print.
  return SchemaEngine.new({ datamodels }, () => undefined, factory);
}

export async function loadMigrationList(dir = MIGRATIONS_DIR): Promise<MigrationList> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const migrationDirectories = await Promise.all(
    names.map(async (name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok' as const, value: await readFile(join(dir, name, 'migration.sql'), 'utf8') },
      },
    })),
  );
  const lockPath = join(dir, 'migration_lock.toml');
  const lockContent = await readFile(lockPath, 'utf8').catch(() => null);
  return {
    baseDir: dir,
    lockfile: { path: 'migration_lock.toml', content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

/** Creates the database named in the URL if it does not exist yet. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const fields = connectionFields(databaseUrl);
  const admin = new pg.Client({ ...fields, database: 'postgres' });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [fields.database]);
    if (found.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(String(fields.database))}`);
    }
  } catch (error) {
    // Two processes may race to create it; the loser finds it there, which is all we wanted.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await admin.end();
  }
}

/** Applies every pending migration; returns the names applied (empty when up to date). */
export async function applyMigrations(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const engine = await openEngine(databaseUrl);
  try {
    const result = await engine.applyMigrations({ migrationsList: await loadMigrationList(), filters: NO_FILTERS });
    return result.appliedMigrationNames;
  } finally {
    engine.free();
  }
}

/** SQL that turns the `from` schema text (or nothing) into the `to` schema text. Needs no database. */
export async function diffSchemas(databaseUrl: string, from: string | null, to: string): Promise<string> {
  const engine = await openEngine(databaseUrl, to);
  try {
    const result = await engine.diff({
      from: from === null ? { tag: 'empty' } : { tag: 'schemaDatamodel', files: [{ path: SCHEMA_PATH, content: from }] },
      to: { tag: 'schemaDatamodel', files: [{ path: SCHEMA_PATH, content: to }] },
      script: true,
      exitCode: null,
      filters: NO_FILTERS,
    });
    return result.stdout ?? '';
  } finally {
    engine.free();
  }
}
