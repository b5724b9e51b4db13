/**
 * The recipient transition table is the truth, and Postgres enforces it: every allowed move
 * succeeds, every other one is refused by the trigger, whoever writes it. The migration holds
 * exactly the trigger the table generates, and the table holds no move no operation makes.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_STATUSES, canTransition, recipientStatusGuardSql, transitionPairs, TRANSITIONS } from '../../src/recipients/index.js';
import { declaredMoves } from '../../src/recipients/transitions.js';
import { createSandboxCampaign, insertRecipients } from '../support/fixtures.js';
import { createTestContext, type TestContext } from '../support/test-context.js';

const MIGRATION = 'prisma/migrations/20261205120000_recipient_status_guard/migration.sql';

let ctx: TestContext;
let campaignId: string;

beforeAll(async () => {
  ctx = await createTestContext();
  ({ campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9' }));
});
afterAll(async () => ctx?.close());

/** A fresh recipient inserted directly in `status` (inserts are not guarded: ingest writes pending). */
async function recipientIn(status: string, n: number): Promise<string> {
  const phone = `+5698${String(1_000_000 + n).padStart(7, '0')}`;
  const { rows } = await ctx.db.pool.query<{ id: string }>(
    `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, status) VALUES ($1, $2, $3, $3, 1, $4::recipient_status) RETURNING id::text`,
    [ctx.tenantId, campaignId, phone, status],
  );
  return rows[0]?.id ?? '';
}

describe('the transition table', () => {
  it('the migration applies exactly the trigger the table generates', async () => {
    expect(await readFile(MIGRATION, 'utf8')).toBe(recipientStatusGuardSql());
  });

  it('every move of the table is made by some operation, and every operation move is in the table', async () => {
    await import('../../src/recipients/index.js');
    const declared = [...declaredMoves().keys()].sort();
    const table = transitionPairs().map(([from, to]) => `${from}->${to}`).sort();
    expect(declared).toEqual(table);
  });

  it('says why each move exists, and final states have none', () => {
    for (const from of ALL_STATUSES) for (const move of TRANSITIONS[from]) expect(move.why.length, `${from}->${move.to}`).toBeGreaterThan(10);
    for (const final of ['read', 'failed', 'cancelled'] as const) expect(TRANSITIONS[final]).toEqual([]);
    // The late outcomes of a send in doubt are real: a delivery status after unknown means it went out.
    expect(canTransition('unknown', 'delivered')).toBe(true);
    expect(canTransition('read', 'queued')).toBe(false);
  });

  it('Postgres allows every move of the table and refuses every other one', async () => {
    let n = 0;
    const refusedWrongly: string[] = [];
    const allowedWrongly: string[] = [];
    let allowed = 0;
    let refused = 0;
    for (const from of ALL_STATUSES) {
      for (const to of ALL_STATUSES) {
        if (from === to) continue;
        const id = await recipientIn(from, (n += 1));
        const ok = await ctx.db.pool
          .query(`UPDATE recipients SET status = $2::recipient_status WHERE id = $1`, [id, to])
          .then(() => true)
          .catch((error: { code?: string }) => {
            expect(error.code).toBe('23514');
            return false;
          });
        if (canTransition(from, to)) {
          allowed += 1;
          if (!ok) refusedWrongly.push(`${from}->${to}`);
        } else {
          refused += 1;
          if (ok) allowedWrongly.push(`${from}->${to}`);
        }
        const { rows } = await ctx.db.pool.query<{ status: string }>(`SELECT status::text FROM recipients WHERE id = $1`, [id]);
        expect(rows[0]?.status).toBe(ok ? to : from);
      }
    }
    expect(refusedWrongly).toEqual([]);
    expect(allowedWrongly).toEqual([]);
    expect(allowed).toBe(transitionPairs().length);
    expect(refused).toBe(ALL_STATUSES.length * (ALL_STATUSES.length - 1) - transitionPairs().length);
  });

  it('a raw UPDATE moving a read recipient back to queued fails in Postgres', async () => {
    const id = await recipientIn('read', 9_999);
    await expect(ctx.db.pool.query(`UPDATE recipients SET status = 'queued' WHERE id = $1`, [id])).rejects.toThrow(/cannot move from read to queued/);
  });

  it('a change that keeps the status (times, opt-out) is not a transition and passes', async () => {
    const [phone] = await insertRecipients(ctx, campaignId, 1, 500_000);
    const { rowCount } = await ctx.db.pool.query(`UPDATE recipients SET replied_at = now() WHERE campaign_id = $1 AND phone = $2`, [campaignId, phone]);
    expect(rowCount).toBe(1);
  });
});
