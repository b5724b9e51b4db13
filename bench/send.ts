/**
 * npm run bench:send — 100k recipients through the sandbox provider at zero latency, against
 * bare BullMQ processing the same number of no-op jobs, measured in the same run.
 *
 * Ours is timed from `start` until every recipient's status is durable in Postgres (the
 * campaign is `completed`), with the send worker in its own process as in production and the
 * sandbox in this one. The baseline processes pre-added no-op jobs in one process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { createTenant } from '../src/tenants/api-keys.js';
import { applyCampaignAction } from '../src/campaigns/campaign-actions.js';
import { createDatabase } from '../src/db/database.js';
import { startSandboxServer } from '../src/providers/sandbox/sandbox-server.js';
import { redisConnection } from '../src/redis-client.js';
import { freshBenchDatabase, rate, table } from './support.js';

const N = Number(process.env.BENCH_SEND_N ?? 100_000);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = resolve(import.meta.dirname, '..');

async function bareBullmq(): Promise<number> {
  const prefix = `bench-bare-${randomUUID().slice(0, 8)}`;
  const connection = redisConnection(REDIS_URL);
  const queue = new Queue('noop', { connection, prefix });
  for (let i = 0; i < N; i += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({ name: 'noop', data: { i: i + j }, opts: { removeOnComplete: true } })));
  }
  let done = 0;
  const started = Date.now();
  await new Promise<void>((resolveDone) => {
    const worker = new Worker('noop', async () => undefined, { connection: redisConnection(REDIS_URL), prefix, concurrency: 100 });
    worker.on('completed', () => {
      done += 1;
      if (done === N) void worker.close().then(() => resolveDone());
    });
  });
  const ms = Date.now() - started;
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return ms;
}

function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolveStart, reject) => {
    const child = fork(resolve(ROOT, 'workers/send-worker.ts'), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', () => resolveStart(child));
    child.once('exit', (code) => reject(new Error(`worker exited ${code}`)));
  });
}

async function ours(workers: number): Promise<{ ms: number; duplicates: number; sent: number }> {
  const url = await freshBenchDatabase();
  const db = createDatabase(url, { max: 4 });
  const sandbox = await startSandboxServer({ latencyMs: 0 });
  const prefix = `bench-send-${randomUUID().slice(0, 8)}`;
  const { tenantId } = await createTenant(db, 'bench');
  const account = await db.prisma.providerAccount.create({
    data: { tenantId, provider: 'sandbox', name: 'bench', config: { baseUrl: sandbox.url }, credentials: { token: 'sandbox-token' }, ratePerSecond: 1000 },
  });
  // The account rate is the only limit in play; set it far above what the machine can do.
  await db.pool.query('UPDATE provider_accounts SET rate_per_second = 50000 WHERE id = $1', [account.id]);
  const template = await db.prisma.template.create({ data: { tenantId, accountId: account.id, name: 'bench', body: 'Hola {{1}}', paramCount: 1 } });
  const campaign = await db.prisma.campaign.create({ data: { tenantId, accountId: account.id, templateId: template.id, name: 'bench' } });
  await db.pool.query(
    `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables)
     SELECT $1, $2, '+569' || (10000000 + g)::text, '9' || (10000000 + g)::text, g + 1, '["Ana"]'::jsonb FROM generate_series(1, $3) g`,
    [tenantId, campaign.id, N],
  );
  // The sandbox on 127.0.0.1 is refused unless the operator allows it.
  const env = { DATABASE_URL: url, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '200', QUEUE_WINDOW_SECONDS: '1', FEEDER_INTERVAL_MS: '50', SANDBOX_PROVIDER_ENABLED: 'true', PROVIDER_ALLOW_PRIVATE_HOSTS: 'true' };
  const children = await Promise.all(Array.from({ length: workers }, () => startWorker(env)));
  const started = Date.now();
  await applyCampaignAction(db, tenantId, campaign.id, 'start');
  for (;;) {
    const { rows } = await db.pool.query<{ status: string }>('SELECT status FROM campaigns WHERE id = $1', [campaign.id]);
    if (rows[0]?.status === 'completed') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = Date.now() - started;
  const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM recipients WHERE campaign_id = $1 AND status = 'sent'`, [campaign.id]);
  const stats = sandbox.stats();
  await Promise.all(children.map((c) => new Promise((r) => { c.once('exit', r); c.kill('SIGTERM'); })));
  await sandbox.close();
  await db.close();
  const redis = redisConnection(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  return { ms, duplicates: Object.values(stats.perPhone).filter((n) => n > 1).length, sent: Number(rows[0]?.n ?? 0) };
}

const bare = await bareBullmq();
const one = await ours(1);
const two = await ours(2);
const bareRate = rate(N, bare);
console.log(`\nbench:send — ${N.toLocaleString()} recipients, sandbox at zero latency, every status durable in Postgres\n`);
console.log(
  table([
    ['run', 'time', 'per second', 'vs bare BullMQ', 'sent', 'phones sent twice'],
    ['bare BullMQ, no-op jobs, 1 process (baseline)', `${(bare / 1000).toFixed(1)} s`, bareRate, '1.00x', '-', '-'],
    ['engine, 1 worker process', `${(one.ms / 1000).toFixed(1)} s`, rate(N, one.ms), `${(rate(N, one.ms) / bareRate).toFixed(2)}x`, one.sent, one.duplicates],
    ['engine, 2 worker processes', `${(two.ms / 1000).toFixed(1)} s`, rate(N, two.ms), `${(rate(N, two.ms) / bareRate).toFixed(2)}x`, two.sent, two.duplicates],
  ]),
);
console.log('\ntarget: >= 0.5x of bare BullMQ');
process.exit(0);
