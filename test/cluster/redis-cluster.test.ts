/**
 * The engine against a real Redis Cluster: 6 nodes (3 masters, 3 replicas) of the machine's
 * redis-server, started by scripts/redis-cluster.sh (.ci/run starts it and exports
 * TEST_REDIS_CLUSTER_NODES; without it these tests skip and say why).
 *
 * - Campaigns on two accounts go out through the cluster, each recipient exactly once, and the
 *   workers log no MOVED, ASK or CROSSSLOT error.
 * - Each account's keys (its BullMQ queue and its flow state) sit in its own slot, and two
 *   accounts on different masters really use both; every key the engine wrote has one of the
 *   tags src/redis-keys.ts names.
 * - A `CLUSTER FAILOVER` of the master holding an account, mid-campaign: 0 lost, 0 sent twice,
 *   nothing left `sending`, and the API's campaign GET answers 200 throughout.
 * - One shard loses its data mid-campaign (every key of the test on the master holding the
 *   account is deleted): the account's epoch is gone with it, its queue is rebuilt from Postgres,
 *   and the campaign completes with every recipient sent once.
 */
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { WorkerHost } from '../../src/queue/worker-host.js';
import { accountTag, campaignTag } from '../../src/redis-keys.js';
import { createSandboxCampaign, insertRecipients, statusCounts, waitFor } from '../support/fixtures.js';
import { FAST_ENGINE_CONFIG, startEngine } from '../support/engine-harness.js';
import { asCluster, failOverMasterOf, masterOf, testCluster } from '../support/redis-cluster.js';
import type { TestContext } from '../support/test-context.js';

const cluster = testCluster();
if (!cluster) console.warn('skipping the Redis Cluster tests: TEST_REDIS_CLUSTER_NODES is unset (start one with scripts/redis-cluster.sh start)');

const startClusterEngine = (redisCluster: NonNullable<typeof cluster>) =>
  startEngine({ config: { ...FAST_ENGINE_CONFIG, redisCluster }, api: true, sandbox: { latencyMs: [2, 10] as [number, number] } });
let engine: Awaited<ReturnType<typeof startClusterEngine>>;
let host: WorkerHost;
let ctx: TestContext;
const logLines: string[] = [];

beforeAll(async () => {
  if (!cluster) return;
  engine = await startClusterEngine(cluster);
  ctx = { ...engine.ctx, tenantId: engine.tenant.tenantId };
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  host = new WorkerHost(engine.ctx.config, engine.ctx.db, logger);
  await host.start();
}, 60_000);

afterAll(async () => {
  await host?.stop();
  await engine?.close();
});

const masterOfKey = (key: string) => masterOf(engine.redis, key);

/** Accounts (sandbox) until two live on different masters; with 3 masters that takes a few at most. */
async function twoAccountsOnTwoMasters(): Promise<[string, string]> {
  const seen = new Map<string, string>();
  for (let i = 0; i < 30; i += 1) {
    const { accountId } = await createSandboxCampaign(ctx, { sandboxUrl: engine.sandbox.url, ratePerSecond: 300, name: `probe ${i}` });
    const master = await masterOfKey(`x:${accountTag(accountId)}`);
    for (const [other, otherMaster] of seen) if (otherMaster !== master) return [other, accountId];
    seen.set(accountId, master);
  }
  throw new Error('30 accounts all hashed to one master');
}

