/**
 * The Meta adapter through the real sendHttp against a local Cloud API that speaks Graph's
 * format: every outcome kind a Meta send can produce, every code of the notes' table as the
 * fake words it, a hanging response (ambiguous) and a refused connection (retry). The token must
 * never show in any outcome.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeHttpAgent, sendHttp } from '../../src/providers/http.js';
import {
  buildMetaListTemplatesRequest,
  classifyMetaError,
  metaAdapter,
  parseMetaListTemplatesResponse,
  type MetaConfig,
  type MetaCredentials,
  type MetaTemplateRecord,
} from '../../src/providers/meta/index.js';
import type { AccountSettings, OutboundMessage, SendOutcome, TemplateRef } from '../../src/providers/types.js';
import { FAKE_META_ERROR_CODES, startFakeMeta, type FakeMeta } from '../fakes/meta-server.js';

import { outcomeLedger, transportScenarios } from './http-support.js';

const TIMEOUT_MS = 2_000;
let fake: FakeMeta;
// Checked once every test has run: each kind a Meta exchange can produce was produced, and none shows the token.
const note = outcomeLedger(() => [fake.token], ['account_error', 'account_limited', 'ambiguous', 'deferred', 'opted_out', 'rate_limited', 'recipient_error', 'retry', 'sent', 'template_error']);

const accountFor = (server: { url: string; token: string; phoneNumberId: string; wabaId: string }, token = server.token): AccountSettings<MetaConfig, MetaCredentials> => ({
  id: 'acc-meta',
  config: { baseUrl: server.url, phoneNumberId: server.phoneNumberId, wabaId: server.wabaId },
  credentials: { accessToken: token },
});

async function send(message: OutboundMessage, account = accountFor(fake), timeoutMs = TIMEOUT_MS): Promise<SendOutcome> {
  const result = await sendHttp(metaAdapter.buildSendRequest(message, account), timeoutMs);
  return note(result.ok ? metaAdapter.parseSendResponse(result.response, message) : result.outcome);
}

const ref = (name: string, body: string, language = 'es_AR'): TemplateRef => ({ name, externalId: null, language, category: 'MARKETING', body, paramNames: [] });
const orderTemplate = ref('order_update', 'Hola {{1}}, tu pedido {{2}} salió.');
const message = (phone: string, overrides: Partial<OutboundMessage> = {}): OutboundMessage => ({
  reference: `r-${phone}`,
  phone,
  template: orderTemplate,
  variables: ['Ana', 'A-123'],
  ...overrides,
});

beforeEach(async () => {
  fake = await startFakeMeta();
  fake.addTemplate({ name: 'order_update', body: orderTemplate.body });
  fake.addTemplate({
    name: 'promo_image',
    body: 'Oferta para {{1}}',
    headerFormat: 'IMAGE',
    buttons: [
      { type: 'QUICK_REPLY', text: 'No me interesa' },
      { type: 'URL', text: 'Ver oferta', url: 'https://shop.example/o/{{1}}', example: ['https://shop.example/o/x'] },
    ],
  });
  fake.addTemplate({ name: 'paused_one', body: 'Hola', status: 'PAUSED' });
  fake.addTemplate({ name: 'disabled_one', body: 'Hola', status: 'DISABLED' });
  fake.addTemplate({ name: 'pending_one', body: 'Hola', status: 'PENDING' });
});

afterEach(async () => {
  await fake.close();
});

afterAll(async () => {
  await closeHttpAgent();
});

describe('Meta send over HTTP', () => {
  it('sends: the wamid comes back, and Argentina\'s wa_id differs from the number sent', async () => {
    const outcome = await send(message('+541155174499'));
    expect(outcome).toMatchObject({ kind: 'sent', code: 'SENT', providerText: 'wa_id 5491155174499' });
    expect(outcome.messageId).toMatch(/^wamid\./);
    expect(fake.deliveries).toEqual([{ to: '+541155174499', waId: '5491155174499', messageId: outcome.messageId, template: 'order_update' }]);
    expect(fake.requests[0]).toMatchObject({ method: 'POST', path: '/v24.0/106540352242922/messages' });
  });

  it('sends a media header and buttons the template needs; refuses them missing', async () => {
    const promo = ref('promo_image', 'Oferta para {{1}}');
    const full: OutboundMessage = {
      reference: 'p',
      phone: '+5491155174499',
      template: promo,
      variables: ['Ana'],
      media: { type: 'image', link: 'https://cdn.example.com/promo.png' },
      buttonParams: [
        { index: 0, subType: 'quick_reply', value: 'NO_PROMOS' },
        { index: 1, subType: 'url', value: 'summer' },
      ],
    };
    expect(await send(full)).toMatchObject({ kind: 'sent' });
    expect(await send({ ...full, media: undefined })).toMatchObject({ kind: 'template_error', providerCode: '132012' });
    expect(await send({ ...full, buttonParams: [] })).toMatchObject({ kind: 'template_error', providerCode: '131008' });
    expect(fake.deliveries).toHaveLength(1);
  });

  it('template errors: wrong parameter count, unknown name or language, paused, disabled, not approved', async () => {
    expect(await send(message('+5491155174499', { variables: ['Ana'] }))).toMatchObject({
      kind: 'template_error',
      code: 'TEMPLATE_PARAMS_INVALID',
      providerCode: '132000',
      providerText: expect.stringContaining('number of localizable_params (1) does not match the expected number of params (2)'),
    });
    expect(await send(message('+5491155174499', { template: { ...orderTemplate, language: 'en_US' } }))).toMatchObject({ code: 'TEMPLATE_NOT_FOUND', providerCode: '132001' });
    expect(await send(message('+5491155174499', { template: ref('paused_one', 'Hola'), variables: [] }))).toMatchObject({ code: 'TEMPLATE_PAUSED' });
    expect(await send(message('+5491155174499', { template: ref('disabled_one', 'Hola'), variables: [] }))).toMatchObject({ code: 'TEMPLATE_NOT_APPROVED', providerCode: '132016' });
    expect(await send(message('+5491155174499', { template: ref('pending_one', 'Hola'), variables: [] }))).toMatchObject({ code: 'TEMPLATE_NOT_FOUND', providerCode: '132001' });
    expect(fake.deliveries).toEqual([]);
  });

  it('recipient outcomes: not on WhatsApp, opted out, pair rate with a wait', async () => {
    fake.recipientErrors.set('5491100000000', 131026);
    fake.recipientErrors.set('5491100000001', 131050);
    expect(await send(message('+5491100000000'))).toMatchObject({ kind: 'recipient_error', code: 'RECIPIENT_NOT_ON_WHATSAPP' });
    expect(await send(message('+5491100000001'))).toMatchObject({ kind: 'opted_out', code: 'RECIPIENT_OPTED_OUT' });

    const paced = await startFakeMeta({ pairRateWindowMs: 60_000 });
    try {
      paced.addTemplate({ name: 'order_update', body: orderTemplate.body });
      expect(await send(message('+5491155174499'), accountFor(paced))).toMatchObject({ kind: 'sent' });
      expect(await send(message('+5491155174499'), accountFor(paced))).toMatchObject({ kind: 'retry', code: 'RECIPIENT_PAIR_RATE', retryAfterMs: 6_000 });
      expect(await send(message('+14155550123'), accountFor(paced))).toMatchObject({ kind: 'sent' });
      expect(paced.deliveries.map((d) => d.to)).toEqual(['+5491155174499', '+14155550123']);
    } finally {
      await paced.close();
    }
  });

  it("a phone number id Meta does not know is the account's configuration (code 100, subcode 33), not the template's", async () => {
    const wrong = { ...accountFor(fake), config: { ...accountFor(fake).config, phoneNumberId: '999999999999999' } };
    expect(await send(message('+5491155174499'), wrong)).toMatchObject({
      kind: 'account_error',
      code: 'ACCOUNT_MISCONFIGURED',
      providerCode: '100',
      providerText: expect.stringContaining("Object with ID '999999999999999' does not exist"),
    });
    expect(fake.deliveries).toEqual([]);
  });

  it('scripts a reply for one phone while others are answered by the fake', async () => {
    fake.failNext(131056, { phone: '5491100000009', times: 2 });
    const [first, other, second, third] = await Promise.all([
      send(message('+5491100000009', { attempt: 1 })),
      send(message('+5491100000008')),
      send(message('+5491100000009', { attempt: 3 })),
    ]).then(async (outcomes) => [...outcomes, await send(message('+5491100000009'))]);
    expect(first).toMatchObject({ kind: 'retry', code: 'RECIPIENT_PAIR_RATE', retryAfterMs: 6_000 });
    expect(second).toMatchObject({ kind: 'retry', code: 'RECIPIENT_PAIR_RATE', retryAfterMs: 16_000 });
    expect(other).toMatchObject({ kind: 'sent' });
    expect(third).toMatchObject({ kind: 'sent' });
    expect(fake.deliveries.map((d) => d.to)).toEqual(expect.arrayContaining(['+5491100000008', '+5491100000009']));
  });

  it('a bad token is Meta code 190: pause the account', async () => {
    expect(await send(message('+5491155174499'), accountFor(fake, 'EAAwrong'))).toMatchObject({ kind: 'account_error', code: 'ACCOUNT_AUTH_FAILED', providerCode: '190' });
  });

  it('every code of the notes\' table, as the fake words it, classifies as the table says', async () => {
    for (const code of FAKE_META_ERROR_CODES) {
      fake.failNext(code);
      const outcome = await send(message('+5491155174499'));
      const expected = classifyMetaError(code);
      expect({ code, kind: outcome.kind, normalized: outcome.code }).toEqual({ code, kind: expected.kind, normalized: expected.code });
      expect(outcome.providerCode).toBe(String(code));
    }
    expect(fake.deliveries).toEqual([]);
  });

  it('generic answers: 5xx retries, 429 slows down, a 200 with an error is an error, a 200 without an id is not a success', async () => {
    fake.script({ status: 502, body: '<html>Bad Gateway</html>' });
    expect(await send(message('+5491155174499'))).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNAVAILABLE' });
    fake.script({ status: 429, body: '', headers: { 'retry-after': '4' } });
    expect(await send(message('+5491155174499'))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 4000 });
    fake.failNext(131049, { status: 200 });
    expect(await send(message('+5491155174499'))).toMatchObject({ kind: 'deferred', code: 'RECIPIENT_DAILY_CAP', retryAfterMs: 86_400_000 });
    fake.script({ status: 200, body: '{"messaging_product":"whatsapp","contacts":[{"input":"+5491155174499","wa_id":"5491155174499"}],"messages":[]}' });
    expect(await send(message('+5491155174499'))).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
  });

  transportScenarios(
    () => fake,
    ({ timeoutMs, baseUrl }) => {
      const account = accountFor(fake);
      return send(message('+5491155174499'), baseUrl ? { ...account, config: { ...account.config, baseUrl } } : account, timeoutMs);
    },
  );
});

describe('Meta template sync over HTTP', () => {
  it('pages through every template by cursor, and the token never leaves the header', async () => {
    for (let i = 0; i < 150; i += 1) fake.addTemplate({ name: `bulk_${i}`, body: `Hola {{1}} ${i}` });
    const account = accountFor(fake);
    const records: MetaTemplateRecord[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const result = await sendHttp(buildMetaListTemplatesRequest(account, cursor), TIMEOUT_MS);
      if (!result.ok) throw new Error(result.outcome.message);
      const page = parseMetaListTemplatesResponse(result.response);
      if (!page.ok) throw new Error(page.outcome.message);
      expect(JSON.stringify(page)).not.toContain(fake.token);
      records.push(...page.templates);
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(2);
    expect(records).toHaveLength(155);
    expect(records.filter((r) => r.status === 'approved')).toHaveLength(152);
    expect(records.find((r) => r.name === 'promo_image')).toMatchObject({ headerFormat: 'IMAGE', paramCount: 1, buttons: [{ type: 'QUICK_REPLY' }, { type: 'URL' }] });
    for (const request of fake.requests) expect(request.query.get('access_token')).toBeNull();
  });

  it('a bad token on sync pauses the account', async () => {
    const result = await sendHttp(buildMetaListTemplatesRequest(accountFor(fake, 'EAAwrong')), TIMEOUT_MS);
    if (!result.ok) throw new Error(result.outcome.message);
    const page = parseMetaListTemplatesResponse(result.response);
    expect(page).toMatchObject({ ok: false, outcome: { code: 'ACCOUNT_AUTH_FAILED' } });
  });
});
