/** The suppression list's SQL against a real Postgres: idempotent adds, tenant scoping, keyset pages, one-query lookups. */
import { describe, expect, it, vi } from 'vitest';
import { AppError } from '../../src/errors.js';
import {
  addSuppressions,
  hasSuppressions,
  isSuppressed,
  listSuppressions,
  removeSuppression,
  suppressedAmong,
  SUPPRESSION_REASONS,
} from '../../src/suppressions/suppression-list.js';
import { contextForFile } from '../support/test-context.js';

const ctx = contextForFile();

async function newTenant(): Promise<string> {
  return (await ctx.db.prisma.tenant.create({ data: { name: 'suppressions' } })).id;
}

/** Distinct Chilean mobiles in E.164, +56 97 XXX XXXX, starting at `offset`. */
const phones = (count: number, offset = 0) => Array.from({ length: count }, (_, i) => `+5697${String(offset + i).padStart(7, '0')}`);

describe('addSuppressions', () => {
  it('adds phones and counts only the new ones; a phone already listed keeps its first reason and detail', async () => {
    const tenantId = await newTenant();
    expect(await addSuppressions(ctx.db, tenantId, [{ phone: '+56970000001', reason: 'OPT_OUT_REPLY', detail: 'BAJA' }])).toBe(1);
    const added = await addSuppressions(ctx.db, tenantId, [
      { phone: '+56970000001', reason: 'MANUAL', detail: 'operator' },
      { phone: '+56970000002', reason: 'MANUAL' },
      { phone: '+56970000002', reason: 'IMPORT' },
    ]);
    expect(added).toBe(1);
    const rows = await ctx.db.prisma.suppression.findMany({ where: { tenantId }, orderBy: { phone: 'asc' } });
    expect(rows.map((r) => [r.phone, r.reason, r.detail])).toEqual([
      ['+56970000001', 'OPT_OUT_REPLY', 'BAJA'],
      ['+56970000002', 'MANUAL', null],
    ]);
  });

  it('keeps tenants apart: one tenant listing a phone does not list it for another', async () => {
    const a = await newTenant();
    const b = await newTenant();
    await addSuppressions(ctx.db, a, [{ phone: '+56970000003', reason: 'MANUAL' }]);
    expect(await isSuppressed(ctx.db, a, '+56970000003')).toBe(true);
    expect(await isSuppressed(ctx.db, b, '+56970000003')).toBe(false);
    expect(await addSuppressions(ctx.db, b, [{ phone: '+56970000003', reason: 'MANUAL' }])).toBe(1);
  });

  it('writes more phones than one INSERT takes, and an empty list is a no-op', async () => {
    const tenantId = await newTenant();
    const many = phones(25_000).map((phone) => ({ phone, reason: 'IMPORT' as const }));
    expect(await addSuppressions(ctx.db, tenantId, many)).toBe(25_000);
    expect(await addSuppressions(ctx.db, tenantId, many.slice(24_000))).toBe(0);
    expect(await addSuppressions(ctx.db, tenantId, [])).toBe(0);
    expect(await ctx.db.prisma.suppression.count({ where: { tenantId } })).toBe(25_000);
  });

  it('refuses a phone that is not E.164, storing nothing of the call', async () => {
    const tenantId = await newTenant();
    const call = addSuppressions(ctx.db, tenantId, [
      { phone: '+56970000004', reason: 'MANUAL' },
      { phone: '56970000005', reason: 'PROVIDER_OPTED_OUT' },
    ]);
    await expect(call).rejects.toBeInstanceOf(AppError);
    await expect(call).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('"56970000005" is not in E.164 form') });
    expect(await hasSuppressions(ctx.db, tenantId)).toBe(false);
  });

  it("runs on a transaction's client too, and goes with its rollback", async () => {
    const tenantId = await newTenant();
    const client = await ctx.db.pool.connect();
    try {
      await client.query('BEGIN');
      expect(await addSuppressions(client, tenantId, [{ phone: '+56970000006', reason: 'OPT_OUT_REPLY', detail: 'STOP' }])).toBe(1);
      expect(await suppressedAmong(client, tenantId, ['+56970000006'])).toEqual(new Set(['+56970000006']));
      expect(await isSuppressed(ctx.db, tenantId, '+56970000006')).toBe(false);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await hasSuppressions(ctx.db, tenantId)).toBe(false);
  });

  it('knows the four reasons', () => {
    expect([...SUPPRESSION_REASONS]).toEqual(['OPT_OUT_REPLY', 'PROVIDER_OPTED_OUT', 'MANUAL', 'IMPORT']);
  });
});

