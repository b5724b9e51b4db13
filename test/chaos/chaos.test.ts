/**
 * Chaos test. 20k recipients, 4 worker processes, a provider answering 20% 5xx and occasional
 * 429s. While the campaign runs, a random worker is SIGKILLed every few seconds and replaced;
 * Redis is restarted once (it keeps nothing on disk, so every job is lost and must be rebuilt
 * from Postgres); Postgres is restarted once.
 *
 * At the end every recipient is in exactly one final state, the counts add up, the provider saw
 * each phone at most once, and the only ambiguity is a send in flight at a fault, which ends
 * `unknown` and is not resent. Prints lost, duplicated, unknown and the time to recover after
 * each fault. Correctness is asserted; timings are only printed.
 *
 * Restarting the real services is opt-in, CHAOS_RESTARTS=real (.ci/run sets it): it shuts down
 * the machine's Redis without saving and restarts its Postgres cluster, which a developer's own
 * machine should not suffer from `npm test`, and it uses Debian's service commands, the ones
 * .ci/run uses. Without it (CHAOS_RESTARTS=local, the default) the same faults hit only this
 * test's own Redis keys (flushed) and its own database (cut off for a few seconds);
 * CHAOS_RESTARTS=0 keeps only the kills. CHAOS_RECIPIENTS changes the size. CHAOS_POOL=1 sends the
 * campaign through a sender pool of three sandbox accounts on the one server (a third of the rate
 * each), so a phone sent by two accounts shows as a duplicate too.
 *
 * CHAOS_REDIS=cluster runs it all on the test Redis Cluster (TEST_REDIS_CLUSTER_NODES,
 * scripts/redis-cluster.sh): the workers use REDIS_CLUSTER_NODES, and the Redis fault is a
 * `CLUSTER FAILOVER` of the master serving the account, then that shard losing the test's keys.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { FINAL_STATUSES } from '../../src/recipients/index.js';
import { startSandboxServer, type SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { createSandboxCampaign, insertRecipients, statusCounts, waitFor } from '../support/fixtures.js';
import { createTestContext, type TestContext } from '../support/test-context.js';
import { cutDatabase, ensureServicesUp, flushQueueKeys, restartPostgres, restartRedis } from './local-services.js';
import { ProgressRecorder, type Fault } from './progress-recorder.js';
import { describeStuckRecipients } from './stuck-recipients.js';
import { accountTag } from '../../src/redis-keys.js';
import { masters, redisConnection, type RedisClient } from '../../src/redis-client.js';
import { failOverMasterOf, masterOf, testCluster } from '../support/redis-cluster.js';
import { seconds, textTable } from './text-table.js';
import { WorkerFleet } from './worker-fleet.js';

const TOTAL = Number(process.env.CHAOS_RECIPIENTS ?? 20_000);
const RESTART_MODE = process.env.CHAOS_RESTARTS === '0' ? 'none' : process.env.CHAOS_RESTARTS === 'real' ? 'real' : 'local';
const RESTARTS = RESTART_MODE !== 'none';
const POOL = process.env.CHAOS_POOL === '1';
const CLUSTER = process.env.CHAOS_REDIS === 'cluster' ? testCluster() : null;
if (process.env.CHAOS_REDIS === 'cluster' && !CLUSTER) throw new Error('CHAOS_REDIS=cluster needs TEST_REDIS_CLUSTER_NODES (scripts/redis-cluster.sh start)');
const WORKERS = 4;
/** The account's rate: 20k sends plus a quarter more for retries take about a minute at it. */
const RATE = 500;
const CONCURRENCY = 20;
/** Time from one kill to the next, ms (the replacement starts in the background meanwhile). */
const KILL_EVERY_MS: [number, number] = [3_000, 5_000];
/** Faults are injected at these shares of the campaign accepted by the provider. */
const REDIS_RESTART_AT = 0.3;
const POSTGRES_RESTART_AT = 0.6;
const CHAOS_ENDS_AT = 0.85;
/** Faults stop after this long even if the campaign is not that far yet (ms). */
const CHAOS_MAX_MS = 90_000;
const COMPLETION_TIMEOUT_MS = 120_000;
/** CHAOS_VERBOSE=1 prints progress every 5 s. */
const VERBOSE = process.env.CHAOS_VERBOSE === '1';

