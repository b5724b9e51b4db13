/**
 * Quiet-hours deferrals hold only under the window they were computed from: an operator who
 * changes a campaign's window while the feeder is between its read and its write does not get
 * recipients deferred by the old window (it failed the quiet-hours flow test once, in the full
 * suite: the window was opened, and a feeder round begun before deferred everyone two hours out).
 */
import { describe, expect, it } from 'vitest';
import { deferRecipients } from '../../src/recipients/index.js';
import { createSandboxCampaign, insertRecipients, statusCounts } from '../support/fixtures.js';
import { contextForFile } from '../support/test-context.js';

const ctx = contextForFile();

async function pendingIds(campaignId: string): Promise<string[]> {
  const { rows } = await ctx.db.pool.query<{ id: string }>(`SELECT id::text FROM recipients WHERE campaign_id = $1 ORDER BY id`, [campaignId]);
  return rows.map((r) => r.id);
}

describe('deferring recipients until their window opens', () => {
  it('defers under the window the caller read, and nothing once the campaign has another', async () => {
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9', name: 'window guard' });
    await insertRecipients(ctx, campaignId, 4, 900_000);
    await ctx.db.pool.query(`UPDATE campaigns SET window_start = 600, window_end = 660 WHERE id = $1`, [campaignId]);
    const ids = await pendingIds(campaignId);
    const later = new Date(Date.now() + 2 * 3_600_000);
    const writes = (some: readonly string[]) => some.map((id) => ({ id, notBefore: later, errorCode: 'QUIET_HOURS' }));

    // Read 600-660, and the campaign still has it: deferred.
    expect(await deferRecipients(ctx.db.pool, writes(ids.slice(0, 2)), { campaignId, windowStart: 600, windowEnd: 660 })).toBe(2);
    // The operator opens the window all day; a deferral computed from the old one is dropped.
    await ctx.db.pool.query(`UPDATE campaigns SET window_start = NULL, window_end = NULL WHERE id = $1`, [campaignId]);
    expect(await deferRecipients(ctx.db.pool, writes(ids.slice(2)), { campaignId, windowStart: 600, windowEnd: 660 })).toBe(0);
    // Read as it is now (no window): the guard matches the NULLs.
    expect(await deferRecipients(ctx.db.pool, writes(ids.slice(2, 3)), { campaignId, windowStart: null, windowEnd: null })).toBe(1);
    expect(await statusCounts(ctx, campaignId)).toEqual({ deferred: 3, pending: 1 });
  });
});
