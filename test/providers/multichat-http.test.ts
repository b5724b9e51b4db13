/**
 * The contacto-multichat adapter through the real HTTP function (sendHttp) against a local
 * multichat (test/fakes/multichat-server.ts): every return code, both reply shapes, the two
 * queries, timeouts and refusals.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sendHttp } from '../../src/providers/http.js';
import {
  buildBalanceRequest,
  buildTemplateListRequest,
  multichatAdapter,
  parseBalanceResponse,
  parseTemplateListResponse,
  type MultichatAccount,
} from '../../src/providers/multichat/index.js';
import type { OutboundMessage, SendOutcome } from '../../src/providers/types.js';
import { startFakeMultichatServer, type FakeMultichatServer } from '../fakes/multichat-server.js';
import { outcomeLedger, transportScenarios } from './http-support.js';

const TIMEOUT_MS = 2_000;
let fake: FakeMultichatServer;
let account: MultichatAccount;
const note = outcomeLedger(() => [fake.token]);

beforeAll(async () => {
  fake = await startFakeMultichatServer({
    login: 'empresa',
    token: 'multichat-live-token-abc',
    templates: {
      '101': { name: 'recordatorio_pago', body: 'Hola {{1}}, su pago de {{2}} vence el {{3}}', paramCount: 3, status: 'APROBADA' },
      '102': { name: 'vacia', body: '', paramCount: 0, status: 'APROBADA' },
    },
    marketingCapped: ['573000000010'],
  });
  account = {
    id: 'acc-1',
    config: multichatAdapter.configSchema.parse({ baseUrl: fake.url }),
    credentials: multichatAdapter.credentialsSchema.parse({ login: fake.login, token: fake.token }),
  };
});

afterAll(async () => {
  await fake.close();
});

afterEach(() => {
  fake.options.replyFormat = 'plain';
  fake.options.chatbotAssigned = true;
});

let counter = 0;
/** A fresh mobile per message, so code 9 (same message within 60 s) only comes when a test wants it. */
function message(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  counter += 1;
  return {
    reference: `rcp-${counter}`,
    phone: `+5730000${String(counter).padStart(5, '0')}`,
    template: { name: 'recordatorio_pago', externalId: '101', language: 'es', category: 'UTILITY', body: 'Hola {{1}}, su pago de {{2}} vence el {{3}}', paramNames: [] },
    variables: ['Carlos', '$100', 'miércoles'],
    ...overrides,
  };
}

async function send(msg: OutboundMessage, acct: MultichatAccount = account, timeoutMs = TIMEOUT_MS): Promise<SendOutcome> {
  const http = await sendHttp(multichatAdapter.buildSendRequest(msg, acct), timeoutMs);
  return note(http.ok ? multichatAdapter.parseSendResponse(http.response, msg) : http.outcome);
}

