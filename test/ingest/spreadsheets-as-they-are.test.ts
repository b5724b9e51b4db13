/**
 * Issue 14: the spreadsheets people really have. Each test reads a fixture (or a file generated
 * the same way, when it must be large) through the ingest, and fails on the code before the fix.
 */
import { readFile } from 'node:fs/promises';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { ingestRecipients } from '../../src/ingest/ingest-recipients.js';
import { contextForFile } from '../support/test-context.js';
import { chunks, createCampaign, storedRecipients, storedRejections } from './campaign-fixture.js';

const fixture = (name: string) => readFile(new URL(`../fixtures/ingest/${name}`, import.meta.url));

const ctx = contextForFile();

/** `rows` ASCII rows of about 50 bytes: 6,500 of them are over 300 KB. */
function asciiRows(rows: number, first = 0): string {
  let text = '';
  for (let i = 0; i < rows; i++) text += `+56 9 ${String(2000_0000 + first + i).slice(0, 4)} ${String(2000_0000 + first + i).slice(4)};Cliente numero ${i};Santiago centro\n`;
  return text;
}

describe('encodings (defects 1 and 4)', () => {
  it('keeps a UTF-8 file with one bad sequence in UTF-8, and rejects only that row with its line', async () => {
    const { campaignId, options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(await fixture('utf8-one-bad-sequence.csv'), 7), options);
    expect(summary).toMatchObject({ encoding: 'utf-8', accepted: 2, rejected: 1, rejectedByReason: { ENCODING_INVALID: 1 } });
    expect((await storedRecipients(ctx, campaignId)).map((r) => r.variables)).toEqual([
      ['José', 'Ñuñoa'],
      ['Muñoz', 'Concepción'],
    ]);
    const [rejection] = await storedRejections(ctx, summary.uploadId);
    expect(rejection).toMatchObject({ line: 3, reason: 'ENCODING_INVALID', message: expect.stringContaining('Bad\ufffd(seq') });
  });

  it('keeps UTF-8 when the bad row comes after 300 KB', async () => {
    const { campaignId, options } = await createCampaign(ctx);
    const head = Buffer.from(`telefono;nombre;ciudad\n+56 9 8765 4301;José;Ñuñoa\n${asciiRows(6_500)}`, 'utf8');
    expect(head.length).toBeGreaterThan(300 * 1024);
    const bad = Buffer.concat([Buffer.from('+56 9 8765 4302;Bad', 'utf8'), Buffer.from([0xc3, 0x28]), Buffer.from('seq;Santiago\n+56 9 8765 4303;Muñoz;Peñalolén\n', 'utf8')]);
    const summary = await ingestRecipients(ctx.db, chunks(Buffer.concat([head, bad]), 16 * 1024), options);
    expect(summary).toMatchObject({ encoding: 'utf-8', accepted: 6_502, rejected: 1, rejectedByReason: { ENCODING_INVALID: 1 } });
    const stored = await storedRecipients(ctx, campaignId);
    expect(stored.at(-1)?.variables).toEqual(['Muñoz', 'Peñalolén']);
    expect((await storedRejections(ctx, summary.uploadId))[0]?.line).toBe(6_503);
  });

  it('reads a UTF-8 row after 300 KB of a Windows-1252 file as UTF-8, not "PeÃ±a"', async () => {
    const { campaignId, options } = await createCampaign(ctx);
    const file = Buffer.concat([
      iconv.encode(`telefono;nombre;ciudad\n+56 9 8765 4301;Muñoz;Ñuñoa\n${asciiRows(6_500)}`, 'win1252'),
      Buffer.from('+56 9 8765 4302;Peña;Peñalolén\n', 'utf8'),
      iconv.encode('+56 9 8765 4303;Núñez;Concepción\n', 'win1252'),
    ]);
    const summary = await ingestRecipients(ctx.db, chunks(file, 16 * 1024), options);
    expect(summary).toMatchObject({ encoding: 'windows-1252', accepted: 6_503, rejected: 0 });
    const stored = await storedRecipients(ctx, campaignId);
    expect(stored.slice(-2).map((r) => r.variables)).toEqual([
      ['Peña', 'Peñalolén'],
      ['Núñez', 'Concepción'],
    ]);
    expect(stored[0]?.variables).toEqual(['Muñoz', 'Ñuñoa']);
  });

  it('reads UTF-16 written without a byte-order mark', async () => {
    const { campaignId, options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(await fixture('utf16le-no-bom.txt'), 5), options);
    expect(summary).toMatchObject({ encoding: 'utf-16le', delimiter: '\t', accepted: 2, rejected: 0 });
    expect((await storedRecipients(ctx, campaignId)).map((r) => r.variables)).toEqual([
      ['Muñoz', '1000'],
      ['Peña', '2000'],
    ]);
  });

  it('honors a declared charset (utf-16le), even for a file that could be mistaken for another', async () => {
    const { campaignId, options } = await createCampaign(ctx);
    const file = Buffer.from('telefono;nombre;monto\n+56 9 8765 4351;Ñandú;1\n', 'utf16le');
    const summary = await ingestRecipients(ctx.db, chunks(file), { ...options, charset: 'UTF-16LE' });
    expect(summary).toMatchObject({ encoding: 'utf-16le', accepted: 1 });
    expect((await storedRecipients(ctx, campaignId))[0]?.variables).toEqual(['Ñandú', '1']);
    const latin = await createCampaign(ctx);
    const declared = await ingestRecipients(ctx.db, chunks(iconv.encode('telefono;nombre;monto\n+56 9 8765 4352;Peña;1\n', 'win1252')), { ...latin.options, charset: 'iso-8859-1' });
    expect(declared).toMatchObject({ encoding: 'windows-1252', accepted: 1 });
  });

  it('names UTF-32 as UTF-32, and stores nothing', async () => {
    const { campaignId, options } = await createCampaign(ctx);
    await expect(ingestRecipients(ctx.db, chunks(await fixture('utf32le-bom.csv')), options)).rejects.toMatchObject({
      code: 'ENCODING_UNSUPPORTED',
      message: expect.stringContaining('UTF-32'),
    });
    expect(await ctx.db.prisma.recipient.count({ where: { campaignId } })).toBe(0);
    const bare = Buffer.from('telefono;nombre;monto\n+56 9 8765 4321;Ana;1\n', 'utf16le');
    const utf32 = Buffer.alloc(bare.length * 2);
    for (let i = 0; i < bare.length; i += 2) bare.copy(utf32, i * 2, i, i + 2);
    await expect(ingestRecipients(ctx.db, chunks(utf32), (await createCampaign(ctx)).options)).rejects.toMatchObject({ code: 'ENCODING_UNSUPPORTED' });
  });

  it("takes Excel's sep= first line as the delimiter, and counts lines from it", async () => {
    const { campaignId, options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(await fixture('excel-sep-line.csv')), options);
    expect(summary).toMatchObject({ delimiter: ';', accepted: 2, rejected: 0 });
    expect((await storedRecipients(ctx, campaignId)).map((r) => [r.line, r.variables])).toEqual([
      [3, ['Muñoz', '1.000']],
      [4, ['Pérez, Ana', '500']],
    ]);
  });
});

