/**
 * Regressions found by the end-to-end provider tests. The sweeper is effectively off in this
 * file (it runs once at start), so nothing but the fixes themselves can make these pass.
 */
import { expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import type { SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { createSandboxCampaign, insertRecipients, statusCounts, waitFor } from '../support/fixtures.js';
import { engineForFile } from '../support/engine-harness.js';
import type { TestContext } from '../support/test-context.js';

let ctx: TestContext;
let sandbox: SandboxServer;
const engine = engineForFile({ config: { feederIntervalMs: 50, sweeperIntervalMs: 600_000, queueWindowSeconds: 1, retryBaseDelayMs: 50, retryMaxDelayMs: 100, breakerMinCalls: 1_000_000 }, sendWorkers: true, sandbox: true }, (e) => ({ ctx, sandbox } = e));

const status = async (id: string) => (await ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id } })).status;

it('recipients written back to queued during a pause, or re-queued while their old job is active, are sent after resume without the sweeper', async () => {
  sandbox.reset();
  // Slow failing answers keep dozens of sends in flight; those in flight at the pause come back
  // as retries, written `queued` after the pause moved the rest back to pending.
  sandbox.settings.failureRate = 1;
  sandbox.settings.latencyMs = 300;
  const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, ratePerSecond: 500, maxAttempts: 20 });
  await insertRecipients(ctx, campaignId, 300);
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
  await waitFor('failing sends', async () => (sandbox.stats().byStatus['500'] ?? 0) >= 100);
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'pause');
  // Resumed at once, while the jobs taken before the pause are still active: their recipients are
  // fed again while the old jobs still hold their job ids (test/queue/resume-collision.test.ts
  // plays that race step by step).
  sandbox.settings.failureRate = 0;
  sandbox.settings.latencyMs = 0;
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'resume');
  await waitFor('completion', async () => (await status(campaignId)) === 'completed', 30_000);
  expect(await statusCounts(ctx, campaignId)).toEqual({ sent: 300 });
  expect(Math.max(...Object.values(sandbox.stats().perPhone))).toBe(1);
});

it('an account whose stored settings are invalid is stopped with the reason, not retried forever', async () => {
  sandbox.reset();
  const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'broken settings' });
  await ctx.db.pool.query(`UPDATE provider_accounts SET config = '{}'::jsonb WHERE id = $1`, [accountId]);
  await insertRecipients(ctx, campaignId, 20, 5_000);
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');

  const account = await waitFor('the account to stop', async () => {
    const a = await ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id: accountId } });
    return a.status === 'paused' ? a : null;
  });
  expect(account.statusCode).toBe('ACCOUNT_MISCONFIGURED');
  expect(account.statusReason).toContain('invalid settings');
  expect(await engine.queues.forAccount(accountId).isPaused()).toBe(true);
  // Its queue is paused (checked above), so its jobs are held: every recipient stays queued, untried.
  await waitFor('nothing under way', async () => !(await statusCounts(ctx, campaignId)).sending);
  const counts = await statusCounts(ctx, campaignId);
  expect(counts).toEqual({ queued: 20 });
  const { rows } = await ctx.db.pool.query(`SELECT max(attempts)::int AS m FROM recipients WHERE campaign_id = $1`, [campaignId]);
  expect(rows[0].m).toBe(0);
  expect(sandbox.stats().received).toBe(0);
});
