/**
 * Campaign settings over HTTP: header media a template needs, schedule (startAt, expiresAt,
 * sending window), error budget; account webhook URLs shown once; /metrics behind the API key.
 */
import { describe, expect, it } from 'vitest';
import { apiForFile, beforeAllValue, createAccount, expectError, expectStatus, startApi, type PublicAccount } from './api-harness.js';

const h = apiForFile();
const account = beforeAllValue(() => createAccount(h.api));

type Template = { id: string; headerType: string; buttons: unknown[] };
type Campaign = { id: string; startAt: string | null; expiresAt: string | null; sendWindow: { start: string; end: string } | null; errorBudget: number | null; options: unknown };

async function imageTemplate(): Promise<Template> {
  return expectStatus<Template>(
    await h.api.post('/v1/templates', {
      accountId: account.id,
      name: 'promo_invierno',
      body: 'Hola {{1}}, mira nuestra promo',
      headerType: 'image',
      buttons: [{ type: 'QUICK_REPLY', text: 'Me interesa' }, { type: 'QUICK_REPLY', text: 'No gracias' }],
    }),
    201,
  );
}

describe('templates with a media header', () => {
  it('stores the header type and buttons in order', async () => {
    const template = await imageTemplate();
    expect(template.headerType).toBe('image');
    expect(template.buttons).toEqual([{ type: 'QUICK_REPLY', text: 'Me interesa' }, { type: 'QUICK_REPLY', text: 'No gracias' }]);
  });

  it('refuses a campaign without the header media with 422 TEMPLATE_MEDIA_REQUIRED', async () => {
    const template = await imageTemplate();
    const response = await h.api.post('/v1/campaigns', { name: 'sin imagen', accountId: account.id, templateId: template.id });
    expectError(response, 422, 'TEMPLATE_MEDIA_REQUIRED');
  });

  it('refuses media of another kind than the header', async () => {
    const template = await imageTemplate();
    const response = await h.api.post('/v1/campaigns', {
      name: 'video en vez de imagen',
      accountId: account.id,
      templateId: template.id,
      options: { headerMedia: { type: 'video', link: 'https://cdn.example.com/promo.mp4' } },
    });
    expectError(response, 422, 'TEMPLATE_MEDIA_REQUIRED');
  });

  it('refuses media with both a link and an id, or neither', async () => {
    const template = await imageTemplate();
    for (const headerMedia of [{ type: 'image' }, { type: 'image', link: 'https://cdn.example.com/a.jpg', id: '123' }]) {
      expectError(await h.api.post('/v1/campaigns', { name: 'x', accountId: account.id, templateId: template.id, options: { headerMedia } }), 400, 'VALIDATION_FAILED');
    }
  });

  it('accepts the campaign with the image and keeps its options', async () => {
    const template = await imageTemplate();
    const options = { headerMedia: { type: 'image', link: 'https://cdn.example.com/promo.jpg' }, buttonParams: [{ index: 0, subType: 'quick_reply', value: 'PROMO_SI' }] };
    const created = expectStatus<{ campaign: Campaign }>(await h.api.post('/v1/campaigns', { name: 'con imagen', accountId: account.id, templateId: template.id, options }), 201);
    expect(created.campaign.options).toEqual(options);
  });
});

describe('schedule and error budget', () => {
  it('stores startAt, expiresAt, the sending window and the error budget', async () => {
    const template = expectStatus<Template>(await h.api.post('/v1/templates', { accountId: account.id, name: 'recordatorio', body: 'Hola {{1}}' }), 201);
    const created = expectStatus<{ campaign: Campaign }>(
      await h.api.post('/v1/campaigns', {
        name: 'programada',
        accountId: account.id,
        templateId: template.id,
        startAt: '2030-01-15T12:00:00Z',
        expiresAt: '2030-01-16T12:00:00-03:00',
        sendWindow: { start: '09:00', end: '20:30' },
        errorBudget: 0.2,
      }),
      201,
    );
    expect(created.campaign).toMatchObject({
      startAt: '2030-01-15T12:00:00.000Z',
      expiresAt: '2030-01-16T15:00:00.000Z',
      sendWindow: { start: '09:00', end: '20:30' },
      errorBudget: 0.2,
    });
  });

  it('refuses an expiry before the start, and a window time that is not a time of day', async () => {
    const template = expectStatus<Template>(await h.api.post('/v1/templates', { accountId: account.id, name: 'recordatorio2', body: 'Hola {{1}}' }), 201);
    const base = { name: 'mala', accountId: account.id, templateId: template.id };
    expectError(await h.api.post('/v1/campaigns', { ...base, startAt: '2030-01-15T12:00:00Z', expiresAt: '2030-01-15T11:00:00Z' }), 400, 'VALIDATION_FAILED');
    expectError(await h.api.post('/v1/campaigns', { ...base, sendWindow: { start: '25:00', end: '20:00' } }), 400, 'VALIDATION_FAILED');
  });
});

