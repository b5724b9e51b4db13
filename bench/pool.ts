/**
 * npm run bench:pool — a sender pool's throughput against its accounts' rates.
 *
 * A pool of 3 sandbox accounts at 80 messages/s each (240/s together), the provider answering in
 * 100-300 ms, about BENCH_POOL_SECONDS (default 20) of recipients, one worker process; beside it,
 * in the same run, one account at 80/s alone with the same latency (the baseline). BENCH_POOL_WORKERS
 * runs more worker processes. For each run:
 * the steady average (the first and last second are partial and left out) as a share of the
 * configured rate, and per account the most departures the engine's gate let go in any sliding
 * 1000 ms window (RATE_DEPARTURE_LOG, Redis's clock), which must never pass 80.
 *
 * Target: the pool reaches >= 97% of 240/s; no account above its own rate in any second.
 */
import { randomUUID } from 'node:crypto';
import { createTenant } from '../src/tenants/api-keys.js';
import { applyCampaignAction } from '../src/campaigns/campaign-actions.js';
import { createDatabase, type Db } from '../src/db/database.js';
import { startSandboxServer } from '../src/providers/sandbox/sandbox-server.js';
import { mostInAnyWindow, readDepartureLog } from '../src/queue/departure-log.js';
import { redisConnection } from '../src/redis-client.js';
import { BENCH_DATABASE_URL, freshBenchDatabase, startWorker, stopProcess, table } from './support.js';

const RATE = 80;
const SECONDS = Number(process.env.BENCH_POOL_SECONDS ?? 20);
const LATENCY: [number, number] = [100, 300];
/** Worker processes per run (BENCH_POOL_WORKERS, default 1). */
const WORKERS = Number(process.env.BENCH_POOL_WORKERS ?? 1);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = (() => {
  const url = new URL(BENCH_DATABASE_URL);
  url.pathname = `${url.pathname}_pool`;
  return url.toString();
})();

type Figures = { label: string; accounts: number; perSecond: number[]; sent: number; steadySeconds: number; average: number; maxDepartures: number[]; duplicates: number; perAccount: number[] };


async function run(db: Db, url: string, tenantId: string, accounts: number): Promise<Figures> {
  const sandbox = await startSandboxServer({ latencyMs: LATENCY });
  const prefix = `bench-pool-${randomUUID().slice(0, 8)}`;
  const ids: string[] = [];
  for (let i = 0; i < accounts; i++) {
    const account = await db.prisma.providerAccount.create({
      data: { tenantId, provider: 'sandbox', name: `${prefix} ${i + 1}`, config: { baseUrl: sandbox.url }, credentials: { token: 'sandbox-token' }, ratePerSecond: RATE, pairGapSeconds: 0 },
    });
    await db.prisma.template.create({ data: { tenantId, accountId: account.id, name: 'bench', body: 'Hola {{1}}', paramCount: 1 } });
    ids.push(account.id);
  }
  const [first] = ids;
  if (!first) throw new Error('no account');
  const template = await db.prisma.template.findFirstOrThrow({ where: { accountId: first } });
  const pool = accounts > 1 ? await db.prisma.senderPool.create({ data: { tenantId, name: prefix, members: { create: ids.map((accountId) => ({ accountId })) } } }) : null;
  const campaign = await db.prisma.campaign.create({ data: { tenantId, accountId: first, poolId: pool?.id ?? null, templateId: template.id, name: prefix } });
  const n = RATE * accounts * SECONDS;
  await db.pool.query(
    `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables)
     SELECT $1, $2, '+569' || (10000000 + g)::text, '9' || (10000000 + g)::text, g + 1, '["Ana"]'::jsonb FROM generate_series(1, $3) g`,
    [tenantId, campaign.id, n],
  );
  const env = {
    DATABASE_URL: url, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '200', FEEDER_INTERVAL_MS: '100',
    SANDBOX_PROVIDER_ENABLED: 'true', PROVIDER_ALLOW_PRIVATE_HOSTS: 'true', RATE_DEPARTURE_LOG: 'true',
  };
  const workers = await Promise.all(Array.from({ length: WORKERS }, () => startWorker(env)));
  await applyCampaignAction(db, tenantId, campaign.id, 'start');
  for (;;) {
    const { rows } = await db.pool.query<{ status: string }>('SELECT status FROM campaigns WHERE id = $1', [campaign.id]);
    if (rows[0]?.status === 'completed') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(workers.map(stopProcess));
  const stats = sandbox.stats();
  await sandbox.close();
  const redis = redisConnection(REDIS_URL);
  const maxDepartures: number[] = [];
  for (const id of ids) maxDepartures.push(mostInAnyWindow(await readDepartureLog(redis, prefix, id), 1000));
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  const { rows: split } = await db.pool.query<{ account_id: string; n: string }>(`SELECT account_id, count(*) AS n FROM recipients WHERE campaign_id = $1 GROUP BY account_id`, [campaign.id]);
  const seconds = Object.keys(stats.perSecond).map(Number);
  const firstSecond = Math.min(...seconds);
  const counts = Array.from({ length: Math.max(...seconds) - firstSecond + 1 }, (_, i) => stats.perSecond[String(firstSecond + i)] ?? 0);
  const steady = counts.slice(1, -1);
  return {
    label: accounts > 1 ? `pool of ${accounts}` : 'one account (baseline)',
    accounts,
    perSecond: counts,
    sent: stats.accepted,
    steadySeconds: steady.length,
    average: steady.reduce((a, b) => a + b, 0) / Math.max(1, steady.length),
    maxDepartures,
    duplicates: Object.values(stats.perPhone).filter((k) => k > 1).length,
    perAccount: ids.map((id) => Number(split.find((r) => r.account_id === id)?.n ?? 0)),
  };
}

const url = await freshBenchDatabase(DATABASE_URL);
const db = createDatabase(url, { max: 4 });
const { tenantId } = await createTenant(db, 'bench');
const results = [await run(db, url, tenantId, 1), await run(db, url, tenantId, 3)];
await db.close();

console.log(`\nbench:pool — accounts at ${RATE}/s each, provider latency ${LATENCY[0]}-${LATENCY[1]} ms, ~${SECONDS} s of recipients, ${WORKERS} worker process${WORKERS > 1 ? 'es' : ''}\n`);
console.log(
  table([
    ['run', 'sent', 'steady seconds', 'average/s', 'configured/s', '% of configured', 'most departures in any 1000 ms, per account', 'recipients per account', 'phones sent twice'],
    ...results.map((r) => [
      r.label,
      r.sent,
      r.steadySeconds,
      r.average.toFixed(1),
      RATE * r.accounts,
      `${((100 * r.average) / (RATE * r.accounts)).toFixed(1)}%`,
      r.maxDepartures.join(' / '),
      r.perAccount.join(' / '),
      r.duplicates,
    ]),
  ]),
);
console.log('\narrivals per wall-clock second, first to last:');
for (const r of results) console.log(`  ${r.label}: ${r.perSecond.join(' ')}`);
console.log(`\ntarget: the pool at >= 97% of ${RATE * 3}/s; no account above ${RATE} departures in any 1000 ms`);
process.exit(0);
