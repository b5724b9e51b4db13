/**
 * Writers that change many recipients at once lock them in id order, so an account stop and the
 * sends under way at that moment never deadlock; and a result write that still loses a lock
 * conflict (to a writer outside the engine) is tried again rather than failing its jobs.
 *
 * It failed in CI: a tier limit stopped the account while sends were being written, the stop's
 * UPDATE (rows in scan order) and a result write's batch (rows in arrival order) deadlocked, the
 * write was the victim, its job failed onto the paused queue, and its recipient stayed `sending`.
 */
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStates } from '../../src/accounts/account-state.js';
import { ErrorBudget } from '../../src/flow/error-budget.js';
import { claimForSending, holdForAccountLimit, markQueued, writeSendResults } from '../../src/recipients/index.js';
import { CampaignContexts } from '../../src/sending/campaign-context.js';
import { CampaignStops } from '../../src/campaigns/campaign-stops.js';
import { postgresSendStore } from '../../src/sending/postgres-send-store.js';
import { ResultWriter } from '../../src/sending/result-writer.js';
import { createSandboxCampaign, insertRecipients, waitFor } from '../support/fixtures.js';
import { contextForFile } from '../support/test-context.js';

const ctx = contextForFile();
let redis: Redis;
let writer: ResultWriter;
let other: pg.Client;

beforeAll(async () => {
  redis = new Redis(ctx.config.redisUrl, { maxRetriesPerRequest: null });
  const states = new AccountStates(redis, ctx.config.queuePrefix);
  writer = new ResultWriter({
    store: postgresSendStore(ctx.db, new CampaignStops(redis, ctx.config.queuePrefix, ctx.db.pool, ctx.logger)),
    redis,
    keyPrefix: ctx.config.queuePrefix,
    errorBudget: new ErrorBudget(redis, ctx.config.queuePrefix, { minSample: 50 }),
    contexts: new CampaignContexts(ctx.db.prisma, async (accountId) => (await states.read(accountId)).generation),
    retryBudgetMs: 5_000,
    logger: ctx.logger,
  });
  other = new pg.Client({ connectionString: ctx.databaseUrl });
  await other.connect();
});

afterAll(async () => {
  await writer?.drain();
  await other?.end();
  redis?.disconnect();
});

/** A running campaign on its own account with `count` queued recipients, the first `claimed` of them claimed (`sending`). */
async function campaignUnderWay(name: string, count: number, claimed: number, offset: number): Promise<{ campaignId: string; accountId: string; ids: string[] }> {
  const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9', name, ratePerSecond: 1_000 });
  await insertRecipients(ctx, campaignId, count, offset);
  await ctx.db.pool.query(`UPDATE campaigns SET status = 'running', started_at = now() WHERE id = $1`, [campaignId]);
  const ids = (await markQueued(ctx.db.pool, campaignId, count, { accountId, poolId: null, sticky: false })).sort((a, b) => Number(a) - Number(b));
  expect(ids).toHaveLength(count);
  const claims = await claimForSending(ctx.db.pool, ids.slice(0, claimed).map((id) => ({ id, accountId })));
  expect([...claims.values()].every((c) => c.claimed !== null)).toBe(true);
  return { campaignId, accountId, ids };
}

