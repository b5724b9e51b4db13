/**
 * npm run bench:funnel — what watching a big campaign in the console costs Postgres.
 *
 * The console's live snapshots carry the campaign's funnel, which reads every recipient row
 * (src/campaigns/campaign-funnel.ts). One campaign of BENCH_FUNNEL_ROWS (1,000,000) recipients,
 * 90% sent and 80% of those delivered, paused; nothing else runs. Modes, each for
 * BENCH_FUNNEL_WINDOW_S (30) seconds, the Postgres CPU they cost measured from /proc:
 * - baseline: the hub's former cadence, in two API instances (the funnel recomputed on every
 *   tick of a paused campaign, each instance for itself);
 * - baseline: the former cadence for a running campaign (every fifth tick), two instances;
 * - the hub as it is (src/campaigns/funnel-cache.ts), two hubs standing for two API instances.
 * Ticks are the console's default, 1 s. Also printed: what one funnel costs at this size.
 */
import { createTenant } from '../src/tenants/api-keys.js';
import { applyCampaignAction } from '../src/campaigns/campaign-actions.js';
import { campaignFunnel } from '../src/campaigns/campaign-funnel.js';
import { COST_FACTOR } from '../src/campaigns/funnel-cache.js';
import { CampaignLiveHub } from '../src/console/live-hub.js';
import { createDatabase } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { redisConnection } from '../src/redis-client.js';
import { benchDatabaseUrl, CpuMeter, deleteKeys, freshBenchDatabase, insertBenchRecipients, report, REDIS_URL, sandboxCampaign } from './support.js';

const ROWS = Number(process.env.BENCH_FUNNEL_ROWS ?? 1_000_000);
const WINDOW_S = Number(process.env.BENCH_FUNNEL_WINDOW_S ?? 30);
const TICK_MS = 1_000;
const INSTANCES = 2;
const PREFIX = `bench-funnel-${process.pid}`;

const url = await freshBenchDatabase(benchDatabaseUrl('funnel'));
const db = createDatabase(url, { max: 8 });
const redis = redisConnection(REDIS_URL);
const { tenantId } = await createTenant(db, 'bench');
const { campaignId } = await sandboxCampaign(db, tenantId, { sandboxUrl: 'http://127.0.0.1:9', ratePerSecond: 1_000, name: 'watched' });
await insertBenchRecipients(db, tenantId, campaignId, ROWS);
await applyCampaignAction(db, tenantId, campaignId, 'start');
await applyCampaignAction(db, tenantId, campaignId, 'pause');
// Figures as after a send: the status trigger only allows real transitions, so it is off for this.
await db.pool.query('ALTER TABLE recipients DISABLE TRIGGER USER');
await db.pool.query(
  `UPDATE recipients SET status = 'sent', sent_at = now() - interval '1 minute',
          delivered_at = CASE WHEN random() < 0.8 THEN now() - interval '30 seconds' END
    WHERE campaign_id = $1 AND random() < 0.9`,
  [campaignId],
);
await db.pool.query('ALTER TABLE recipients ENABLE TRIGGER USER');
await db.pool.query('VACUUM ANALYZE recipients');

const costs: number[] = [];
for (let i = 0; i < 3; i += 1) {
  const started = performance.now();
  await campaignFunnel(db, campaignId);
  costs.push(performance.now() - started);
}

type Mode = { name: string; run: (stopAt: number) => Promise<number> };

/** The former cadence: each instance recomputes on every `everyTicks`-th tick, one after another. */
function formerCadence(everyTicks: number): (stopAt: number) => Promise<number> {
  return async (stopAt) => {
    let computed = 0;
    await Promise.all(
      Array.from({ length: INSTANCES }, async () => {
        for (let tick = 0; Date.now() < stopAt; tick += 1) {
          const started = Date.now();
          if (tick % everyTicks === 0) {
            await campaignFunnel(db, campaignId);
            computed += 1;
          }
          await sleep(Math.max(0, TICK_MS - (Date.now() - started)));
        }
      }),
    );
    return computed;
  };
}

async function hubsNow(stopAt: number): Promise<number> {
  const logger = createLogger('error');
  const hubs = Array.from({ length: INSTANCES }, () => new CampaignLiveHub(db, redis, PREFIX, TICK_MS, logger));
  const stops = hubs.map((hub) => hub.subscribe(campaignId, () => undefined));
  await sleep(Math.max(0, stopAt - Date.now()));
  stops.forEach((stop) => stop());
  hubs.forEach((hub) => hub.close());
  return hubs.reduce((sum, hub) => sum + hub.funnels.computed, 0);
}

const MODES: Mode[] = [
  { name: `baseline: former cadence, campaign paused (every tick), ${INSTANCES} API instances`, run: formerCadence(1) },
  { name: `baseline: former cadence, campaign running (every 5th tick), ${INSTANCES} API instances`, run: formerCadence(5) },
  { name: `the hub now (src/campaigns/funnel-cache.ts), ${INSTANCES} API instances`, run: hubsNow },
];

const rows: (string | number)[][] = [];
for (const mode of MODES) {
  await sleep(1_000);
  const meter = new CpuMeter();
  meter.begin([]);
  const computed = await mode.run(Date.now() + WINDOW_S * 1_000);
  const use = meter.end();
  const postgresCores = use ? use.postgres / use.wallSeconds : NaN;
  rows.push([mode.name, computed, (computed / WINDOW_S).toFixed(2), Number.isNaN(postgresCores) ? '-' : postgresCores.toFixed(3)]);
}
const baseline = Number(rows[0]?.[3]);
for (const row of rows) row.push(Number.isNaN(baseline) || baseline === 0 ? '-' : `${(Number(row[3]) / baseline).toFixed(2)}x`);

await deleteKeys(PREFIX);
redis.disconnect();
await db.close();

report({
  name: 'funnel',
  title: `bench:funnel — watching one paused campaign of ${ROWS.toLocaleString('en')} recipients in the console, ${WINDOW_S} s per mode`,
  about: `The live hub's funnel reads every recipient row. One funnel at this size took ${costs.map((ms) => `${Math.round(ms)}`).join(', ')} ms (three computations, nothing else running). Postgres CPU is read from /proc over each window (cores busy = CPU seconds per wall second). The baselines are the hub's former cadence, in the same run; the hub now recomputes a funnel no sooner than ${COST_FACTOR} times its last cost and shares it between instances through Redis.`,
  rows: [['mode', 'funnels computed', 'per second', 'Postgres cores busy', 'vs the first baseline'], ...rows],
});
process.exit(0);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
