/**
 * The one factory of Redis connections: an ioredis `Cluster` when REDIS_CLUSTER_NODES is set,
 * else a plain `Redis` at REDIS_URL. Every module that takes a connection takes a `RedisClient`,
 * either one; BullMQ takes both. Key names and their cluster slots: src/redis-keys.ts.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { ConfigError, type Config } from './config.js';

export type RedisClient = Redis | Cluster;

/** Where Redis is: the config, or (tests, benchmarks) a plain URL. */
export type RedisTarget = Pick<Config, 'redisUrl' | 'redisCluster'>;

// BullMQ needs maxRetriesPerRequest null on blocking connections; it is harmless elsewhere and
// makes commands wait out a Redis restart (or a cluster failover) instead of failing.
const BASE: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true };

export function redisConnection(target: string, extra?: RedisOptions): Redis;
export function redisConnection(target: RedisTarget, extra?: RedisOptions): RedisClient;
export function redisConnection(target: string | RedisTarget, extra: RedisOptions = {}): RedisClient {
  if (typeof target === 'string') return new Redis(target, { ...BASE, ...extra });
  const cluster = target.redisCluster;
  if (!cluster) return new Redis(target.redisUrl, { ...BASE, ...extra });
  return new Cluster(
    cluster.nodes.map((n) => ({ host: n.host, port: n.port })),
    {
      redisOptions: {
        ...BASE,
        ...(cluster.username ? { username: cluster.username } : {}),
        ...(cluster.password ? { password: cluster.password } : {}),
        ...(cluster.tls ? { tls: {} } : {}),
        ...extra,
      },
      enableReadyCheck: true,
      // Reads go to masters: the engine's reads decide sends (rate slots, flow limits), and a
      // replica may lag behind.
      scaleReads: 'master',
      // A failover takes a few seconds; commands wait for the new master instead of failing.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 300,
      retryDelayOnTryAgain: 200,
      maxRedirections: 32,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2_000),
    },
  );
}

/** Every master of a cluster, or the one Redis: where a scan or a per-shard check must look. */
export function masters(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/** Whether the connection is a cluster (for code that must behave differently, kept rare). */
export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

/**
 * Refuses a plain connection that reached a Redis Cluster node (REDIS_URL pointing at a cluster):
 * every key outside that node's slots would answer MOVED. A Redis that does not answer within
 * `waitMs` is not judged here (a process may start before Redis and wait for it).
 */
export async function checkRedisMode(redis: RedisClient, waitMs = 5_000): Promise<void> {
  if (isCluster(redis)) return;
  let timer: NodeJS.Timeout | undefined;
  const info = await Promise.race([
    redis.info('cluster').catch(() => ''),
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve(''), waitMs))),
  ]).finally(() => clearTimeout(timer));
  if (/cluster_enabled:1/.test(info)) {
    throw new ConfigError(
      'invalid environment: REDIS_CLUSTER_REQUIRED: REDIS_URL points at a Redis Cluster node; set REDIS_CLUSTER_NODES to the cluster\'s seed nodes instead',
    );
  }
}
