/** A CSV of phones onto the suppression list: the ingest's reader and phone rules, line numbers, batches, flat memory. */
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { importSuppressions } from '../../src/ingest/import-suppressions.js';
import { listSuppressions } from '../../src/suppressions/suppression-list.js';
import { chunks } from '../ingest/campaign-fixture.js';
import { contextForFile } from '../support/test-context.js';

const ctx = contextForFile();

async function newTenant(): Promise<string> {
  return (await ctx.db.prisma.tenant.create({ data: { name: 'import' } })).id;
}

async function listed(tenantId: string) {
  return (await listSuppressions(ctx.db, tenantId, { limit: 1000 })).suppressions.map((s) => ({ phone: s.phone, reason: s.reason, detail: s.detail }));
}

describe('importSuppressions', () => {
  it('reads an Excel export (";" and Windows-1252), adds good rows and reports bad ones by line', async () => {
    const tenantId = await newTenant();
    const csv = [
      'Nombre;Teléfono;Motivo',
      'José;+56 9 7100 0001;pidió baja',
      'Ñuño;971000002;',
      ';;',
      'Ana;12345;x',
      'Bea;5.69710E+10;x',
      'Cata;;x',
      'Dani;+56971000001;otra vez',
      '',
    ].join('\r\n');
    const summary = await importSuppressions(ctx.db, tenantId, chunks(iconv.encode(csv, 'win1252'), 7), { defaultCountry: 'CL', detail: 'bajas.csv' });
    expect(summary).toEqual({
      totalRows: 6,
      added: 2,
      alreadyPresent: 1,
      rejectedCount: 3,
      rejected: [
        { line: 5, reason: 'PHONE_INVALID', message: expect.stringContaining('"12345" is not a valid phone number') },
        { line: 6, reason: 'PHONE_SCIENTIFIC_NOTATION', message: expect.stringContaining('scientific notation') },
        { line: 7, reason: 'PHONE_MISSING', message: 'The phone number is empty.' },
      ],
      encoding: 'windows-1252',
      delimiter: ';',
    });
    expect(await listed(tenantId)).toEqual([
      { phone: '+56971000001', reason: 'IMPORT', detail: 'bajas.csv' },
      { phone: '+56971000002', reason: 'IMPORT', detail: 'bajas.csv' },
    ]);
  });

  it('takes the column named by phoneColumn, and other countries with their prefix', async () => {
    const tenantId = await newTenant();
    const csv = 'fijo,movil\n221234567,+54 9 11 2345-6789\n221234568,3001234567\n';
    const summary = await importSuppressions(ctx.db, tenantId, chunks(csv), { defaultCountry: 'CO', phoneColumn: 'movil' });
    expect(summary).toMatchObject({ totalRows: 2, added: 2, rejectedCount: 0 });
    expect((await listed(tenantId)).map((s) => s.phone)).toEqual(['+5491123456789', '+573001234567']);
  });

  it('refuses a file without a phone column, or an empty one, before adding anything', async () => {
    const tenantId = await newTenant();
    await expect(importSuppressions(ctx.db, tenantId, chunks('nombre,monto\nAna,1\n'), { defaultCountry: 'CL' })).rejects.toMatchObject({
      code: 'NO_PHONE_COLUMN',
    });
    await expect(importSuppressions(ctx.db, tenantId, chunks(''), { defaultCountry: 'CL' })).rejects.toMatchObject({
      code: 'MALFORMED_INPUT',
      message: 'The recipient list could not be read: the file is empty.',
    });
    expect(await listed(tenantId)).toEqual([]);
  });

  it('writes in batches and lists only the first rejected rows, counting them all', async () => {
    const tenantId = await newTenant();
    const rows = Array.from({ length: 3_000 }, (_, i) => (i % 3 === 0 ? `bad-${i}` : `+56972${String(i).padStart(6, '0')}`));
    const summary = await importSuppressions(ctx.db, tenantId, chunks(`celular\n${rows.join('\n')}\n`, 4096), {
      defaultCountry: 'CL',
      batchRows: 500,
      maxRejectedListed: 10,
    });
    expect(summary).toMatchObject({ totalRows: 3_000, added: 2_000, alreadyPresent: 0, rejectedCount: 1_000 });
    expect(summary.rejected.map((r) => r.line)).toEqual([2, 5, 8, 11, 14, 17, 20, 23, 26, 29]);
    expect(await ctx.db.prisma.suppression.count({ where: { tenantId } })).toBe(2_000);
  });

  it('reports a row the reader could not read (an unclosed quote) and goes on', async () => {
    const tenantId = await newTenant();
    const summary = await importSuppressions(ctx.db, tenantId, chunks('phone,note\n+56973000001,"never closed\n+56973000002,ok\n'), { defaultCountry: 'CL' });
    expect(summary.rejected).toEqual([{ line: 2, reason: 'ROW_MALFORMED', message: expect.any(String) }]);
    expect((await listed(tenantId)).map((s) => s.phone)).toEqual(['+56973000002']);
  });
});
