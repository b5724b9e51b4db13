/** The suppression list through the API: add, page, delete, import a CSV, export, and what an upload then does with it. */
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import {
  apiForFile,
  createDraftCampaign,
  createSender,
  expectError,
  expectStatus,
  expectStatusCode,
  startApi,
  type ApiClient,
  type UploadResponse,
} from './api-harness.js';

const h = apiForFile();

type AddResponse = { phone?: string; added: number; alreadyPresent: number; rejected: { index: number; phone: string; reason: string; message: string }[] };
type Page = { suppressions: { phone: string; reason: string; detail: string | null; createdAt: string }[]; next: string | null };
type ImportResponse = {
  totalRows: number;
  added: number;
  alreadyPresent: number;
  rejectedCount: number;
  rejected: { line: number; reason: string; message: string }[];
  encoding: string;
  delimiter: string | null;
};

const ROUTES = [
  { method: 'POST', url: '/v1/suppressions' },
  { method: 'GET', url: '/v1/suppressions' },
  { method: 'DELETE', url: '/v1/suppressions/%2B56987650001' },
  { method: 'POST', url: '/v1/suppressions/import' },
  { method: 'GET', url: '/v1/suppressions/export.csv' },
] as const;

const remove = (apiKey: string, url: string) => h.app.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${apiKey}` } });

/** Every phone on the list, through the pages. */
async function allPhones(api: ApiClient): Promise<string[]> {
  const phones: string[] = [];
  let url = '/v1/suppressions?limit=1000';
  for (;;) {
    const page = expectStatus<Page>(await api.get(url), 200);
    phones.push(...page.suppressions.map((s) => s.phone));
    if (!page.next) return phones;
    url = `/v1/suppressions?limit=1000&cursor=${encodeURIComponent(page.next)}`;
  }
}

async function multipart(fields: Record<string, string>, file: { name: string; type: string; content: string | Buffer }) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([file.content], { type: file.type }), file.name);
  const encoded = new Response(form);
  return { payload: Buffer.from(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type') ?? '' };
}

describe('auth', () => {
  it.each(ROUTES)('$method $url needs an API key', async ({ method, url }) => {
    expectError(await h.app.inject({ method, url }), 401, 'UNAUTHORIZED');
    expectError(await h.app.inject({ method, url, headers: { 'x-api-key': 'wce_nope_nope' } }), 401, 'INVALID_API_KEY');
  });
});

describe('POST /v1/suppressions', () => {
  it('adds one phone written as people write it, and says so; adding it again changes nothing', async () => {
    const { api } = await h.newTenant('one phone');
    const first = expectStatus<AddResponse>(await api.post('/v1/suppressions', { phone: '9 8765 0001', detail: 'called to complain' }), 201);
    expect(first).toEqual({ phone: '+56987650001', added: 1, alreadyPresent: 0, rejected: [] });
    const again = expectStatus<AddResponse>(await api.post('/v1/suppressions', { phone: '+56 9 8765 0001' }), 200);
    expect(again).toEqual({ phone: '+56987650001', added: 0, alreadyPresent: 1, rejected: [] });
    const page = expectStatus<Page>(await api.get('/v1/suppressions'), 200);
    expect(page).toEqual({
      suppressions: [{ phone: '+56987650001', reason: 'MANUAL', detail: 'called to complain', createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }],
      next: null,
    });
  });

  it('adds the good phones of a list and reports each bad one by its index', async () => {
    const { api } = await h.newTenant('a list');
    const response = await api.post('/v1/suppressions', { phones: ['+56987650011', '12345', 56987650012, '', '+54 9 11 2345-6789'] });
    expect(expectStatus<AddResponse>(response, 201)).toEqual({
      added: 3,
      alreadyPresent: 0,
      rejected: [
        { index: 1, phone: '12345', reason: 'PHONE_INVALID', message: expect.stringContaining('"12345" is not a valid phone number') },
        { index: 3, phone: '', reason: 'PHONE_MISSING', message: 'The phone number is empty.' },
      ],
    });
    expect(await allPhones(api)).toEqual(['+5491123456789', '+56987650011', '+56987650012']);
  });

  it('reads national numbers with defaultCountry', async () => {
    const { api } = await h.newTenant('colombia');
    expect(expectStatus<AddResponse>(await api.post('/v1/suppressions', { phone: '300 123 4567', defaultCountry: 'co' }), 201).phone).toBe('+573001234567');
  });

  it('refuses a bad single phone, both or neither of phone and phones, and an unknown country', async () => {
    const { api } = await h.newTenant('bad requests');
    const bad = expectError(await api.post('/v1/suppressions', { phone: '12345' }), 400, 'VALIDATION_FAILED');
    expect(bad.message).toContain('phone: "12345" is not a valid phone number');
    expectError(await api.post('/v1/suppressions', { phone: '+56987650021', phones: ['+56987650022'] }), 400, 'VALIDATION_FAILED');
    expectError(await api.post('/v1/suppressions', { detail: 'nothing' }), 400, 'VALIDATION_FAILED');
    expectError(await api.post('/v1/suppressions', { phones: [] }), 400, 'VALIDATION_FAILED');
    expectError(await api.post('/v1/suppressions', { phone: '987650023', defaultCountry: 'XX' }), 400, 'VALIDATION_FAILED');
    expect(await allPhones(api)).toEqual([]);
  });
});

describe('GET /v1/suppressions', () => {
  it('pages by cursor, filters by the start of the number, and shows only the tenant its own list', async () => {
    const { api } = await h.newTenant('paging');
    const phones = ['+56987650035', '+56987650031', '+56987650034', '+56987650032', '+56987650033', '+573001234567'];
    expectStatus(await api.post('/v1/suppressions', { phones }), 201);
    const first = expectStatus<Page>(await api.get('/v1/suppressions?limit=4'), 200);
    expect(first.suppressions.map((s) => s.phone)).toEqual(['+56987650031', '+56987650032', '+56987650033', '+56987650034']);
    expect(first.next).toBe('+56987650034');
    const second = expectStatus<Page>(await api.get(`/v1/suppressions?limit=4&cursor=${encodeURIComponent(first.next ?? '')}`), 200);
    expect(second).toMatchObject({ suppressions: [{ phone: '+56987650035' }, { phone: '+573001234567' }], next: null });
    // A "+" left unencoded arrives as a space; the cursor still works.
    const unencoded = expectStatus<Page>(await api.get(`/v1/suppressions?limit=4&cursor=${first.next}`), 200);
    expect(unencoded.suppressions.map((s) => s.phone)).toEqual(['+56987650035', '+573001234567']);

    const filtered = expectStatus<Page>(await api.get('/v1/suppressions?phone=%2B57'), 200);
    expect(filtered.suppressions.map((s) => s.phone)).toEqual(['+573001234567']);
    const formatted = expectStatus<Page>(await api.get(`/v1/suppressions?phone=${encodeURIComponent('+56 9 8765 0033')}`), 200);
    expect(formatted.suppressions.map((s) => s.phone)).toEqual(['+56987650033']);

    expect(expectStatus<Page>(await h.api.get('/v1/suppressions?phone=%2B56987650031'), 200).suppressions).toEqual([]);
    expectError(await api.get('/v1/suppressions?cursor=abc'), 400, 'VALIDATION_FAILED');
    expectError(await api.get('/v1/suppressions?limit=0'), 400, 'VALIDATION_FAILED');
    expectError(await api.get('/v1/suppressions?phone=nine'), 400, 'VALIDATION_FAILED');
  });
});

describe('DELETE /v1/suppressions/:phone', () => {
  it('takes a URL-encoded number off the list; a number not on it is 404 SUPPRESSION_NOT_FOUND', async () => {
    const { tenant, api } = await h.newTenant('delete');
    expectStatus(await api.post('/v1/suppressions', { phones: ['+56987650041', '+56987650042'] }), 201);
    const removed = await remove(tenant.apiKey, '/v1/suppressions/%2B56987650041');
    expectStatusCode(removed, 204);
    expect(removed.body).toBe('');
    expect(await allPhones(api)).toEqual(['+56987650042']);
    const missing = expectError(await remove(tenant.apiKey, '/v1/suppressions/%2B56987650041'), 404, 'SUPPRESSION_NOT_FOUND');
    expect(missing).toEqual({
      code: 'SUPPRESSION_NOT_FOUND',
      message: "The phone +56987650041 is not on this tenant's suppression list.",
      details: { phone: '+56987650041' },
    });
    // Another tenant cannot take it off this tenant's list.
    expectError(await remove(h.tenant.apiKey, '/v1/suppressions/%2B56987650042'), 404, 'SUPPRESSION_NOT_FOUND');
    // A national number is read with defaultCountry, like everywhere else.
    expectStatusCode(await remove(tenant.apiKey, '/v1/suppressions/987650042?defaultCountry=CL'), 204);
    expectError(await remove(tenant.apiKey, '/v1/suppressions/12345'), 400, 'VALIDATION_FAILED');
    expect(await allPhones(api)).toEqual([]);
  });
});

describe('POST /v1/suppressions/import', () => {
  it('imports an Excel CSV, reporting bad rows by line and reason, and phones already listed apart', async () => {
    const { api } = await h.newTenant('import');
    expectStatus(await api.post('/v1/suppressions', { phone: '+56987650051' }), 201);
    const csv = ['Nombre;Teléfono', 'José;+56 9 8765 0051', 'Ñuño;987650052', 'Malo;12345', ';', 'Otra;987650053', ''].join('\r\n');
    const response = await api.send('/v1/suppressions/import?filename=bajas.csv', iconv.encode(csv, 'win1252'), 'text/csv');
    expect(expectStatus<ImportResponse>(response, 200)).toEqual({
      totalRows: 4,
      added: 2,
      alreadyPresent: 1,
      rejectedCount: 1,
      rejected: [{ line: 4, reason: 'PHONE_INVALID', message: expect.stringContaining('"12345" is not a valid phone number') }],
      encoding: 'windows-1252',
      delimiter: ';',
    });
    const page = expectStatus<Page>(await api.get('/v1/suppressions'), 200);
    expect(page.suppressions.map((s) => [s.phone, s.reason, s.detail])).toEqual([
      ['+56987650051', 'MANUAL', null],
      ['+56987650052', 'IMPORT', 'import of bajas.csv'],
      ['+56987650053', 'IMPORT', 'import of bajas.csv'],
    ]);
  });

  it('takes a multipart file with its options as form fields', async () => {
    const { api } = await h.newTenant('multipart');
    const { payload, contentType } = await multipart(
      { phoneColumn: 'movil', defaultCountry: 'CO', detail: 'lista SERNAC' },
      { name: 'no-molestar.csv', type: 'text/csv', content: 'fijo,movil\n6011234567,300 123 4567\n6011234568,+56987650061\n' },
    );
    const result = expectStatus<ImportResponse>(await api.send('/v1/suppressions/import', payload, contentType), 200);
    expect(result).toMatchObject({ totalRows: 2, added: 2, rejectedCount: 0, delimiter: ',' });
    const page = expectStatus<Page>(await api.get('/v1/suppressions'), 200);
    expect(page.suppressions.map((s) => [s.phone, s.detail])).toEqual([
      ['+56987650061', 'lista SERNAC'],
      ['+573001234567', 'lista SERNAC'],
    ]);
  });

  it('refuses what is not a CSV, and a CSV without a phone column', async () => {
    const { api } = await h.newTenant('import errors');
    expectError(await api.send('/v1/suppressions/import', '[{"phone":"+56987650071"}]', 'application/json'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const png = await multipart({}, { name: 'photo.png', type: 'image/png', content: 'not a png' });
    expectError(await api.send('/v1/suppressions/import', png.payload, png.contentType), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await api.send('/v1/suppressions/import', 'nombre,monto\nAna,1\n', 'text/csv'), 422, 'NO_PHONE_COLUMN');
    expectError(await api.send('/v1/suppressions/import?defaultCountry=XX', 'phone\n+56987650072\n', 'text/csv'), 400, 'VALIDATION_FAILED');
    expect(await allPhones(api)).toEqual([]);
  });

  it('refuses a body over the upload limit with 413', async () => {
    const small = await startApi({ uploadMaxBytes: 1024 });
    try {
      const csv = `phone\n${Array.from({ length: 100 }, (_, i) => `+5698765${String(i).padStart(4, '0')}`).join('\n')}\n`;
      expectError(await small.api.send('/v1/suppressions/import', csv, 'text/csv'), 413, 'UPLOAD_TOO_LARGE');
      const { payload, contentType } = await multipart({}, { name: 'big.csv', type: 'text/csv', content: csv });
      expectError(await small.api.send('/v1/suppressions/import', payload, contentType), 413, 'UPLOAD_TOO_LARGE');
    } finally {
      await small.close();
    }
  });
});

describe('GET /v1/suppressions/export.csv', () => {
  it('streams the whole list as spreadsheet-safe CSV', async () => {
    const { api } = await h.newTenant('export');
    expectStatus(await api.post('/v1/suppressions', { phones: ['+56987650082', '+56987650081'], detail: '=HYPERLINK("http://evil")' }), 201);
    const response = await api.get('/v1/suppressions/export.csv');
    expectStatusCode(response, 200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe('attachment; filename="suppressions.csv"');
    const lines = response.body.split('\r\n');
    expect(lines[0]).toBe('\uFEFFphone,reason,detail,created_at');
    expect(lines.slice(1, 3).map((line) => line.replace(/,[^,]+$/, ''))).toEqual([
      `+56987650081,MANUAL,"'=HYPERLINK(""http://evil"")"`,
      `+56987650082,MANUAL,"'=HYPERLINK(""http://evil"")"`,
    ]);
    expect(lines[1]).toMatch(/,\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect(lines.slice(3)).toEqual(['']);
  });
});

describe('uploads after a suppression', () => {
  it('rejects the suppressed phone as PHONE_SUPPRESSED in the upload and its report', async () => {
    const { api } = await h.newTenant('upload');
    expectStatus(await api.post('/v1/suppressions', { phone: '+56987650091' }), 201);
    const { campaign } = await createDraftCampaign(api, await createSender(api));
    const csv = 'phone;nombre;saldo\n+56987650090;Ana;1\n987650091;Bea;2\n';
    const { upload } = expectStatus<UploadResponse>(await api.send(`/v1/campaigns/${campaign.id}/recipients`, csv, 'text/csv'), 201);
    expect(upload).toMatchObject({ totalRows: 2, accepted: 1, rejected: 1, rejectedByReason: { PHONE_SUPPRESSED: 1 } });
    const report = await api.get(upload.rejectedReportUrl);
    expect(report.body).toContain('\r\n3,PHONE_SUPPRESSED,"The phone +56987650091 is on the suppression list: it asked not to receive messages, or an operator stopped it.",987650091;Bea;2\r\n');
  });
});
