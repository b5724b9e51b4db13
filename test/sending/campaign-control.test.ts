/** Pause, resume and cancel take effect within seconds, across a running worker. */
import { expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import type { SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { createSandboxCampaign, insertRecipients, runSentinelCampaign, statusCounts, waitFor, waitForNothingUnderWay } from '../support/fixtures.js';
import { engineForFile } from '../support/engine-harness.js';
import type { TestContext } from '../support/test-context.js';

let ctx: TestContext;
let sandbox: SandboxServer;
engineForFile({ config: { feederIntervalMs: 50, queueWindowSeconds: 1 }, sendWorkers: true, sandbox: true }, (e) => ({ ctx, sandbox } = e));

const status = async (id: string) => (await ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id } })).status;

it('pause stops sending within seconds; resume finishes with every recipient sent once', async () => {
  sandbox.reset();
  const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, ratePerSecond: 100 });
  await insertRecipients(ctx, campaignId, 600);
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
  await waitFor('some sends', async () => sandbox.stats().accepted >= 100);

  const paused = await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'pause');
  expect(paused.status).toBe('paused');
  await waitForNothingUnderWay(ctx, campaignId); // jobs already taken finish
  const atPause = sandbox.stats().accepted;
  // Nothing new starts: a campaign on the same account goes out meanwhile, this one's sends do not.
  const sentinel = await runSentinelCampaign(ctx, { sandboxUrl: sandbox.url, accountId, offset: 50_000 });
  expect(sandbox.stats().accepted).toBe(atPause + sentinel.length);
  const whilePaused = await statusCounts(ctx, campaignId);
  expect(whilePaused.pending ?? 0).toBeGreaterThan(0);
  expect(whilePaused.queued ?? 0).toBe(0);
  expect(whilePaused.sending ?? 0).toBe(0);

  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'resume');
  await waitFor('completion', async () => (await status(campaignId)) === 'completed', 60_000);
  expect(await statusCounts(ctx, campaignId)).toEqual({ sent: 600 });
  expect(Math.max(...Object.values(sandbox.stats().perPhone))).toBe(1);
  expect(sandbox.stats().accepted).toBe(600 + sentinel.length);
});

it('cancel stops sending and marks what was left as cancelled', async () => {
  sandbox.reset();
  const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, ratePerSecond: 100, name: 'to cancel' });
  await insertRecipients(ctx, campaignId, 600, 10_000);
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
  await waitFor('some sends', async () => sandbox.stats().accepted >= 100);

  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'cancel');
  await waitForNothingUnderWay(ctx, campaignId);
  const atCancel = sandbox.stats().accepted;
  const sentinel = await runSentinelCampaign(ctx, { sandboxUrl: sandbox.url, accountId, offset: 60_000 });
  expect(sandbox.stats().accepted).toBe(atCancel + sentinel.length);
  expect(await status(campaignId)).toBe('cancelled');
  const counts = await statusCounts(ctx, campaignId);
  expect((counts.sent ?? 0) + (counts.cancelled ?? 0)).toBe(600);
  expect(counts.sent).toBe(atCancel);
  await expect(applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'resume')).rejects.toMatchObject({ code: 'CAMPAIGN_STATE_CONFLICT' });
});

it('refuses actions that do not fit the state, with a clear code', async () => {
  const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'empty' });
  await expect(applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start')).rejects.toMatchObject({ code: 'CAMPAIGN_EMPTY' });
  await expect(applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'pause')).rejects.toMatchObject({ code: 'CAMPAIGN_STATE_CONFLICT' });
  await expect(applyCampaignAction(ctx.db, ctx.tenantId, '00000000-0000-0000-0000-000000000000', 'start')).rejects.toMatchObject({ code: 'CAMPAIGN_NOT_FOUND' });
});