describe('account webhook URL', () => {
  it('is shown once at creation, stored only as a hash, and rotates', async () => {
    const created = expectStatus<PublicAccount & { webhook: { url: string; supported: boolean } }>(
      await h.api.post('/v1/accounts', { provider: 'sandbox', name: 'con webhook', config: { baseUrl: 'http://127.0.0.1:9' }, credentials: { token: 't' } }),
      201,
    );
    expect(created.webhook.url).toMatch(new RegExp(`^/webhooks/${created.id}/[A-Za-z0-9_-]{32}$`));
    const secret = created.webhook.url.split('/').pop() ?? '';
    const stored = await h.ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id: created.id } });
    expect(stored.webhookSecretHash).not.toContain(secret);
    const fetched = expectStatus<Record<string, unknown>>(await h.api.get(`/v1/accounts/${created.id}`), 200);
    expect(JSON.stringify(fetched)).not.toContain(secret);
    expect(fetched.webhookConfigured).toBe(true);

    const rotated = expectStatus<{ webhook: { url: string } }>(await h.api.post(`/v1/accounts/${created.id}/webhook-secret`, {}), 200);
    expect(rotated.webhook.url).not.toBe(created.webhook.url);
  });
});

describe('/metrics', () => {
  it('needs the operator token (no tenant key works), and serves Prometheus text with it', async () => {
    const own = await startApi({ metricsToken: METRICS_TOKEN });
    try {
      expectError(await own.app.inject({ method: 'GET', url: '/metrics' }), 401, 'METRICS_TOKEN_REQUIRED');
      expectError(await own.api.get('/metrics'), 401, 'METRICS_TOKEN_REQUIRED');
      const response = await own.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('wce_webhook_backlog');
    } finally {
      await own.close();
    }
  });

  it('is off when no operator token is set', async () => {
    expectError(await h.api.get('/metrics'), 404, 'METRICS_DISABLED');
  });
});

const METRICS_TOKEN = 'operator-metrics-token-5b1e2f';

describe('text campaigns (Adereso proactive conversations)', () => {
  async function aderesoAccount(): Promise<PublicAccount> {
    return expectStatus<PublicAccount>(
      await h.api.post('/v1/accounts', {
        provider: 'adereso',
        name: 'Adereso CL',
        config: { baseUrl: 'http://127.0.0.1:9', account: '56900000000', accountId: 'au2geg72gs' },
        credentials: { token: 'adereso-token' },
      }),
      201,
    );
  }

  it('creates a text campaign with its text, no template, and takes recipients with one variable per placeholder', async () => {
    const adereso = await aderesoAccount();
    const created = expectStatus<{ campaign: Campaign & { kind: string; text: string; templateId: string | null }; upload: { accepted: number; rejected: number } }>(
      await h.api.post('/v1/campaigns', {
        name: 'Aviso de despacho',
        accountId: adereso.id,
        kind: 'text',
        text: 'Hola {{1}}, tu pedido {{2}} va en camino.',
        options: { noManualReopen: true },
        recipients: [
          { phone: '+56 9 1234 5678', variables: ['Ana', 'A-1'] },
          { phone: '+56 9 1234 5679', variables: ['Luis'] },
        ],
      }),
      201,
    );
    expect(created.campaign).toMatchObject({ kind: 'text', text: 'Hola {{1}}, tu pedido {{2}} va en camino.', templateId: null });
    expect(created.upload).toMatchObject({ accepted: 1, rejected: 1 });
  });

  it('refuses a text campaign on a provider that cannot send free text, with text and a template, or with numbering gaps', async () => {
    const adereso = await aderesoAccount();
    expectError(await h.api.post('/v1/campaigns', { name: 'x', accountId: account.id, kind: 'text', text: 'Hola {{1}}' }), 422, 'TEXT_CAMPAIGN_UNSUPPORTED');
    expectError(await h.api.post('/v1/campaigns', { name: 'x', accountId: adereso.id, kind: 'text' }), 400, 'VALIDATION_FAILED');
    expectError(await h.api.post('/v1/campaigns', { name: 'x', accountId: adereso.id, kind: 'text', text: 'Hola {{2}}' }), 400, 'VALIDATION_FAILED');
    const template = expectStatus<Template>(await h.api.post('/v1/templates', { accountId: adereso.id, name: 'hsm', body: 'Hola {{1}}' }), 201);
    expectError(await h.api.post('/v1/campaigns', { name: 'x', accountId: adereso.id, kind: 'text', text: 'Hola', templateId: template.id }), 400, 'VALIDATION_FAILED');
    expectError(await h.api.post('/v1/campaigns', { name: 'x', accountId: adereso.id }), 400, 'VALIDATION_FAILED');
  });
});

