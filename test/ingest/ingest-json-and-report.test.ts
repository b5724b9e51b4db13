import { text } from 'node:stream/consumers';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { ingestRecipients } from '../../src/ingest/ingest-recipients.js';
import { rejectedRowsCsv } from '../../src/ingest/rejected-report.js';
import { contextForFile } from '../support/test-context.js';
import { chunks, createCampaign, storedRecipients, storedRejections } from './campaign-fixture.js';

const ctx = contextForFile();

describe('JSON and NDJSON bodies', () => {
  it('reads a JSON array item by item; line is the item position', async () => {
    const body = JSON.stringify([
      { telefono: '+56 9 8765 4321', nombre: 'Ana', monto: 1000 },
      { telefono: 56987654322, nombre: 'Bea', monto: '2000' },
      { telefono: '5.69123E+10', nombre: 'Cata', monto: 1 },
      'not an object',
      { telefono: '+56987654324', nombre: '', monto: 1 },
      { telefono: '987654321', nombre: 'Dup', monto: 1 },
    ]);
    const { campaignId, options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(body, 9), { ...options, format: 'json' });
    expect(summary).toEqual({
      uploadId: expect.any(String),
      totalRows: 6,
      accepted: 2,
      rejected: 3,
      duplicates: 1,
      encoding: 'utf-8',
      delimiter: null,
      rejectedByReason: { PHONE_SCIENTIFIC_NOTATION: 1, ROW_MALFORMED: 1, VARIABLE_EMPTY: 1 },
    });
    expect((await storedRecipients(ctx, campaignId)).map(({ phone, line, variables }) => ({ phone, line, variables }))).toEqual([
      { phone: '+56987654321', line: 1, variables: ['Ana', '1000'] },
      { phone: '+56987654322', line: 2, variables: ['Bea', '2000'] },
    ]);
    expect((await storedRejections(ctx, summary.uploadId)).map((r) => [r.line, r.reason])).toEqual([
      [3, 'PHONE_SCIENTIFIC_NOTATION'],
      [4, 'ROW_MALFORMED'],
      [5, 'VARIABLE_EMPTY'],
      [6, 'DUPLICATE_PHONE'],
    ]);
    const upload = await ctx.db.prisma.upload.findUniqueOrThrow({ where: { id: summary.uploadId } });
    expect(upload).toMatchObject({ status: 'completed', contentType: 'application/json', delimiter: null });
  });

  it('reads NDJSON with a "variables" array; line is the physical line', async () => {
    const body = [
      '{"phone": "+56987654321", "variables": ["Ana", 1000]}',
      '',
      '{"phone": "+56987654322", "variables": ["Bea"]}',
      '{"phone": "+56987654323", "variables": ["Cata", "3"]}',
    ].join('\n');
    const { campaignId, options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(body, 11), { ...options, format: 'ndjson' });
    expect(summary).toMatchObject({ totalRows: 3, accepted: 2, rejected: 1, rejectedByReason: { VARIABLE_COUNT: 1 } });
    expect((await storedRecipients(ctx, campaignId)).map((r) => [r.line, r.variables])).toEqual([
      [1, ['Ana', '1000']],
      [4, ['Cata', '3']],
    ]);
    expect((await storedRejections(ctx, summary.uploadId)).map((r) => r.line)).toEqual([3]);
  });

  it('fails a body that is not a JSON array, storing none of the items read before the error', async () => {
    const { campaignId, options } = await createCampaign(ctx);
    const body = '[{"phone": "+56987654321", "a": "1", "b": "2"} {"phone": "+56987654322"}]';
    await expect(ingestRecipients(ctx.db, chunks(body), { ...options, format: 'json' })).rejects.toMatchObject({ code: 'MALFORMED_INPUT' });
    expect(await ctx.db.prisma.upload.findFirst({ where: { campaignId } })).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('"," or "]" was expected after item 1'),
    });
    expect(await storedRecipients(ctx, campaignId)).toEqual([]);
  });
});

describe('rejectedRowsCsv', () => {
  it('streams every rejected row in line order, duplicates included, across pages', async () => {
    const lines = ['phone;name;amount'];
    for (let i = 0; i < 250; i++) lines.push(`+5698765${String(i % 100).padStart(4, '0')};"Name, ""${i}""";${i % 7 === 0 ? '' : i}`);
    const { options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(lines.join('\n')), options);
    // 100 phones; i % 7 === 0 leaves the amount empty (36 rows); every other repeat is a duplicate.
    expect(summary).toMatchObject({ totalRows: 250, accepted: 100, duplicates: 114, rejected: 36 });

    const csv = await text(rejectedRowsCsv(ctx.db, ctx.tenantId, summary.uploadId, { pageRows: 40 }));
    const rows = parse(csv, { columns: true, bom: true }) as { line: string; reason: string; message: string; raw: string }[];
    expect(rows).toHaveLength(150);
    expect(rows.map((r) => Number(r.line))).toEqual([...rows.map((r) => Number(r.line))].sort((a, b) => a - b));
    expect(new Set(rows.map((r) => r.reason))).toEqual(new Set(['VARIABLE_EMPTY', 'DUPLICATE_PHONE']));
    const first = rows[0];
    expect(first).toEqual({ line: '2', reason: 'VARIABLE_EMPTY', message: 'Variable {{2}} (column "amount") is empty.', raw: "'+56987650000;\"Name, \"\"0\"\"\";" });
  });

  it('errors for an upload of another tenant', async () => {
    const { options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks('phone;a;b\n'), options);
    const other = await ctx.db.prisma.tenant.create({ data: { name: 'other' } });
    await expect(text(rejectedRowsCsv(ctx.db, other.id, summary.uploadId))).rejects.toMatchObject({ code: 'UPLOAD_NOT_FOUND' });
  });
});
