/**
 * Redis settings: REDIS_CLUSTER_NODES selects a cluster (seed list, credentials from the first
 * entry), the one factory returns a Cluster or a plain Redis accordingly, and a QUEUE_PREFIX with
 * braces is refused with a stable code (a hash tag there would put every key in one slot).
 */
import { Cluster, Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { ConfigError, loadConfig, parseClusterNodes } from '../../src/config.js';
import { checkRedisMode, redisConnection } from '../../src/redis-client.js';
import { testCluster } from '../support/redis-cluster.js';

it('refuses a QUEUE_PREFIX with braces, with a stable code and the reason', () => {
  for (const prefix of ['{wce}', 'wce{', 'w}ce']) {
    expect(() => loadConfig({ QUEUE_PREFIX: prefix })).toThrow(ConfigError);
    expect(() => loadConfig({ QUEUE_PREFIX: prefix })).toThrow(/QUEUE_PREFIX_INVALID: .*hash tags/);
  }
  expect(loadConfig({ QUEUE_PREFIX: 'wce:prod' }).queuePrefix).toBe('wce:prod');
});

it('reads a seed list of host:port or redis:// URLs; unset or empty means one Redis', () => {
  expect(loadConfig({}).redisCluster).toBeNull();
  expect(loadConfig({ REDIS_CLUSTER_NODES: ' ' }).redisCluster).toBeNull();
  expect(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001,redis-3' }).redisCluster).toEqual({
    nodes: [
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: 'redis-3', port: 6379 },
    ],
    tls: false,
  });
  expect(parseClusterNodes('rediss://app:s%40cret@redis-a:6380,redis-b:6380')).toEqual({
    nodes: [
      { host: 'redis-a', port: 6380 },
      { host: 'redis-b', port: 6380 },
    ],
    username: 'app',
    password: 's@cret',
    tls: true,
  });
  expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'host:notaport' })).toThrow(/REDIS_CLUSTER_NODES: "host:notaport"/);
});

it('the one factory returns a Cluster where configured, else a Redis', () => {
  const single = redisConnection(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }), { lazyConnect: true });
  expect(single).toBeInstanceOf(Redis);
  single.disconnect();
  const cluster = redisConnection(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:1' }));
  expect(cluster).toBeInstanceOf(Cluster);
  cluster.disconnect();
});

it.skipIf(!testCluster())('refuses REDIS_URL pointing at a cluster node (REDIS_CLUSTER_REQUIRED); a plain Redis and a Cluster connection pass', async () => {
  const node = testCluster()!.nodes[0]!;
  const wrong = redisConnection(`redis://${node.host}:${node.port}`);
  const plain = redisConnection(loadConfig({}));
  const cluster = redisConnection(loadConfig({ REDIS_CLUSTER_NODES: process.env.TEST_REDIS_CLUSTER_NODES }));
  try {
    await expect(checkRedisMode(wrong)).rejects.toThrow(/REDIS_CLUSTER_REQUIRED: REDIS_URL points at a Redis Cluster node/);
    await expect(checkRedisMode(plain)).resolves.toBeUndefined();
    await expect(checkRedisMode(cluster)).resolves.toBeUndefined();
  } finally {
    wrong.disconnect();
    plain.disconnect();
    cluster.disconnect();
  }
});
