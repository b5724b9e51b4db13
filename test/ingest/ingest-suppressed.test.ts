/** Phones on the tenant's suppression list never become recipients: PHONE_SUPPRESSED, with their line, one lookup per group of rows. */
import { describe, expect, it, vi } from 'vitest';
import { ingestRecipients } from '../../src/ingest/ingest-recipients.js';
import { REJECTION_REASONS } from '../../src/ingest/rejection-reasons.js';
import { checkRowGroups } from '../../src/ingest/suppression-check.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';
import { addSuppressions } from '../../src/suppressions/suppression-list.js';
import { contextForFile } from '../support/test-context.js';
import { chunks, createCampaign, storedRecipients, storedRejections } from './campaign-fixture.js';

const ctx = contextForFile();

async function suppress(...phones: string[]): Promise<void> {
  await addSuppressions(ctx.db, ctx.tenantId, phones.map((phone) => ({ phone, reason: 'OPT_OUT_REPLY' as const })));
}

/** Calls to the pool that read the suppression list, while `run` runs. */
async function suppressionQueries<T>(run: () => Promise<T>): Promise<{ result: T; queries: number }> {
  const query = vi.spyOn(ctx.db.pool, 'query');
  try {
    const result = await run();
    const queries = query.mock.calls.filter(([sql]) => typeof sql === 'string' && sql.includes('FROM suppressions')).length;
    return { result, queries };
  } finally {
    query.mockRestore();
  }
}

describe('suppressed phones', () => {
  it('rejects a row whose phone is on the list, however it is written, and keeps the others', async () => {
    await suppress('+56988000002', '+56988000004');
    const { campaignId, options } = await createCampaign(ctx);
    const csv = 'telefono;nombre;monto\n+56988000001;Ana;1\n9 8800 0002;Bea;2\n+56988000003;Cata;3\n56988000004;Dani;4\n+56988000005;Eli;5\n';
    const summary = await ingestRecipients(ctx.db, chunks(csv), options);
    expect(summary).toMatchObject({ totalRows: 5, accepted: 3, rejected: 2, duplicates: 0, rejectedByReason: { PHONE_SUPPRESSED: 2 } });
    expect((await storedRecipients(ctx, campaignId)).map((r) => [r.line, r.phone])).toEqual([
      [2, '+56988000001'],
      [4, '+56988000003'],
      [6, '+56988000005'],
    ]);
    expect(await storedRejections(ctx, summary.uploadId)).toEqual([
      {
        line: 3,
        reason: 'PHONE_SUPPRESSED',
        message: 'The phone +56988000002 is on the suppression list: it asked not to receive messages, or an operator stopped it.',
        raw: '9 8800 0002;Bea;2',
      },
      { line: 5, reason: 'PHONE_SUPPRESSED', message: expect.stringContaining('The phone +56988000004 is on the suppression list'), raw: '56988000004;Dani;4' },
    ]);
    const upload = await ctx.db.prisma.upload.findUniqueOrThrow({ where: { id: summary.uploadId } });
    expect({ accepted: upload.accepted, rejected: upload.rejected, duplicates: upload.duplicates }).toEqual({ accepted: 3, rejected: 2, duplicates: 0 });
    expect(REJECTION_REASONS.PHONE_SUPPRESSED).toBe('This phone asked not to receive messages (suppression list).');
  });

  it('rejects every row of a suppressed phone written twice, rather than calling the second a duplicate', async () => {
    await suppress('+56988000010');
    const { options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks('phone;a;b\n+56988000010;x;1\n988000010;y;2\n+56988000011;z;3\n'), options);
    expect(summary).toMatchObject({ accepted: 1, rejected: 2, duplicates: 0, rejectedByReason: { PHONE_SUPPRESSED: 2 } });
  });

  it('applies to JSON recipients too (POST /v1/campaigns with inline recipients)', async () => {
    await suppress('+56988000020');
    const { options } = await createCampaign(ctx);
    const json = JSON.stringify([
      { phone: '+56988000020', a: 'x', b: '1' },
      { phone: '+56988000021', a: 'y', b: '2' },
    ]);
    const summary = await ingestRecipients(ctx.db, chunks(json), { ...options, format: 'json' });
    expect(summary).toMatchObject({ accepted: 1, rejected: 1, rejectedByReason: { PHONE_SUPPRESSED: 1 } });
    expect((await storedRejections(ctx, summary.uploadId)).map((r) => [r.line, r.reason])).toEqual([[1, 'PHONE_SUPPRESSED']]);
  });

  it("ignores another tenant's list", async () => {
    const other = await ctx.db.prisma.tenant.create({ data: { name: 'other' } });
    await addSuppressions(ctx.db, other.id, [{ phone: '+56988000030', reason: 'MANUAL' }]);
    const { options } = await createCampaign(ctx);
    expect(await ingestRecipients(ctx.db, chunks('phone;a;b\n+56988000030;x;1\n'), options)).toMatchObject({ accepted: 1, rejected: 0 });
  });

  it('looks the list up once per group of 2,000 rows, not per row, with lines right across groups and chunks', async () => {
    const suppressed = [0, 1_999, 2_000, 4_321, 6_999].map((i) => `+56989${String(i).padStart(6, '0')}`);
    await suppress(...suppressed);
    const { campaignId, options } = await createCampaign(ctx);
    const rows = Array.from({ length: 7_000 }, (_, i) => `+56989${String(i).padStart(6, '0')};n;${i}`);
    const { result: summary, queries } = await suppressionQueries(() =>
      ingestRecipients(ctx.db, chunks(`phone;a;b\n${rows.join('\n')}\n`, 1000), { ...options, batchRows: 1_500 }),
    );
    expect(summary).toMatchObject({ totalRows: 7_000, accepted: 6_995, rejected: 5, rejectedByReason: { PHONE_SUPPRESSED: 5 } });
    expect((await storedRejections(ctx, summary.uploadId)).map((r) => r.line)).toEqual([2, 2_001, 2_002, 4_323, 7_001]);
    expect(await storedRecipients(ctx, campaignId)).toHaveLength(6_995);
    // One "is the list empty?" query, then one lookup per group of at least 2,000 rows (whole
    // batches of the reader: the first holds the 64 KiB it reads to guess the delimiter).
    expect(queries).toBeGreaterThanOrEqual(1 + 2);
    expect(queries).toBeLessThanOrEqual(1 + Math.ceil(7_000 / 2_000));
  });

  it('makes no lookup per group for a tenant whose list is empty', async () => {
    const tenant = await ctx.db.prisma.tenant.create({ data: { name: 'no suppressions' } });
    const fixture = await createCampaign({ ...ctx, tenantId: tenant.id });
    const rows = Array.from({ length: 5_000 }, (_, i) => `+56987${String(i).padStart(6, '0')};n;${i}`);
    const { result, queries } = await suppressionQueries(() => ingestRecipients(ctx.db, chunks(`phone;a;b\n${rows.join('\n')}\n`, 1000), fixture.options));
    expect(result).toMatchObject({ accepted: 5_000, rejected: 0 });
    expect(queries).toBe(1);
  });
});

