/**
 * The send benchmarks' baseline: what a user would write instead of the engine. Plain BullMQ
 * jobs, one per recipient, each doing one `fetch` to the same sandbox and one `UPDATE` of the
 * recipient row, in 1 or more worker processes, with none of the engine's guarantees (no claim
 * before the call, no rate, no retries, no history, no flow control).
 *
 * Used by bench:send and bench:million. Setup (untimed): the campaign's recipients are moved to
 * `sending` (the status trigger allows `sending -> sent`, the peer's one UPDATE) and one job per
 * recipient is added; then the engine's own triggers on `recipients` (the transition check, the
 * status counts) are disabled in the peer's scratch database, since a user's own table would
 * have neither: the peer pays for one plain UPDATE, nothing more. Timed: from the workers being
 * told to go until no job is left.
 *
 * The same file is the peer's worker process (`--child`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import pg from 'pg';
import { redisConnection } from '../src/redis-client.js';
import { CpuMeter, type CpuUse, deleteKeys, REDIS_URL } from './support.js';

/** Jobs in flight per peer process: what a user would pick. */
const PEER_CONCURRENCY = 100;
const QUEUE = 'naive-send';

type ChildEnv = { PEER_PREFIX: string; DATABASE_URL: string; SANDBOX_URL: string };

export type PeerResult = { ms: number; sent: number; workers: number; cpu: CpuUse | null };

/** Runs the peer over up to `limit` recipients of `campaignId` (pending), with `workers` processes. */
export async function runNaivePeer(options: { databaseUrl: string; campaignId: string; sandboxUrl: string; workers: number; limit?: number }): Promise<PeerResult> {
  const prefix = `bench-peer-${randomUUID().slice(0, 8)}`;
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  const { rows } = await pool.query<{ id: string; phone: string }>(
    `WITH picked AS (SELECT id FROM recipients WHERE campaign_id = $1 AND status = 'pending' ORDER BY id LIMIT $2),
     q AS (UPDATE recipients r SET status = 'queued' FROM picked WHERE r.id = picked.id RETURNING r.id)
     SELECT q.id::text, r.phone FROM q JOIN recipients r ON r.id = q.id`,
    [options.campaignId, options.limit ?? 2_147_483_647],
  );
  await pool.query(`UPDATE recipients SET status = 'sending' WHERE campaign_id = $1 AND status = 'queued'`, [options.campaignId]);
  await pool.query('ALTER TABLE recipients DISABLE TRIGGER USER');
  const connection = redisConnection(REDIS_URL);
  const queue = new Queue(QUEUE, { connection, prefix });
  for (let i = 0; i < rows.length; i += 1000) {
    await queue.addBulk(rows.slice(i, i + 1000).map((r) => ({ name: 'send', data: r, opts: { removeOnComplete: true, removeOnFail: true } })));
  }
  const env: ChildEnv = { PEER_PREFIX: prefix, DATABASE_URL: options.databaseUrl, SANDBOX_URL: options.sandboxUrl };
  const children = await Promise.all(Array.from({ length: options.workers }, () => startChild(env)));
  const meter = new CpuMeter();
  meter.begin(children.flatMap((c) => (c.pid ? [c.pid] : [])));
  const started = Date.now();
  for (const child of children) child.send('go');
  for (;;) {
    const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
    if (Object.values(counts).every((n) => n === 0)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = Date.now() - started;
  const cpu = meter.end();
  await Promise.all(children.map((c) => new Promise((r) => { c.once('exit', r); c.kill('SIGTERM'); })));
  const sent = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM recipients WHERE campaign_id = $1 AND status = 'sent'`, [options.campaignId]);
  await pool.end();
  await queue.close();
  connection.disconnect();
  await deleteKeys(prefix);
  return { ms, sent: Number(sent.rows[0]?.n ?? 0), workers: options.workers, cpu };
}

function startChild(env: ChildEnv): Promise<ChildProcess> {
  return new Promise((resolveStart, reject) => {
    const child = fork(import.meta.filename, ['--child'], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', () => resolveStart(child));
    child.once('exit', (code) => reject(new Error(`naive peer exited ${code}`)));
  });
}

/** The peer's worker process: waits for `go`, then sends and updates one recipient per job. */
async function child(): Promise<void> {
  const env = process.env as NodeJS.ProcessEnv & ChildEnv;
  const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 10 });
  const url = `${env.SANDBOX_URL}/v1/messages`;
  const worker = new Worker<{ id: string; phone: string }>(
    QUEUE,
    async (job) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sandbox-token' },
        body: JSON.stringify({ to: job.data.phone, template: 'bench', language: 'es', parameters: ['Ana'], reference: job.data.id }),
      });
      const answer = (await response.json()) as { id?: string };
      await pool.query(`UPDATE recipients SET status = 'sent', provider_message_id = $2, sent_at = now(), updated_at = now() WHERE id = $1`, [job.data.id, answer.id ?? null]);
    },
    { connection: redisConnection(REDIS_URL), prefix: env.PEER_PREFIX, concurrency: PEER_CONCURRENCY, autorun: false },
  );
  process.on('message', () => void worker.run());
  process.on('SIGTERM', () => void worker.close().then(() => pool.end()).then(() => process.exit(0)));
  process.send?.('ready');
}

if (process.argv[2] === '--child') await child();
