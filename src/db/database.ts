/**
 * The database handles: a pg Pool for hot-path SQL (COPY, claims, batched status writes) and
 * a Prisma client on the same pool for everything else. One Database per process.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

// int8 ids (recipients.id) come back as strings by default; they fit in a JS number only up to
// 2^53, which recipients will not reach, but keep them as strings: they are used as job ids.
export type Db = {
  connectionString: string;
  pool: pg.Pool;
  prisma: PrismaClient;
  close(): Promise<void>;
};

export function createDatabase(databaseUrl: string, options: { max?: number } = {}): Db {
  // A bounded wait for a connection: running out fails the request instead of hanging it.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10, connectionTimeoutMillis: 30_000 });
  // An idle client that loses its server (restart, failover) emits here; the pool replaces it.
  pool.on('error', () => undefined);
  // A client checked out of the pool (a transaction, a COPY) has no pool listener: losing its
  // server between two queries would emit 'error' with nobody listening and kill the process.
  // Its next query fails instead, and the pool discards it when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    connectionString: databaseUrl,
    pool,
    prisma,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

export { PrismaClient };
export type * from '../generated/prisma/client.js';
