/**
 * Regression tests for API bugs found while writing test/api (all fixed): each failed on the
 * code as it was, and guards its fix. The file:line references in the describe titles point at
 * where each bug was, at the time.
 */
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { createApiKey, createTenant } from '../../src/tenants/api-keys.js';
import {
  apiClient,
  apiForFile,
  beforeAllValue,
  createAccount,
  createDraftCampaign,
  createSender,
  expectError,
  expectStatus,
  phones,
  recipientCount,
  recipientObjects,
  startApi,
  type CreateCampaignResponse,
  type PublicAccount,
} from './api-harness.js';

const h = apiForFile();
const sender = beforeAllValue(() => createSender(h.api));

describe('BUG 1: PATCH /v1/accounts/:id applies create defaults (src/api/routes/accounts.ts:23)', () => {
  it('a PATCH that only renames is accepted', async () => {
    const account = await createAccount(h.api, 'rename only');
    const response = await h.api.patch(`/v1/accounts/${account.id}`, { name: 'renamed' });
    expect(expectStatus<PublicAccount>(response, 200)).toMatchObject({ name: 'renamed', config: { baseUrl: 'http://127.0.0.1:9' } });
  });

  it('a PATCH without ratePerSecond keeps the rate', async () => {
    const account = await createAccount(h.api, 'keeps rate');
    expect(account.ratePerSecond).toBe(50);
    const response = await h.api.patch(`/v1/accounts/${account.id}`, { name: 'still 50', config: { baseUrl: 'http://127.0.0.1:9' } });
    expect(expectStatus<PublicAccount>(response, 200).ratePerSecond).toBe(50);
  });
});

describe('BUG 2: recipients and export.csv order by id as text (src/api/routes/campaigns.ts:115-120, 136-138)', () => {
  type Row = { id: string; line: number };
  it('paging with `next` returns every recipient once, none missing', async () => {
    const { campaign } = await createDraftCampaign(h.api, sender, { recipients: recipientObjects(30, 2000) });
    const lines: number[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const url: string = `/v1/campaigns/${campaign.id}/recipients?limit=6${after ? `&after=${after}` : ''}`;
      const page: { recipients: Row[]; next: string | null } = expectStatus(await h.api.get(url), 200);
      lines.push(...page.recipients.map((r) => r.line));
      after = page.next;
      if (!after) break;
    }
    expect(lines).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('export.csv holds every recipient of a campaign over 5,000, in line order', async () => {
    const { campaign } = await createDraftCampaign(h.api, sender);
    await h.ctx.db.pool.query(
      `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables)
       SELECT $1, $2, '+5699' || lpad(n::text, 7, '0'), 'x', n, '["a","b"]' FROM generate_series(1, 12000) AS n`,
      [h.tenant.tenantId, campaign.id],
    );
    const response = await h.api.get(`/v1/campaigns/${campaign.id}/export.csv`);
    const records = parse(response.body, { columns: true, bom: true }) as { line: string }[];
    expect(records.length).toBe(12000);
    expect(records.map((r) => Number(r.line))).toEqual(Array.from({ length: 12000 }, (_, i) => i + 1));
  });
});

describe('BUG 4: campaign creation is not atomic (src/campaigns/create-campaign.ts:70-91)', () => {
  it('a 422 for the inline recipients leaves no campaign behind', async () => {
    const before = await h.ctx.db.prisma.campaign.count();
    const response = await h.api.post('/v1/campaigns', {
      name: 'orphan',
      accountId: sender.account.id,
      templateId: sender.template.id,
      recipients: [{ phone: '+56987009999', nombre: 'Ana' }],
    });
    expectError(response, 422, 'TEMPLATE_VARIABLE_MISMATCH');
    expect(await h.ctx.db.prisma.campaign.count()).toBe(before);
  });

  it('start:true with no recipients leaves no campaign behind', async () => {
    const before = await h.ctx.db.prisma.campaign.count();
    expectError(await h.api.post('/v1/campaigns', { name: 'orphan 2', accountId: sender.account.id, templateId: sender.template.id, start: true }), 409, 'CAMPAIGN_EMPTY');
    expect(await h.ctx.db.prisma.campaign.count()).toBe(before);
  });
});

describe('BUG 5: upload size limit (src/api/routes/uploads.ts:44-52, 97-98; src/api/app.ts:42; src/errors.ts:59)', () => {
  it('a multipart file over the limit is 413 and nothing is stored', async () => {
    const small = await startApi({ uploadMaxBytes: 1024 });
    try {
      const s = await createSender(small.api);
      const { campaign } = await createDraftCampaign(small.api, s);
      const csv = ['phone,nombre,saldo', ...phones(60).map((p, i) => `${p},Cliente ${i},${i}`)].join('\n');
      const form = new FormData();
      form.append('file', new Blob([csv], { type: 'text/csv' }), 'big.csv');
      const encoded = new Response(form);
      const response = await small.api.send(`/v1/campaigns/${campaign.id}/recipients`, Buffer.from(await encoded.arrayBuffer()), encoded.headers.get('content-type') ?? '');
      expect({ status: response.statusCode, stored: await recipientCount(small.ctx, campaign.id) }).toEqual({ status: 413, stored: 0 });
    } finally {
      await small.close();
    }
  });

  it('the 413 message states the limit', async () => {
    const small = await startApi({ uploadMaxBytes: 1024, campaignJsonMaxBytes: 1024 });
    try {
      const s = await createSender(small.api);
      const response = await small.api.post('/v1/campaigns', { name: 'big', accountId: s.account.id, templateId: s.template.id, recipients: recipientObjects(30) });
      expect(expectError(response, 413, 'BODY_TOO_LARGE').message).toContain('1,024-byte limit');
    } finally {
      await small.close();
    }
  });

  it('a text/csv upload over the limit does not crash the API process', async () => {
    const { tenantId, apiKey } = await createTenant(h.ctx.db, 'crash');
    void tenantId;
    const child = fork(resolve(import.meta.dirname, '../../workers/api-server.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, DATABASE_URL: h.ctx.databaseUrl, QUEUE_PREFIX: h.ctx.queuePrefix, PORT: '0', HOST: '127.0.0.1', UPLOAD_MAX_BYTES: '1024', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    try {
      const port = await new Promise<number>((r, j) => {
        child.once('message', (m) => r((m as { port: number }).port));
        child.once('exit', (code) => j(new Error(`exited ${code}`)));
      });
      const base = `http://127.0.0.1:${port}`;
      const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
      const account = (await (await fetch(`${base}/v1/accounts`, { method: 'POST', headers: auth, body: JSON.stringify({ provider: 'sandbox', name: 'a', config: { baseUrl: 'http://127.0.0.1:9' }, credentials: { token: 't' } }) })).json()) as { id: string };
      const template = (await (await fetch(`${base}/v1/templates`, { method: 'POST', headers: auth, body: JSON.stringify({ accountId: account.id, name: 't', body: 'Hi {{1}} {{2}}' }) })).json()) as { id: string };
      const created = (await (await fetch(`${base}/v1/campaigns`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'c', accountId: account.id, templateId: template.id }) })).json()) as CreateCampaignResponse;
      const csv = ['phone,nombre,saldo', ...phones(60).map((p, i) => `${p},Cliente ${i},${i}`)].join('\n');
      const upload = await fetch(`${base}/v1/campaigns/${created.campaign.id}/recipients`, { method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body: csv }).then(
        (r) => r.status,
        (e: Error) => e.message,
      );
      // Still serving after the refused upload: a later request is answered, by the same process.
      const health = await fetch(`${base}/health`).then((r) => r.status, (e: Error) => e.message);
      expect({ upload, health, exitCode: child.exitCode }).toEqual({ upload: 413, health: 200, exitCode: null });
    } finally {
      child.kill();
    }
  });
});

