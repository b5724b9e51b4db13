/**
 * npm run bench:million — a million recipients end to end, by the API and the engine's defaults.
 *
 * Generates a 1,000,000-row `;` CSV (BENCH_MILLION_ROWS or `--rows N` scales it down), and for
 * each worker-process count (BENCH_MILLION_WORKERS, default 1,2,4), on a fresh database: uploads
 * it through the API (POST /v1/campaigns/:id/recipients), starts the campaign, and sends it
 * through the sandbox at zero latency on an account whose rate stands for "unlimited" (50,000/s;
 * the queue window's absolute cap keeps Redis small). While it sends, GET /v1/campaigns/:id is
 * polled four times a second in every other window of BENCH_MILLION_WINDOW_S (10 s), and not at
 * all in the windows between, so the send rate with and without a dashboard polling is measured
 * over the same send (the machine's drift falls on both alike). Reports per run: ingest rows/s, send rate, end-to-end time, peak
 * Redis used_memory during the send (the Redis is shared: its used_memory before the run is shown
 * too), Postgres bytes per recipient (recipients + their history), the status API's p99, phones
 * sent twice; and where the CPU went (worker processes, the API, this process with the sandbox,
 * the run's Postgres backends, the Redis server), as cores busy during the send, to name the
 * saturated resource. Midway it EXPLAINs the feeder's and the completion check's queries, and
 * the status counts' (the kept counts, and GROUP BY over the recipients as they were once read).
 *
 * Baseline in the same run: the naive peer (./naive-peer.ts) with 1 and 2 processes over
 * BENCH_MILLION_PEER_ROWS (default the smaller of the rows and 100,000: a million plain BullMQ
 * jobs would take about 800 MB of the shared Redis).
 *
 * Targets: send rate >= 1.5x the naive peer; Redis peak <= 150 MB; status API p99 < 50 ms.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { createTenant } from '../src/tenants/api-keys.js';
import { createDatabase, type Db } from '../src/db/database.js';
import { startSandboxServer, type SandboxServer } from '../src/providers/sandbox/sandbox-server.js';
import { redisConnection } from '../src/redis-client.js';
import { STATUS_COUNTS_SQL } from '../src/recipients/status-counts.js';
import { runNaivePeer, type PeerResult } from './naive-peer.js';
import type { PollReport } from './status-poller.js';
import { benchDatabaseUrl, deleteKeys, dropBenchDatabase, freshBenchDatabase, insertBenchRecipients, rate, ratio, REDIS_URL, report, SANDBOX_WORKER_ENV, sandboxCampaign, startProcess, startWorker, stopProcess } from './support.js';

const rowsArg = process.argv.indexOf('--rows');
const ROWS = Number(rowsArg > 0 ? process.argv[rowsArg + 1] : (process.env.BENCH_MILLION_ROWS ?? 1_000_000));
const WORKERS = (process.env.BENCH_MILLION_WORKERS ?? '1,2,4').split(',').map(Number);
const PEER_ROWS = Number(process.env.BENCH_MILLION_PEER_ROWS ?? Math.min(ROWS, 100_000));
const DATABASE_URL = benchDatabaseUrl('million');
const POLL_EVERY_MS = 250;
const WINDOW_MS = Number(process.env.BENCH_MILLION_WINDOW_S ?? 10) * 1000;

type Run = {
  workers: number;
  ingestSeconds: number;
  accepted: number;
  sendSeconds: number;
  endToEndSeconds: number;
  redisBefore: number;
  redisPeak: number;
  bytesPerRecipient: number;
  databaseBytesPerRecipient: number;
  apiP50: number;
  apiP99: number;
  apiPolls: number;
  /** The same polls' time inside the API (its Server-Timing header). */
  insideP50: number;
  insideP99: number;
  /** Of that, the API key's check (Server-Timing auth). */
  authP50: number;
  authP99: number;
  /** Sends per second over the windows with the status API polled, and over those without. */
  ratePolled: number;
  rateQuiet: number;
  duplicates: number;
  cores: Record<string, number>;
  explain: string[];
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The q-quantile (nearest rank) of `values`, for each q asked. */
function percentiles(values: readonly number[]): (q: number) => number {
  const sorted = [...values].sort((a, b) => a - b);
  return (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

async function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const write = (chunk: string) => new Promise<void>((resolve) => (out.write(chunk) ? resolve() : out.once('drain', () => resolve())));
  await write('telefono;nombre\r\n');
  // Phones as a spreadsheet holds them: 9 digits, some with +56, some spaced.
  for (let i = 0; i < rows; i += 10_000) {
    let chunk = '';
    for (let j = i; j < Math.min(rows, i + 10_000); j += 1) {
      const digits = String(10_000_000 + j);
      const phone = j % 3 === 0 ? `+569${digits}` : j % 3 === 1 ? `9 ${digits.slice(0, 4)} ${digits.slice(4)}` : `9${digits}`;
      chunk += `${phone};Cliente ${j}\r\n`;
    }
    await write(chunk);
  }
  await new Promise<void>((resolve) => out.end(resolve));
}

/** utime + stime of a process, seconds (Linux /proc). */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

async function backendPids(db: Db): Promise<number[]> {
  const { rows } = await db.pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
  return rows.map((r) => r.pid);
}

async function redisCpu(redis: ReturnType<typeof redisConnection>): Promise<number> {
  const info = await redis.info('cpu');
  const read = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return read('used_cpu_sys') + read('used_cpu_user');
}

async function usedMemory(redis: ReturnType<typeof redisConnection>): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? 0);
}

