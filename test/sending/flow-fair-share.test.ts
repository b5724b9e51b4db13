/**
 * Fair share on one account: a small urgent campaign started after a large one goes out within
 * seconds instead of waiting for the large one, and campaigns of equal priority split the rate.
 * Asserted by states and counts, not times.
 */
import { expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import type { SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { createSandboxCampaign, insertRecipients, statusCounts, waitFor } from '../support/fixtures.js';
import { engineForFile } from '../support/engine-harness.js';
import type { TestContext } from '../support/test-context.js';

let ctx: TestContext;
let sandbox: SandboxServer;
engineForFile({ config: { feederIntervalMs: 50, queueWindowSeconds: 1 }, sendWorkers: true, sandbox: true }, (e) => ({ ctx, sandbox } = e));

const status = async (id: string) => (await ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id } })).status;
const sent = async (id: string) => (await statusCounts(ctx, id)).sent ?? 0;

it('an urgent 50-recipient campaign started after a 20,000-recipient one completes while the big one has barely begun', async () => {
  const big = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, ratePerSecond: 100, name: 'big', priority: 0 });
  await insertRecipients(ctx, big.campaignId, 20_000);
  await applyCampaignAction(ctx.db, ctx.tenantId, big.campaignId, 'start');
  await waitFor('the big campaign to be sending', async () => (await sent(big.campaignId)) >= 100);

  const urgent = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, accountId: big.accountId, name: 'urgent', priority: 10 });
  await insertRecipients(ctx, urgent.campaignId, 50, 500_000);
  await applyCampaignAction(ctx.db, ctx.tenantId, urgent.campaignId, 'start');
  await waitFor('the urgent campaign to complete', async () => (await status(urgent.campaignId)) === 'completed', 60_000);

  expect(await statusCounts(ctx, urgent.campaignId)).toEqual({ sent: 50 });
  // The big one is nowhere near done: the urgent campaign did not wait behind it.
  expect(await sent(big.campaignId)).toBeLessThan(10_000);
  await applyCampaignAction(ctx.db, ctx.tenantId, big.campaignId, 'cancel');
});

it('two campaigns of equal priority on one account both progress, sharing the rate', async () => {
  const first = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, ratePerSecond: 100, name: 'first' });
  const second = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, accountId: first.accountId, name: 'second' });
  await insertRecipients(ctx, first.campaignId, 2_000, 600_000);
  await insertRecipients(ctx, second.campaignId, 2_000, 700_000);
  await applyCampaignAction(ctx.db, ctx.tenantId, first.campaignId, 'start');
  await applyCampaignAction(ctx.db, ctx.tenantId, second.campaignId, 'start');
  await waitFor('300 sends in all', async () => (await sent(first.campaignId)) + (await sent(second.campaignId)) >= 300);

  const [a, b] = [await sent(first.campaignId), await sent(second.campaignId)];
  // An even split, within a feed step of either side.
  expect(Math.min(a, b)).toBeGreaterThan(Math.max(a, b) / 3);
  for (const id of [first.campaignId, second.campaignId]) await applyCampaignAction(ctx.db, ctx.tenantId, id, 'cancel');
});