describe('removeSuppression', () => {
  it('removes the phone from its tenant only, and says whether it was there', async () => {
    const a = await newTenant();
    const b = await newTenant();
    await addSuppressions(ctx.db, a, [{ phone: '+56970000010', reason: 'MANUAL' }]);
    await addSuppressions(ctx.db, b, [{ phone: '+56970000010', reason: 'MANUAL' }]);
    expect(await removeSuppression(ctx.db, a, '+56970000010')).toBe(true);
    expect(await removeSuppression(ctx.db, a, '+56970000010')).toBe(false);
    expect(await isSuppressed(ctx.db, a, '+56970000010')).toBe(false);
    expect(await isSuppressed(ctx.db, b, '+56970000010')).toBe(true);
  });
});

describe('listSuppressions', () => {
  it('pages in phone order by keyset until `next` is null, every phone once', async () => {
    const tenantId = await newTenant();
    const listed = phones(7, 100);
    await addSuppressions(ctx.db, tenantId, [...listed].reverse().map((phone) => ({ phone, reason: 'MANUAL' as const, detail: 'note' })));
    const seen: string[] = [];
    const nexts: (string | null)[] = [];
    let cursor: string | undefined;
    do {
      const page = await listSuppressions(ctx.db, tenantId, { limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.suppressions.length).toBeLessThanOrEqual(3);
      seen.push(...page.suppressions.map((s) => s.phone));
      nexts.push(page.next);
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(seen).toEqual(listed);
    expect(nexts).toEqual([listed[2], listed[5], null]);
    const first = (await listSuppressions(ctx.db, tenantId, { limit: 1 })).suppressions[0];
    expect(first).toEqual({ phone: listed[0], reason: 'MANUAL', detail: 'note', createdAt: expect.any(Date) });
  });

  it('filters by the start of the number, and sees only its tenant', async () => {
    const tenantId = await newTenant();
    const other = await newTenant();
    await addSuppressions(ctx.db, tenantId, ['+56970000020', '+56970000021', '+5491123456789', '+573001234567'].map((phone) => ({ phone, reason: 'MANUAL' as const })));
    await addSuppressions(ctx.db, other, [{ phone: '+56970000022', reason: 'MANUAL' }]);
    const chile = await listSuppressions(ctx.db, tenantId, { limit: 10, phone: '+569' });
    expect(chile.suppressions.map((s) => s.phone)).toEqual(['+56970000020', '+56970000021']);
    const one = await listSuppressions(ctx.db, tenantId, { limit: 10, phone: '+5491123456789' });
    expect(one.suppressions.map((s) => s.phone)).toEqual(['+5491123456789']);
    expect((await listSuppressions(ctx.db, tenantId, { limit: 10 })).suppressions).toHaveLength(4);
    expect((await listSuppressions(ctx.db, await newTenant(), { limit: 10 })).suppressions).toEqual([]);
  });
});

describe('suppressedAmong', () => {
  it('answers which of many phones are listed, in one query; none asked is no query', async () => {
    const tenantId = await newTenant();
    const listed = phones(3, 200);
    await addSuppressions(ctx.db, tenantId, listed.map((phone) => ({ phone, reason: 'OPT_OUT_REPLY' as const })));
    const asked = [...phones(5_000, 1_000), listed[1] as string, listed[2] as string];
    const query = vi.spyOn(ctx.db.pool, 'query');
    try {
      expect(await suppressedAmong(ctx.db, tenantId, asked)).toEqual(new Set([listed[1], listed[2]]));
      expect(query).toHaveBeenCalledTimes(1);
      expect(await suppressedAmong(ctx.db, tenantId, [])).toEqual(new Set());
      expect(query).toHaveBeenCalledTimes(1);
    } finally {
      query.mockRestore();
    }
    expect(await suppressedAmong(ctx.db, await newTenant(), asked)).toEqual(new Set());
  });

  it('hasSuppressions tells an empty list from a listed one', async () => {
    const tenantId = await newTenant();
    expect(await hasSuppressions(ctx.db, tenantId)).toBe(false);
    await addSuppressions(ctx.db, tenantId, [{ phone: '+56970000030', reason: 'MANUAL' }]);
    expect(await hasSuppressions(ctx.db, tenantId)).toBe(true);
  });
});