async function explainMidway(db: Db, campaignId: string): Promise<string[]> {
  const plans: [string, string][] = [
    ['feeder: next pending (markQueued, as written)', `SELECT id FROM recipients WHERE campaign_id = $1 AND status >= 'pending' AND status <= 'pending' ORDER BY status, id LIMIT 2000`],
    ['feeder: next pending (plain equality, as it was)', `SELECT id FROM recipients WHERE campaign_id = $1 AND status = 'pending' ORDER BY id LIMIT 2000`],
    ['completion check (every feeder round)', `SELECT 1 FROM recipients r WHERE r.campaign_id = $1 AND r.status IN ('pending', 'deferred', 'queued', 'sending') LIMIT 1`],
    ['status counts (GET /v1/campaigns/:id: kept counts + pending deltas)', STATUS_COUNTS_SQL],
    ['status counts by GROUP BY over the recipients, as it was', `SELECT status, count(*) AS n FROM recipients WHERE campaign_id = $1 GROUP BY status`],
  ];
  const deltas = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM recipient_count_deltas WHERE campaign_id = $1`, [campaignId]);
  const out: string[] = [`count deltas not folded yet: ${deltas.rows[0]?.n ?? 0}`];
  for (const [label, sql] of plans) {
    const { rows } = await db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, [campaignId]);
    const lines = rows.map((r) => r['QUERY PLAN']);
    out.push(`${label}: ${lines.find((l) => l.startsWith('Execution Time')) ?? ''}; ${lines.filter((l) => /Scan|Buffers|Heap Fetches/.test(l)).map((l) => l.trim()).slice(0, 4).join(' | ')}`);
  }
  return out;
}

async function run(workers: number, csvPath: string, sandbox: SandboxServer): Promise<Run> {
  const url = await freshBenchDatabase(DATABASE_URL);
  const db = createDatabase(url, { max: 4 });
  const redis = redisConnection(REDIS_URL);
  const prefix = `bench-million-${randomUUID().slice(0, 8)}`;
  const { tenantId, apiKey } = await createTenant(db, 'bench');
  const { campaignId } = await sandboxCampaign(db, tenantId, { sandboxUrl: sandbox.url, ratePerSecond: 50_000, name: `million x${workers}` });
  const env = { ...SANDBOX_WORKER_ENV, DATABASE_URL: url, QUEUE_PREFIX: prefix };
  const api = await startProcess('workers/api-server.ts', { ...env, HOST: '127.0.0.1', PORT: '0' });
  const base = `http://127.0.0.1:${(api.message as { port: number }).port}`;
  const auth = { authorization: `Bearer ${apiKey}` };
  const children: ChildProcess[] = await Promise.all(Array.from({ length: workers }, () => startWorker(env)));

  const uploadStarted = Date.now();
  const upload = await fetch(`${base}/v1/campaigns/${campaignId}/recipients?variables=nombre`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'text/csv' },
    body: createReadStream(csvPath) as unknown as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  const uploaded = (await upload.json()) as { upload?: { accepted: number } };
  if (!upload.ok || !uploaded.upload) throw new Error(`upload failed: ${upload.status} ${JSON.stringify(uploaded)}`);
  const ingestSeconds = (Date.now() - uploadStarted) / 1000;
  await db.pool.query('ANALYZE recipients');

  const redisBefore = await usedMemory(redis);
  const pgStart = new Map<number, number>();
  const processes: Record<string, number[]> = { 'worker processes': children.map((c) => c.pid ?? 0), API: [api.child.pid ?? 0] };
  const cpuAt = async () => {
    const byName: Record<string, number> = {};
    for (const [name, pids] of Object.entries(processes)) byName[name] = (await Promise.all(pids.map(cpuSeconds))).reduce((a, b) => a + b, 0);
    // Backends come and go with the pools: the CPU of each one alive now, less what it had used at
    // the start (a backend opened since counts whole; one closed since is lost).
    const pids = await backendPids(db);
    const used = await Promise.all(pids.map(async (pid) => (await cpuSeconds(pid)) - (pgStart.get(pid) ?? 0)));
    byName["Postgres (this run's backends)"] = pgStart.size === 0 ? 0 : used.reduce((a, b) => a + b, 0);
    byName['Redis server (shared)'] = await redisCpu(redis);
    const self = process.cpuUsage();
    byName['bench process + sandbox'] = (self.user + self.system) / 1e6;
    return byName;
  };
  const cpuBefore = await cpuAt();
  for (const pid of await backendPids(db)) pgStart.set(pid, await cpuSeconds(pid));
  const sendStarted = Date.now();
  const start = await fetch(`${base}/v1/campaigns/${campaignId}/start`, { method: 'POST', headers: auth });
  if (!start.ok) throw new Error(`start failed: ${start.status} ${await start.text()}`);

  let redisPeak = redisBefore;
  const latencies: number[] = [];
  const apiTimes: number[] = [];
  const authTimes: number[] = [];
  // The dashboard polls from a process of its own (./status-poller.ts), so its latencies are the API's.
  const poller = await startProcess('bench/status-poller.ts', { POLL_URL: `${base}/v1/campaigns/${campaignId}`, POLL_AUTHORIZATION: auth.authorization, POLL_EVERY_MS: String(POLL_EVERY_MS) });
  let latest: PollReport | undefined;
  poller.child.on('message', (report: PollReport) => {
    latest = report;
    latencies.push(report.latencyMs);
    if (report.apiMs !== null) apiTimes.push(report.apiMs);
    if (report.authMs !== null) authTimes.push(report.authMs);
  });
  let explain: string[] = [];
  let explained = false;
  // Windows alternate: even ones polled, odd ones not. The first (the feeder filling the queue)
  // and the last (the tail, unfinished) are left out of both rates.
  const windows: { polled: boolean; sent: number; ms: number }[] = [];
  const firstWindowAt = performance.now();
  let windowIndex = 0;
  let windowStart = { at: firstWindowAt, accepted: sandbox.accepted() };
  for (;;) {
    const t = performance.now();
    const index = Math.floor((t - firstWindowAt) / WINDOW_MS);
    if (index !== windowIndex) {
      windows.push({ polled: windowIndex % 2 === 0, sent: sandbox.accepted() - windowStart.accepted, ms: t - windowStart.at });
      windowIndex = index;
      windowStart = { at: t, accepted: sandbox.accepted() };
    }
    poller.child.send({ polling: windowIndex % 2 === 0 });
    if (!explained && latest && latest.done >= latest.total / 2) {
      explained = true;
      explain = await explainMidway(db, campaignId);
    }
    const { rows } = await db.pool.query<{ status: string }>('SELECT status::text FROM campaigns WHERE id = $1', [campaignId]);
    const done = rows[0]?.status === 'completed';
    redisPeak = Math.max(redisPeak, await usedMemory(redis));
    if (done) break;
    await sleep(Math.max(0, POLL_EVERY_MS - (performance.now() - t)));
  }
  const measured = windows.slice(1);
  const rateOf = (polled: boolean) => {
    const w = measured.filter((x) => x.polled === polled);
    const ms = w.reduce((a, x) => a + x.ms, 0);
    return ms > 0 ? (w.reduce((a, x) => a + x.sent, 0) / ms) * 1000 : 0;
  };
  const sendSeconds = (Date.now() - sendStarted) / 1000;
  const cpuAfter = await cpuAt();
  const cores = Object.fromEntries(Object.keys(cpuAfter).map((k) => [k, ((cpuAfter[k] ?? 0) - (cpuBefore[k] ?? 0)) / sendSeconds]));
  const sizes = await db.pool.query<{ rel: string; db: string }>(
    `SELECT (pg_total_relation_size('recipients') + pg_total_relation_size('recipient_events'))::text AS rel, pg_database_size(current_database())::text AS db`,
  );
  const stats = sandbox.stats();
  sandbox.reset();
  await Promise.all([...children, api.child, poller.child].map(stopProcess));
  await db.close();
  redis.disconnect();
  await deleteKeys(prefix);
  const pct = percentiles(latencies);
  const apiPct = percentiles(apiTimes);
  const authPct = percentiles(authTimes);
  const accepted = uploaded.upload.accepted;
  return {
    workers,
    ingestSeconds,
    accepted,
    sendSeconds,
    endToEndSeconds: ingestSeconds + sendSeconds,
    redisBefore,
    redisPeak,
    bytesPerRecipient: Number(sizes.rows[0]?.rel ?? 0) / accepted,
    databaseBytesPerRecipient: Number(sizes.rows[0]?.db ?? 0) / accepted,
    apiP50: pct(0.5),
    apiP99: pct(0.99),
    apiPolls: latencies.length,
    insideP50: apiPct(0.5),
    insideP99: apiPct(0.99),
    authP50: authPct(0.5),
    authP99: authPct(0.99),
    ratePolled: rateOf(true),
    rateQuiet: rateOf(false),
    duplicates: Object.values(stats.perPhone).filter((n) => n > 1).length,
    cores,
    explain,
  };
}

