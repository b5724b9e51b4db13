/**
 * One isolated world per test file: its own database (cloned from the migrated template), its
 * own queue prefix in the shared Redis, a config pointing at both, and a tenant to act as.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.js';
import { createDatabase, type Db } from '../../src/db/database.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { masters, redisConnection, type RedisTarget } from '../../src/redis-client.js';
import { createTestDatabase } from './databases.js';
import { testCluster } from './redis-cluster.js';
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

/**
 * TEST_REDIS=cluster runs a test file's engine on the test Redis Cluster (TEST_REDIS_CLUSTER_NODES)
 * instead of the shared Redis: `TEST_REDIS=cluster npx vitest run test/sending/campaign-send.test.ts`.
 * Only for files that reach Redis through the context's config.
 */
function clusterForAll(): Partial<Config> {
  if (process.env.TEST_REDIS !== 'cluster') return {};
  const redisCluster = testCluster();
  if (!redisCluster) throw new Error('TEST_REDIS=cluster needs TEST_REDIS_CLUSTER_NODES (scripts/redis-cluster.sh start)');
  return { redisCluster };
}

export async function createTestContext(overrides: Partial<Config> = {}): Promise<TestContext> {
  const database = await createTestDatabase();
  const queuePrefix = `test-${randomUUID().slice(0, 8)}`;
  const config = loadConfig(
    { ...process.env, DATABASE_URL: database.url, QUEUE_PREFIX: queuePrefix, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' },
    { ...clusterForAll(), ...overrides },
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
      await deleteQueueKeys(config, queuePrefix);
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

/** Removes every Redis key under a test's queue prefix (on every master of a cluster). */
export async function deleteQueueKeys(target: string | RedisTarget, prefix: string): Promise<void> {
  const redis = typeof target === 'string' ? redisConnection(target, { maxRetriesPerRequest: 3 }) : redisConnection(target, { maxRetriesPerRequest: 3 });
  try {
    if (typeof target !== 'string' && target.redisCluster) await redis.ping();
    for (const node of masters(redis)) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        // One key per command: a cluster node refuses keys of different slots in one.
        if (keys.length) await Promise.all(keys.map((key) => node.del(key)));
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