// Short leases and locks so that a fault's loose ends are found in seconds, not minutes.
const WORKER_ENV = {
  WORKER_CONCURRENCY: String(CONCURRENCY),
  // Long enough that a busy two-core machine stalling a worker's event loop for a second or two
  // does not cost it its job locks (the lock is renewed every half of it).
  JOB_LOCK_MS: '5000',
  SENDING_LEASE_MS: '10000',
  SEND_TIMEOUT_MS: '4000',
  SWEEPER_INTERVAL_MS: '500',
  FEEDER_INTERVAL_MS: '100',
  RETRY_BASE_DELAY_MS: '200',
  RETRY_MAX_DELAY_MS: '2000',
  ...(CLUSTER ? { REDIS_CLUSTER_NODES: process.env.TEST_REDIS_CLUSTER_NODES ?? '' } : {}),
};

let ctx: TestContext;
let sandbox: SandboxServer;
let fleet: WorkerFleet | undefined;
let recorder: ProgressRecorder | undefined;

beforeAll(async () => {
  await ensureServicesUp();
  ctx = await createTestContext(CLUSTER ? { redisCluster: CLUSTER } : {});
  sandbox = await startSandboxServer({ latencyMs: [2, 15], failureRate: 0.2, rateLimitedRate: 0.0005, ratePerSecond: RATE });
});

afterAll(async () => {
  recorder?.stop();
  await fleet?.stop('SIGKILL');
  await sandbox.close();
  // Whatever happened, leave the machine's services running for whoever comes next.
  await ensureServicesUp();
  await ctx.close();
});

async function printTimeline(campaignId: string, started: number, accepted: number): Promise<void> {
  const counts = await statusCounts(ctx, campaignId).catch((error: unknown) => String(error));
  console.log(`${seconds(Date.now() - started)}: provider accepted ${accepted}; ${JSON.stringify(counts)}; workers ${fleet?.size ?? 0}`);
}

