/**
 * Graceful stop: a worker process that gets SIGTERM in the middle of a campaign, with many sends
 * in flight to a slow provider, takes no new job, lets the sends under way finish and write their
 * results, and exits with code 0 (workers/send-worker.ts). Nothing is left `sending` or
 * `unknown`: every phone the provider accepted is `sent`, each exactly once, and the recipients
 * not reached yet still wait (`pending` or `queued`). A second worker then finishes the campaign
 * and every recipient ends `sent`, received by the provider exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { startSandboxServer, type SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { createSandboxCampaign, insertRecipients, statusCounts, waitFor } from '../support/fixtures.js';
import { createTestContext, type TestContext } from '../support/test-context.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

const TOTAL = 400;
const RATE_PER_SECOND = 200;
const WORKER_ENV = {
  JOB_LOCK_MS: '2000',
  SENDING_LEASE_MS: '5000',
  SEND_TIMEOUT_MS: '5000',
  FEEDER_INTERVAL_MS: '100',
  SWEEPER_INTERVAL_MS: '500',
  WORKER_CONCURRENCY: '50',
};
/** Generous: the worker's own deadline for a graceful stop is 30 s, after which it exits with 1. */
const EXIT_TIMEOUT_MS = 35_000;

let ctx: TestContext;
let sandbox: SandboxServer;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  // Slow answers, so that at this rate dozens of sends are on the wire at any moment.
  sandbox = await startSandboxServer({ latencyMs: [150, 250] });
});

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await sandbox.close();
  await ctx.close();
});

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** Sends `signal` and waits (on the condition, not the clock) for the process to be gone. */
async function stopAndWaitForExit(worker: WorkerProcess, signal: NodeJS.Signals): Promise<Exit> {
  let exit: Exit | undefined;
  worker.child.once('exit', (code, sig) => {
    exit = { code, signal: sig };
  });
  worker.child.kill(signal);
  return waitFor(`the worker to exit after ${signal}`, async () => exit, EXIT_TIMEOUT_MS, 20);
}

async function recipientRows(campaignId: string): Promise<{ phone: string; status: string }[]> {
  const { rows } = await ctx.db.pool.query<{ phone: string; status: string }>(`SELECT phone, status::text AS status FROM recipients WHERE campaign_id = $1`, [campaignId]);
  return rows;
}

it('stops on SIGTERM mid-campaign without interrupting a send, and another worker finishes the rest', async () => {
  const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, ratePerSecond: RATE_PER_SECOND });
  const phones = await insertRecipients(ctx, campaignId, TOTAL);
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');

  const first = await startWorkerProcess(ctx, WORKER_ENV);
  workers.push(first);
  // Some sends accepted, and several requests held open by the provider right now.
  await waitFor(
    'sends accepted and more in flight',
    async () => {
      const { received, accepted } = sandbox.stats();
      return accepted >= 40 && received - accepted >= 5;
    },
    30_000,
    10,
  );
  // The recipients claimed at this moment: their jobs are under way and must finish.
  const { rows: claimed } = await ctx.db.pool.query<{ phone: string }>(`SELECT phone FROM recipients WHERE campaign_id = $1 AND status = 'sending'`, [campaignId]);
  const atSignal = sandbox.stats();
  const exit = await stopAndWaitForExit(first, 'SIGTERM');
  expect(exit).toEqual({ code: 0, signal: null });

  // Nothing was interrupted: no recipient is mid-send or of unknown fate.
  const afterStop = await statusCounts(ctx, campaignId);
  expect(afterStop.sending ?? 0).toBe(0);
  expect(afterStop.unknown ?? 0).toBe(0);
  // Only sent recipients and recipients still waiting remain; some still wait (the stop came mid-campaign).
  expect(Object.keys(afterStop).filter((s) => !['sent', 'queued', 'pending'].includes(s))).toEqual([]);
  expect((afterStop.queued ?? 0) + (afterStop.pending ?? 0)).toBeGreaterThan(0);

  // What the provider accepted is exactly what Postgres calls sent, each phone once.
  const perPhone = sandbox.stats().perPhone;
  expect(Math.max(...Object.values(perPhone))).toBe(1);
  const rows = await recipientRows(campaignId);
  const sentPhones = rows.filter((r) => r.status === 'sent').map((r) => r.phone).sort();
  expect(sentPhones).toEqual(Object.keys(perPhone).sort());
  // The sends under way at the signal finished and their results were written.
  const statusOf = new Map(rows.map((r) => [r.phone, r.status]));
  for (const { phone } of claimed) expect(statusOf.get(phone), phone).toBe('sent');
  // The requests the provider held open at the signal were answered after it, and counted.
  expect(sentPhones.length).toBeGreaterThanOrEqual(atSignal.received);

  // A second worker takes the rest; the campaign completes with every recipient sent once.
  const second = await startWorkerProcess(ctx, WORKER_ENV);
  workers.push(second);
  await waitFor(
    'campaign completion',
    async () => (await ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } })).status === 'completed',
    30_000,
    100,
  );
  expect((await stopAndWaitForExit(second, 'SIGTERM')).code).toBe(0);

  expect(await statusCounts(ctx, campaignId)).toEqual({ sent: TOTAL });
  const finalPerPhone = sandbox.stats().perPhone;
  expect(Object.keys(finalPerPhone).sort()).toEqual([...phones].sort());
  expect(Object.values(finalPerPhone).every((n) => n === 1)).toBe(true);
  console.log(
    `graceful stop: ${atSignal.accepted} accepted and ${atSignal.received - atSignal.accepted} on the wire at SIGTERM, ` +
      `${claimed.length} claimed; after exit ${JSON.stringify(afterStop)}`,
  );
}, 90_000);