/** Every key under the test's prefix, by the master that holds it. */
async function keysByMaster(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const node of asCluster(engine.redis).nodes('master')) {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await (node as Redis).scan(cursor, 'MATCH', `${ctx.queuePrefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    out.set(`${node.options.host}:${node.options.port}`, keys);
  }
  return out;
}

function clusterErrors(): string[] {
  // Redis's own refusals, and ioredis's for a pipeline whose keys sit on different nodes.
  return logLines.filter((line) => /MOVED|ASK |CROSSSLOT|CLUSTERDOWN|slot/i.test(line));
}

async function campaignDone(campaignId: string): Promise<boolean> {
  const c = await ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } });
  return c.status === 'completed';
}

describe.skipIf(!cluster)('the engine on a Redis Cluster', () => {
  it('sends two accounts\' campaigns through the cluster, exactly once, each account in its own slot on its own master', async () => {
    const [first, second] = await twoAccountsOnTwoMasters();
    const a = await createSandboxCampaign(ctx, { sandboxUrl: engine.sandbox.url, accountId: first, name: 'cluster A' });
    const b = await createSandboxCampaign(ctx, { sandboxUrl: engine.sandbox.url, accountId: second, name: 'cluster B' });
    const phones = [...(await insertRecipients(ctx, a.campaignId, 300)), ...(await insertRecipients(ctx, b.campaignId, 300, 5_000))];
    engine.sandbox.reset();
    await applyCampaignAction(ctx.db, ctx.tenantId, a.campaignId, 'start');
    await applyCampaignAction(ctx.db, ctx.tenantId, b.campaignId, 'start');
    await waitFor('both campaigns completed', async () => (await campaignDone(a.campaignId)) && (await campaignDone(b.campaignId)), 90_000);

    expect(await statusCounts(ctx, a.campaignId)).toEqual({ sent: 300 });
    expect(await statusCounts(ctx, b.campaignId)).toEqual({ sent: 300 });
    const perPhone = engine.sandbox.stats().perPhone;
    expect(Object.keys(perPhone).sort()).toEqual(phones.sort());
    expect(Math.max(...Object.values(perPhone))).toBe(1);
    expect(clusterErrors()).toEqual([]);

    // Where the keys are: each account's on one master, and the two accounts' on different ones.
    const byMaster = await keysByMaster();
    const mastersHolding = (tag: string) => [...byMaster].filter(([, keys]) => keys.some((k) => k.includes(tag))).map(([m]) => m);
    const onA = mastersHolding(accountTag(first));
    const onB = mastersHolding(accountTag(second));
    expect(onA).toHaveLength(1);
    expect(onB).toHaveLength(1);
    expect(onA[0]).not.toBe(onB[0]);
    // The queue itself is there, not only flow keys.
    expect(byMaster.get(onA[0]!)!.some((k) => k.startsWith(`${ctx.queuePrefix}:send-${accountTag(first)}:`))).toBe(true);
  }, 120_000);

  it('tags every key it writes (per account, per campaign, engine, metrics) or uses it alone, and each tag maps to one slot', async () => {
    const all = [...(await keysByMaster()).values()].flat();
    expect(all.length).toBeGreaterThan(0);
    const untagged = all.filter((k) => !/\{[^}]+\}/.test(k));
    // Untagged keys are only ones the engine uses one at a time (src/redis-keys.ts).
    for (const key of untagged) expect(key).toMatch(new RegExp(`^${ctx.queuePrefix}:(apikey|apikey-used|rl:api|rl:webhook|console:session|idempotency):`));
    const slotsByTag = new Map<string, Set<number>>();
    const redis = asCluster(engine.redis);
    for (const key of all) {
      const tag = /\{([^}]+)\}/.exec(key)?.[1];
      if (!tag) continue;
      expect(tag).toMatch(/^(a\.[0-9a-f-]{36}|c\.[0-9a-f-]{36}|engine|metrics)$/);
      const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', key));
      slotsByTag.set(tag, (slotsByTag.get(tag) ?? new Set()).add(slot));
    }
    for (const [tag, slots] of slotsByTag) expect({ tag, slots: slots.size }).toEqual({ tag, slots: 1 });
    expect([...slotsByTag.keys()].some((t) => t.startsWith('c.'))).toBe(true);
    expect(campaignTag('x')).toBe('{c.x}');
  });

  it('loses nothing, sends nothing twice and answers the campaign GET throughout a CLUSTER FAILOVER mid-campaign', async () => {
    const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: engine.sandbox.url, ratePerSecond: 150, name: 'failover' });
    const phones = await insertRecipients(ctx, campaignId, 900, 20_000);
    engine.sandbox.reset();
    logLines.length = 0;
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');

    // The API is polled all along; every answer must be 200.
    const answers: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        answers.push((await engine.api.get(`/v1/campaigns/${campaignId}`)).statusCode);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    await waitFor('a third sent', async () => ((await statusCounts(ctx, campaignId)).sent ?? 0) >= 300, 60_000);
    // Fail over the master that holds the account: its replica takes over.
    const { from, to } = await failOverMasterOf(engine.redis, `x:${accountTag(accountId)}`);
    expect(to).not.toBe(from);

    await waitFor('campaign completed after the failover', () => campaignDone(campaignId), 120_000);
    polling = false;
    await poller;

    const counts = await statusCounts(ctx, campaignId);
    expect(counts.sending ?? 0).toBe(0);
    expect(counts).toEqual({ sent: 900 });
    const perPhone = engine.sandbox.stats().perPhone;
    expect(Object.keys(perPhone).sort()).toEqual(phones.sort());
    expect(Math.max(...Object.values(perPhone))).toBe(1);
    expect(answers.length).toBeGreaterThan(10);
    expect(answers.filter((code) => code !== 200)).toEqual([]);
  }, 180_000);

  it('rebuilds from Postgres when the shard holding an account loses its data mid-campaign', async () => {
    const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: engine.sandbox.url, ratePerSecond: 150, name: 'shard lost' });
    const phones = await insertRecipients(ctx, campaignId, 600, 40_000);
    engine.sandbox.reset();
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    logLines.length = 0;
    await waitFor('some sent', async () => ((await statusCounts(ctx, campaignId)).sent ?? 0) >= 150, 60_000);

    const master = await masterOfKey(`x:${accountTag(accountId)}`);
    // The client learns a failover (the test before this one makes one) at its next refresh of the
    // slots; ask for one until it holds a connection to the master the cluster itself names.
    const cluster = asCluster(engine.redis);
    const node = await waitFor(`a connection to ${master}`, async () => {
      const found = cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === master);
      if (!found) await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
      return found ?? false;
    }, 20_000, 100);
    // In one script, as a shard that restarts empty loses everything at one instant.
    const deleted = Number(
      await node.eval(`local n = 0 for _, k in ipairs(redis.call('keys', ARGV[1])) do redis.call('del', k) n = n + 1 end return n`, 0, `${ctx.queuePrefix}:*`),
    );
    expect(deleted).toBeGreaterThan(0);

    await waitFor('campaign completed after the shard lost its data', () => campaignDone(campaignId), 120_000);
    // Noticed by the account's epoch, not by the slow orphan check.
    expect(logLines.some((line) => line.includes('queues rebuilt from Postgres') && line.includes('"accounts":1'))).toBe(true);
    expect(await statusCounts(ctx, campaignId)).toEqual({ sent: 600 });
    const perPhone = engine.sandbox.stats().perPhone;
    expect(Object.keys(perPhone).sort()).toEqual(phones.sort());
    expect(Math.max(...Object.values(perPhone))).toBe(1);
  }, 180_000);
});
