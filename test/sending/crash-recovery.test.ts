/**
 * Crash test: a campaign runs in a separate worker process, which is SIGKILLed mid-way; a new
 * worker takes over. At the end every recipient is in exactly one final state, the counts add
 * up, and the provider received each phone at most once. The only ambiguity allowed is a send
 * in flight at the kill, which must end as `unknown` and is not resent.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { startSandboxServer, type SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { createSandboxCampaign, insertRecipients, statusCounts, waitFor } from '../support/fixtures.js';
import { createTestContext, type TestContext } from '../support/test-context.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

const TOTAL = 3_000;
const WORKER_ENV = {
  JOB_LOCK_MS: '2000',
  SENDING_LEASE_MS: '5000',
  SEND_TIMEOUT_MS: '2000',
  FEEDER_INTERVAL_MS: '100',
  SWEEPER_INTERVAL_MS: '500',
  WORKER_CONCURRENCY: '50',
};

let ctx: TestContext;
let sandbox: SandboxServer;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  sandbox = await startSandboxServer({ latencyMs: [10, 40] });
});

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await sandbox.close();
  await ctx.close();
});

it('survives a SIGKILLed worker without losing or duplicating a message', async () => {
  const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, ratePerSecond: 600 });
  const phones = await insertRecipients(ctx, campaignId, TOTAL);
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');

  const first = await startWorkerProcess(ctx, WORKER_ENV);
  workers.push(first);
  await waitFor('a third of the campaign sent', async () => sandbox.stats().accepted >= TOTAL / 3, 60_000, 20);
  await first.kill('SIGKILL');
  const sentAtKill = sandbox.stats().accepted;
  const midway = await statusCounts(ctx, campaignId);

  const second = await startWorkerProcess(ctx, WORKER_ENV);
  workers.push(second);
  await waitFor(
    'campaign completion',
    async () => (await ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } })).status === 'completed',
    120_000,
    200,
  );
  await second.kill('SIGTERM');

  const counts = await statusCounts(ctx, campaignId);
  const final = (counts.sent ?? 0) + (counts.unknown ?? 0) + (counts.failed ?? 0);
  // Every recipient is in exactly one final state and the counts add up.
  expect(Object.keys(counts).filter((s) => !['sent', 'unknown', 'failed'].includes(s))).toEqual([]);
  expect(final).toBe(TOTAL);

  // The provider saw each phone at most once.
  const perPhone = sandbox.stats().perPhone;
  expect(Math.max(...Object.values(perPhone))).toBe(1);

  // Every `sent` recipient was received by the provider; nothing we call sent is invented.
  const { rows } = await ctx.db.pool.query<{ phone: string; status: string }>(`SELECT phone, status FROM recipients WHERE campaign_id = $1`, [campaignId]);
  expect(rows.filter((row) => row.status === 'sent').length).toBeGreaterThan(0);
  for (const row of rows) if (row.status === 'sent') expect(perPhone[row.phone], row.phone).toBe(1);
  // Nothing was dropped: a recipient the provider never saw is not `sent`.
  const neverSeen = phones.filter((p) => !perPhone[p]);
  const statusOf = new Map(rows.map((r) => [r.phone, r.status]));
  for (const p of neverSeen) expect(statusOf.get(p)).not.toBe('sent');

  // Only sends in flight at the kill may be unknown: at most the killed worker's concurrency.
  expect(counts.unknown ?? 0).toBeLessThanOrEqual(Number(WORKER_ENV.WORKER_CONCURRENCY));
  console.log(
    `crash test: ${sentAtKill} accepted at kill (${JSON.stringify(midway)}); final ${JSON.stringify(counts)}; ` +
      `provider saw ${Object.keys(perPhone).length} phones, duplicates 0`,
  );
}, 180_000);