describe('phones as people write them (defect 2)', () => {
  it('reads each writing, and refuses a leading minus with its own code', async () => {
    const { campaignId, options } = await createCampaign(ctx, { paramCount: 1 });
    const summary = await ingestRecipients(ctx.db, chunks(await fixture('phones-as-typed.csv')), options);
    expect(summary).toMatchObject({ accepted: 8, rejected: 1, rejectedByReason: { PHONE_LEADING_MINUS: 1 } });
    expect((await storedRecipients(ctx, campaignId)).map((r) => r.phone)).toEqual([
      '+56944445555',
      '+56912345678',
      '+56912345670',
      '+56912345671',
      '+56912345672',
      '+56912345673',
      '+56912345674',
      '+525512345678',
    ]);
    expect(await storedRejections(ctx, summary.uploadId)).toEqual([
      expect.objectContaining({ line: 10, reason: 'PHONE_LEADING_MINUS', message: expect.stringContaining('"+56912345675"') }),
    ]);
  });
});

describe('binary files and wide files (defect 3)', () => {
  it.each([
    ['an .xlsx sent as CSV', 'workbook-sent-as-csv.xlsx', 'zip archive'],
  ])('refuses %s with its own code, without echoing its bytes', async (_name, file, what) => {
    const { options } = await createCampaign(ctx);
    const error = await ingestRecipients(ctx.db, chunks(await fixture(file)), options).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPLOAD_NOT_TEXT', statusCode: 415, message: expect.stringContaining(what) });
    expect((error as Error).message).not.toContain('PK\u0003');
  });

  it('refuses gzip, ELF, .xls, images and random bytes with their own code', async () => {
    let seed = 7;
    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i++) random[i] = (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    const cases: [Buffer, string][] = [
      [Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), random]), 'gzip'],
      [Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01]), random]), 'program'],
      [random, 'binary data'],
      [Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), random]), 'old Excel (.xls)'],
      [Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), random]), 'PNG image'],
    ];
    for (const [bytes, what] of cases) {
      const { options } = await createCampaign(ctx);
      const error = await ingestRecipients(ctx.db, chunks(bytes), options).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UPLOAD_NOT_TEXT', message: expect.stringContaining(what) });
      expect((error as Error).message.length).toBeLessThan(400);
    }
  });

  it('keeps the message short for a file with 5,000 columns', async () => {
    const { options } = await createCampaign(ctx);
    const header = Array.from({ length: 5_000 }, (_, i) => `columna_${i}`).join(';');
    const error = await ingestRecipients(ctx.db, chunks(`${header}\n`), options).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NO_PHONE_COLUMN', message: expect.stringContaining('and 4,995 more') });
    expect((error as Error).message.length).toBeLessThan(400);
    expect(JSON.stringify((error as { details: unknown }).details).length).toBeLessThan(1_000);
  });
});

