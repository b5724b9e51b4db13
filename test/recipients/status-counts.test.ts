/**
 * The recipients' counts Postgres keeps (src/recipients/status-counts.ts, the triggers of migration
 * 20261206180000_recipient_counts) against the truth, `GROUP BY` over the recipients themselves:
 * after an ingest, a send through the sandbox, pause, cancel and account moves, a campaign's
 * deletion, TRUNCATE, writers on several connections at once, and random sequences of inserts,
 * updates and deletes with folds at random points.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { createDatabase } from '../../src/db/database.js';
import { accountStatusCounts, foldCounts, statusCounts, statusCountsByCampaign } from '../../src/recipients/status-counts.js';
import { ingestRecipients } from '../../src/ingest/ingest-recipients.js';
import type { SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { transitionPairs, type RecipientStatus } from '../../src/recipients/index.js';
import { chunks } from '../ingest/campaign-fixture.js';
import { createTestDatabase } from '../support/databases.js';
import { engineForFile, FAST_ENGINE_CONFIG } from '../support/engine-harness.js';
import { createSandboxCampaign, insertRecipients, statusCounts as truthByStatus, waitFor, waitForNothingUnderWay } from '../support/fixtures.js';
import type { TestContext } from '../support/test-context.js';

let ctx: TestContext;
let sandbox: SandboxServer;
engineForFile({ config: FAST_ENGINE_CONFIG, sendWorkers: true, sandbox: true }, (e) => ({ ctx, sandbox } = e));

async function truthByAccount(campaignId: string): Promise<{ accountId: string; status: string; n: number }[]> {
  const { rows } = await ctx.db.pool.query<{ account_id: string; status: string; n: string }>(
    `SELECT account_id, status::text AS status, count(*) AS n FROM recipients WHERE campaign_id = $1 AND account_id IS NOT NULL
      GROUP BY 1, 2 ORDER BY 1, 2`,
    [campaignId],
  );
  return rows.map((r) => ({ accountId: r.account_id, status: r.status, n: Number(r.n) }));
}

/** The kept counts equal the truth, read before and after a fold. */
async function expectExact(campaignId: string): Promise<void> {
  for (const fold of [false, true]) {
    if (fold) await foldCounts(ctx.db.pool);
    expect(await statusCounts(ctx.db.pool, campaignId)).toEqual(await truthByStatus(ctx, campaignId));
    expect(await accountStatusCounts(ctx.db.pool, campaignId)).toEqual(await truthByAccount(campaignId));
  }
}

/** `n` connections of their own to the file's database (each a writer or a folder). */
function connections(n: number): Promise<pg.Client[]> {
  return Promise.all(Array.from({ length: n }, async () => {
    const c = new pg.Client({ connectionString: ctx.databaseUrl });
    await c.connect();
    return c;
  }));
}

async function campaignStatus(campaignId: string): Promise<string> {
  return (await ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } })).status;
}

