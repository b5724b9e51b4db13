/**
 * Shared bench plumbing: a scratch database migrated from prisma/migrations, worker processes,
 * a sandbox account with a campaign, timing, tables, and the results file each bench leaves for
 * `npm run bench` (bench/all.ts), which writes BENCHMARKS.md from them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import pg from 'pg';
import type { Db } from '../src/db/database.js';
import { applyMigrations, connectionFields } from '../src/db/schema-engine.js';
import { redisConnection } from '../src/redis-client.js';
import { SEND_WORKER_NODE_FLAGS } from '../src/queue/worker-node-flags.js';

export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/wce_bench';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ROOT = resolve(import.meta.dirname, '..');

/** The bench database with a suffix, so benches can run beside each other. */
export function benchDatabaseUrl(suffix: string): string {
  const url = new URL(BENCH_DATABASE_URL);
  url.pathname = `${url.pathname}_${suffix}`;
  return url.toString();
}

/** Drops and recreates the bench database, then migrates it. */
export async function freshBenchDatabase(url = BENCH_DATABASE_URL): Promise<string> {
  await dropBenchDatabase(url);
  await applyMigrations(url);
  return url;
}

export async function dropBenchDatabase(url: string): Promise<void> {
  const fields = connectionFields(url);
  const admin = new pg.Client({ ...fields, database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(String(fields.database))} WITH (FORCE)`);
  await admin.end();
}

export function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

export function table(rows: (string | number)[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join('  ')).join('\n');
}

/** A child process of `script` (relative to the repository) that says it is ready over IPC. */
export function startProcess(script: string, env: Record<string, string>, args: string[] = []): Promise<{ child: ChildProcess; message: unknown }> {
  return new Promise((resolveStart, reject) => {
    const child = fork(resolve(ROOT, script), args, { execArgv: [...(script === 'workers/send-worker.ts' ? SEND_WORKER_NODE_FLAGS : []), '--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (message) => resolveStart({ child, message }));
    child.once('exit', (code) => reject(new Error(`${script} exited ${code} before it was ready`)));
  });
}

/** A send worker process (workers/send-worker.ts). */
export async function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  return (await startProcess('workers/send-worker.ts', env)).child;
}

export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

/** Settings every bench worker needs: the sandbox on loopback is refused unless allowed. */
export const SANDBOX_WORKER_ENV = { SANDBOX_PROVIDER_ENABLED: 'true', PROVIDER_ALLOW_PRIVATE_HOSTS: 'true', LOG_LEVEL: 'warn' };

/** A sandbox account at `ratePerSecond`, its template and a draft campaign; `recipients` pending rows when given. */
export async function sandboxCampaign(
  db: Db,
  tenantId: string,
  options: { sandboxUrl: string; ratePerSecond: number; name: string; recipients?: number },
): Promise<{ accountId: string; campaignId: string }> {
  const account = await db.prisma.providerAccount.create({
    data: { tenantId, provider: 'sandbox', name: options.name, config: { baseUrl: options.sandboxUrl }, credentials: { token: 'sandbox-token' }, ratePerSecond: 1, pairGapSeconds: 0 },
  });
  // Past the API's own bound, for "as fast as the machine goes".
  await db.pool.query('UPDATE provider_accounts SET rate_per_second = $2 WHERE id = $1', [account.id, options.ratePerSecond]);
  const template = await db.prisma.template.create({ data: { tenantId, accountId: account.id, name: 'bench', body: 'Hola {{1}}', paramCount: 1 } });
  const campaign = await db.prisma.campaign.create({ data: { tenantId, accountId: account.id, templateId: template.id, name: options.name } });
  if (options.recipients) await insertBenchRecipients(db, tenantId, campaign.id, options.recipients);
  return { accountId: account.id, campaignId: campaign.id };
}

export async function insertBenchRecipients(db: Db, tenantId: string, campaignId: string, n: number): Promise<void> {
  await db.pool.query(
    `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables)
     SELECT $1, $2, '+569' || (10000000 + g)::text, '9' || (10000000 + g)::text, g + 1, '["Ana"]'::jsonb FROM generate_series(1, $3) g`,
    [tenantId, campaignId, n],
  );
}

/** Polls until the campaign is `completed`. */
export async function waitForCompletion(db: Db, campaignId: string, everyMs = 50): Promise<void> {
  for (;;) {
    const { rows } = await db.pool.query<{ status: string }>('SELECT status FROM campaigns WHERE id = $1', [campaignId]);
    if (rows[0]?.status === 'completed') return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Removes every Redis key under a bench run's prefix. */
export async function deleteKeys(prefix: string): Promise<void> {
  const redis = redisConnection(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

/**
 * One bench's section of BENCHMARKS.md: what it measures, its table (first row the header; each
 * figure beside its baseline and the ratio), and notes. Written to BENCH_RESULTS_DIR when set
 * (bench/all.ts sets it); printed either way.
 */
export type BenchSection = { name: string; title: string; about: string; rows: (string | number)[][]; notes?: string[] };

export function report(section: BenchSection): void {
  console.log(`\n${section.title}\n\n${table(section.rows)}`);
  for (const note of section.notes ?? []) console.log(note);
  const dir = process.env.BENCH_RESULTS_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, `${section.name}.json`), JSON.stringify(section, null, 2));
}

export function ratio(value: number, baseline: number): string {
  return baseline > 0 ? `${(value / baseline).toFixed(2)}x` : '-';
}

/**
 * CPU time spent by each part of a run, read from /proc (Linux): the worker processes, Postgres
 * (every `postgres` process, and the backends that exited meanwhile through the postmaster's
 * children time), the Redis server on `REDIS_URL`'s port, and this process (the sandbox and the
 * bench's own polling). With the run's wall time and the machine's cores it says which resource
 * saturates, and what each message costs each part. Null where /proc is not there.
 */
export type CpuUse = { workers: number; postgres: number; redis: number; bench: number; total: number; wallSeconds: number; cores: number };

type ProcTimes = { pid: number; comm: string; cmdline: string; own: number; children: number };

function readProcTimes(pid: number): ProcTimes | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' '); // fields[0] is field 3 (state)
    const tick = 100; // USER_HZ on Linux
    const own = (Number(fields[11]) + Number(fields[12])) / tick;
    const children = (Number(fields[13]) + Number(fields[14])) / tick;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return { pid, comm, cmdline, own, children };
  } catch {
    return null; // gone meanwhile
  }
}

export class CpuMeter {
  private startedAt = 0;
  private start: Omit<CpuUse, 'total' | 'wallSeconds' | 'cores'> | null = null;
  private workerPids: number[] = [];

  /** Starts counting; `workerPids` are the processes counted as workers. */
  begin(workerPids: number[]): void {
    this.workerPids = workerPids;
    this.start = this.read();
    this.startedAt = Date.now();
  }

  /** CPU seconds per part since `begin`, or null where /proc can't be read. */
  end(): CpuUse | null {
    if (!this.start || !existsSync('/proc/self/stat')) return null;
    const now = this.read();
    const d = (k: 'workers' | 'postgres' | 'redis' | 'bench') => Math.max(0, now[k] - (this.start?.[k] ?? 0));
    const use = { workers: d('workers'), postgres: d('postgres'), redis: d('redis'), bench: d('bench') };
    return { ...use, total: use.workers + use.postgres + use.redis + use.bench, wallSeconds: (Date.now() - this.startedAt) / 1000, cores: availableParallelism() };
  }

  private read(): Omit<CpuUse, 'total' | 'wallSeconds' | 'cores'> {
    const redisPort = new URL(REDIS_URL).port || '6379';
    let postgres = 0;
    let redis = 0;
    for (const entry of existsSync('/proc') ? readdirSync('/proc') : []) {
      if (!/^\d+$/.test(entry)) continue;
      const p = readProcTimes(Number(entry));
      if (!p) continue;
      if (p.comm === 'postgres') postgres += p.own + (p.cmdline.includes('-D ') ? p.children : 0);
      else if (p.comm === 'redis-server' && p.cmdline.includes(`:${redisPort}`)) redis += p.own;
    }
    const workers = this.workerPids.reduce((sum, pid) => sum + (readProcTimes(pid)?.own ?? 0), 0);
    const self = process.cpuUsage();
    return { workers, postgres, redis, bench: (self.user + self.system) / 1e6 };
  }
}

/** "worker 0.41 / Postgres 0.22 / Redis 0.08 / sandbox+bench 0.12 ms": CPU per message of each part. */
export function cpuPerMessage(use: CpuUse | null, messages: number): string {
  if (!use || messages === 0) return '-';
  const ms = (s: number) => ((s * 1000) / messages).toFixed(2);
  return `${ms(use.total)} (workers ${ms(use.workers)}, Postgres ${ms(use.postgres)}, Redis ${ms(use.redis)}, sandbox ${ms(use.bench)})`;
}

/** The share of the machine's CPU the run used: near 100% means CPU is what saturates. */
export function cpuBusy(use: CpuUse | null): string {
  if (!use || use.wallSeconds === 0) return '-';
  return `${Math.round((use.total / (use.wallSeconds * use.cores)) * 100)}%`;
}
