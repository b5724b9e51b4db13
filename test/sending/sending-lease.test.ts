/**
 * The sending lease: a recipient left `sending` with no job to finish it (its worker killed, its
 * job lost with it) becomes `unknown` at the sweeper's next pass once its claim is older than
 * SENDING_LEASE_MS, with the engine's SEND_INTERRUPTED code, pinned to its account and with a
 * history row. A claim younger than the lease is left alone. The sweep counts what it expired,
 * nothing is sent to the provider, and only the operator's resend-unknown puts it back to
 * `pending`. Claim times are moved with SQL, so no test waits for the clock.
 */
import { expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { ENGINE_CODES, engineCodeSentence } from '../../src/engine-codes.js';
import { claimForSending, markQueued } from '../../src/recipients/index.js';
import { statusCounts as engineStatusCounts } from '../../src/recipients/status-counts.js';
import { Sweeper } from '../../src/queue/sweeper.js';
import { engineForFile } from '../support/engine-harness.js';
import { createSandboxCampaign, insertRecipients, statusCounts } from '../support/fixtures.js';

/** The sweeper's lease here; claim times are set relative to it, a minute either side. */
const LEASE_MS = 120_000;

// No send workers, no feeder: nothing in this file can send except what the test itself calls.
const engine = engineForFile({ sandbox: true });

type RecipientRow = { id: string; status: string; error_code: string | null; provider_error_text: string | null; account_pinned: boolean; account_id: string | null };

async function recipient(id: string): Promise<RecipientRow> {
  const { rows } = await engine.ctx.db.pool.query<RecipientRow>(
    `SELECT id::text, status::text, error_code, provider_error_text, account_pinned, account_id::text FROM recipients WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) throw new Error(`no recipient ${id}`);
  return row;
}

async function history(id: string): Promise<{ status: string; source: string; error_code: string | null; detail: string | null }[]> {
  const { rows } = await engine.ctx.db.pool.query<{ status: string; source: string; error_code: string | null; detail: string | null }>(
    `SELECT status, source::text, error_code, detail FROM recipient_events WHERE recipient_id = $1 ORDER BY id`,
    [id],
  );
  return rows;
}

/** Moves a recipient's claim `ms` into the past, as if it had been made that long ago. */
async function claimedAgo(id: string, ms: number): Promise<void> {
  await engine.ctx.db.pool.query(`UPDATE recipients SET claimed_at = now() - make_interval(secs => $2::double precision / 1000) WHERE id = $1`, [id, ms]);
}

it('a claim past its lease becomes unknown at the next sweep, a younger one stays sending, nothing is resent until an operator asks', async () => {
  const { ctx, sandbox, redis, queues } = engine;
  const { accountId, campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'lease' });
  await insertRecipients(ctx, campaignId, 2);
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');

  // Claimed by a worker exactly as the pipeline claims (queued -> sending), and no job left in
  // Redis: the worker died mid-send and its job went with it.
  const ids = await markQueued(ctx.db.pool, campaignId, 2, { accountId, poolId: null, sticky: false });
  expect(ids).toHaveLength(2);
  const claims = await claimForSending(ctx.db.pool, ids.map((id) => ({ id, accountId })));
  expect([...claims.values()].every((c) => c.claimed !== null)).toBe(true);
  const [staleId, youngId] = ids as [string, string];
  await claimedAgo(staleId, LEASE_MS + 60_000);
  await claimedAgo(youngId, LEASE_MS - 60_000);
  expect(await statusCounts(ctx, campaignId)).toEqual({ sending: 2 });

  const sweeper = new Sweeper(ctx.db.pool, redis, queues, { sendingLeaseMs: LEASE_MS }, ctx.logger);
  const report = await sweeper.sweepOnce();
  expect(report.expired).toBe(1);
  expect(report.requeued).toBe(0);

  // The stale claim: unknown, with the interruption code and sentence, kept on its account.
  const stale = await recipient(staleId);
  expect(stale).toMatchObject({
    status: 'unknown',
    error_code: ENGINE_CODES.SEND_INTERRUPTED,
    provider_error_text: engineCodeSentence(ENGINE_CODES.SEND_INTERRUPTED),
    account_pinned: true,
    account_id: accountId,
  });
  expect((await history(staleId)).at(-1)).toEqual({
    status: 'unknown',
    source: 'engine',
    error_code: ENGINE_CODES.SEND_INTERRUPTED,
    detail: 'The worker stopped mid-send (lease expired).',
  });

  // The young claim: its worker may still be sending; left as it is, no history added.
  const young = await recipient(youngId);
  expect(young.status).toBe('sending');
  expect(young.error_code).toBeNull();
  expect((await history(youngId)).map((h) => h.status)).not.toContain('unknown');

  // Counted: the engine's counts (totals plus pending deltas) agree with the rows.
  expect(await statusCounts(ctx, campaignId)).toEqual({ unknown: 1, sending: 1 });
  expect(await engineStatusCounts(ctx.db.pool, campaignId)).toEqual({ unknown: 1, sending: 1 });

  // Not resent: no job was made for either, the provider received nothing, and another sweep
  // changes nothing.
  expect(await redis.exists(queues.jobKey(accountId, staleId), queues.jobKey(accountId, youngId))).toBe(0);
  expect(await queues.forAccount(accountId).getJobCountByTypes('wait', 'prioritized', 'delayed', 'active')).toBe(0);
  expect((await sweeper.sweepOnce()).expired).toBe(0);
  expect(await recipient(staleId)).toMatchObject({ status: 'unknown' });
  expect(sandbox.stats().received).toBe(0);

  // The young claim outliving its lease is expired the same way: it was spared for its age alone.
  await claimedAgo(youngId, LEASE_MS + 1_000);
  expect((await sweeper.sweepOnce()).expired).toBe(1);
  expect(await recipient(youngId)).toMatchObject({ status: 'unknown', error_code: ENGINE_CODES.SEND_INTERRUPTED, account_pinned: true });

  // The operator's resend: both in doubt go back to pending, with an operator history row.
  const resend = await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'resend-unknown');
  expect(resend).toEqual({ campaignId, status: 'running', affected: 2 });
  expect(await statusCounts(ctx, campaignId)).toEqual({ pending: 2 });
  expect(await engineStatusCounts(ctx.db.pool, campaignId)).toEqual({ pending: 2 });
  expect((await history(staleId)).at(-1)).toMatchObject({ status: 'pending', source: 'operator' });
  expect(sandbox.stats().received).toBe(0);
});
