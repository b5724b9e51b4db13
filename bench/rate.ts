/**
 * npm run bench:rate — how exactly one account's rate is kept across worker processes.
 *
 * One sandbox account configured at 50 messages/s, about 20 s of recipients, sent by 1, 2 and
 * 4 worker processes in turn. Two views of the same sends:
 * - departures: the engine's own departure gate logs each send it lets go, on Redis's clock
 *   (RATE_DEPARTURE_LOG); the most of them in any sliding 1000 ms window is what the engine
 *   controls, and must never pass the rate;
 * - arrivals: the sandbox counts the sends it accepts in each wall-clock second, as a provider
 *   does. For each run: the average rate over the steady part (the first and last second are
 *   partial and left out), as a share of the configured rate, the most sends in any one second,
 *   and how many seconds went over the rate. Arrivals also carry the jitter between departure
 *   and arrival (RATE_JITTER_MS is the allowance for it), so on a loaded machine they are a
 *   figure to report, not a verdict.
 *
 * Target: average >= 97% of the configured rate; no 1000 ms window of departures, and no
 * wall-clock second of arrivals, above it.
 */
import { randomUUID } from 'node:crypto';
import { createTenant } from '../src/tenants/api-keys.js';
import { applyCampaignAction } from '../src/campaigns/campaign-actions.js';
import { createDatabase, type Db } from '../src/db/database.js';
import { startSandboxServer } from '../src/providers/sandbox/sandbox-server.js';
import { mostInAnyWindow, readDepartureLog } from '../src/queue/account-rate-limiter.js';
import { redisConnection } from '../src/queue/queues.js';
import { BENCH_DATABASE_URL, freshBenchDatabase, startWorker, stopWorker, table } from './support.js';

const RATE = 50;
const SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 20);
const N = RATE * SECONDS;
const WORKER_COUNTS = [1, 2, 4];
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Its own database, so it can run beside bench:send. */
const DATABASE_URL = (() => {
  const url = new URL(BENCH_DATABASE_URL);
  url.pathname = `${url.pathname}_rate`;
  return url.toString();
})();

type RunFigures = {
  workers: number;
  sent: number;
  steadySeconds: number;
  average: number;
  /** Most departures the engine let go in any sliding 1000 ms window (its own clock). */
  maxDepartures: number;
  /** Most arrivals the sandbox counted in one wall-clock second. */
  maxWindow: number;
  windowsOver: number;
  duplicates: number;
  perSecond: number[];
};


/** Reads the run's departure log, then removes every key of the run. */
async function departuresAndCleanUp(prefix: string, accountId: string): Promise<number[]> {
  const redis = redisConnection(REDIS_URL);
  const departures = await readDepartureLog(redis, prefix, accountId);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  return departures;
}

async function run(db: Db, url: string, tenantId: string, workers: number): Promise<RunFigures> {
  // No limit of its own: the sandbox only counts, so any excess shows in its per-second figures.
  const sandbox = await startSandboxServer({ latencyMs: [5, 20] });
  const prefix = `bench-rate-${randomUUID().slice(0, 8)}`;
  const account = await db.prisma.providerAccount.create({
    data: { tenantId, provider: 'sandbox', name: `rate ${workers}`, config: { baseUrl: sandbox.url }, credentials: { token: 'sandbox-token' }, ratePerSecond: RATE },
  });
  const template = await db.prisma.template.create({ data: { tenantId, accountId: account.id, name: 'bench', body: 'Hola {{1}}', paramCount: 1 } });
  const campaign = await db.prisma.campaign.create({ data: { tenantId, accountId: account.id, templateId: template.id, name: `rate ${workers}` } });
  await db.pool.query(
    `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables)
     SELECT $1, $2, '+569' || (10000000 + g)::text, '9' || (10000000 + g)::text, g + 1, '["Ana"]'::jsonb FROM generate_series(1, $3) g`,
    [tenantId, campaign.id, N],
  );
  // The sandbox on 127.0.0.1 is refused unless the operator allows it.
  const env = { DATABASE_URL: url, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '20', FEEDER_INTERVAL_MS: '100', SANDBOX_PROVIDER_ENABLED: 'true', PROVIDER_ALLOW_PRIVATE_HOSTS: 'true', RATE_DEPARTURE_LOG: 'true' };
  const children = await Promise.all(Array.from({ length: workers }, () => startWorker(env)));
  await applyCampaignAction(db, tenantId, campaign.id, 'start');
  for (;;) {
    const { rows } = await db.pool.query<{ status: string }>('SELECT status FROM campaigns WHERE id = $1', [campaign.id]);
    if (rows[0]?.status === 'completed') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(children.map(stopWorker));
  const stats = sandbox.stats();
  await sandbox.close();
  const departures = await departuresAndCleanUp(prefix, account.id);

  // Every wall-clock second from the first send to the last, a second with no send counting 0.
  const seconds = Object.keys(stats.perSecond).map(Number);
  const first = Math.min(...seconds);
  const last = Math.max(...seconds);
  const counts = Array.from({ length: last - first + 1 }, (_, i) => stats.perSecond[String(first + i)] ?? 0);
  const steady = counts.slice(1, -1);
  return {
    workers,
    sent: stats.accepted,
    steadySeconds: steady.length,
    average: steady.reduce((a, b) => a + b, 0) / Math.max(1, steady.length),
    maxDepartures: mostInAnyWindow(departures, 1000),
    maxWindow: Math.max(...counts),
    windowsOver: counts.filter((n) => n > RATE).length,
    duplicates: Object.values(stats.perPhone).filter((n) => n > 1).length,
    perSecond: counts,
  };
}

const url = await freshBenchDatabase(DATABASE_URL);
const db = createDatabase(url, { max: 4 });
const { tenantId } = await createTenant(db, 'bench');
const results: RunFigures[] = [];
for (const workers of WORKER_COUNTS) results.push(await run(db, url, tenantId, workers));
await db.close();

console.log(`\nbench:rate — one account at ${RATE}/s, ${N.toLocaleString()} recipients (~${SECONDS} s): the engine's departures (Redis clock) and the sandbox's arrivals per wall-clock second\n`);
console.log(
  table([
    ['worker processes', 'sent', 'steady seconds', 'average/s', '% of configured', 'most departures in any 1000 ms', 'most arrivals in one second', 'seconds above the rate (arrivals)', 'phones sent twice'],
    ...results.map((r) => [
      r.workers,
      r.sent,
      r.steadySeconds,
      r.average.toFixed(1),
      `${((100 * r.average) / RATE).toFixed(1)}%`,
      r.maxDepartures,
      r.maxWindow,
      r.windowsOver,
      r.duplicates,
    ]),
  ]),
);
console.log('\narrivals per wall-clock second, first to last:');
for (const r of results) console.log(`  ${r.workers} process${r.workers > 1 ? 'es' : ''}: ${r.perSecond.join(' ')}`);
console.log(`\ntarget: average >= 97% of ${RATE}/s; never above ${RATE} departures in any 1000 ms, nor arrivals in any one second`);
process.exit(0);
