/**
 * The only commands that touch the database directly (DATABASE_URL): applying migrations and
 * creating the first tenant with its key, before there is an API key to call the API with.
 * They reuse the engine's own functions (schema engine, tenant creation), not copies.
 */
import type { Command } from 'commander';
import { createTenant } from '../../../tenants/api-keys.js';
import { loadConfig } from '../../../config.js';
import { createDatabase } from '../../../db/database.js';
import { applyMigrations } from '../../../db/schema-engine.js';
import { handler } from '../context.js';
import { configPath, saveConfigFile } from '../settings.js';

export function registerBootstrapCommands(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (DATABASE_URL)')
    .action(
      handler(async (ctx) => {
        const applied = await applyMigrations(loadConfig().databaseUrl);
        ctx.out.result({ applied }, () => (applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date'));
      }),
    );
  program
    .command('create-tenant <name>')
    .description('create a tenant and its first API key, shown once (DATABASE_URL)')
    .option('--save', 'write the key (and --url) to the config file, for the next commands')
    .action(
      handler(async (ctx, o: { save?: boolean }, name: string) => {
        const db = createDatabase(loadConfig().databaseUrl, { max: 2 });
        try {
          const created = await createTenant(db, name);
          let saved: string | null = null;
          if (o.save) {
            saved = configPath(ctx.options);
            if (saved) await saveConfigFile(saved, { url: ctx.options.url ?? 'http://127.0.0.1:3000', apiKey: created.apiKey });
          }
          ctx.out.result({ ...created, configFile: saved }, () => [`tenant ${created.tenantId}`, `api key (shown once): ${created.apiKey}`, ...(saved ? [`saved to ${saved}`] : [])]);
        } finally {
          await db.close();
        }
      }),
    );
}