describe('recipient counts kept by Postgres', () => {
  it('count an ingest (COPY), a send to the end, and a campaign deletion', async () => {
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'ingested' });
    const csv = ['phone;name', ...Array.from({ length: 300 }, (_, i) => `+5698765${String(i).padStart(4, '0')};Ana`), 'not a phone;Bob', '+56987650001;dup'].join('\n') + '\n';
    const summary = await ingestRecipients(ctx.db, chunks(csv), { tenantId: ctx.tenantId, campaignId, format: 'csv', defaultCountry: 'CL', paramCount: 1, batchRows: 64 });
    expect(summary).toMatchObject({ accepted: 300, rejected: 1, duplicates: 1 });
    expect(await statusCounts(ctx.db.pool, campaignId)).toEqual({ pending: 300 });
    await expectExact(campaignId);

    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    await waitFor('completion', async () => (await campaignStatus(campaignId)) === 'completed');
    expect(await statusCounts(ctx.db.pool, campaignId)).toEqual({ sent: 300 });
    // The engine's leader folds the deltas on its own.
    await waitFor('the leader to fold the deltas', async () => {
      const { rows } = await ctx.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM recipient_count_deltas WHERE campaign_id = $1`, [campaignId]);
      return rows[0]?.n === 0;
    });
    const totals = await ctx.db.pool.query(`SELECT status::text, n::int FROM recipient_counts WHERE campaign_id = $1 AND n <> 0`, [campaignId]);
    expect(totals.rows).toEqual([{ status: 'sent', n: 300 }]);
    await expectExact(campaignId);

    await ctx.db.prisma.campaign.delete({ where: { id: campaignId } });
    await foldCounts(ctx.db.pool);
    const left = await ctx.db.pool.query(
      `SELECT (SELECT count(*) FROM recipient_counts WHERE campaign_id = $1)::int AS totals, (SELECT count(*) FROM recipient_count_deltas WHERE campaign_id = $1)::int AS deltas`,
      [campaignId],
    );
    expect(left.rows[0]).toEqual({ totals: 0, deltas: 0 });
    expect(await statusCounts(ctx.db.pool, campaignId)).toEqual({});
  });

  it('count a pause, a cancel and moves between accounts', async () => {
    sandbox.reset();
    const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'stopped', ratePerSecond: 5 });
    await insertRecipients(ctx, campaignId, 200, 10_000);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    await waitFor('some sent', async () => ((await truthByStatus(ctx, campaignId)).sent ?? 0) >= 3);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'pause');
    await waitForNothingUnderWay(ctx, campaignId);
    await expectExact(campaignId);

    // A pool moves recipients between accounts; here by hand.
    const other = randomUUID();
    await ctx.db.pool.query(`UPDATE recipients SET account_id = $2 WHERE campaign_id = $1 AND status = 'pending' AND id % 3 = 0`, [campaignId, other]);
    await ctx.db.pool.query(`UPDATE recipients SET account_id = NULL WHERE campaign_id = $1 AND account_id = $2 AND id % 2 = 0`, [campaignId, other]);
    await expectExact(campaignId);
    expect((await accountStatusCounts(ctx.db.pool, campaignId)).map((c) => c.accountId)).toContain(accountId);

    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'cancel');
    await waitFor('cancelled', async () => (await campaignStatus(campaignId)) === 'cancelled');
    const truth = await truthByStatus(ctx, campaignId);
    expect(truth.cancelled).toBeGreaterThan(0);
    await expectExact(campaignId);
  });

  it('are exact with writers on several connections at once, and folds beside them', async () => {
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'concurrent' });
    await insertRecipients(ctx, campaignId, 2_000, 20_000);
    const clients = await connections(6);
    try {
      // Each writer walks its own share of the recipients pending -> queued -> sending -> sent in
      // small statements, and two of them fold between their writes.
      await Promise.all(clients.map(async (c, k) => {
        for (let step = 0; step < 10; step++) {
          const mine = `campaign_id = $1 AND id % 6 = ${k} AND id % 10 = ${step}`;
          await c.query(`UPDATE recipients SET status = 'queued' WHERE ${mine} AND status = 'pending'`, [campaignId]);
          await c.query('BEGIN');
          await c.query(`UPDATE recipients SET status = 'sending', account_id = gen_random_uuid() WHERE ${mine} AND status = 'queued'`, [campaignId]);
          await c.query(`UPDATE recipients SET status = 'sent' WHERE ${mine} AND status = 'sending' AND id % 4 <> 0`, [campaignId]);
          await c.query('COMMIT');
          if (k < 2) await foldCounts(c, 7);
        }
      }));
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    const truth = await truthByStatus(ctx, campaignId);
    expect(truth).toEqual({ sending: expect.any(Number), sent: expect.any(Number) });
    await expectExact(campaignId);
  });

  it('folds of different sizes at once, over many deltas and beside writers, neither deadlock nor count a delta twice', async () => {
    // A small fold and a large one plan their DELETEs differently (and a large table's scans start
    // wherever another scan is), so without SKIP LOCKED they took shared deltas in different orders
    // and Postgres killed one as a deadlock, as in CI.
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'folds at once' });
    await insertRecipients(ctx, campaignId, 6_000, 40_000);
    const clients = await connections(5);
    try {
      for (let round = 0; round < 2; round++) {
        // One delta per recipient: each gets an account of its own.
        await ctx.db.pool.query(`UPDATE recipients SET account_id = gen_random_uuid() WHERE campaign_id = $1`, [campaignId]);
        let writing = true;
        const writers = clients.slice(3).map(async (c, k) => {
          for (let step = 0; writing; step++) {
            await c.query(`UPDATE recipients SET account_id = gen_random_uuid() WHERE campaign_id = $1 AND id % 50 = $2`, [campaignId, (step * 2 + k) % 50]);
          }
        });
        const folds = [
          foldCounts(clients[0]!),
          (async () => { for (let i = 0; i < 10; i++) await foldCounts(clients[1]!, 7); })(),
          (async () => { for (let i = 0; i < 5; i++) await foldCounts(clients[2]!, 500); })(),
        ];
        try {
          await Promise.all(folds);
        } finally {
          writing = false;
          await Promise.all(writers);
        }
        await expectExact(campaignId);
      }
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('start right on an installation upgraded with recipients already there (the migration counts them)', async () => {
    const database = await createTestDatabase();
    const db = createDatabase(database.url, { max: 2 });
    try {
      // The database as it was before the migration, with a campaign under way in it.
      await db.pool.query(`DROP TABLE recipient_count_deltas, recipient_counts;
        DROP FUNCTION recipient_counts_inserted, recipient_counts_updated, recipient_counts_deleted, recipient_counts_truncated CASCADE;
        DELETE FROM _prisma_migrations WHERE migration_name = '20261206180000_recipient_counts'`);
      const tenant = await db.prisma.tenant.create({ data: { name: 'upgraded' } });
      const old = { ...ctx, db, tenantId: tenant.id };
      const { campaignId } = await createSandboxCampaign(old, { sandboxUrl: sandbox.url, name: 'before the upgrade' });
      await insertRecipients(old, campaignId, 30);
      await db.pool.query(`UPDATE recipients SET status = 'queued' WHERE campaign_id = $1 AND id % 3 = 0`, [campaignId]);
      await db.pool.query(`UPDATE recipients SET status = 'sending', account_id = gen_random_uuid() WHERE campaign_id = $1 AND id % 6 = 0`, [campaignId]);

      // The upgrade as an operator runs it (the schema engine needs --experimental-wasm-modules).
      const migrate = spawnSync(process.execPath, ['--experimental-wasm-modules', '--no-warnings', '--import', 'tsx', 'src/cli/migrate.ts'], {
        encoding: 'utf8',
        env: { ...process.env, DATABASE_URL: database.url },
      });
      expect(migrate.stdout + migrate.stderr).toContain('applied: 20261206180000_recipient_counts');
      expect(await statusCounts(db.pool, campaignId)).toEqual({ pending: 20, queued: 5, sending: 5 });
      await db.pool.query(`UPDATE recipients SET status = 'sent' WHERE campaign_id = $1 AND status = 'sending'`, [campaignId]);
      expect(await statusCounts(db.pool, campaignId)).toEqual({ pending: 20, queued: 5, sent: 5 });
      expect((await accountStatusCounts(db.pool, campaignId)).map((c) => [c.status, c.n])).toEqual(Array.from({ length: 5 }, () => ['sent', 1]));
    } finally {
      await db.close();
      await database.drop();
    }
  });

  it('do not count a rolled back statement', async () => {
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'rolled back' });
    await insertRecipients(ctx, campaignId, 10, 30_000);
    const client = await ctx.db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`UPDATE recipients SET status = 'queued' WHERE campaign_id = $1`, [campaignId]);
      // Inside the transaction, its own change is counted.
      expect(await statusCounts(client, campaignId)).toEqual({ queued: 10 });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await statusCounts(ctx.db.pool, campaignId)).toEqual({ pending: 10 });
    await expectExact(campaignId);
  });

  it('equal the truth after any sequence of inserts, updates, moves and deletes, folded at any point', async () => {
    const campaigns = await Promise.all([0, 1, 2].map(async (i) => (await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: `property ${i}` })).campaignId));
    const accounts = [null, randomUUID(), randomUUID()];
    const pairs = transitionPairs();
    let phone = 0;

    type Op =
      | { kind: 'insert'; campaign: number; count: number; status: RecipientStatus; account: number }
      | { kind: 'transition'; campaign: number; pair: number; mod: number; rest: number }
      | { kind: 'account'; campaign: number; account: number; mod: number; rest: number }
      | { kind: 'campaign'; from: number; to: number; mod: number; rest: number }
      | { kind: 'touch'; campaign: number }
      | { kind: 'delete'; campaign: number; mod: number; rest: number }
      | { kind: 'fold'; batch: number };
    const pick = (n: number) => fc.integer({ min: 0, max: n - 1 });
    const subset = { mod: fc.integer({ min: 1, max: 4 }), rest: fc.integer({ min: 0, max: 3 }) };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), campaign: pick(3), count: fc.integer({ min: 0, max: 12 }), status: fc.constantFrom(...pairs.map(([from]) => from)), account: pick(3) }),
      fc.record({ kind: fc.constant('transition' as const), campaign: pick(3), pair: pick(pairs.length), ...subset }),
      fc.record({ kind: fc.constant('account' as const), campaign: pick(3), account: pick(3), ...subset }),
      fc.record({ kind: fc.constant('campaign' as const), from: pick(3), to: pick(3), ...subset }),
      fc.record({ kind: fc.constant('touch' as const), campaign: pick(3) }),
      fc.record({ kind: fc.constant('delete' as const), campaign: pick(3), ...subset }),
      fc.record({ kind: fc.constant('fold' as const), batch: fc.integer({ min: 1, max: 20 }) }),
    );
    const at = (i: number) => campaigns[i] ?? '';
    const run = async (o: Op): Promise<void> => {
      const db = ctx.db.pool;
      const some = (mod: number, rest: number) => `id % ${mod} = ${rest % mod}`;
      switch (o.kind) {
        case 'insert': {
          const phones = Array.from({ length: o.count }, () => `+5697${String(++phone).padStart(7, '0')}`);
          await db.query(
            `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, status, account_id)
             SELECT $1, $2, p, p, 1, $3::recipient_status, $4::uuid FROM unnest($5::text[]) AS p`,
            [ctx.tenantId, at(o.campaign), o.status, accounts[o.account], phones],
          );
          return;
        }
        case 'transition': {
          const [from, to] = pairs[o.pair] ?? ['pending', 'queued'];
          await db.query(`UPDATE recipients SET status = $2::recipient_status WHERE campaign_id = $1 AND status = $3::recipient_status AND ${some(o.mod, o.rest)}`, [at(o.campaign), to, from]);
          return;
        }
        case 'account':
          await db.query(`UPDATE recipients SET account_id = $2::uuid WHERE campaign_id = $1 AND ${some(o.mod, o.rest)}`, [at(o.campaign), accounts[o.account]]);
          return;
        case 'campaign':
          await db.query(`UPDATE recipients SET campaign_id = $2 WHERE campaign_id = $1 AND ${some(o.mod, o.rest)}`, [at(o.from), at(o.to)]);
          return;
        case 'touch':
          await db.query(`UPDATE recipients SET updated_at = now() WHERE campaign_id = $1`, [at(o.campaign)]);
          return;
        case 'delete':
          await db.query(`DELETE FROM recipients WHERE campaign_id = $1 AND ${some(o.mod, o.rest)}`, [at(o.campaign)]);
          return;
        case 'fold':
          await foldCounts(db, o.batch);
      }
    };

    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        for (const o of ops) await run(o);
        for (const campaignId of campaigns) {
          expect(await statusCounts(ctx.db.pool, campaignId)).toEqual(await truthByStatus(ctx, campaignId));
          expect(await accountStatusCounts(ctx.db.pool, campaignId)).toEqual(await truthByAccount(campaignId));
        }
        const byCampaign = await statusCountsByCampaign(ctx.db.pool, campaigns);
        const { rows } = await ctx.db.pool.query<{ campaign_id: string; status: string; n: string }>(
          `SELECT campaign_id, status::text AS status, count(*) AS n FROM recipients WHERE campaign_id = ANY($1::uuid[]) GROUP BY 1, 2 ORDER BY 1, 2`,
          [campaigns],
        );
        expect(byCampaign).toEqual(rows.map((r) => ({ campaignId: r.campaign_id, status: r.status, n: Number(r.n) })));
      }),
      { numRuns: 40 },
    );
    // Folded, the totals alone hold the counts.
    await foldCounts(ctx.db.pool);
    const { rows } = await ctx.db.pool.query(`SELECT count(*)::int AS n FROM recipient_count_deltas WHERE campaign_id = ANY($1::uuid[])`, [campaigns]);
    expect(rows[0]).toEqual({ n: 0 });
    for (const campaignId of campaigns) await expectExact(campaignId);
  });

  // Last: it empties every campaign of this file.
  it('are emptied by TRUNCATE, which fires no DELETE trigger', async () => {
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, name: 'truncated' });
    await insertRecipients(ctx, campaignId, 5, 40_000);
    await ctx.db.pool.query('TRUNCATE recipients CASCADE');
    expect(await statusCounts(ctx.db.pool, campaignId)).toEqual({});
    const { rows } = await ctx.db.pool.query(`SELECT (SELECT count(*) FROM recipient_counts)::int AS totals, (SELECT count(*) FROM recipient_count_deltas)::int AS deltas`);
    expect(rows[0]).toEqual({ totals: 0, deltas: 0 });
  });
});