describe('multichat send through HTTP', () => {
  it('sends (code 1), and the fake receives the form with the reference as custom_field', async () => {
    const msg = message();
    expect(await send(msg)).toMatchObject({ kind: 'sent', code: 'SENT', providerCode: '1' });
    expect(fake.deliveries.at(-1)).toMatchObject({
      mobile: msg.phone.slice(1),
      idTemplate: '101',
      variables: ['Carlos', '$100', 'miércoles'],
      customField: msg.reference,
    });
    expect(fake.requests.at(-1)?.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('reads a JSON reply too, keeping its message id', async () => {
    fake.options.replyFormat = 'json';
    const result = await send(message());
    expect(result).toMatchObject({ kind: 'sent', providerText: 'Message sent' });
    expect(result.messageId).toBe(fake.deliveries.at(-1)?.messageId);
  });

  it('treats the same message to the same mobile within 60 s as already sent (code 9), not a failure', async () => {
    const msg = message();
    expect(await send(msg)).toMatchObject({ kind: 'sent' });
    expect(await send(msg)).toMatchObject({ kind: 'already_sent', code: 'ALREADY_SENT', providerCode: '9' });
    expect(fake.deliveries.filter((d) => d.mobile === msg.phone.slice(1))).toHaveLength(1);
  });

  it('gets every documented refusal from the fake', async () => {
    const wrongToken = { ...account, credentials: { login: fake.login, token: 'wrong-token' } };
    expect(await send(message(), wrongToken)).toMatchObject({ kind: 'account_error', code: 'ACCOUNT_AUTH_FAILED', providerCode: '2' });
    fake.options.chatbotAssigned = false;
    expect(await send(message())).toMatchObject({ kind: 'account_error', code: 'ACCOUNT_MISCONFIGURED', providerCode: '3' });
    fake.options.chatbotAssigned = true;
    expect(await send(message({ phone: '+56911111111' }))).toMatchObject({ kind: 'recipient_error', code: 'RECIPIENT_INVALID', providerCode: '4' });
    const noTemplate = message({ template: { ...message().template, externalId: '999' } });
    expect(await send(noTemplate)).toMatchObject({ kind: 'template_error', code: 'TEMPLATE_NOT_FOUND', providerCode: '7' });
    const empty = message({ template: { ...message().template, externalId: '102' }, variables: [] });
    expect(await send(empty)).toMatchObject({ kind: 'template_error', code: 'TEMPLATE_PARAMS_INVALID', providerCode: '6' });
    expect(await send(message({ variables: ['Carlos', '$100'] }))).toMatchObject({ kind: 'template_error', code: 'TEMPLATE_PARAMS_INVALID', providerCode: '8' });
    expect(await send(message({ phone: '+573000000010' }))).toMatchObject({ kind: 'recipient_error', code: 'RECIPIENT_MARKETING_CAP', providerCode: '10' });
  });

  it('stops the account when the balance runs out (code 5)', async () => {
    const saved = fake.options.balance;
    fake.options.balance = 0;
    expect(await send(message())).toMatchObject({ kind: 'account_limited', code: 'ACCOUNT_NO_BALANCE', providerCode: '5' });
    fake.options.balance = saved;
  });

  it('sends media by URL and by base64 with its name', async () => {
    await send(message({ media: { type: 'document', link: 'https://servercliente.com/jemplo-de-Archivo-PDF-508.pdf' } }));
    expect(fake.deliveries.at(-1)).toMatchObject({ media: 'https://servercliente.com/jemplo-de-Archivo-PDF-508.pdf', mediaName: undefined });
    const base64 = Buffer.from('%PDF-1.4').toString('base64');
    await send(message({ media: { type: 'document', base64, filename: 'factura-0001.pdf' } }));
    expect(fake.deliveries.at(-1)).toMatchObject({ media: base64, mediaName: 'factura-0001.pdf' });
  });

  it('retries a 5xx or an undocumented reply, and slows down on a 429', async () => {
    fake.script({ status: 500, body: '<h1>Internal Server Error</h1>' });
    expect(await send(message())).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNAVAILABLE' });
    fake.script({ status: 200, body: `Notice: Undefined index: login=${account.credentials.login}&token=${fake.token}` });
    const odd = await send(message());
    expect(odd).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
    expect(odd.raw).toContain('Undefined index');
    fake.script({ status: 429, body: '', headers: { 'retry-after': '1' } });
    expect(await send(message())).toMatchObject({ kind: 'rate_limited', retryAfterMs: 1000 });
  });

  it('scripts a reply for one mobile only', async () => {
    const target = message();
    fake.script({ status: 200, body: '10' }, { mobile: target.phone.slice(1) });
    expect(await send(message())).toMatchObject({ kind: 'sent' });
    expect(await send(target)).toMatchObject({ code: 'RECIPIENT_MARKETING_CAP' });
  });

  transportScenarios(
    () => fake,
    ({ timeoutMs, baseUrl }) => send(message(), baseUrl ? { ...account, config: { baseUrl } } : account, timeoutMs),
  );
});

describe('multichat queries through HTTP', () => {
  it('reads the balance, and an auth error', async () => {
    const http = await sendHttp(buildBalanceRequest(account), TIMEOUT_MS);
    expect(http.ok && parseBalanceResponse(http.response)).toEqual({ ok: true, balance: fake.options.balance });
    const bad = await sendHttp(buildBalanceRequest({ ...account, credentials: { login: 'x', token: 'y' } }), TIMEOUT_MS);
    expect(bad.ok && parseBalanceResponse(bad.response)).toMatchObject({ ok: false, outcome: { code: 'ACCOUNT_AUTH_FAILED' } });
  });

  it('lists templates, normalized', async () => {
    const http = await sendHttp(buildTemplateListRequest(account), TIMEOUT_MS);
    const result = http.ok ? parseTemplateListResponse(http.response) : undefined;
    expect(result).toMatchObject({
      ok: true,
      templates: [{ externalId: '101', name: 'recordatorio_pago', paramCount: 3, status: 'approved' }],
      skipped: [{ index: 1 }],
    });
  });

  it('reads "no templates" (code 4) as an empty list', async () => {
    const empty = await startFakeMultichatServer({ templates: {} });
    try {
      const http = await sendHttp(buildTemplateListRequest({ ...account, config: { baseUrl: empty.url }, credentials: { login: empty.login, token: empty.token } }), TIMEOUT_MS);
      expect(http.ok && parseTemplateListResponse(http.response)).toEqual({ ok: true, templates: [], skipped: [] });
    } finally {
      await empty.close();
    }
  });
});
