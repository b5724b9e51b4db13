/**
 * A campaign end to end inside one process: feeder, worker, sandbox provider over real HTTP,
 * real Postgres and Redis. Each test checks the final state of every recipient.
 */
import { describe, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import type { SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { createSandboxCampaign, insertRecipients, statusCounts, waitFor } from '../support/fixtures.js';
import { engineForFile } from '../support/engine-harness.js';
import type { TestContext } from '../support/test-context.js';

let ctx: TestContext;
let sandbox: SandboxServer;
engineForFile({ config: { feederIntervalMs: 50, sweeperIntervalMs: 500, retryBaseDelayMs: 50, retryMaxDelayMs: 200, breakerMinCalls: 1_000_000 }, sendWorkers: true, sandbox: true }, (e) => ({ ctx, sandbox } = e));

async function campaignStatus(campaignId: string): Promise<string> {
  const c = await ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } });
  return c.status;
}

describe('sending a campaign', () => {
  it('sends every recipient exactly once and completes', async () => {
    sandbox.reset();
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url });
    const phones = await insertRecipients(ctx, campaignId, 500);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    await waitFor('completion', async () => (await campaignStatus(campaignId)) === 'completed');

    expect(await statusCounts(ctx, campaignId)).toEqual({ sent: 500 });
    const stats = sandbox.stats();
    expect(Object.keys(stats.perPhone).sort()).toEqual([...phones].sort());
    expect(Math.max(...Object.values(stats.perPhone))).toBe(1);
    const withIds = await ctx.db.pool.query(`SELECT count(*)::int AS n FROM recipients WHERE campaign_id = $1 AND provider_message_id LIKE 'sbx_%' AND sent_at IS NOT NULL`, [campaignId]);
    expect(withIds.rows[0].n).toBe(500);
  });

  it('retries 5xx with backoff and fails clearly after maxAttempts', async () => {
    sandbox.reset();
    sandbox.settings.failureRate = 1;
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, maxAttempts: 3, name: 'always failing' });
    await insertRecipients(ctx, campaignId, 20, 1000);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    await waitFor('completion', async () => (await campaignStatus(campaignId)) === 'completed');
    sandbox.settings.failureRate = 0;

    expect(await statusCounts(ctx, campaignId)).toEqual({ failed: 20 });
    const { rows } = await ctx.db.pool.query(`SELECT DISTINCT attempts, error_code, provider_error_code FROM recipients WHERE campaign_id = $1`, [campaignId]);
    expect(rows).toEqual([{ attempts: 3, error_code: 'PROVIDER_UNAVAILABLE', provider_error_code: 'internal' }]);
    expect(sandbox.stats().byStatus['500']).toBe(60);
  });

  it('fails only the recipient a provider rejects, and keeps the provider code', async () => {
    sandbox.reset();
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'one bad phone' });
    const phones = await insertRecipients(ctx, campaignId, 10, 2000);
    sandbox.settings.unreachablePhones = [phones[3] ?? ''];
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    await waitFor('completion', async () => (await campaignStatus(campaignId)) === 'completed');
    sandbox.settings.unreachablePhones = [];

    expect(await statusCounts(ctx, campaignId)).toEqual({ sent: 9, failed: 1 });
    const { rows } = await ctx.db.pool.query(`SELECT phone, error_code, provider_error_code FROM recipients WHERE campaign_id = $1 AND status = 'failed'`, [campaignId]);
    expect(rows).toEqual([{ phone: phones[3], error_code: 'RECIPIENT_INVALID', provider_error_code: 'invalid_recipient' }]);
  });

  it('pauses the campaign on a template error instead of burning the list', async () => {
    sandbox.reset();
    sandbox.settings.missingTemplates = ['greeting'];
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'bad template' });
    await insertRecipients(ctx, campaignId, 300, 3000);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    await waitFor('pause', async () => (await campaignStatus(campaignId)) === 'paused');
    // Sends already under way when the pause landed finish (as failed); wait for them, not for a time.
    await waitFor('sends under way to finish', async () => {
      const c = await statusCounts(ctx, campaignId);
      return (c.sending ?? 0) === 0 && (c.queued ?? 0) === 0;
    });
    sandbox.settings.missingTemplates = [];

    const campaign = await ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } });
    expect(campaign.statusCode).toBe('TEMPLATE_NOT_FOUND');
    expect(campaign.statusReason).toContain('template');
    const counts = await statusCounts(ctx, campaignId);
    // Only the sends already under way when the first error came back failed; the rest wait.
    expect(counts.failed ?? 0).toBeGreaterThan(0);
    expect(counts.failed ?? 0).toBeLessThan(300);
    expect((counts.pending ?? 0) + (counts.failed ?? 0)).toBe(300);
  });

  it('slows down on 429 without spending attempts', async () => {
    sandbox.reset();
    sandbox.settings.rateLimitedRate = 0.3;
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, maxAttempts: 1, name: 'rate limited' });
    await insertRecipients(ctx, campaignId, 100, 4000);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    await waitFor('completion', async () => (await campaignStatus(campaignId)) === 'completed');
    sandbox.settings.rateLimitedRate = 0;

    // maxAttempts 1: had a 429 cost an attempt, some recipients would have failed.
    expect(await statusCounts(ctx, campaignId)).toEqual({ sent: 100 });
    expect(sandbox.stats().byStatus['429'] ?? 0).toBeGreaterThan(0);
    const { rows } = await ctx.db.pool.query(`SELECT max(attempts)::int AS m FROM recipients WHERE campaign_id = $1`, [campaignId]);
    expect(rows[0].m).toBe(1);
  });
});

describe('secrets', () => {
  it('never stores the account token, even when the provider echoes it back', async () => {
    sandbox.reset();
    // A provider that quotes the bad token in its error text (AtomChat does).
    const token = 'tok-echoed-secret-12345';
    const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, token, name: 'echo' });
    await insertRecipients(ctx, campaignId, 3, 9_000);
    const original = sandbox.settings.token;
    sandbox.settings.token = 'another-token';
    sandbox.settings.unauthorizedEcho = true;
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    const account = await waitFor('account stop', async () => {
      const a = await ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id: accountId } });
      return a.status === 'paused' ? a : null;
    });
    sandbox.settings.token = original;
    sandbox.settings.unauthorizedEcho = false;
    expect(account.statusReason).toContain('[redacted]');
    const { rows } = await ctx.db.pool.query(
      `SELECT a.status_reason, r.provider_error_text FROM provider_accounts a, recipients r WHERE a.id = $1 AND r.campaign_id = $2`,
      [accountId, campaignId],
    );
    expect(JSON.stringify(rows)).not.toContain(token);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'cancel');
  });
});
