/** Applies pending migrations to DATABASE_URL (creating the database if needed). */
import { loadConfig } from '../config.js';
import { applyMigrations } from '../db/schema-engine.js';

const config = loadConfig();
const applied = await applyMigrations(config.databaseUrl);
process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
