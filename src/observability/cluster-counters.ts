/**
 * Counters and histograms that must add up across every process of the engine (sends happen
 * in worker processes, ingest in API processes, and Prometheus scrapes whichever API process the
 * load balancer picks). Each process records into its own prom-client registry, in memory, and
 * a flusher adds what changed since the last flush to Redis hashes (HINCRBYFLOAT, one pipeline
 * every couple of seconds). A scrape reads the hashes, so any process shows the cluster's
 * totals; they only go back to zero if Redis loses its data, which Prometheus reads as a reset.
 *
 * Labels carry account ids and provider names, never phones or secrets.
 */
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import { Counter, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** Where this process records; never scraped directly. */
export const localRegistry = new Registry();

export const sendsTotal = new Counter({
  name: 'wce_sends_total',
  help: 'Provider send results by account, provider, normalized outcome kind (sent, accepted, retry, rate_limited, ...) and normalized code.',
  labelNames: ['account', 'provider', 'outcome', 'code'] as const,
  registers: [localRegistry],
});

export const providerRequestSeconds = new Histogram({
  name: 'wce_provider_request_seconds',
  help: 'Time a provider took to answer a send request (network included), by provider and account.',
  labelNames: ['provider', 'account'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
  registers: [localRegistry],
});

export const ingestRowsTotal = new Counter({
  name: 'wce_ingest_rows_total',
  help: 'Uploaded recipient rows by result: accepted, rejected or duplicate.',
  labelNames: ['result'] as const,
  registers: [localRegistry],
});

export const ingestRejectionsTotal = new Counter({
  name: 'wce_ingest_rejections_total',
  help: 'Rejected upload rows by reason code (PHONE_INVALID, VARIABLE_EMPTY, ...).',
  labelNames: ['reason'] as const,
  registers: [localRegistry],
});

const FAMILIES = [sendsTotal, providerRequestSeconds, ingestRowsTotal, ingestRejectionsTotal];

type Series = { metricName: string; labels: Record<string, string | number> };

function hashKey(prefix: string, family: string): string {
  return redisKeys.metricsFamily(prefix, family);
}

function fieldOf(series: Series): string {
  return JSON.stringify([series.metricName, series.labels]);
}

/** Adds this process's increments since the last flush to Redis. */
export class ClusterFlusher {
  private readonly flushed = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  start(everyMs = 2_000): void {
    this.timer ??= setInterval(() => void this.flush().catch(() => undefined), everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush().catch(() => undefined);
  }

  /** Serialized: two flushes at once would add the same increment twice. */
  flush(): Promise<void> {
    this.running = this.running.then(() => this.flushNow(), () => this.flushNow());
    return this.running;
  }

  private async flushNow(): Promise<void> {
    const multi = this.redis.multi();
    const done: [string, number][] = [];
    for (const family of FAMILIES) {
      const metric = await family.get();
      for (const value of metric.values as Series[] & MetricValue<string>[]) {
        const field = fieldOf({ metricName: value.metricName ?? metric.name, labels: value.labels as Record<string, string | number> });
        const id = `${metric.name} ${field}`;
        const delta = value.value - (this.flushed.get(id) ?? 0);
        if (delta === 0) continue;
        multi.hincrbyfloat(hashKey(this.prefix, metric.name), field, delta);
        done.push([id, value.value]);
      }
    }
    if (done.length === 0) return;
    await multi.exec();
    for (const [id, value] of done) this.flushed.set(id, value);
  }
}

/**
 * A scrape-side view of one family: what Registry.metrics() needs (name, help, type, get()),
 * with the values read from Redis. Registered in the scraped registry (src/metrics.ts).
 */
export function clusterView(family: (typeof FAMILIES)[number], source: () => { redis: RedisClient; prefix: string; before?: () => Promise<void> } | null) {
  const name = (family as unknown as { name: string }).name;
  const help = (family as unknown as { help: string }).help;
  const type = family instanceof Histogram ? 'histogram' : 'counter';
  return {
    name,
    help,
    type,
    async get(): Promise<MetricObjectWithValues<MetricValue<string>>> {
      const from = source();
      if (!from) return { name, help, type, aggregator: 'sum', values: [] } as unknown as MetricObjectWithValues<MetricValue<string>>;
      await from.before?.();
      const hash = await from.redis.hgetall(hashKey(from.prefix, name));
      const values = Object.entries(hash)
        .map(([field, raw]) => {
          const [metricName, labels] = JSON.parse(field) as [string, Record<string, string | number>];
          return { metricName, labels, value: Number(raw) };
        })
        // Buckets in order, so a histogram reads as Prometheus expects.
        .sort((a, b) => (a.metricName + JSON.stringify(a.labels)).localeCompare(b.metricName + JSON.stringify(b.labels), 'en', { numeric: true }));
      return { name, help, type, aggregator: 'sum', values } as unknown as MetricObjectWithValues<MetricValue<string>>;
    },
  };
}

export const CLUSTER_FAMILIES = FAMILIES;
