/** Prints the SQL that builds schema.prisma from nothing (used by test/migrations.test.ts). */
import { readFile } from 'node:fs/promises';
import { diffSchemas, SCHEMA_PATH } from '../../src/db/schema-engine.js';

const sql = await diffSchemas(process.env.DATABASE_URL ?? '', null, await readFile(SCHEMA_PATH, 'utf8'));
process.stdout.write(sql);
