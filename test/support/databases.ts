import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** The server tests run against; TEST_DATABASE_URL's database part is ignored. */
function serverUrl(): URL {
  return new URL(process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
}

export function testDatabaseUrl(name: string): string {
  const url = serverUrl();
  url.pathname = `/${name}`;
  return url.toString();
}

export function adminUrl(): string {
  return testDatabaseUrl('postgres');
}

/** This run's migrated template database (built by global-setup.ts). */
export function templateDatabase(): { runId: string; name: string } {
  const runId = inject('testRunId');
  return { runId, name: `wce_tpl_${runId}` };
}

/** A fresh database cloned from the migrated template; drop it with the returned function. */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const template = templateDatabase();
  const name = `wce_t_${template.runId}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template.name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: testDatabaseUrl(name),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
