/**
 * Stops and starts the local Postgres and Redis the tests run against, with the same commands
 * .ci/run uses to start them. Redis keeps nothing on disk (`--save "" --appendonly no`), so a
 * restart loses every key, as a failed-over or flushed Redis does in production.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { adminUrl } from '../support/databases.js';

const run = promisify(execFile);

const REDIS_PORT = '6379';
const REDIS_START = [
  '--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', REDIS_PORT, '--save', '', '--appendonly', 'no',
  '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log',
];

async function succeeds(file: string, args: string[]): Promise<boolean> {
  try {
    await run(file, args, { timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const redisAnswers = () => succeeds('redis-cli', ['-h', '127.0.0.1', '-p', REDIS_PORT, 'ping']);
const postgresAnswers = () => succeeds('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q']);

async function postgresVersion(): Promise<string> {
  const [version] = await readdir('/etc/postgresql');
  if (!version) throw new Error('no cluster under /etc/postgresql');
  return version;
}

async function startRedis(): Promise<void> {
  await mkdir('/var/lib/redis', { recursive: true });
  await mkdir('/var/log/redis', { recursive: true });
  await run('redis-server', REDIS_START);
  await until('Redis to answer', redisAnswers);
}

async function startPostgres(): Promise<void> {
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', await postgresVersion(), 'main', 'start']);
  await until('Postgres to answer', postgresAnswers);
}

/** Shuts Redis down without saving (every key is lost) and starts it again. */
export async function restartRedis(): Promise<void> {
  // redis-cli reports the connection closing under it as an error; the shutdown still happened.
  await succeeds('redis-cli', ['-h', '127.0.0.1', '-p', REDIS_PORT, 'shutdown', 'nosave']);
  await until('Redis to stop', async () => !(await redisAnswers()));
  await startRedis();
}

/** Restarts the Postgres cluster (fast mode: open sessions are terminated, as in a failover). */
export async function restartPostgres(): Promise<void> {
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', await postgresVersion(), 'main', 'restart']);
  await until('Postgres to answer', postgresAnswers);
}

/** What .ci/run does before the tests: start whichever of the two is down. */
export async function ensureServicesUp(): Promise<void> {
  if (!(await postgresAnswers())) await startPostgres();
  if (!(await redisAnswers())) await startRedis();
}

/**
 * The same faults confined to one test's own keys and database, so they can be rehearsed while
 * other tests use the machine: every key under the queue prefix is deleted (a flushed Redis, as
 * the engine sees it), and the database refuses connections for `outageMs` after every session
 * is terminated (a Postgres restart, as the engine sees it).
 */
export async function flushQueueKeys(redisUrl: string, prefix: string): Promise<void> {
  // In one script, so that no client sees (or recreates) part of the keys while the rest go:
  // a restarted Redis loses everything at one instant.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  try {
    await redis.eval(
      `local n = 0 for _, k in ipairs(redis.call('keys', ARGV[1])) do redis.call('del', k) n = n + 1 end return n`,
      0,
      `${prefix}:*`,
    );
  } finally {
    redis.disconnect();
  }
}

export async function cutDatabase(name: string, outageMs: number): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(name)} ALLOW_CONNECTIONS false`);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name]);
    await new Promise((r) => setTimeout(r, outageMs));
  } finally {
    await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(name)} ALLOW_CONNECTIONS true`);
    await admin.end();
  }
}