/** Waits until some backend other than `other` is blocked on a lock. */
async function someoneWaitsOnALock(): Promise<void> {
  await waitFor('a statement to wait on a row lock', async () => {
    const { rows } = await ctx.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1`,
      [(other as unknown as { processID: number }).processID],
    );
    return (rows[0]?.n ?? 0) > 0;
  }, 10_000, 10);
}

async function statuses(ids: readonly string[]): Promise<string[]> {
  const { rows } = await ctx.db.pool.query<{ id: string; status: string }>(`SELECT id::text, status::text FROM recipients WHERE id = ANY($1::bigint[]) ORDER BY id`, [ids]);
  return rows.map((r) => r.status);
}

describe('recipient lock order', () => {
  it('a batch of results locks its recipients in id order, whatever order the results came in', async () => {
    const { ids } = await campaignUnderWay('written in order', 2, 2, 690_000);
    const [low, high] = ids as [string, string];
    await other.query('BEGIN');
    try {
      await other.query(`SET LOCAL lock_timeout = '3s'`);
      await other.query(`SELECT id FROM recipients WHERE id = $1 FOR UPDATE`, [low]);
      // Results in arrival order, the higher id first: the write waits on the lower one, holding none.
      const written = writeSendResults(ctx.db.pool, [
        { id: high, attempt: 1, status: 'deferred', refundAttempt: true, notBefore: null },
        { id: low, attempt: 1, status: 'deferred', refundAttempt: true, notBefore: null },
      ]);
      await someoneWaitsOnALock();
      const { rowCount } = await other.query(`UPDATE recipients SET updated_at = now() WHERE id = $1`, [high]);
      expect(rowCount).toBe(1);
      await other.query('COMMIT');
      expect([...(await written)].sort()).toEqual([high, low].sort());
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
    }
    expect(await statuses(ids)).toEqual(['deferred', 'deferred']);
  }, 30_000);

  it('a result write chosen as a deadlock victim is written anyway, not failed', async () => {
    const { ids } = await campaignUnderWay('deadlock victim', 2, 2, 700_000);
    const [low, high] = ids as [string, string];
    await other.query('BEGIN');
    try {
      // Another writer, outside the engine and in no order, holds the higher row; the batch locks
      // the lower one, then waits for the higher one. (That writer checks for deadlocks only after
      // 10 s, so the batch's check, after the default 1 s, is the one that finds the cycle, however
      // busy the machine.)
      await other.query(`SET LOCAL deadlock_timeout = '10s'`);
      await other.query(`SELECT id FROM recipients WHERE id = $1 FOR UPDATE`, [high]);
      const written = Promise.all([
        writer.write({ id: low, attempt: 1, status: 'deferred', refundAttempt: true, notBefore: null, errorCode: 'ACCOUNT_TIER_LIMIT' }),
        writer.write({ id: high, attempt: 1, status: 'deferred', refundAttempt: true, notBefore: null, errorCode: 'ACCOUNT_TIER_LIMIT' }),
      ]);
      await someoneWaitsOnALock();
      // Now the other writer wants the lower row: a cycle. Postgres ends it by failing the batch;
      // the writer tries it again.
      const otherWrite = other.query(`UPDATE recipients SET updated_at = now() WHERE id = $1`, [low]);
      const first = await Promise.race([written.then(() => 'written' as const), otherWrite.then(() => 'other' as const)]);
      expect(first).toBe('other');
      await other.query('COMMIT');
      expect(await written).toEqual([true, true]);
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
    }
    expect(await statuses(ids)).toEqual(['deferred', 'deferred']);
  }, 30_000);

  it("an account's hold locks its recipients in id order, so it waits behind a write rather than deadlocking with it", async () => {
    const { accountId, ids } = await campaignUnderWay('held in order', 40, 0, 710_000);
    // Rows rewritten from the last to the first, so their order on disk is no longer their ids'.
    // (Each grown, with text that does not compress, past what its page has room for: its new version goes to the table's end.)
    for (const id of [...ids].reverse()) await ctx.db.pool.query(`UPDATE recipients SET provider_error_text = (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 50)) WHERE id = $1`, [id]);
    await ctx.db.pool.query(`UPDATE provider_accounts SET status = 'limited' WHERE id = $1`, [accountId]);
    const lowest = ids[0] as string;
    const highest = ids[ids.length - 1] as string;
    await other.query('BEGIN');
    try {
      // A hold that had locked the highest row would make the write below fail here, not hang.
      await other.query(`SET LOCAL lock_timeout = '3s'`);
      await other.query(`SELECT id FROM recipients WHERE id = $1 FOR UPDATE`, [lowest]);
      // Whatever plan Postgres picks: here a scan in the rows' order on disk.
      const holder = await ctx.db.pool.connect();
      await holder.query(`SET enable_indexscan = off; SET enable_bitmapscan = off`);
      const held = holdForAccountLimit(holder, accountId, 'ACCOUNT_TIER_LIMIT').finally(async () => {
        await holder.query(`RESET enable_indexscan; RESET enable_bitmapscan`);
        holder.release();
      });
      await someoneWaitsOnALock();
      // The hold waits on the lowest id, holding none above it: a write of the highest one goes through.
      const { rowCount } = await other.query(`UPDATE recipients SET updated_at = now() WHERE id = $1`, [highest]);
      expect(rowCount).toBe(1);
      await other.query('COMMIT');
      expect(await held).toBe(ids.length);
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
    }
    expect(new Set(await statuses(ids))).toEqual(new Set(['deferred']));
  }, 30_000);
});