describe('checkRowGroups', () => {
  const record = (line: number, phone: string): SourceRecord => ({ line, cells: [phone], raw: phone });
  async function* batches(...sizes: number[]): AsyncGenerator<SourceRecord[]> {
    let line = 2;
    for (const size of sizes) yield Array.from({ length: size }, () => record(line, `+56986${String(line++).padStart(6, '0')}`));
  }
  const check = (r: SourceRecord) => ({ ok: true as const, e164: r.cells[0] as string, rawPhone: r.cells[0] as string, variables: [], timeZone: null });

  it('regroups batches of any size into groups of about groupRows, in order, one lookup each', async () => {
    const asked: number[] = [];
    const groups: number[] = [];
    const lines: number[] = [];
    const lookup = async (phones: readonly string[]) => {
      asked.push(phones.length);
      return new Set(phones.filter((p) => p.endsWith('7')));
    };
    for await (const group of checkRowGroups(batches(3, 3, 3, 1, 5), check, lookup, { groupRows: 4, rowsBetweenYields: 2 })) {
      groups.push(group.records.length);
      lines.push(...group.records.map((r) => r.line));
      group.rows.forEach((row, i) => expect(row?.ok).toBe(!(group.records[i] as SourceRecord).raw.endsWith('7')));
    }
    expect(groups).toEqual([6, 4, 5]);
    expect(asked).toEqual(groups);
    expect(lines).toEqual(Array.from({ length: 15 }, (_, i) => i + 2));
  });

  it('fails with the lookup failure, and a failed lookup of the group ahead is not an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let calls = 0;
      const lookup = async () => {
        calls++;
        if (calls === 2) throw new Error('lookup failed');
        return new Set<string>();
      };
      const seen: number[] = [];
      const run = async () => {
        for await (const group of checkRowGroups(batches(2, 2, 2), check, lookup, { groupRows: 2 })) {
          seen.push(group.records.length);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      await expect(run()).rejects.toThrow('lookup failed');
      expect(seen).toEqual([2]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
