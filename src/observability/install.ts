/**
 * Wires the metric families into the scraped registry (src/metrics.ts) once per process, and
 * points them at the process's database and Redis. The API calls installApiMetrics from
 * buildApp; a worker process starts a flusher for what it records.
 */
import type { RedisClient } from '../redis-client.js';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { SendQueues } from '../queue/queues.js';
import { CLUSTER_FAMILIES, ClusterFlusher, clusterView } from './cluster-counters.js';
import { registerCollectors, type CollectorSources } from './collectors.js';

type Sources = CollectorSources & { flusher: ClusterFlusher };

let current: Sources | null = null;
const installed = new WeakSet<Registry>();

function install(registry: Registry): void {
  if (installed.has(registry)) return;
  installed.add(registry);
  for (const family of CLUSTER_FAMILIES) {
    // A custom metric: prom-client's registry only needs name, help, type and get().
    registry.registerMetric(clusterView(family, () => (current ? { redis: current.redis, prefix: current.prefix, before: () => current?.flusher.flush() ?? Promise.resolve() } : null)) as unknown as Parameters<Registry['registerMetric']>[0]);
  }
  registerCollectors(registry, () => current);
}

/** For the API process: scrapes read this process's database and Redis; returns a stop function for app close. */
export function installApiMetrics(
  registry: Registry,
  deps: { pool: pg.Pool; redis: RedisClient; queues: SendQueues; config: Pick<Config, 'queuePrefix' | 'metricsCacheMs' | 'breakerMinCalls' | 'breakerOpenMs'> },
): () => Promise<void> {
  install(registry);
  const flusher = new ClusterFlusher(deps.redis, deps.config.queuePrefix);
  flusher.start();
  const sources: Sources = {
    pool: deps.pool,
    redis: deps.redis,
    queues: deps.queues,
    prefix: deps.config.queuePrefix,
    cacheMs: deps.config.metricsCacheMs,
    breaker: { minCalls: deps.config.breakerMinCalls, openMs: deps.config.breakerOpenMs },
    flusher,
  };
  current = sources;
  return async () => {
    await flusher.stop();
    if (current === sources) current = null;
  };
}

/** For a worker process: what it records reaches Redis every couple of seconds. */
export function startMetricsFlusher(redis: RedisClient, prefix: string): ClusterFlusher {
  const flusher = new ClusterFlusher(redis, prefix);
  flusher.start();
  return flusher;
}