/** CHAOS_POOL=1: two more sandbox accounts on the same server, and the campaign sent through a pool of all three. */
async function sendThroughPool(campaignId: string, accountId: string): Promise<void> {
  const members = [accountId];
  for (const name of ['sandbox 2', 'sandbox 3']) {
    const account = await ctx.db.prisma.providerAccount.create({
      data: { tenantId: ctx.tenantId, provider: 'sandbox', name, config: { baseUrl: sandbox.url }, credentials: { token: 'sandbox-token' }, ratePerSecond: Math.floor(RATE / 3), pairGapSeconds: 0 },
    });
    await ctx.db.prisma.template.create({ data: { tenantId: ctx.tenantId, accountId: account.id, name: 'greeting', body: '{{1}}', paramCount: 1 } });
    members.push(account.id);
  }
  const pool = await ctx.db.prisma.senderPool.create({ data: { tenantId: ctx.tenantId, name: 'chaos', members: { create: members.map((id) => ({ accountId: id })) } } });
  await ctx.db.prisma.campaign.update({ where: { id: campaignId }, data: { poolId: pool.id } });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = ([lo, hi]: [number, number]) => lo + Math.random() * (hi - lo);

it(`${TOTAL} recipients${POOL ? ' through a sender pool' : ''} through killed workers${CLUSTER ? ' on a Redis Cluster' : ''}${RESTARTS ? `, a Redis ${CLUSTER ? 'failover and shard loss' : RESTART_MODE === 'real' ? 'restart' : 'flush'} and a Postgres ${RESTART_MODE === 'real' ? 'restart' : 'outage'}` : ''}: nothing lost, nothing sent twice`, async () => {
  const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, ratePerSecond: POOL ? Math.floor(RATE / 3) : RATE });
  if (POOL) await sendThroughPool(campaignId, accountId);
  const phones = await insertRecipients(ctx, campaignId, TOTAL);
  fleet = new WorkerFleet(ctx, WORKER_ENV);
  await fleet.start(WORKERS);
  const workers = fleet;

  const progress = new ProgressRecorder(() => sandbox.stats().accepted);
  recorder = progress;
  progress.start();
  const started = Date.now();
  const timeline = VERBOSE ? setInterval(() => void printTimeline(campaignId, started, progress.latest), 5_000) : undefined;
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');

  const faults: Fault[] = [];
  async function inject(kind: string, act: () => Promise<void>): Promise<void> {
    const startedAt = Date.now();
    const countAtStart = progress.latest;
    await act();
    faults.push({ kind, startedAt, endedAt: Date.now(), countAtStart });
  }

  const restartRedisNow = async () => {
    if (CLUSTER) {
      const engineRedis = redisConnection(ctx.config);
      try {
        await inject('Redis Cluster: CLUSTER FAILOVER of the account\'s master', async () => void (await failOverMasterOf(engineRedis, `x:${accountTag(accountId)}`)));
        await inject('Redis Cluster: that shard loses the test\'s keys', () => flushShardOf(engineRedis, `x:${accountTag(accountId)}`));
      } finally {
        engineRedis.disconnect();
      }
      return;
    }
    await (RESTART_MODE === 'real'
      ? inject('Redis restart, no persistence', restartRedis)
      : inject('Redis data lost (own keys flushed)', () => flushQueueKeys(ctx.config.redisUrl, ctx.queuePrefix)));
  };
  /** The shard serving `key` loses every key of this test, in one script (at one instant). */
  async function flushShardOf(redis: RedisClient, key: string): Promise<void> {
    const master = await masterOf(redis, key);
    for (const node of masters(redis)) {
      if (`${node.options.host}:${node.options.port}` === master) await node.eval(`for _, k in ipairs(redis.call('keys', ARGV[1])) do redis.call('del', k) end`, 0, `${ctx.queuePrefix}:*`);
    }
  }
  const restartPostgresNow = () =>
    RESTART_MODE === 'real'
      ? inject('Postgres restart', restartPostgres)
      : inject('Postgres outage (own database, 2 s)', () => cutDatabase(new URL(ctx.databaseUrl).pathname.slice(1), 2_000));

  let redisRestarted = !RESTARTS;
  let postgresRestarted = !RESTARTS;
  let nextKill = Date.now() + between(KILL_EVERY_MS);
  const chaosDeadline = started + CHAOS_MAX_MS;
  while (Date.now() < chaosDeadline) {
    const share = progress.latest / TOTAL;
    if (share >= CHAOS_ENDS_AT) break;
    if (!redisRestarted && share >= REDIS_RESTART_AT) {
      await restartRedisNow();
      redisRestarted = true;
      nextKill = Date.now() + between(KILL_EVERY_MS);
    } else if (!postgresRestarted && share >= POSTGRES_RESTART_AT) {
      await restartPostgresNow();
      postgresRestarted = true;
      nextKill = Date.now() + between(KILL_EVERY_MS);
    } else if (Date.now() >= nextKill && workers.size === WORKERS) {
      // Only at full strength: on a slow machine a replacement can take longer to start than
      // the gap between kills, and the fleet would dwindle to nothing.
      const killedAt = Date.now();
      await inject('SIGKILL a worker, start another', () => workers.killRandom());
      nextKill = killedAt + between(KILL_EVERY_MS);
    } else {
      await sleep(50);
    }
  }
  // A slow machine may not have reached the restart points in time: restart anyway.
  if (!redisRestarted) await restartRedisNow();
  if (!postgresRestarted) await restartPostgresNow();
  const chaosEnded = Date.now();

  const completed = await waitFor(
    'campaign completion',
    async () => {
      try {
        return (await ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } })).status === 'completed';
      } catch {
        return false; // Postgres may still be coming back
      }
    },
    COMPLETION_TIMEOUT_MS,
    200,
  ).then(
    () => true,
    () => false,
  );
  const finished = Date.now();
  clearInterval(timeline);
  // Where the stragglers are, before the workers stop, while Redis still holds their jobs.
  const stuck = completed ? [] : await describeStuckRecipients(ctx, campaignId);
  await workers.stop('SIGTERM');
  progress.stop();

  // What Postgres says happened, against what the provider says it received.
  const counts = await statusCounts(ctx, campaignId);
  const { rows } = await ctx.db.pool.query<{ phone: string; status: string; error_code: string | null }>(
    `SELECT phone, status::text, error_code FROM recipients WHERE campaign_id = $1`,
    [campaignId],
  );
  const stats = sandbox.stats();
  const perPhone = stats.perPhone;
  const final = new Set<string>(FINAL_STATUSES);
  const notFinal = rows.filter((r) => !final.has(r.status));
  const sentNeverReceived = rows.filter((r) => r.status === 'sent' && !perPhone[r.phone]);
  const receivedButFailed = rows.filter((r) => r.status === 'failed' && perPhone[r.phone]);
  const unknown = rows.filter((r) => r.status === 'unknown');
  const unknownReceived = unknown.filter((r) => perPhone[r.phone]).length;
  const duplicated = Object.entries(perPhone).filter(([, n]) => n > 1);
  const lost = notFinal.length + sentNeverReceived.length;
  const ours = new Set(phones);
  const strangers = Object.keys(perPhone).filter((p) => !ours.has(p));
  // A send in flight at a fault may end unknown: at most every claim of the killed worker, and
  // at a restart every claim of every worker (its job vanished, or its result could not be written).
  // A worker serves each account's queue with its own concurrency: in a pool, its claims span every account.
  const unknownBound = CONCURRENCY * (POOL ? 3 : 1) * (workers.kills + (RESTARTS ? 2 * WORKERS : 0));

  console.log(`\nchaos: ${TOTAL} recipients, ${WORKERS} workers x concurrency ${CONCURRENCY}, account ${RATE}/s, provider 20% 5xx + random 429s`);
  console.log(
    `run ${seconds(finished - started)} (chaos for ${seconds(chaosEnded - started)}); ${workers.kills} workers SIGKILLed; ` +
      `${{ real: 'Redis and Postgres restarted once each', local: 'own Redis keys flushed and own database cut off once each (CHAOS_RESTARTS=local)', none: 'no restarts (CHAOS_RESTARTS=0)' }[RESTART_MODE]}; ` +
      `worker crashes: ${workers.crashes.length}`,
  );
  console.log(`provider answers: ${JSON.stringify(stats.byStatus)}; most accepted in one second: ${stats.maxPerSecond}\n`);
  if (POOL) {
    const { rows: byAccount } = await ctx.db.pool.query<{ name: string; n: string }>(
      `SELECT a.name, count(*) AS n FROM recipients r JOIN provider_accounts a ON a.id = r.account_id WHERE r.campaign_id = $1 GROUP BY a.name ORDER BY a.name`,
      [campaignId],
    );
    console.log(`sender pool: ${byAccount.map((r) => `${r.name} ${r.n}`).join(', ')}\n`);
  }
  console.log(
    textTable([
      ['lost', 'duplicated', 'unknown', 'unknown bound', 'unknown the provider had', 'sent', 'failed', 'total', 'statuses'],
      [lost, duplicated.length, unknown.length, unknownBound, unknownReceived, counts.sent ?? 0, counts.failed ?? 0, rows.length, JSON.stringify(counts)],
    ]),
  );
  console.log('');
  console.log(
    textTable([
      ['#', 'fault', 'at', 'progress', 'fault lasted', 'rate before', 'counter moved again after', 'rate back to half after', 'lowest 1 s rate after'],
      ...faults.map((f, i) => {
        const r = progress.recovery(f, faults[i + 1]?.startedAt);
        return [
          i + 1,
          f.kind,
          seconds(f.startedAt - started),
          `${((100 * f.countAtStart) / TOTAL).toFixed(0)}%`,
          seconds(f.endedAt - f.startedAt),
          `${r.rateBefore.toFixed(0)}/s`,
          seconds(r.movedAfterMs),
          seconds(r.rateBackAfterMs),
          r.lowestShare === null ? '-' : `${(100 * r.lowestShare).toFixed(0)}%`,
        ];
      }),
    ]),
  );
  console.log('');
  if (stuck.length) console.log(`recipients left open (the first ${stuck.length}):\n${stuck.join('\n')}\n`);

  expect(completed, 'the campaign completed').toBe(true);
  // Every recipient is in exactly one final state, and the counts add up.
  expect(notFinal.map((r) => r.status)).toEqual([]);
  expect(rows.length).toBe(TOTAL);
  expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(TOTAL);
  expect(Object.keys(counts).filter((s) => !['sent', 'failed', 'unknown'].includes(s))).toEqual([]);
  // The provider saw each phone at most once, and only our phones.
  expect(duplicated).toEqual([]);
  expect(strangers).toEqual([]);
  // Everything the provider accepted is recorded as sent, or as unknown (in flight at a fault)...
  expect(stats.accepted).toBe((counts.sent ?? 0) + unknownReceived);
  expect(receivedButFailed).toEqual([]);
  // ...and nothing recorded as sent was invented.
  expect(sentNeverReceived).toEqual([]);
  // The only ambiguity is a send in flight at a fault; it is unknown, not resent.
  expect(unknown.length).toBeLessThanOrEqual(unknownBound);
  expect(unknown.filter((r) => r.error_code !== 'SEND_INTERRUPTED').map((r) => r.error_code)).toEqual([]);
  // No worker died except those we killed: each rides out a Postgres or Redis restart.
  expect(workers.crashes).toEqual([]);
}, 240_000);
