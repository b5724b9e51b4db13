/**
 * npm run bench:console — the console's live updates under load: 20 viewers streaming one
 * campaign's snapshots (GET /v1/live/campaigns, server-sent events) during a 100,000-recipient
 * sandbox send, against the same send with no viewers.
 *
 * One send, with the API and the send worker in their own processes as in production; the
 * sandbox runs here at zero latency and the account's rate is far above what the machine can
 * do, so CPU or database time the viewers cost shows as a lower send rate. The machine is shared
 * and its load drifts, so the modes alternate in short windows (none, stream, poll, none, ...)
 * over the same send, and each mode's windows are summed: drift falls on every mode alike.
 * Per window: recipients finished per second, and Postgres transactions per second on the bench
 * database (pg_stat_database xact_commit + xact_rollback). For scale, a third mode has the 20
 * viewers poll GET /v1/campaigns/:id once a second each instead (what a page without the shared
 * stream would do: a status count per viewer per second).
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createTenant } from '../src/tenants/api-keys.js';
import { applyCampaignAction } from '../src/campaigns/campaign-actions.js';
import { createDatabase } from '../src/db/database.js';
import { startSandboxServer } from '../src/providers/sandbox/sandbox-server.js';
import { redisConnection } from '../src/redis-client.js';
import { freshBenchDatabase, startProcess, table } from './support.js';

const N = Number(process.env.BENCH_SEND_N ?? 100_000);
const VIEWERS = Number(process.env.BENCH_CONSOLE_VIEWERS ?? 20);
const WINDOW_S = Number(process.env.BENCH_CONSOLE_WINDOW_S ?? 10);
const ROUNDS = Number(process.env.BENCH_CONSOLE_ROUNDS ?? 3);
const WARMUP_S = Number(process.env.BENCH_CONSOLE_WARMUP_S ?? 5);
/** After viewers connect or leave, before a window opens (pg_stat counters flush about once a second). */
const SETTLE_MS = Number(process.env.BENCH_CONSOLE_SETTLE_MS ?? 2_000);
// Its own database: other benchmarks may be using wce_bench at the same time.
const URL = process.env.BENCH_CONSOLE_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/wce_bench_console';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MODES = ['none', 'stream', 'poll'] as const;
type Mode = (typeof MODES)[number];

function stop(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
const base = `http://127.0.0.1:${(api.message as { port: number }).port}`;
const auth = { authorization: `Bearer ${apiKey}` };

const stats = new pg.Client({ connectionString: URL });
await stats.connect();
async function reading(): Promise<{ at: number; tx: number; done: number }> {
  const tx = await stats.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()');
  const done = await stats.query<{ n: string }>(`SELECT count(*) AS n FROM recipients WHERE campaign_id = $1 AND status NOT IN ('pending', 'queued', 'sending')`, [campaign.id]);
  return { at: Date.now(), tx: Number(tx.rows[0]?.n ?? 0), done: Number(done.rows[0]?.n ?? 0) };
}

/** Starts the viewers of a mode; returns a counter of snapshots they received and a stop. */
function viewers(mode: Mode): { received: () => number; stop: () => Promise<void> } {
  let received = 0;
  if (mode === 'none') return { received: () => 0, stop: async () => undefined };
  const controllers = Array.from({ length: VIEWERS }, () => new AbortController());
  const running = controllers.map(async (controller) => {
    try {
      if (mode === 'poll') {
        while (!controller.signal.aborted) {
          const started = Date.now();
          const response = await fetch(`${base}/v1/campaigns/${campaign.id}`, { headers: auth, signal: controller.signal });
          await response.text();
          received++;
          await sleep(Math.max(0, 1000 - (Date.now() - started)));
        }
        return;
      }
      const response = await fetch(`${base}/v1/live/campaigns?ids=${campaign.id}`, { headers: auth, signal: controller.signal });
      const reader = response.body?.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) return;
        received += (decoder.decode(chunk.value).match(/event: campaign/g) ?? []).length;
      }
    } catch {
      // aborted when the window ends
    }
  });
  return {
    received: () => received,
    async stop() {
      for (const c of controllers) c.abort();
      await Promise.allSettled(running);
    },
  };
}

const totals = Object.fromEntries(MODES.map((m) => [m, { seconds: 0, done: 0, tx: 0, snapshots: 0 }])) as Record<Mode, { seconds: number; done: number; tx: number; snapshots: number }>;
await applyCampaignAction(db, tenantId, campaign.id, 'start');
await sleep(WARMUP_S * 1000);
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of MODES) {
    const watching = viewers(mode);
    await sleep(SETTLE_MS);
    const first = await reading();
    const snapshotsBefore = watching.received();
    await sleep(WINDOW_S * 1000);
    const last = await reading();
    const total = totals[mode];
    total.seconds += (last.at - first.at) / 1000;
    total.done += last.done - first.done;
    total.tx += last.tx - first.tx;
    total.snapshots += watching.received() - snapshotsBefore;
    await watching.stop();
    if (last.done >= N) throw new Error(`the send finished inside the windows; raise BENCH_SEND_N (${N})`);
  }
}

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

const perSecond = (mode: Mode) => {
  const t = totals[mode];
  return {
    done: Math.round(t.done / t.seconds),
    tx: Math.round((t.tx / t.seconds) * 10) / 10,
    snapshots: mode === 'none' ? '-' : (t.snapshots / VIEWERS / t.seconds).toFixed(2),
  };
};
const none = perSecond('none');
const stream = perSecond('stream');
const poll = perSecond('poll');
console.log(`\nbench:console — one ${N.toLocaleString()}-recipient sandbox send; ${ROUNDS} rounds of ${WINDOW_S} s windows per mode, alternating; API and worker in their own processes\n`);
console.log(
  table([
    ['mode', 'sent/s', 'Postgres transactions/s', 'snapshots per viewer per s'],
    ['no viewers (baseline)', none.done, none.tx, none.snapshots],
    [`${VIEWERS} viewers, shared live stream (the console)`, stream.done, stream.tx, stream.snapshots],
    [`for scale: ${VIEWERS} viewers each polling GET /v1/campaigns/:id every second`, poll.done, poll.tx, poll.snapshots],
  ]),
);
console.log(`\n${VIEWERS} viewers on the live stream: extra Postgres transactions/s ${(stream.tx - none.tx).toFixed(1)}, send rate ratio ${(stream.done / Math.max(1, none.done)).toFixed(3)}`);
console.log(`for scale, ${VIEWERS} pollers: extra Postgres transactions/s ${(poll.tx - none.tx).toFixed(1)}, send rate ratio ${(poll.done / Math.max(1, none.done)).toFixed(3)}`);
process.exit(0);
