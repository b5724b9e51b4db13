/**
 * The local Redis Cluster for tests (scripts/redis-cluster.sh; .ci/run starts it and exports
 * TEST_REDIS_CLUSTER_NODES): its seed list as the engine's config reads it, where a key's slot is
 * served, and a `CLUSTER FAILOVER` of the master serving a key.
 */
import { Cluster } from 'ioredis';
import { parseClusterNodes, type RedisClusterTarget } from '../../src/config.js';
import type { RedisClient } from '../../src/redis-client.js';

/** The test cluster, or null (tests then skip, unless REQUIRE_REDIS_CLUSTER=true, which fails them). */
export function testCluster(): RedisClusterTarget | null {
  const cluster = parseClusterNodes(process.env.TEST_REDIS_CLUSTER_NODES);
  if (!cluster && process.env.REQUIRE_REDIS_CLUSTER === 'true') {
    throw new Error('REQUIRE_REDIS_CLUSTER is set but TEST_REDIS_CLUSTER_NODES is not: start one with scripts/redis-cluster.sh start');
  }
  return cluster;
}

export function asCluster(redis: RedisClient): Cluster {
  if (!(redis instanceof Cluster)) throw new Error('expected a Redis Cluster connection');
  return redis;
}

/** `host:port` of the master that serves a key's slot, as the cluster says now (CLUSTER SLOTS). */
export async function masterOf(redis: RedisClient, key: string): Promise<string> {
  const cluster = asCluster(redis);
  const slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', key));
  const slots = (await cluster.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, ...unknown[]], ...unknown[]][];
  const range = slots.find(([from, to]) => slot >= from && slot <= to);
  if (!range) throw new Error(`no master serves slot ${slot}`);
  return `${range[2][0]}:${range[2][1]}`;
}

/**
 * `CLUSTER FAILOVER` (the graceful, coordinated kind) on a replica of the master serving `key`;
 * resolves once that replica serves the slot. Returns the old and the new master.
 */
export async function failOverMasterOf(redis: RedisClient, key: string, timeoutMs = 30_000): Promise<{ from: string; to: string }> {
  const from = await masterOf(redis, key);
  const [host, port] = from.split(':');
  for (const node of asCluster(redis).nodes('slave')) {
    const info = String(await node.call('INFO', 'replication'));
    if (!info.includes(`master_host:${host}\r\n`) || !info.includes(`master_port:${port}\r\n`)) continue;
    const answer = await node.call('CLUSTER', 'FAILOVER');
    if (answer !== 'OK') throw new Error(`CLUSTER FAILOVER answered ${String(answer)}`);
    const to = `${node.options.host}:${node.options.port}`;
    const deadline = Date.now() + timeoutMs;
    while ((await masterOf(redis, key)) !== to) {
      if (Date.now() > deadline) throw new Error(`${to} did not take over from ${from} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { from, to };
  }
  throw new Error(`no replica of ${from} found`);
}