describe('BUG 6: error messages that mislead (src/api/app.ts:58-62, src/api/routes/uploads.ts:88, src/errors.ts:69)', () => {
  it('415 names the content type that was sent', async () => {
    const { campaign } = await createDraftCampaign(h.api, sender);
    const response = await h.api.send(`/v1/campaigns/${campaign.id}/recipients`, '<x/>', 'application/xml');
    expect(expectError(response, 415, 'UNSUPPORTED_MEDIA_TYPE').message).toContain('application/xml');
  });

  it('a multipart file of the wrong type names the file type, not multipart/form-data', async () => {
    const { campaign } = await createDraftCampaign(h.api, sender);
    const form = new FormData();
    form.append('file', new Blob(['x'], { type: 'image/png' }), 'photo.png');
    const encoded = new Response(form);
    const response = await h.api.send(`/v1/campaigns/${campaign.id}/recipients`, Buffer.from(await encoded.arrayBuffer()), encoded.headers.get('content-type') ?? '');
    expect(expectError(response, 415, 'UNSUPPORTED_MEDIA_TYPE').message).toContain('image/png');
  });

  it('malformed JSON sent to /v1/accounts does not talk about a recipient list', async () => {
    const response = await h.app.inject({ method: 'POST', url: '/v1/accounts', headers: { authorization: `Bearer ${h.tenant.apiKey}`, 'content-type': 'application/json' }, payload: '{"provider": ' });
    expect(expectError(response, 400, 'MALFORMED_JSON').message).not.toContain('recipient list');
  });
});

describe('BUG 7: auth (src/api/auth.ts:18-29, 43)', () => {
  it('the Bearer scheme is case-insensitive (RFC 9110 §11.1)', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/v1/accounts', headers: { authorization: `bearer ${h.tenant.apiKey}` } });
    expect(response.statusCode).toBe(200);
  });

  // Revoked the supported way (the API; the CLI does the same): lookups are cached in Redis, and
  // revocation overwrites the cached entry.
  it('a key revoked after use stops working at once', async () => {
    const { key, id } = await createApiKey(h.ctx.db, h.tenant.tenantId, 'revoke after use');
    const api = apiClient(h.app, key);
    expect((await api.get('/v1/accounts')).statusCode).toBe(200);
    expectStatus(await h.api.post(`/v1/api-keys/${id}/revoke`), 200);
    expectError(await api.get('/v1/accounts'), 401, 'INVALID_API_KEY');
  });
});

describe('BUG 3: an Idempotency-Key holds a pooled connection while waiting for more (src/campaigns/create-campaign.ts:41-43)', () => {
  // Each call parks one connection of the shared pool (10 in tests, 20 in the API) on the
  // advisory lock, then needs another for its queries: with as many concurrent keyed creates
  // as the pool has connections, every request of the process waits for a connection forever.
  // Its own harness, last in the file: when it hangs, the pool it hangs is no one else's.
  it('twelve concurrent creates with distinct keys all finish', async () => {
    const own = await startApi();
    const s = await createSender(own.api);
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => own.api.post('/v1/campaigns', { name: `c${i}`, accountId: s.account.id, templateId: s.template.id }, { 'idempotency-key': `pool-${i}` })),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array.from({ length: 12 }, () => 201));
    await own.close();
  }, 20_000);
});
