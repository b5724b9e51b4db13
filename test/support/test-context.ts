/**
 * One isolated world per test file: its own database (cloned from the migrated template), its
 * own queue prefix in the shared Redis, a config pointing at both, and a tenant to act as.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config.js';
import { createDatabase, type Db } from '../../src/db/database.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createTestDatabase } from './databases.js';
import { afterAll, beforeAll } from 'vitest';

export type TestContext = {
  config: Config;
  db: Db;
  logger: Logger;
  databaseUrl: string;
  queuePrefix: string;
  tenantId: string;
  close(): Promise<void>;
};

export async function createTestContext(overrides: Partial<Config> = {}): Promise<TestContext> {
  const database = await createTestDatabase();
  const queuePrefix = `test-${randomUUID().slice(0, 8)}`;
  const config = loadConfig(
    { ...process.env, DATABASE_URL: database.url, QUEUE_PREFIX: queuePrefix, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' },
    overrides,
  );
  const db = createDatabase(database.url);
  const tenant = await db.prisma.tenant.create({ data: { name: 'test tenant' } });
  const logger = createLogger(config.logLevel);
  return {
    config,
    db,
    logger,
    databaseUrl: database.url,
    queuePrefix,
    tenantId: tenant.id,
    async close() {
      await db.close();
      await deleteQueueKeys(config.redisUrl, queuePrefix);
      await database.drop();
    },
  };
}

/** The file's context (createTestContext), made before its tests and closed after them; filled by its beforeAll. */
export function contextForFile(overrides: Partial<Config> = {}): TestContext {
  const ctx = {} as TestContext;
  beforeAll(async () => {
    Object.assign(ctx, await createTestContext(overrides));
  });
  afterAll(async () => {
    await (ctx as Partial<TestContext>).close?.();
  });
  return ctx;
}

/** Removes every Redis key under a test's queue prefix. */
export async function deleteQueueKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
