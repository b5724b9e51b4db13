/**
 * Issue 12, item 7: inputs that gave a 500 instead of a 4xx. Each failed on the code as it was;
 * each now gets a stable 4xx code. The NUL / lone-surrogate checks run in one place
 * (src/api/validate.ts, wired in app.ts), so they hold for every route, not only these.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { apiForFile, beforeAllValue, createDraftCampaign, createSender, expectError, expectStatus, recipientObjects } from './api-harness.js';

const h = apiForFile();
const sender = beforeAllValue(() => createSender(h.api));
let campaignId: string;
beforeAll(async () => {
  campaignId = (await createDraftCampaign(h.api, sender, { recipients: recipientObjects(2) })).campaign.id;
});

const NUL = 'a\u0000b';
const LONE_HIGH = 'x\ud800y';
const LONE_LOW = '\udc00';

describe('NUL or a lone surrogate in any string field is 400 INVALID_CHARACTERS', () => {
  const bodies: [string, string, () => Record<string, unknown>][] = [
    ['POST', '/v1/accounts', () => ({ provider: 'sandbox', name: NUL, config: { baseUrl: 'http://127.0.0.1:9' }, credentials: { token: 't' } })],
    ['POST', '/v1/accounts', () => ({ provider: 'sandbox', name: 'ok', config: { baseUrl: 'http://127.0.0.1:9', extra: LONE_HIGH }, credentials: { token: 't' } })],
    ['POST', '/v1/accounts', () => ({ provider: 'sandbox', name: 'ok', config: { baseUrl: 'http://127.0.0.1:9' }, credentials: { token: LONE_LOW } })],
    ['POST', '/v1/templates', () => ({ accountId: sender.account.id, name: 'n', body: `Hola ${NUL} {{1}}` })],
    ['POST', '/v1/templates', () => ({ accountId: sender.account.id, name: LONE_HIGH, body: 'Hola {{1}}' })],
    ['POST', '/v1/campaigns', () => ({ name: NUL, accountId: sender.account.id, templateId: sender.template.id })],
    ['POST', '/v1/campaigns', () => ({ name: 'c', accountId: sender.account.id, templateId: sender.template.id, recipients: [{ phone: '+56987000001', nombre: LONE_HIGH, saldo: '1' }] })],
    ['POST', '/v1/suppressions', () => ({ phone: '+56987000001', detail: NUL })],
    ['POST', '/v1/suppressions', () => ({ phones: [LONE_LOW] })],
    ['PUT', '/v1/settings/stop-words', () => ({ stopWords: ['BAJA', NUL] })],
    ['PUT', '/v1/settings/stop-words', () => ({ stopWords: [LONE_HIGH] })],
    ['POST', '/v1/messages', () => ({ accountId: sender.account.id, templateId: sender.template.id, phone: '+56987000001', variables: [NUL, 'x'], waitMs: 0 })],
  ];
  it.each(bodies.map(([method, url, body], i) => ({ i, method, url, body })))('$method $url (#$i)', async ({ method, url, body }) => {
    const response = await h.app.inject({ method: method as 'POST' | 'PUT', url, headers: { authorization: `Bearer ${h.tenant.apiKey}` }, payload: body() });
    expectError(response, 400, 'INVALID_CHARACTERS');
  });

  it('a key holding a NUL is refused too', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: { authorization: `Bearer ${h.tenant.apiKey}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ provider: 'sandbox', name: 'k', config: { baseUrl: 'http://127.0.0.1:9', 'a\u0000': 1 }, credentials: { token: 't' } }),
    });
    expectError(response, 400, 'INVALID_CHARACTERS');
  });

  it.each([
    '/v1/suppressions?phone=%2B569%00',
    '/v1/suppressions?cursor=%00',
    `/v1/templates?accountId=%00`,
    '/v1/suppressions/%2B5698%00',
    `/v1/campaigns/CID/replies?after=%00`,
    '/v1/campaigns/%00',
  ])('query or path %s', async (url) => {
    expectError(await h.api.get(url.replace('CID', campaignId)), 400, 'INVALID_CHARACTERS');
  });

  it('the message names where the bad text is', async () => {
    const response = await h.api.post('/v1/campaigns', { name: NUL, accountId: sender.account.id, templateId: sender.template.id });
    expect(expectError(response, 400, 'INVALID_CHARACTERS').details).toEqual({ where: 'body.name' });
  });

  it('text with emoji (surrogate pairs) and accents is still taken (the control)', async () => {
    const response = await h.api.post('/v1/suppressions', { phone: '+56987000009', detail: 'pidió baja 🙏' });
    expectStatus(response, 201);
  });
});

describe('JSON nested 10,000 deep is 400 INPUT_TOO_DEEP', () => {
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  it('in the inline recipients of POST /v1/campaigns', async () => {
    const payload = `{"name":"deep","accountId":"${sender.account.id}","templateId":"${sender.template.id}","recipients":${deep(10_000)}}`;
    expectError(await h.api.send('/v1/campaigns', payload, 'application/json'), 400, 'INPUT_TOO_DEEP');
  });

  it('in an account config', async () => {
    const payload = `{"provider":"sandbox","name":"deep","config":{"baseUrl":"http://127.0.0.1:9","x":${deep(10_000)}},"credentials":{"token":"t"}}`;
    expectError(await h.api.send('/v1/accounts', payload, 'application/json'), 400, 'INPUT_TOO_DEEP');
  });

  it('as the whole body', async () => {
    expectError(await h.api.send('/v1/suppressions', deep(10_000), 'application/json'), 400, 'INPUT_TOO_DEEP');
  });
});

describe('cursors and dates out of range are 400 VALIDATION_FAILED', () => {
  it('recipients?after= beyond bigint', async () => {
    expectError(await h.api.get(`/v1/campaigns/${campaignId}/recipients?after=99999999999999999999`), 400, 'VALIDATION_FAILED');
    expectError(await h.api.get(`/v1/campaigns/${campaignId}/recipients?after=9223372036854775808`), 400, 'VALIDATION_FAILED');
    expectStatus(await h.api.get(`/v1/campaigns/${campaignId}/recipients?after=9223372036854775807`), 200);
  });

  const b64 = (text: string) => Buffer.from(text).toString('base64url');
  it.each([
    ['a bare number as the time', b64('1|6f1c2d3e-4a5b-4c6d-8e7f-001122334455')],
    ['dashes for an id', b64(`2026-01-01T00:00:00.000Z|${'-'.repeat(36)}`)],
    ['a year Postgres cannot store', b64('0000-01-01T00:00:00.000Z|6f1c2d3e-4a5b-4c6d-8e7f-001122334455')],
    ['a time past year 9999', b64('+275760-09-13T00:00:00.000Z|6f1c2d3e-4a5b-4c6d-8e7f-001122334455')],
    ['no separator', b64('2026-01-01T00:00:00.000Z')],
    ['not base64 at all', '!!!'],
  ])('replies?after= with %s', async (_name, cursor) => {
    expectError(await h.api.get(`/v1/campaigns/${campaignId}/replies?after=${encodeURIComponent(cursor)}`), 400, 'VALIDATION_FAILED');
  });

  it.each(['0000-01-01T00:00:00Z', '-000001-01-01T00:00:00Z', '1969-12-31T23:59:59Z'])('startAt %s', async (startAt) => {
    const response = await h.api.post('/v1/campaigns', { name: 'old', accountId: sender.account.id, templateId: sender.template.id, startAt });
    expectError(response, 400, 'VALIDATION_FAILED');
  });

  it('expiresAt in year 0000', async () => {
    const response = await h.api.post('/v1/campaigns', { name: 'old', accountId: sender.account.id, templateId: sender.template.id, expiresAt: '0000-01-01T00:00:00Z' });
    expectError(response, 400, 'VALIDATION_FAILED');
  });
});

describe('broken multipart is 400 MALFORMED_INPUT', () => {
  const unclosed = (boundary: string) => `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\nphone,nombre,saldo\n+56987000001,Ana,1\n`;
  it.each([
    ['upload, no closing boundary', () => `/v1/campaigns/${campaignId}/recipients`, 'multipart/form-data; boundary=XyZ', unclosed('XyZ')],
    ['upload, no boundary parameter', () => `/v1/campaigns/${campaignId}/recipients`, 'multipart/form-data', unclosed('XyZ')],
    ['suppression import, no closing boundary', () => '/v1/suppressions/import', 'multipart/form-data; boundary=XyZ', unclosed('XyZ')],
    ['suppression import, no boundary parameter', () => '/v1/suppressions/import', 'multipart/form-data', unclosed('XyZ')],
  ])('%s', async (_name, url, contentType, payload) => {
    const response = await h.api.send(url(), payload, contentType);
    expect(response.statusCode).toBeLessThan(500);
    expectError(response, 400, 'MALFORMED_INPUT');
  });
});

describe('URLs the router cannot decode', () => {
  it('a bad percent-encoding is 400 BAD_REQUEST in the engine format', async () => {
    expectError(await h.api.get('/v1/campaigns/%E0%A4%A'), 400, 'BAD_REQUEST');
  });
});
