/**
 * Issue 14 through the API: Content-Encoding (gzip read, streamed, the size limit applied to the
 * decompressed bytes; unknown encodings 415), "charset=" in Content-Type, and binary files
 * refused with a short sentence. The same streamed-upload helper serves the suppression import.
 */
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { apiForFile, beforeAllValue, createDraftCampaign, createSender, expectError, expectStatus, phones, type UploadResponse } from '../api/api-harness.js';

const LIMIT = 64 * 1024;

const h = apiForFile({ uploadMaxBytes: LIMIT });
const sender = beforeAllValue(() => createSender(h.api));

function csv(rows: number, offset = 0): string {
  return ['telefono;nombre;saldo', ...phones(rows, offset).map((p, i) => `${p};Peña ${i};${1000 + i}`)].join('\n');
}

async function upload(body: Buffer | string, contentType: string, headers: Record<string, string> = {}) {
  const { campaign } = await createDraftCampaign(h.api, sender);
  const response = await h.api.send(`/v1/campaigns/${campaign.id}/recipients`, body, contentType, headers);
  return { campaignId: campaign.id, response };
}

describe('Content-Encoding', () => {
  it('reads a gzip body, a deflate one and a br one', async () => {
    for (const [encoding, body] of [
      ['gzip', gzipSync(csv(50))],
      ['deflate', deflateSync(csv(50))],
      ['br', brotliCompressSync(csv(50))],
    ] as const) {
      const { response } = await upload(body, 'text/csv', { 'content-encoding': encoding });
      expect(expectStatus<UploadResponse>(response, 201).upload).toMatchObject({ accepted: 50, rejected: 0 });
    }
  });

  it('refuses a gzip bomb with 413: the limit holds for the decompressed bytes, and nothing is stored', async () => {
    const big = `telefono;nombre;saldo\n${'+56987654321;Ana;1000\n'.repeat(200_000)}`;
    const bomb = gzipSync(big);
    expect(bomb.length).toBeLessThan(LIMIT);
    expect(Buffer.byteLength(big)).toBeGreaterThan(20 * LIMIT);
    const { campaignId, response } = await upload(bomb, 'text/csv', { 'content-encoding': 'gzip' });
    expectError(response, 413, 'UPLOAD_TOO_LARGE');
    expect(await h.ctx.db.prisma.recipient.count({ where: { campaignId } })).toBe(0);
  });

  it('refuses an encoding it does not read with 415, and a corrupt gzip body with 400', async () => {
    expectError((await upload(csv(2), 'text/csv', { 'content-encoding': 'compress' })).response, 415, 'CONTENT_ENCODING_UNSUPPORTED');
    const corrupt = gzipSync(csv(20)).subarray(0, 40);
    expectError((await upload(corrupt, 'text/csv', { 'content-encoding': 'gzip' })).response, 400, 'MALFORMED_INPUT');
  });

  it('a gzip file sent without Content-Encoding is told how to send it', async () => {
    const error = expectError((await upload(gzipSync(csv(5)), 'text/csv')).response, 415, 'UPLOAD_NOT_TEXT');
    expect(error.message).toContain('Content-Encoding: gzip');
  });
});

describe('charset in Content-Type', () => {
  it('reads utf-16le as declared', async () => {
    const { campaignId, response } = await upload(Buffer.from(csv(3), 'utf16le'), 'text/csv; charset=utf-16le');
    expect(expectStatus<UploadResponse>(response, 201).upload).toMatchObject({ accepted: 3, encoding: 'utf-16le' });
    const { rows } = await h.ctx.db.pool.query<{ variables: string[] }>('SELECT variables FROM recipients WHERE campaign_id = $1 ORDER BY line', [campaignId]);
    expect(rows[0]?.variables).toEqual(['Peña 0', '1000']);
  });

  it('refuses a charset it does not read with 415, naming it', async () => {
    const error = expectError((await upload(csv(2), 'text/csv; charset=utf-32')).response, 415, 'ENCODING_UNSUPPORTED');
    expect(error.message).toContain('UTF-32');
  });
});

describe('Excel workbooks', () => {
  it('an .xlsx is refused with its own code and says how to export it', async () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(100, 1)]);
    const xlsxType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    for (const [type, query] of [
      [xlsxType, ''],
      ['application/octet-stream', '?filename=clientes.xlsx'],
    ] as const) {
      const { campaign } = await createDraftCampaign(h.api, sender);
      const error = expectError(await h.api.send(`/v1/campaigns/${campaign.id}/recipients${query}`, zip, type), 415, 'WORKBOOK_NOT_READ');
      expect(error.message).toContain('CSV UTF-8');
    }
  });
});

describe('binary files sent as CSV', () => {
  it('an .xlsx sent as text/csv gets 415 and a sentence, never its bytes', async () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]), Buffer.alloc(200, 7)]);
    const error = expectError((await upload(zip, 'text/csv')).response, 415, 'UPLOAD_NOT_TEXT');
    expect(error.message).toContain('CSV UTF-8');
    expect(error.message).not.toContain('PK');
  });
});

describe('the suppression import uses the same helper', () => {
  it('reads a gzip CSV, and refuses a gzip bomb with 413', async () => {
    const list = `telefono\n${phones(30, 500).join('\n')}\n`;
    const ok = await h.api.send('/v1/suppressions/import', gzipSync(list), 'text/csv', { 'content-encoding': 'gzip' });
    expect(expectStatus<{ added: number }>(ok, 200).added).toBe(30);
    const bomb = gzipSync(`telefono\n${'+56987654321\n'.repeat(300_000)}`);
    expect(bomb.length).toBeLessThan(LIMIT);
    expectError(await h.api.send('/v1/suppressions/import', bomb, 'text/csv', { 'content-encoding': 'gzip' }), 413, 'UPLOAD_TOO_LARGE');
  });
});
