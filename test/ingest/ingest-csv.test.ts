import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { ingestRecipients } from '../../src/ingest/ingest-recipients.js';
import { contextForFile } from '../support/test-context.js';
import { chunks, createCampaign, storedRecipients, storedRejections } from './campaign-fixture.js';

const SPREADSHEET = new URL('../fixtures/ingest/spreadsheet-export-windows-1252.csv', import.meta.url);

const ctx = contextForFile();

describe('a CSV exported from a spreadsheet', () => {
  // The fixture, line by line (Windows-1252, ";", CRLF):
  //  1 Teléfono;Nombre;Monto                header
  //  2 +56 9 8765 4321;Muñoz;€ 1.000        accepted
  //  3 912345678;"Pérez; Ana";500           accepted (national number, quoted ";")
  //  4 5.69123E+10;Ana;100                  PHONE_SCIENTIFIC_NOTATION
  //  5 ;Sin teléfono;100                    PHONE_MISSING
  //  6 12345;Corto;100                      PHONE_INVALID
  //  7 987654322;"Dirección                 VARIABLE_INVALID (a line break in a variable), spans lines 7-8
  //  9 +56 9 8765 4323;Vacío;               VARIABLE_EMPTY
  // 10 +56 9 8765 4324;Extra;1;2            VARIABLE_COUNT
  // 11 56987654321;Repetido;100             DUPLICATE_PHONE (line 2)
  // 12 ;;                                   blank: skipped, not counted
  // 13 +56 9 8765 4325;“Final”;300          accepted (0x93/0x94 curly quotes)
  const expectedRejections = [
    { line: 4, reason: 'PHONE_SCIENTIFIC_NOTATION', raw: '5.69123E+10;Ana;100' },
    { line: 5, reason: 'PHONE_MISSING', raw: ';Sin teléfono;100' },
    { line: 6, reason: 'PHONE_INVALID', raw: '12345;Corto;100' },
    { line: 7, reason: 'VARIABLE_INVALID', raw: '987654322;"Dirección\r\nen dos líneas";100' },
    { line: 9, reason: 'VARIABLE_EMPTY', raw: '+56 9 8765 4323;Vacío;' },
    { line: 10, reason: 'VARIABLE_COUNT', raw: '+56 9 8765 4324;Extra;1;2' },
    { line: 11, reason: 'DUPLICATE_PHONE', raw: '56987654321;Repetido;100' },
  ];

  it('stores the good rows and rejects each bad one with its line, reason and raw text (Windows-1252)', async () => {
    const { campaignId, options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, createReadStream(SPREADSHEET, { highWaterMark: 7 }), {
      ...options,
      filename: 'clientes.csv',
    });
    expect(summary).toEqual({
      uploadId: expect.any(String),
      totalRows: 10,
      accepted: 3,
      rejected: 6,
      duplicates: 1,
      encoding: 'windows-1252',
      delimiter: ';',
      rejectedByReason: {
        PHONE_SCIENTIFIC_NOTATION: 1,
        PHONE_MISSING: 1,
        PHONE_INVALID: 1,
        VARIABLE_INVALID: 1,
        VARIABLE_EMPTY: 1,
        VARIABLE_COUNT: 1,
      },
    });
    expect(await storedRecipients(ctx, campaignId)).toEqual([
      { phone: '+56987654321', raw_phone: '+56 9 8765 4321', line: 2, variables: ['Muñoz', '€ 1.000'], status: 'pending', upload_id: summary.uploadId },
      { phone: '+56912345678', raw_phone: '912345678', line: 3, variables: ['Pérez; Ana', '500'], status: 'pending', upload_id: summary.uploadId },
      { phone: '+56987654325', raw_phone: '+56 9 8765 4325', line: 13, variables: ['“Final”', '300'], status: 'pending', upload_id: summary.uploadId },
    ]);
    const rejections = await storedRejections(ctx, summary.uploadId);
    expect(rejections.map(({ line, reason, raw }) => ({ line, reason, raw }))).toEqual(expectedRejections);
    for (const rejection of rejections) expect(rejection.message).toMatch(/^[A-Z"+0-9].{15,}\.$/);
    expect(rejections.find((r) => r.reason === 'PHONE_SCIENTIFIC_NOTATION')?.message).toContain('Format the column as text');

    const upload = await ctx.db.prisma.upload.findUniqueOrThrow({ where: { id: summary.uploadId } });
    expect(upload).toMatchObject({
      status: 'completed',
      filename: 'clientes.csv',
      contentType: 'text/csv',
      encoding: 'windows-1252',
      delimiter: ';',
      totalRows: 10,
      accepted: 3,
      rejected: 6,
      duplicates: 1,
      error: null,
    });
    expect(upload.finishedAt).toBeInstanceOf(Date);
  });

  it('gives the same result for the same file saved as UTF-8 with a byte-order mark and LF endings', async () => {
    const text = iconv.decode(await readFile(SPREADSHEET), 'win1252').replace(/\r\n/g, '\n');
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    const { options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(bytes, 5), options);
    expect(summary).toMatchObject({ totalRows: 10, accepted: 3, rejected: 6, duplicates: 1, encoding: 'utf-8', delimiter: ';' });
    const rejections = await storedRejections(ctx, summary.uploadId);
    expect(rejections.map(({ line, reason }) => ({ line, reason }))).toEqual(expectedRejections.map(({ line, reason }) => ({ line, reason })));
  });
});

describe('column mapping', () => {
  it('maps placeholder-named columns and leaves a multi-line note column alone, keeping line numbers right', async () => {
    const csv = [
      'notas,{{2}},Celular,{{1}}',
      '"first note',
      'on two lines",Ana,+56 9 8765 4321,1000',
      '"another, ""quoted""',
      '',
      'note",Bea,(9) 8765-4322,2000',
      'plain,Cata,+56987654323,3000',
    ].join('\n');
    const { campaignId, options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(csv, 3), options);
    expect(summary).toMatchObject({ totalRows: 3, accepted: 3, rejected: 0, delimiter: ',' });
    expect((await storedRecipients(ctx, campaignId)).map(({ phone, line, variables }) => ({ phone, line, variables }))).toEqual([
      { phone: '+56987654321', line: 2, variables: ['1000', 'Ana'] },
      { phone: '+56987654322', line: 4, variables: ['2000', 'Bea'] },
      { phone: '+56987654323', line: 7, variables: ['3000', 'Cata'] },
    ]);
  });

  it('maps columns by the template parameter names, case and accents aside', async () => {
    const csv = 'id\tMonto\tTeléfono móvil\tNombre\n7\t1000\t+56987654321\tAna\n';
    const { campaignId, options } = await createCampaign(ctx, { paramCount: 2, paramNames: ['nombre', 'monto'] });
    const summary = await ingestRecipients(ctx.db, chunks(csv), options);
    expect(summary).toMatchObject({ accepted: 1, delimiter: '\t' });
    expect((await storedRecipients(ctx, campaignId))[0]?.variables).toEqual(['Ana', '1000']);
  });

  it('takes an explicit phone column and variables by name or 1-based position', async () => {
    const csv = 'a;b;c;d\nx;+56987654321;Ana;1000\n';
    const { campaignId, options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(csv), { ...options, phoneColumn: 'B', variables: [4, 'c'] });
    expect(summary).toMatchObject({ accepted: 1 });
    expect((await storedRecipients(ctx, campaignId))[0]).toMatchObject({ phone: '+56987654321', variables: ['1000', 'Ana'] });
  });

  it('fails the upload, storing nothing, when no column holds the phone', async () => {
    const { campaignId, options } = await createCampaign(ctx);
    const error = await ingestRecipients(ctx.db, chunks('nombre;monto\nAna;1000\n'), options).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NO_PHONE_COLUMN', statusCode: 422, details: { columns: ['nombre', 'monto'] } });
    const uploads = await ctx.db.prisma.upload.findMany({ where: { campaignId } });
    expect(uploads).toMatchObject([{ status: 'failed', error: (error as Error).message }]);
    expect(await storedRecipients(ctx, campaignId)).toEqual([]);
  });

  it('fails the upload when the columns cannot match the template placeholders', async () => {
    const { options } = await createCampaign(ctx, { paramCount: 2 });
    const error = await ingestRecipients(ctx.db, chunks('telefono;nombre;monto;extra\n+56987654321;Ana;1;x\n'), options).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TEMPLATE_VARIABLE_MISMATCH', details: { expected: 2, found: 3, columns: ['nombre', 'monto', 'extra'] } });
  });

  it('accepts rows without the empty trailing columns a header may end with, but not rows missing named ones', async () => {
    const csv = 'telefono;nombre;monto;;\n+56987654321;Ana;1\n+56987654322;Bea;2;;\n+56987654323;Cata\n';
    const { options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(csv), options);
    expect(summary).toMatchObject({ totalRows: 3, accepted: 2, rejected: 1, rejectedByReason: { VARIABLE_COUNT: 1 } });
    expect((await storedRejections(ctx, summary.uploadId))[0]).toMatchObject({ line: 4, message: 'The row has 2 values; the header has 5 columns.' });
  });

  it('reads a single column of phones for a template without placeholders', async () => {
    const { options } = await createCampaign(ctx, { paramCount: 0 });
    const summary = await ingestRecipients(ctx.db, chunks('WhatsApp\r\n+56987654321\r\n987654322\r\n'), options);
    expect(summary).toMatchObject({ totalRows: 2, accepted: 2, delimiter: null });
  });
});

describe('rows and rules', () => {
  it('rejects with a provider rule, under the rule’s own code', async () => {
    const colombianOnly = (e164: string) =>
      /^\+57\d{10}$/.test(e164) ? null : { code: 'PHONE_NOT_COLOMBIAN', message: `${e164} is not a Colombian number (57 and 10 digits).` };
    const csv = 'phone;name;amount\n+57 300 123 4567;Ana;1\n+56987654321;Bea;2\n';
    const { options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(csv), { ...options, phoneRule: colombianOnly });
    expect(summary).toMatchObject({ accepted: 1, rejected: 1, rejectedByReason: { PHONE_NOT_COLOMBIAN: 1 } });
    const [rejection] = await storedRejections(ctx, summary.uploadId);
    expect(rejection).toMatchObject({ line: 3, reason: 'PHONE_NOT_COLOMBIAN', message: '+56987654321 is not a Colombian number (57 and 10 digits).' });
  });

  it('rejects a row with an unclosed quote or text after a quote, and reads the rows after it', async () => {
    // A quote closes at the next quote of the file; one that none closes rejects its own line only.
    const csv = 'phone;name;amount\n+56987654321;"Bea"x;1\n+56987654322;"Ana;2\n+56987654323;Cata;3\n';
    const { options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(csv), options);
    expect(summary).toMatchObject({ totalRows: 3, accepted: 1, rejected: 2, rejectedByReason: { ROW_MALFORMED: 2 } });
    expect((await storedRejections(ctx, summary.uploadId)).map((r) => [r.line, r.reason, r.raw])).toEqual([
      [2, 'ROW_MALFORMED', '+56987654321;"Bea"x;1'],
      [3, 'ROW_MALFORMED', '+56987654322;"Ana;2'],
    ]);
  });

  it('rejects variables WhatsApp refuses (tab, 5 spaces), rows with unreadable bytes, and trims the rest', async () => {
    const csv = 'phone,name,amount\n+56987654321,"a\tb",1\n+56987654322,a     b,2\n+56987654323,Bea\ufffd,3\n+56987654324,  Cata  ,4\n';
    const { campaignId, options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(csv), options);
    expect(summary).toMatchObject({ accepted: 1, rejected: 3, rejectedByReason: { VARIABLE_INVALID: 2, ENCODING_INVALID: 1 } });
    expect((await storedRecipients(ctx, campaignId))[0]?.variables).toEqual(['Cata', '4']);
  });

  it('stores backslashes, quotes, emoji and accents exactly, and NUL as U+FFFD in the report', async () => {
    const csv = 'phone;name;amount\n+56987654321;"C:\\\\temp \\N ""x""";\\.\n+56987654322;ok;"a\u0000b"\n+56987654323;Ana 🎉 Ñandú;“1”\n';
    const { campaignId, options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(csv), options);
    expect(summary).toMatchObject({ accepted: 2, rejected: 1, rejectedByReason: { VARIABLE_INVALID: 1 } });
    expect((await storedRecipients(ctx, campaignId)).map((r) => r.variables)).toEqual([
      ['C:\\\\temp \\N "x"', '\\.'],
      ['Ana 🎉 Ñandú', '“1”'],
    ]);
    expect((await storedRejections(ctx, summary.uploadId))[0]?.raw).toBe('+56987654322;ok;"a\ufffdb"');
  });

  it('reads a UTF-16 file ("Unicode text" from Excel, with its byte-order mark)', async () => {
    const { campaignId, options } = await createCampaign(ctx);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('phone\ta\tb\n+56987654321\tMuñoz\t1\n', 'utf16le')]);
    expect(await ingestRecipients(ctx.db, chunks(utf16, 5), options)).toMatchObject({ accepted: 1, encoding: 'utf-16le', delimiter: '\t' });
    expect((await storedRecipients(ctx, campaignId)).map((r) => r.variables)).toEqual([['Muñoz', '1']]);
  });

  it('refuses a campaign of another tenant', async () => {
    const { options } = await createCampaign(ctx);
    const other = await ctx.db.prisma.tenant.create({ data: { name: 'other' } });
    await expect(ingestRecipients(ctx.db, chunks('phone\n'), { ...options, tenantId: other.id })).rejects.toMatchObject({ code: 'CAMPAIGN_NOT_FOUND' });
  });
});