describe('variables WhatsApp refuses (defect 5)', () => {
  it('rejects Unicode line breaks (U+2028, U+2029, U+0085)', async () => {
    const { options } = await createCampaign(ctx);
    const summary = await ingestRecipients(ctx.db, chunks(await fixture('unicode-line-breaks.csv')), options);
    expect(summary).toMatchObject({ accepted: 1, rejected: 3, rejectedByReason: { VARIABLE_INVALID: 3 } });
  });

  it('rejects a variable over 1,024 characters, and takes one of exactly 1,024 (an emoji counts once)', async () => {
    const { options } = await createCampaign(ctx);
    const long = 'x'.repeat(60_000);
    const exact = `${'a'.repeat(1_023)}🎉`;
    const csv = `telefono;nombre;nota\n+56 9 8765 4361;${long};1\n+56 9 8765 4362;${exact};2\n+56 9 8765 4363;${exact}b;3\n`;
    const summary = await ingestRecipients(ctx.db, chunks(csv), options);
    expect(summary).toMatchObject({ accepted: 1, rejected: 2, rejectedByReason: { VARIABLE_TOO_LONG: 2 } });
    const rejections = await storedRejections(ctx, summary.uploadId);
    expect(rejections[0]?.message).toContain('60,000 characters');
  });

  it('enforces the 64 KiB record limit on NDJSON lines and JSON items that arrive in one chunk', async () => {
    const big = 'y'.repeat(70_000);
    const ndjson = await createCampaign(ctx);
    const lines = `{"phone":"+56987654371","1":"${big}","2":"a"}\n{"phone":"+56987654372","1":"ok","2":"b"}\n`;
    const fromNdjson = await ingestRecipients(ctx.db, chunks(lines, 1 << 20), { ...ndjson.options, format: 'ndjson' });
    expect(fromNdjson).toMatchObject({ accepted: 1, rejected: 1, rejectedByReason: { ROW_MALFORMED: 1 } });
    const json = await createCampaign(ctx);
    const array = `[{"phone":"+56987654373","1":"${big}","2":"a"},{"phone":"+56987654374","1":"ok","2":"b"}]`;
    const fromJson = await ingestRecipients(ctx.db, chunks(array, 1 << 20), { ...json.options, format: 'json' });
    expect(fromJson).toMatchObject({ accepted: 1, rejected: 1, rejectedByReason: { ROW_MALFORMED: 1 } });
  });
});