async function peerRun(workers: number, sandbox: SandboxServer): Promise<PeerResult> {
  const url = await freshBenchDatabase(DATABASE_URL);
  const db = createDatabase(url, { max: 2 });
  const { tenantId } = await createTenant(db, 'bench');
  const { campaignId } = await sandboxCampaign(db, tenantId, { sandboxUrl: sandbox.url, ratePerSecond: 50_000, name: 'peer' });
  await insertBenchRecipients(db, tenantId, campaignId, PEER_ROWS);
  await db.close();
  const result = await runNaivePeer({ databaseUrl: url, campaignId, sandboxUrl: sandbox.url, workers });
  sandbox.reset();
  return result;
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;
const dir = await mkdtemp(join(tmpdir(), 'wce-bench-million-'));
const csv = join(dir, 'recipients.csv');
await writeCsv(csv, ROWS);
const sandbox = await startSandboxServer({ latencyMs: 0 });
const loadBefore = loadavg()[0] ?? 0;
const peers = [await peerRun(1, sandbox), await peerRun(2, sandbox)];
const runs: Run[] = [];
for (const workers of WORKERS) runs.push(await run(workers, csv, sandbox));
await sandbox.close();
await dropBenchDatabase(DATABASE_URL);
await rm(dir, { recursive: true, force: true });

const peerBest = Math.max(...peers.map((p) => rate(PEER_ROWS, p.ms)));
report({
  name: 'million',
  title: `bench:million — ${ROWS.toLocaleString('en')} recipients uploaded through the API and sent through the sandbox at zero latency (${cpus().length} cores, 1-min load ${loadBefore.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end)`,
  about:
    `A generated ${ROWS.toLocaleString('en')}-row \`;\` CSV uploaded through the API, then sent with ${WORKERS.join(', ')} worker process${WORKERS.length > 1 || WORKERS[0] !== 1 ? 'es' : ''} in turn on the engine's defaults (account rate 50,000/s for "unlimited"), GET /v1/campaigns/:id polled four times a second, from a process of its own (\`bench/status-poller.ts\`: the bench process also runs the sandbox, and a poll timed there waited on the sandbox's event loop too), in every other ${WINDOW_MS / 1000} s window and not in the others (the send rate in each kind of window is shown; target: polled no more than 10% slower). The baseline is the naive peer (\`bench/naive-peer.ts\`) over ${PEER_ROWS.toLocaleString('en')} recipients in the same run (a million plain BullMQ jobs would take about 800 MB of the shared Redis). Redis is shared with other work on the machine, so its used_memory before the send is shown beside the peak. Targets: >= 1.5x the naive peer; Redis peak <= 150 MB; status API p99 < 50 ms; polled >= 0.90x not polled. Send workers at WORKER_NICE=${Number(process.env.WORKER_NICE ?? 0)} (${Number(process.env.WORKER_NICE ?? 0) > 0 ? 'they yield the CPU to the API, Postgres and Redis' : 'the default priority'}).`,
  rows: [
    ['run', 'ingest rows/s', 'send rate', 'vs the naive peer (best)', 'end to end', 'Redis used_memory: before / peak', 'Postgres bytes per recipient (recipients + history; whole database)', 'GET /v1/campaigns/:id p50 / p99 (polls)', 'of which inside the API p50 / p99; its key check p50 / p99 (Server-Timing)', 'send rate polled / not polled', 'phones sent twice'],
    ...peers.map((p) => [`naive peer, ${p.workers} process${p.workers > 1 ? 'es' : ''} (${PEER_ROWS.toLocaleString('en')} recipients)`, '-', `${rate(PEER_ROWS, p.ms)}/s`, ratio(rate(PEER_ROWS, p.ms), peerBest), `${(p.ms / 1000).toFixed(1)} s`, '-', '-', '-', '-', '-', '-']),
    ...runs.map((r) => [
      `engine, ${r.workers} worker process${r.workers > 1 ? 'es' : ''}`,
      Math.round(r.accepted / r.ingestSeconds),
      `${Math.round(r.accepted / r.sendSeconds)}/s`,
      ratio(r.accepted / r.sendSeconds, peerBest),
      `${r.endToEndSeconds.toFixed(0)} s (ingest ${r.ingestSeconds.toFixed(1)} s, send ${r.sendSeconds.toFixed(0)} s)`,
      `${mb(r.redisBefore)} / ${mb(r.redisPeak)}`,
      `${Math.round(r.bytesPerRecipient)}; ${Math.round(r.databaseBytesPerRecipient)}`,
      `${r.apiP50.toFixed(0)} / ${r.apiP99.toFixed(0)} ms (${r.apiPolls})`,
      `${r.insideP50.toFixed(1)} / ${r.insideP99.toFixed(1)} ms; ${r.authP50.toFixed(1)} / ${r.authP99.toFixed(1)} ms`,
      r.rateQuiet > 0 && r.ratePolled > 0 ? `${Math.round(r.ratePolled)} / ${Math.round(r.rateQuiet)} (${ratio(r.ratePolled, r.rateQuiet)})` : '- (too short for windows)',
      r.duplicates,
    ]),
  ],
  notes: runs.flatMap((r) => [
    `${r.workers} worker process${r.workers > 1 ? 'es' : ''}, cores busy during the send: ${Object.entries(r.cores).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`,
    ...r.explain.map((e) => `  midway, ${e}`),
  ]),
});
process.exit(0);
