/** Recipient uploads over HTTP: every accepted body format, file-level refusals, and the rejected-rows report. */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  apiForFile,
  beforeAllValue,
  createDraftCampaign,
  createSender,
  expectError,
  expectStatus,
  expectStatusCode,
  recipientCount,
  type PublicAccount,
  type PublicTemplate,
  type UploadResponse,
} from './api-harness.js';

const h = apiForFile();
const sender = beforeAllValue(() => createSender(h.api));

async function draft(): Promise<string> {
  return (await createDraftCampaign(h.api, sender)).campaign.id;
}

const uploadUrl = (campaignId: string, query = '') => `/v1/campaigns/${campaignId}/recipients${query}`;

async function stored(campaignId: string): Promise<{ phone: string; line: number; variables: string[] }[]> {
  const { rows } = await h.ctx.db.pool.query<{ phone: string; line: number; variables: string[] }>(
    'SELECT phone, line, variables FROM recipients WHERE campaign_id = $1 ORDER BY line',
    [campaignId],
  );
  return rows;
}

async function rejectedRowCount(campaignId: string): Promise<number> {
  const { rows } = await h.ctx.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM rejected_rows WHERE campaign_id = $1', [campaignId]);
  return Number(rows[0]?.n);
}

/** A multipart/form-data body as a browser sends it: fields first, then one file. */
async function multipart(fields: Record<string, string>, file: { name: string; type: string; content: string }): Promise<{ payload: Buffer; contentType: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([file.content], { type: file.type }), file.name);
  const encoded = new Response(form);
  return { payload: Buffer.from(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type') ?? '' };
}

describe('formats', () => {
  it('text/csv: a spreadsheet export with a BOM and ";" separators', async () => {
    const campaignId = await draft();
    const csv = '\uFEFFTeléfono;Nombre;Saldo\r\n+56 9 8700 0001;Ana;1.000\r\n987000002;Bea;2.500\r\n12345;Cata;3\r\n+56987000001;Ana otra vez;4\r\n';
    const response = await h.api.send(uploadUrl(campaignId), Buffer.from(csv, 'utf8'), 'text/csv; charset=utf-8');
    const { upload } = expectStatus<UploadResponse>(response, 201);
    expect(upload).toEqual({
      uploadId: expect.any(String),
      totalRows: 4,
      accepted: 2,
      rejected: 1,
      duplicates: 1,
      encoding: 'utf-8',
      delimiter: ';',
      rejectedByReason: { PHONE_INVALID: 1 },
      rejectedReportUrl: `/v1/campaigns/${campaignId}/uploads/${upload.uploadId}/rejected.csv`,
    });
    expect(await stored(campaignId)).toEqual([
      { phone: '+56987000001', line: 2, variables: ['Ana', '1.000'] },
      { phone: '+56987000002', line: 3, variables: ['Bea', '2.500'] },
    ]);
    const row = await h.ctx.db.prisma.upload.findUniqueOrThrow({ where: { id: upload.uploadId } });
    expect(row).toMatchObject({ status: 'completed', contentType: 'text/csv', delimiter: ';', totalRows: 4, accepted: 2 });
  });

  it('application/x-ndjson: one object per line, variables as an array', async () => {
    const campaignId = await draft();
    const ndjson = ['{"phone": "+56987000011", "variables": ["Ana", 10]}', '', '{"phone": "+56987000012", "variables": ["Bea", "20"]}', '{"phone": "+56987000013", "variables": ["Cata"]}'].join('\n');
    const { upload } = expectStatus<UploadResponse>(await h.api.send(uploadUrl(campaignId), ndjson, 'application/x-ndjson'), 201);
    expect(upload).toMatchObject({ totalRows: 3, accepted: 2, rejected: 1, duplicates: 0, delimiter: null, rejectedByReason: { VARIABLE_COUNT: 1 } });
    expect((await stored(campaignId)).map((r) => [r.line, r.variables])).toEqual([
      [1, ['Ana', '10']],
      [3, ['Bea', '20']],
    ]);
  });

  it('application/json: an array of objects, with columns chosen in the query string', async () => {
    const campaignId = await draft();
    const json = JSON.stringify([
      { id: 1, movil: '+56987000021', total: 100, cliente: 'Ana' },
      { id: 2, movil: '+56987000022', total: 200, cliente: 'Bea' },
    ]);
    const response = await h.api.send(uploadUrl(campaignId, '?phoneColumn=movil&variables=cliente,total&filename=lista.json'), json, 'application/json');
    const { upload } = expectStatus<UploadResponse>(response, 201);
    expect(upload).toMatchObject({ totalRows: 2, accepted: 2, rejected: 0, duplicates: 0 });
    expect((await stored(campaignId)).map((r) => r.variables)).toEqual([
      ['Ana', '100'],
      ['Bea', '200'],
    ]);
    expect(await h.ctx.db.prisma.upload.findUniqueOrThrow({ where: { id: upload.uploadId } })).toMatchObject({ filename: 'lista.json', contentType: 'application/json' });
  });

  it('multipart/form-data: one CSV file, with options as form fields before it', async () => {
    const campaignId = await draft();
    const { payload, contentType } = await multipart(
      { phoneColumn: 'contacto', variables: '3,2' },
      { name: 'clientes.csv', type: 'text/csv', content: 'contacto,monto,nombre\n+56987000031,500,Ana\n+56987000032,600,Bea\n' },
    );
    expect(contentType).toMatch(/^multipart\/form-data; boundary=/);
    const { upload } = expectStatus<UploadResponse>(await h.api.send(uploadUrl(campaignId), payload, contentType), 201);
    expect(upload).toMatchObject({ totalRows: 2, accepted: 2, rejected: 0, delimiter: ',' });
    expect((await stored(campaignId)).map((r) => [r.phone, r.variables])).toEqual([
      ['+56987000031', ['Ana', '500']],
      ['+56987000032', ['Bea', '600']],
    ]);
    expect(await h.ctx.db.prisma.upload.findUniqueOrThrow({ where: { id: upload.uploadId } })).toMatchObject({ filename: 'clientes.csv' });
  });

  it('a second upload to a running campaign adds only new phones, counting the rest as duplicates', async () => {
    const campaignId = await draft();
    expectStatus(await h.api.send(uploadUrl(campaignId), 'phone,a,b\n+56987000041,x,y\n', 'text/csv'), 201);
    expectStatus(await h.api.post(`/v1/campaigns/${campaignId}/start`), 200);
    const { upload } = expectStatus<UploadResponse>(await h.api.send(uploadUrl(campaignId), 'phone,a,b\n+56987000041,x,y\n+56987000042,x,y\n', 'text/csv'), 201);
    expect(upload).toMatchObject({ totalRows: 2, accepted: 1, duplicates: 1 });
    expect(await recipientCount(h.ctx, campaignId)).toBe(2);
  });
});

describe('file-level refusals store nothing', () => {
  it('a file with no phone column is 422 NO_PHONE_COLUMN listing the columns it has', async () => {
    const campaignId = await draft();
    const response = await h.api.send(uploadUrl(campaignId), 'nombre,saldo,ciudad\nAna,100,Santiago\n', 'text/csv');
    const error = expectError(response, 422, 'NO_PHONE_COLUMN');
    expect(error.details).toEqual({ columns: ['nombre', 'saldo', 'ciudad'] });
    expect(await recipientCount(h.ctx, campaignId)).toBe(0);
    expect(await rejectedRowCount(campaignId)).toBe(0);
    expect(await h.ctx.db.prisma.upload.findFirstOrThrow({ where: { campaignId } })).toMatchObject({ status: 'failed', error: error.message });
  });

  it('columns that cannot fill the template are 422 TEMPLATE_VARIABLE_MISMATCH', async () => {
    const campaignId = await draft();
    const response = await h.api.send(uploadUrl(campaignId), 'phone,nombre,saldo,ciudad\n+56987000051,Ana,100,Stgo\n', 'text/csv');
    expect(expectError(response, 422, 'TEMPLATE_VARIABLE_MISMATCH').details).toEqual({ expected: 2, found: 3, columns: ['nombre', 'saldo', 'ciudad'] });
    const named = await h.api.send(uploadUrl(campaignId, '?variables=nombre'), 'phone,nombre,saldo\n+56987000051,Ana,100\n', 'text/csv');
    expect(expectError(named, 422, 'TEMPLATE_VARIABLE_MISMATCH').details).toEqual({ expected: 2, found: 1, columns: ['nombre'] });
    expect(await recipientCount(h.ctx, campaignId)).toBe(0);
  });

  it('a JSON body that is not an array is 400 MALFORMED_INPUT', async () => {
    const campaignId = await draft();
    expectError(await h.api.send(uploadUrl(campaignId), '{"phone": "+56987000061"}', 'application/json'), 400, 'MALFORMED_INPUT');
    expect(await recipientCount(h.ctx, campaignId)).toBe(0);
  });

  it('an unsupported content type is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const campaignId = await draft();
    expectError(await h.api.send(uploadUrl(campaignId), '<rows/>', 'application/xml'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const { payload, contentType } = await multipart({}, { name: 'photo.png', type: 'image/png', content: 'not really a png' });
    expectError(await h.api.send(uploadUrl(campaignId), payload, contentType), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(await h.ctx.db.prisma.upload.count({ where: { campaignId } })).toBe(0);
  });

  it('a multipart body without a file is 400 MALFORMED_INPUT', async () => {
    const campaignId = await draft();
    const form = new FormData();
    form.append('phoneColumn', 'phone');
    const encoded = new Response(form);
    const response = await h.api.send(uploadUrl(campaignId), Buffer.from(await encoded.arrayBuffer()), encoded.headers.get('content-type') ?? '');
    expectError(response, 400, 'MALFORMED_INPUT');
  });

  it('an upload to a cancelled campaign is 409 CAMPAIGN_STATE_CONFLICT', async () => {
    const campaignId = await draft();
    expectStatus(await h.api.post(`/v1/campaigns/${campaignId}/cancel`), 200);
    const response = await h.api.send(uploadUrl(campaignId), 'phone,a,b\n+56987000071,x,y\n', 'text/csv');
    const error = expectError(response, 409, 'CAMPAIGN_STATE_CONFLICT');
    expect(error.details).toMatchObject({ state: 'cancelled', action: 'upload recipients', allowed: ['draft', 'running', 'paused'] });
    expect(await recipientCount(h.ctx, campaignId)).toBe(0);
    expect(await h.ctx.db.prisma.upload.count({ where: { campaignId } })).toBe(0);
  });
});

describe('rejected rows report', () => {
  it('lists each rejected row with its line number and reason, duplicates included, in file order', async () => {
    const campaignId = await draft();
    const csv = [
      'phone,nombre,saldo',
      '+56987000081,Ana,100',
      'not a phone,Bea,200',
      '+56987000082,,300',
      '+56987000081,"Ana, again",400',
      '+56987000083,Dora,500',
    ].join('\n');
    const { upload } = expectStatus<UploadResponse>(await h.api.send(uploadUrl(campaignId), csv, 'text/csv'), 201);
    expect(upload).toMatchObject({ totalRows: 5, accepted: 2, rejected: 2, duplicates: 1 });

    const summary = expectStatus<{ id: string; status: string; accepted: number; rejectedReportUrl: string }>(
      await h.api.get(`/v1/campaigns/${campaignId}/uploads/${upload.uploadId}`),
      200,
    );
    expect(summary).toMatchObject({ id: upload.uploadId, status: 'completed', accepted: 2, rejectedReportUrl: upload.rejectedReportUrl });

    const report = await h.api.get(upload.rejectedReportUrl);
    expectStatusCode(report, 200);
    expect(report.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(report.headers['content-disposition']).toBe(`attachment; filename="rejected-${upload.uploadId}.csv"`);
    const rows = parse(report.body, { columns: true, bom: true }) as { line: string; reason: string; message: string; raw: string }[];
    expect(rows.map((r) => [r.line, r.reason])).toEqual([
      ['3', 'PHONE_INVALID'],
      ['4', 'VARIABLE_EMPTY'],
      ['5', 'DUPLICATE_PHONE'],
    ]);
    expect(rows[0]?.raw).toBe('not a phone,Bea,200');
    // Cells a spreadsheet would evaluate (a leading + followed by more than a number) are neutralized with an apostrophe.
    expect(rows[2]?.raw).toBe("'+56987000081,\"Ana, again\",400");
    expect(rows.every((r) => /^'?[A-Z"+].*\.$/.test(r.message))).toBe(true);
  });

  it('an unknown upload is 404 UPLOAD_NOT_FOUND', async () => {
    const campaignId = await draft();
    const missing = '00000000-0000-4000-8000-0000000000ff';
    expectError(await h.api.get(`/v1/campaigns/${campaignId}/uploads/${missing}`), 404, 'UPLOAD_NOT_FOUND');
    expectError(await h.api.get(`/v1/campaigns/${campaignId}/uploads/${missing}/rejected.csv`), 404, 'UPLOAD_NOT_FOUND');
  });
});

describe('provider phone rules at ingest', () => {
  it('a contacto-multichat campaign rejects non-Colombian numbers on upload, with the line and the provider rule', async () => {
    const account = expectStatus<PublicAccount>(
      await h.api.post('/v1/accounts', {
        provider: 'multichat',
        name: 'multichat co',
        config: { baseUrl: 'http://127.0.0.1:9' },
        credentials: { login: 'empresa', token: 'multichat-secret' },
      }),
      201,
    );
    const template = expectStatus<PublicTemplate>(
      await h.api.post('/v1/templates', { accountId: account.id, name: 'aviso', externalId: '42', body: 'Hola {{1}}' }),
      201,
    );
    const { campaign } = expectStatus<{ campaign: { id: string } }>(
      await h.api.post('/v1/campaigns', { name: 'co', accountId: account.id, templateId: template.id, defaultCountry: 'CO' }),
      201,
    );
    const csv = 'celular,nombre\n3102111111,Ana\n+56 9 1234 5678,Luis\n+57 310 211 1112,Eva\n';
    const { upload } = expectStatus<UploadResponse>(await h.api.send(uploadUrl(campaign.id), csv, 'text/csv'), 201);
    expect(upload).toMatchObject({ totalRows: 3, accepted: 2, rejected: 1, rejectedByReason: { PHONE_NOT_COLOMBIAN: 1 } });
    expect((await stored(campaign.id)).map((r) => r.phone)).toEqual(['+573102111111', '+573102111112']);
    const report = await h.api.get(upload.rejectedReportUrl);
    const rows = parse(report.body, { columns: true, bom: true }) as { line: string; reason: string }[];
    expect(rows).toEqual([expect.objectContaining({ line: '3', reason: 'PHONE_NOT_COLOMBIAN' })]);
  });
});
