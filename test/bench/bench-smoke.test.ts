/**
 * Every benchmark runs, at a tiny size, so none of them rots between `npm run bench` runs: each
 * must exit 0 and print its table. The figures mean nothing at these sizes and are not checked.
 * They run one after another, each against its own scratch databases (named for this run,
 * dropped at the end) and its own Redis key prefixes. On the 2-core development machine under a
 * load average of about 15 the six took 5 minutes (side by side they took longer still); most of
 * it is process start-up and the console bench's fixed windows.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const RUN = `wce_smoke_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
const server = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const dbUrl = (name: string) => Object.assign(new URL(server.toString()), { pathname: `/${name}` }).toString();

const TINY: Record<string, Record<string, string>> = {
  ingest: { BENCH_ROWS: '2000', BENCH_RUNS: '1', BENCH_DATABASE_URL: dbUrl('postgres') },
  send: { BENCH_SEND_N: '100' },
  rate: { BENCH_RATE_SECONDS: '2', BENCH_RATE_ONLY: '80' },
  pool: { BENCH_POOL_SECONDS: '2' },
  webhooks: { BENCH_WEBHOOKS_SECONDS: '1', BENCH_WEBHOOKS_CONNECTIONS: '2', BENCH_WEBHOOKS_DRAIN_SECONDS: '5' },
  console: { BENCH_SEND_N: '30000', BENCH_CONSOLE_WARMUP_S: '1', BENCH_CONSOLE_SETTLE_MS: '500', BENCH_CONSOLE_VIEWERS: '2', BENCH_CONSOLE_WINDOW_S: '1', BENCH_CONSOLE_ROUNDS: '1', BENCH_CONSOLE_DATABASE_URL: dbUrl(`${RUN}_console`) },
  funnel: { BENCH_FUNNEL_ROWS: '2000', BENCH_FUNNEL_WINDOW_S: '2' },
  bullmq: { BENCH_BULLMQ_JOB_MS: '20', BENCH_BULLMQ_RAISE_TO: '100', BENCH_BULLMQ_ADDS: '400', BENCH_BULLMQ_WATCH_MS: '300' },
  million: { BENCH_MILLION_ROWS: '300', BENCH_MILLION_WORKERS: '1', BENCH_MILLION_PEER_ROWS: '100' },
};

function runBench(name: string): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--experimental-wasm-modules', '--no-warnings', '--import', 'tsx', `bench/${name === 'console' ? 'console-live' : name}.ts`], {
      cwd: ROOT,
      env: { ...process.env, BENCH_DATABASE_URL: dbUrl(RUN), LOG_LEVEL: 'error', ...TINY[name] },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => done({ code, output }));
  });
}

afterAll(async () => {
  const admin = new pg.Client({ connectionString: dbUrl('postgres') });
  await admin.connect();
  const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${RUN}%`]);
  for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
  await admin.end();
});

it.each(Object.keys(TINY))('bench:%s runs at a tiny size and prints its table', async (name) => {
  const { code, output } = await runBench(name);
  if (code !== 0) console.log(output.slice(-3000));
  expect(code).toBe(0);
  expect(output).toMatch(/bench:|ratio|rows\/s/);
}, 180_000);
