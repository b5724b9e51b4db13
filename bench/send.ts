/**
 * npm run bench:send — BENCH_SEND_N (100k) recipients through the sandbox provider at zero
 * latency, by the engine with 1 and 2 worker processes, against the naive peer (./naive-peer.ts:
 * plain BullMQ jobs, one fetch and one UPDATE each, none of the engine's guarantees) with 1 and 2
 * processes, all in the same run.
 *
 * The engine is timed from `start` until every recipient's status is durable in Postgres (the
 * campaign is `completed`), with its workers in their own processes as in production and the
 * sandbox in this one. Target: >= 1.5x the naive peer, and more with more processes until a
 * named resource saturates.
 */
import { randomUUID } from 'node:crypto';
import { createTenant } from '../src/tenants/api-keys.js';
import { applyCampaignAction } from '../src/campaigns/campaign-actions.js';
import { createDatabase } from '../src/db/database.js';
import { startSandboxServer } from '../src/providers/sandbox/sandbox-server.js';
import { runNaivePeer } from './naive-peer.js';
import { CpuMeter, type CpuUse, cpuBusy, cpuPerMessage, deleteKeys, freshBenchDatabase, rate, ratio, report, SANDBOX_WORKER_ENV, sandboxCampaign, startWorker, stopProcess, waitForCompletion } from './support.js';

const N = Number(process.env.BENCH_SEND_N ?? 100_000);

type Run = { label: string; ms: number; sent: number; duplicates: number; cpu: CpuUse | null };

async function engine(workers: number): Promise<Run> {
  const url = await freshBenchDatabase();
  const db = createDatabase(url, { max: 4 });
  const sandbox = await startSandboxServer({ latencyMs: 0 });
  const prefix = `bench-send-${randomUUID().slice(0, 8)}`;
  const { tenantId } = await createTenant(db, 'bench');
  // The account rate is the only limit in play; set it far above what the machine can do.
  const { campaignId } = await sandboxCampaign(db, tenantId, { sandboxUrl: sandbox.url, ratePerSecond: 50_000, name: 'bench', recipients: N });
  const env = { ...SANDBOX_WORKER_ENV, DATABASE_URL: url, QUEUE_PREFIX: prefix, QUEUE_WINDOW_SECONDS: '1', FEEDER_INTERVAL_MS: '50' };
  const children = await Promise.all(Array.from({ length: workers }, () => startWorker(env)));
  const meter = new CpuMeter();
  meter.begin(children.flatMap((c) => (c.pid ? [c.pid] : [])));
  const started = Date.now();
  await applyCampaignAction(db, tenantId, campaignId, 'start');
  await waitForCompletion(db, campaignId, 20);
  const ms = Date.now() - started;
  const cpu = meter.end();
  const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM recipients WHERE campaign_id = $1 AND status = 'sent'`, [campaignId]);
  const stats = sandbox.stats();
  await Promise.all(children.map(stopProcess));
  await sandbox.close();
  await db.close();
  await deleteKeys(prefix);
  const label = `engine, ${workers} worker process${workers > 1 ? 'es' : ''}`;
  return { label, ms, cpu, duplicates: Object.values(stats.perPhone).filter((n) => n > 1).length, sent: Number(rows[0]?.n ?? 0) };
}

async function peer(workers: number): Promise<Run> {
  const url = await freshBenchDatabase();
  const db = createDatabase(url, { max: 2 });
  const sandbox = await startSandboxServer({ latencyMs: 0 });
  const { tenantId } = await createTenant(db, 'bench');
  const { campaignId } = await sandboxCampaign(db, tenantId, { sandboxUrl: sandbox.url, ratePerSecond: 50_000, name: 'peer', recipients: N });
  const result = await runNaivePeer({ databaseUrl: url, campaignId, sandboxUrl: sandbox.url, workers });
  const stats = sandbox.stats();
  await sandbox.close();
  await db.close();
  const label = `naive peer (plain BullMQ, 1 fetch + 1 UPDATE per job), ${workers} process${workers > 1 ? 'es' : ''}`;
  return { label, ms: result.ms, cpu: result.cpu, sent: result.sent, duplicates: Object.values(stats.perPhone).filter((n) => n > 1).length };
}

const peers = [await peer(1), await peer(2)];
const engines = [await engine(1), await engine(2)];
const best = Math.max(...peers.map((p) => rate(N, p.ms)));
report({
  name: 'send',
  title: `bench:send — ${N.toLocaleString('en')} recipients, sandbox at zero latency, every status durable in Postgres`,
  about:
    'The engine (claim before the call, exact rate, retries, history, flow control) against the naive peer in the same run: plain BullMQ jobs, each one `fetch` to the same sandbox and one `UPDATE` of the recipient row, with none of those guarantees (`bench/naive-peer.ts`). The ratio is against the better of the peer\'s two runs. Target: >= 1.5x the naive peer.',
  rows: [
    ['run', 'time', 'per second', 'vs the naive peer (best)', 'sent', 'phones sent twice', 'CPU busy', 'CPU ms per message'],
    ...[...peers, ...engines].map((r) => [r.label, `${(r.ms / 1000).toFixed(1)} s`, rate(N, r.ms), ratio(rate(N, r.ms), best), r.sent, r.duplicates, cpuBusy(r.cpu), cpuPerMessage(r.cpu, N)]),
  ],
  notes: [
    'CPU busy: the CPU time of the workers, Postgres, Redis and this process (the sandbox) over the wall time times the cores; near 100% the machine\'s CPU is what saturates, and CPU per message is what sets the rate.',
  ],
});
process.exit(0);
