/**
 * The account's rate holds across worker processes, measured by the provider's own
 * per-second counts: never above the limit in any second. (The average rate reached is a
 * benchmark figure, not asserted here.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { startSandboxServer, type SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { createSandboxCampaign, insertRecipients, statusCounts, waitFor } from '../support/fixtures.js';
import { createTestContext, type TestContext } from '../support/test-context.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

const RATE = 50;
let ctx: TestContext;
let sandbox: SandboxServer;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  sandbox = await startSandboxServer();
});

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await sandbox.close();
  await ctx.close();
});

it(`two worker processes together never send more than ${RATE}/s for one account`, async () => {
  const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, ratePerSecond: RATE });
  await insertRecipients(ctx, campaignId, 300);
  const env = { FEEDER_INTERVAL_MS: '100', WORKER_CONCURRENCY: '20' };
  workers.push(await startWorkerProcess(ctx, env), await startWorkerProcess(ctx, env));
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
  await waitFor('completion', async () => (await ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } })).status === 'completed', 60_000, 200);

  expect(await statusCounts(ctx, campaignId)).toEqual({ sent: 300 });
  const perSecond = sandbox.stats().perSecond;
  const counts = Object.values(perSecond);
  expect(Math.max(...counts)).toBeLessThanOrEqual(RATE);
  console.log(`account rate ${RATE}/s: provider per-second counts ${JSON.stringify(counts)}`);
}, 90_000);