describe('stop words', () => {
  it('starts with the defaults, takes the tenant own list, and [] restores the defaults', async () => {
    const auth = { authorization: `Bearer ${h.tenant.apiKey}` };
    const initial = expectStatus<{ stopWords: string[]; usingDefaults: boolean }>(await h.api.get('/v1/settings/stop-words'), 200);
    expect(initial.usingDefaults).toBe(true);
    expect(initial.stopWords).toEqual(expect.arrayContaining(['BAJA', 'STOP']));

    const put = (stopWords: unknown) => h.app.inject({ method: 'PUT', url: '/v1/settings/stop-words', headers: auth, payload: { stopWords } });
    const own = expectStatus<{ stopWords: string[]; usingDefaults: boolean }>(await put(['ALTO', 'chao', 'ALTO']), 200);
    expect(own).toMatchObject({ stopWords: ['ALTO', 'chao'], usingDefaults: false });
    const stored = await h.ctx.db.prisma.tenant.findUniqueOrThrow({ where: { id: h.tenant.tenantId } });
    expect(stored.stopWords).toEqual(['ALTO', 'chao']);

    expectError(await put(['']), 400, 'VALIDATION_FAILED');
    expect(expectStatus<{ usingDefaults: boolean }>(await put([]), 200).usingDefaults).toBe(true);
  });
});

describe('replies paging', () => {
  it('pages replies that share one timestamp without skipping or repeating any', async () => {
    const template = expectStatus<Template>(await h.api.post('/v1/templates', { accountId: account.id, name: 'encuesta', body: 'Hola {{1}}' }), 201);
    const { campaign } = expectStatus<{ campaign: Campaign }>(await h.api.post('/v1/campaigns', { name: 'encuesta', accountId: account.id, templateId: template.id }), 201);
    const at = new Date('2026-11-20T12:00:00Z');
    for (let i = 0; i < 5; i += 1) {
      await h.ctx.db.pool.query(
        `INSERT INTO inbound_messages (id, tenant_id, account_id, provider_message_id, phone, campaign_id, text, received_at)
         VALUES (gen_random_uuid(), $1, $2, $3, '+56912345678', $4, $5, $6)`,
        [h.tenant.tenantId, account.id, `wamid.in.${i}`, campaign.id, `respuesta ${i}`, at],
      );
    }
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page += 1) {
      const url: string = `/v1/campaigns/${campaign.id}/replies?limit=2${after ? `&after=${after}` : ''}`;
      const body: { replies: { text: string }[]; next: string | null } = expectStatus(await h.api.get(url), 200);
      seen.push(...body.replies.map((r) => r.text));
      after = body.next;
      if (!after) break;
    }
    expect(seen.sort()).toEqual(['respuesta 0', 'respuesta 1', 'respuesta 2', 'respuesta 3', 'respuesta 4']);
    expectError(await h.api.get(`/v1/campaigns/${campaign.id}/replies?after=nonsense`), 400, 'VALIDATION_FAILED');
  });
});
