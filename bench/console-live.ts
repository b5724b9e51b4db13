/**
 * npm run bench:console — the console's live updates under load: 20 viewers streaming one
 * campaign's snapshots (GET /v1/live/campaigns, server-sent events) during a 100,000-recipient
 * sandbox send, against the same send with no viewers, in the same run.
 *
 * The API and the send worker run as their own processes, as in production; the sandbox runs
 * here at zero latency with the account's rate far above what the machine can do, so any CPU or
 * database time the viewers cost would show as a lower send rate. Each run measures a window of
 * BENCH_CONSOLE_WINDOW_S seconds after a short warm-up: recipients sent per second, and Postgres
 * transactions per second on the bench database (pg_stat_database xact_commit + xact_rollback).
 * The difference between the runs is what 20 viewers add. A third run, for scale, has the 20
 * viewers poll GET /v1/campaigns/:id once a second each instead (what a page without the shared
 * live stream would do: a status count per viewer per second).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';
import { createTenant } from '../src/api/api-keys.js';
import { applyCampaignAction } from '../src/campaigns/campaign-actions.js';
import { createDatabase } from '../src/db/database.js';
import { startSandboxServer } from '../src/providers/sandbox/sandbox-server.js';
import { redisConnection } from '../src/queue/queues.js';
import { freshBenchDatabase, table } from './support.js';

const N = Number(process.env.BENCH_SEND_N ?? 100_000);
const VIEWERS = Number(process.env.BENCH_CONSOLE_VIEWERS ?? 20);
const WINDOW_S = Number(process.env.BENCH_CONSOLE_WINDOW_S ?? 30);
const WARMUP_S = 5;
// Its own database: other benchmarks may be using wce_bench at the same time.
const URL = process.env.BENCH_CONSOLE_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/wce_bench_console';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = resolve(import.meta.dirname, '..');

function startProcess(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; port?: number }> {
  return new Promise((resolveStart, reject) => {
    const child = fork(resolve(ROOT, script), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (message: { port?: number }) => resolveStart({ child, ...(message.port ? { port: message.port } : {}) }));
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

type Run = { viewers: number; sentPerSecond: number; transactionsPerSecond: number; snapshotsPerViewerPerSecond: number };
type Mode = 'stream' | 'poll';

async function run(viewers: number, mode: Mode = 'stream'): Promise<Run> {
  await freshBenchDatabase(URL);
  const db = createDatabase(URL, { max: 2 });
  const sandbox = await startSandboxServer({ latencyMs: 0 });
  const prefix = `bench-console-${randomUUID().slice(0, 8)}`;
  const { tenantId, apiKey } = await createTenant(db, 'bench');
  const account = await db.prisma.providerAccount.create({
    data: { tenantId, provider: 'sandbox', name: 'bench', config: { baseUrl: sandbox.url }, credentials: { token: 'sandbox-token' }, ratePerSecond: 1000, pairGapSeconds: 0 },
  });
  await db.pool.query('UPDATE provider_accounts SET rate_per_second = 50000 WHERE id = $1', [account.id]);
  const template = await db.prisma.template.create({ data: { tenantId, accountId: account.id, name: 'bench', body: 'Hola {{1}}', paramCount: 1 } });
  const campaign = await db.prisma.campaign.create({ data: { tenantId, accountId: account.id, templateId: template.id, name: 'bench' } });
  await db.pool.query(
    `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables)
     SELECT $1, $2, '+569' || (10000000 + g)::text, '9' || (10000000 + g)::text, g + 1, '["Ana"]'::jsonb FROM generate_series(1, $3) g`,
    [tenantId, campaign.id, N],
  );
  await db.pool.query('ANALYZE recipients');
  const env = { DATABASE_URL: URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '200', QUEUE_WINDOW_SECONDS: '1', FEEDER_INTERVAL_MS: '50' };
  const worker = await startProcess('workers/send-worker.ts', env);
  const api = await startProcess('workers/api-server.ts', { ...env, HOST: '127.0.0.1', PORT: '0' });

  const stats = new pg.Client({ connectionString: URL });
  await stats.connect();
  const snapshot = async () => {
    const [{ rows: tx }, { rows: sent }] = [
      await stats.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()'),
      await stats.query<{ n: string }>(`SELECT count(*) AS n FROM recipients WHERE campaign_id = $1 AND status NOT IN ('pending', 'queued', 'sending')`, [campaign.id]),
    ];
    return { at: Date.now(), tx: Number(tx[0]?.n ?? 0), sent: Number(sent[0]?.n ?? 0) };
  };

  // The viewers: each holds an event stream open and counts the snapshots it gets.
  const controllers = Array.from({ length: viewers }, () => new AbortController());
  let snapshots = 0;
  const streams = controllers.map(async (controller) => {
    if (mode === 'poll') {
      while (!controller.signal.aborted) {
        const started = Date.now();
        await fetch(`http://127.0.0.1:${api.port}/v1/campaigns/${campaign.id}`, { headers: { authorization: `Bearer ${apiKey}` }, signal: controller.signal })
          .then(async (r) => {
            await r.text();
            snapshots++;
          })
          .catch(() => undefined);
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
      }
      return;
    }
    const response = await fetch(`http://127.0.0.1:${api.port}/v1/live/campaigns?ids=${campaign.id}`, { headers: { authorization: `Bearer ${apiKey}` }, signal: controller.signal });
    const reader = response.body?.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = (await reader?.read()) ?? { done: true, value: undefined };
        if (done) return;
        snapshots += (decoder.decode(value).match(/event: campaign/g) ?? []).length;
      }
    } catch {
      // aborted at the end of the run
    }
  });

  await applyCampaignAction(db, tenantId, campaign.id, 'start');
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  // pg_stat counters are flushed by each backend about once a second: a pause on both ends.
  const first = await snapshot();
  const snapshotsAtStart = snapshots;
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  const last = await snapshot();
  const seconds = (last.at - first.at) / 1000;
  const received = snapshots - snapshotsAtStart;

  for (const c of controllers) c.abort();
  await Promise.allSettled(streams);
  await applyCampaignAction(db, tenantId, campaign.id, 'cancel').catch(() => undefined);
  await stop(api.child);
  await stop(worker.child);
  await stats.end();
  await sandbox.close();
  await db.close();
  const redis = redisConnection(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  if (last.sent >= N) console.warn(`warning: the campaign finished inside the window (${last.sent} sent); raise BENCH_SEND_N or lower BENCH_CONSOLE_WINDOW_S`);
  return {
    viewers,
    sentPerSecond: Math.round((last.sent - first.sent) / seconds),
    transactionsPerSecond: Math.round(((last.tx - first.tx) / seconds) * 10) / 10,
    snapshotsPerViewerPerSecond: viewers ? Math.round((received / viewers / seconds) * 100) / 100 : 0,
  };
}

const none = await run(0);
const watched = await run(VIEWERS);
const polled = await run(VIEWERS, 'poll');
console.log(`\nbench:console — ${N.toLocaleString()}-recipient sandbox send, ${WINDOW_S} s window after ${WARMUP_S} s warm-up, API and worker in their own processes\n`);
console.log(
  table([
    ['run', 'sent/s', 'Postgres transactions/s', 'snapshots per viewer per s'],
    ['no viewers (baseline)', none.sentPerSecond, none.transactionsPerSecond, '-'],
    [`${VIEWERS} viewers on the campaign page (shared live stream)`, watched.sentPerSecond, watched.transactionsPerSecond, watched.snapshotsPerViewerPerSecond],
    [`for scale: ${VIEWERS} viewers each polling GET /v1/campaigns/:id every second`, polled.sentPerSecond, polled.transactionsPerSecond, polled.snapshotsPerViewerPerSecond],
  ]),
);
console.log(`\nextra Postgres transactions/s with ${VIEWERS} viewers: ${(watched.transactionsPerSecond - none.transactionsPerSecond).toFixed(1)}`);
console.log(`send rate with viewers / without: ${(watched.sentPerSecond / Math.max(1, none.sentPerSecond)).toFixed(3)}`);
console.log(`for scale, polling: extra transactions/s ${(polled.transactionsPerSecond - none.transactionsPerSecond).toFixed(1)}, send rate ratio ${(polled.sentPerSecond / Math.max(1, none.sentPerSecond)).toFixed(3)}`);
process.exit(0);
