/**
 * Gauges read at scrape time from Postgres and Redis: queue depths, feeder lag, recipients by
 * status of running campaigns, account states, breaker states, messaging-limit use, the event
 * outbox. One snapshot serves every gauge of a scrape and is reused for METRICS_CACHE_MS, so
 * several Prometheus servers (or a dashboard refreshing) cost one read. Each read is bounded:
 * the recipients' counts as Postgres keeps them (src/recipients/status-counts.ts, no recipient is
 * counted), one grouped query per other table, one BullMQ count and two small scripts per account.
 */
import { ENGINE_CODES } from '../engine-codes.js';
import type { RedisClient } from '../redis-client.js';
import type pg from 'pg';
import { Gauge, type Registry } from 'prom-client';
import { DailyBudget } from '../flow/daily-budget.js';
import { CircuitBreaker } from '../flow/circuit-breaker.js';
import { statusCountsByCampaign } from '../recipients/status-counts.js';
import type { SendQueues } from '../queue/queues.js';
import { feederRoundKey } from './record.js';

export type CollectorSources = { pool: pg.Pool; redis: RedisClient; queues: SendQueues; prefix: string; cacheMs: number; breaker: { minCalls: number; openMs: number } };

type Snapshot = {
  queues: { account: string; state: string; n: number }[];
  feederLagSeconds: number | null;
  recipients: { campaign: string; status: string; n: number }[];
  accounts: { account: string; provider: string; state: string }[];
  breakers: { account: string; state: string }[];
  limits: { account: string; limit: number; used: number }[];
  outbox: { status: string; n: number; oldestSeconds: number }[];
};

const QUEUE_STATES = ['wait', 'prioritized', 'active', 'delayed', 'failed'] as const;
const ACCOUNT_STATES = ['active', 'probing', 'limited', 'paused'] as const;
const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;

export async function readSnapshot(s: CollectorSources): Promise<Snapshot> {
  const { rows: accounts } = await s.pool.query<{ id: string; provider: string; status: string; status_code: string | null; messaging_limit: number | null }>(
    `SELECT id, provider::text, status::text, status_code, messaging_limit FROM provider_accounts ORDER BY id`,
  );
  const { rows: running } = await s.pool.query<{ id: string }>(`SELECT id FROM campaigns WHERE status = 'running'`);
  const recipients = await statusCountsByCampaign(s.pool, running.map((c) => c.id));
  const { rows: outbox } = await s.pool.query<{ status: string; n: string; oldest: number | null }>(
    `SELECT status::text, count(*) AS n, extract(epoch FROM now() - min(created_at))::float8 AS oldest FROM event_deliveries WHERE status <> 'delivered' GROUP BY 1`,
  );
  const breaker = new CircuitBreaker(s.redis, s.prefix, s.breaker);
  const budget = new DailyBudget(s.redis, s.prefix);
  const snapshot: Snapshot = { queues: [], feederLagSeconds: null, recipients: [], accounts: [], breakers: [], limits: [], outbox: [] };
  for (const a of accounts) {
    const counts = await s.queues.forAccount(a.id).getJobCounts(...QUEUE_STATES);
    for (const state of QUEUE_STATES) snapshot.queues.push({ account: a.id, state, n: counts[state] ?? 0 });
    snapshot.accounts.push({ account: a.id, provider: a.provider, state: a.status === 'active' && a.status_code === ENGINE_CODES.PROBING ? 'probing' : a.status });
    snapshot.breakers.push({ account: a.id, state: (await breaker.state(a.id)).state });
    if (a.messaging_limit !== null && a.messaging_limit > 0) {
      snapshot.limits.push({ account: a.id, limit: a.messaging_limit, used: (await budget.usage(a.id, a.messaging_limit)).used });
    }
  }
  const lastRound = await s.redis.get(feederRoundKey(s.prefix));
  snapshot.feederLagSeconds = lastRound ? Math.max(0, (Date.now() - Number(lastRound)) / 1000) : null;
  snapshot.recipients = recipients.map((r) => ({ campaign: r.campaignId, status: r.status, n: r.n }));
  snapshot.outbox = outbox.map((o) => ({ status: o.status, n: Number(o.n), oldestSeconds: o.oldest ?? 0 }));
  return snapshot;
}

/** Registers the gauges in `registry`; `sources()` says where to read (null: nothing to report yet). */
export function registerCollectors(registry: Registry, sources: () => CollectorSources | null): void {
  let cached: { at: number; value: Promise<Snapshot> } | null = null;
  const snapshot = async (): Promise<Snapshot | null> => {
    const s = sources();
    if (!s) return null;
    if (!cached || Date.now() - cached.at > s.cacheMs) {
      const value = readSnapshot(s);
      cached = { at: Date.now(), value };
      value.catch(() => {
        cached = null;
      });
    }
    return cached.value;
  };
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, s: Snapshot) => void) => {
    const existing = registry.getSingleMetric(name);
    if (existing) return;
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const s = await snapshot();
        this.reset();
        if (s) fill(this, s);
      },
    });
  };

  gauge('wce_queue_jobs', 'Jobs in each account send queue by BullMQ state (wait, prioritized, active, delayed, failed).', ['account', 'state'], (g, s) => {
    for (const q of s.queues) g.set({ account: q.account, state: q.state }, q.n);
  });
  gauge('wce_feeder_lag_seconds', "Seconds since the leader's feeder last finished a round (it runs every FEEDER_INTERVAL_MS; a growing value means no process is feeding).", [], (g, s) => {
    if (s.feederLagSeconds !== null) g.set(s.feederLagSeconds);
  });
  gauge('wce_campaign_recipients', 'Recipients of running campaigns by status.', ['campaign', 'status'], (g, s) => {
    for (const r of s.recipients) g.set({ campaign: r.campaign, status: r.status }, r.n);
  });
  gauge('wce_account_state', 'Provider account state: 1 for the current one (active, probing, limited, paused), 0 for the others.', ['account', 'provider', 'state'], (g, s) => {
    for (const a of s.accounts) for (const state of ACCOUNT_STATES) g.set({ account: a.account, provider: a.provider, state }, a.state === state ? 1 : 0);
  });
  gauge('wce_breaker_state', "Circuit breaker per account: 1 for the current state (closed, open, half_open), 0 for the others.", ['account', 'state'], (g, s) => {
    for (const b of s.breakers) for (const state of BREAKER_STATES) g.set({ account: b.account, state }, b.state === state ? 1 : 0);
  });
  gauge('wce_messaging_limit', 'Messaging limit (unique recipients per rolling 24 h) of accounts that have one.', ['account'], (g, s) => {
    for (const l of s.limits) g.set({ account: l.account }, l.limit);
  });
  gauge('wce_messaging_limit_used', 'Unique recipients counted against the messaging limit in the last 24 h.', ['account'], (g, s) => {
    for (const l of s.limits) g.set({ account: l.account }, l.used);
  });
  gauge('wce_event_deliveries_undelivered', 'Outbound event deliveries not delivered yet (pending) or given up on (failed).', ['status'], (g, s) => {
    g.set({ status: 'pending' }, 0);
    g.set({ status: 'failed' }, 0);
    for (const o of s.outbox) g.set({ status: o.status }, o.n);
  });
  gauge('wce_event_deliveries_oldest_seconds', 'Age of the oldest undelivered outbound event, by status.', ['status'], (g, s) => {
    for (const o of s.outbox) g.set({ status: o.status }, o.oldestSeconds);
  });
}
