import { describe, expect, it } from 'vitest';
import { ingestRecipients } from '../../src/ingest/ingest-recipients.js';
import { contextForFile } from '../support/test-context.js';
import { chunks, createCampaign, storedRecipients, storedRejections } from './campaign-fixture.js';

const ctx = contextForFile();

/** A CSV of the given Chilean mobile numbers (9 8765 xxxx), one row each. */
function csvOf(numbers: number[]): string {
  return ['telefono;nombre;monto', ...numbers.map((n) => `+56 9 8765 ${String(n).padStart(4, '0')};Name ${n};${n}`)].join('\n') + '\n';
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('duplicate phones', () => {
  it('keeps the first of a phone written in different ways, and skips phones of an earlier upload', async () => {
    const { campaignId, options } = await createCampaign(ctx);
    const first = await ingestRecipients(ctx.db, chunks('phone;a;b\n+56987650001;x;1\n987650001;y;2\n56 9 8765 0001;z;3\n+56987650002;w;4\n'), options);
    expect(first).toMatchObject({ totalRows: 4, accepted: 2, duplicates: 2, rejected: 0, rejectedByReason: {} });
    expect((await storedRejections(ctx, first.uploadId)).map((r) => [r.line, r.reason, r.message])).toEqual([
      [3, 'DUPLICATE_PHONE', '+56987650001 is already in an earlier row of this file; the first one is kept.'],
      [4, 'DUPLICATE_PHONE', '+56987650001 is already in an earlier row of this file; the first one is kept.'],
    ]);

    const second = await ingestRecipients(ctx.db, chunks('phone;a;b\n+56987650002;x;1\n+56987650003;y;2\n'), options);
    expect(second).toMatchObject({ totalRows: 2, accepted: 1, duplicates: 1 });
    expect((await storedRejections(ctx, second.uploadId))[0]?.message).toContain('an earlier upload to this campaign');
    expect((await storedRecipients(ctx, campaignId)).map((r) => r.phone).sort()).toEqual(['+56987650001', '+56987650002', '+56987650003']);
  });

  it('does not count a phone of another campaign as a duplicate', async () => {
    const a = await createCampaign(ctx);
    const b = await createCampaign(ctx);
    await ingestRecipients(ctx.db, chunks(csvOf([1, 2])), a.options);
    expect(await ingestRecipients(ctx.db, chunks(csvOf([1, 2])), b.options)).toMatchObject({ accepted: 2, duplicates: 0 });
  });

  it('runs concurrent uploads to one campaign one after the other, so neither fails on the unique index', async () => {
    const { campaignId, options } = await createCampaign(ctx);
    const firstRows = range(0, 3000);
    const secondRows = range(2000, 5000);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    async function* slowFirst() {
      const bytes = Buffer.from(csvOf(firstRows));
      const half = Math.floor(bytes.length / 2);
      yield bytes.subarray(0, half);
      await gate; // the first upload holds the campaign lock, mid-file, until the second is waiting
      yield bytes.subarray(half);
    }
    const first = ingestRecipients(ctx.db, slowFirst(), { ...options, batchRows: 500 });
    let second: ReturnType<typeof ingestRecipients> | undefined;
    try {
      await waitFor(async () => (await advisoryLocks()).granted === 1);
      second = ingestRecipients(ctx.db, chunks(csvOf(secondRows), 4096), { ...options, batchRows: 500 });
      await waitFor(async () => (await advisoryLocks()).waiting === 1);
    } finally {
      open();
    }
    const [one, two] = await Promise.all([first, second]);
    expect(one).toMatchObject({ totalRows: 3000, accepted: 3000, duplicates: 0 });
    expect(two).toMatchObject({ totalRows: 3000, accepted: 2000, duplicates: 1000 });
    expect(await storedRecipients(ctx, campaignId)).toHaveLength(5000);
  });
});

describe('a file-level error', () => {
  it('stores nothing of the upload, marks it failed and releases the campaign', async () => {
    const { campaignId, options } = await createCampaign(ctx);
    async function* brokenBody() {
      yield* chunks(csvOf(range(0, 2000)), 1024);
      throw new Error('client went away');
    }
    await expect(ingestRecipients(ctx.db, brokenBody(), { ...options, batchRows: 100 })).rejects.toThrow('client went away');
    const upload = await ctx.db.prisma.upload.findFirstOrThrow({ where: { campaignId } });
    expect(upload).toMatchObject({ status: 'failed', error: 'Something went wrong on our side; the error was logged.', accepted: 0 });
    expect(await storedRecipients(ctx, campaignId)).toEqual([]);
    expect(await ctx.db.prisma.rejectedRow.count({ where: { uploadId: upload.id } })).toBe(0);
    expect(await ingestRecipients(ctx.db, chunks(csvOf([1])), options)).toMatchObject({ accepted: 1 });
  });
});

/** Advisory locks held and awaited in this test's database. */
async function advisoryLocks(): Promise<{ granted: number; waiting: number }> {
  const { rows } = await ctx.db.pool.query<{ granted: boolean }>(
    "SELECT granted FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
  );
  return { granted: rows.filter((r) => r.granted).length, waiting: rows.filter((r) => !r.granted).length };
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
