/**
 * The Adereso adapter through the real HTTP function (sendHttp) against a local Adereso
 * (test/fakes/adereso-server.ts): every outcome kind it can produce, timeouts and refusals.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  aderesoAdapter,
  buildConversationRequest,
  buildTicketReplyRequest,
  parseConversationResponse,
  parseTicketReplyResponse,
  type AderesoAccount,
} from '../../src/providers/adereso/index.js';
import { sendHttp } from '../../src/providers/http.js';
import type { HttpRequest, HttpResponse, OutboundMessage, SendOutcome } from '../../src/providers/types.js';
import { startFakeAderesoServer, type FakeAderesoServer } from '../fakes/adereso-server.js';
import { outcomeLedger, transportScenarios } from './http-support.js';

const TIMEOUT_MS = 2_000;
let fake: FakeAderesoServer;
let account: AderesoAccount;
const note = outcomeLedger(() => [fake.token]);

beforeAll(async () => {
  fake = await startFakeAderesoServer({
    token: 'adereso-live-token-xyz',
    templates: { template_name: 3, aviso: 1 },
    accountIds: { au2geg72gs: true, closedacct: false },
    tickets: {
      t1: { clientId: 'c1', email: 'carlos@soto.cl', hasMessages: true, hasPrivateMessage: true },
      t2: { clientId: 'c2', email: 'ana@x.cl', hasMessages: true, hasPrivateMessage: false },
      t3: { clientId: 'c3', email: 'bea@x.cl', hasMessages: false, hasPrivateMessage: false },
    },
  });
  account = {
    id: 'acc-1',
    config: aderesoAdapter.configSchema.parse({ baseUrl: fake.url, account: '56900000000', accountId: 'au2geg72gs' }),
    credentials: aderesoAdapter.credentialsSchema.parse({ token: fake.token }),
  };
});

afterAll(async () => {
  await fake.close();
});

afterEach(() => {
  fake.options.errorsAsHttp200 = false;
});

function message(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    reference: 'rcp-1',
    phone: '+56911111111',
    template: { name: 'template_name', externalId: null, language: 'es', category: 'UTILITY', body: 'Estimado {{1}}, orden {{2}}, día {{3}}', paramNames: [] },
    variables: ['Carlos', '12345', '01/01/2020'],
    ...overrides,
  };
}

async function exchange<T extends SendOutcome>(request: HttpRequest, parse: (response: HttpResponse) => T, timeoutMs = TIMEOUT_MS): Promise<SendOutcome> {
  const http = await sendHttp(request, timeoutMs);
  return note(http.ok ? parse(http.response) : http.outcome);
}

const send = (msg: OutboundMessage, acct: AderesoAccount = account, timeoutMs = TIMEOUT_MS): Promise<SendOutcome> =>
  exchange(aderesoAdapter.buildSendRequest(msg, acct), (r) => aderesoAdapter.parseSendResponse(r, msg), timeoutMs);

describe('Adereso HSM through HTTP', () => {
  it('sends, and the fake receives the documented request', async () => {
    const before = fake.deliveries.length;
    const result = await send(message({ phone: '+56911110001' }));
    expect(result).toMatchObject({ kind: 'sent', code: 'SENT' });
    const delivery = fake.deliveries[before];
    expect(delivery).toMatchObject({ phone: '56911110001', account: '56900000000', name: 'template_name', parameters: ['Carlos', '12345', '01/01/2020'] });
    expect(result.messageId).toBe(delivery?.messageId);
    const request = fake.requests.at(-1);
    expect(request?.path).toBe('/v2/message/hsm/');
    expect(request?.headers.authorization).toBe(`Key ${fake.token}`);
    expect(request?.headers['content-type']).toBe('application/json');
  });

  it('gets an auth pause for a wrong token', async () => {
    const wrong = { ...account, credentials: { token: 'not-the-token' } };
    expect(await send(message(), wrong)).toMatchObject({ kind: 'account_error', code: 'ACCOUNT_AUTH_FAILED', providerCode: '401' });
  });

  it('gets a template error for an HSM Adereso does not have, and for too few parameters', async () => {
    const unknown = message({ template: { ...message().template, name: 'no_such_hsm' } });
    expect(await send(unknown)).toMatchObject({ kind: 'template_error', code: 'TEMPLATE_NOT_FOUND', providerCode: '404' });
    expect(await send(message({ variables: ['Carlos'] }))).toMatchObject({
      kind: 'template_error',
      code: 'TEMPLATE_PARAMS_INVALID',
      providerText: 'Missing parameters for selected HSM',
    });
  });

  it('gets an account error for an account number Adereso does not know', async () => {
    const wrongNumber = { ...account, config: { ...account.config, account: '56999999999' } };
    expect(await send(message(), wrongNumber)).toMatchObject({ kind: 'account_error', code: 'ACCOUNT_MISCONFIGURED', providerCode: '400' });
  });

  it('reads errors carried only in the body status when the HTTP status says 200', async () => {
    fake.options.errorsAsHttp200 = true;
    expect(await send(message({ variables: ['Carlos'] }))).toMatchObject({ code: 'TEMPLATE_PARAMS_INVALID', providerCode: '400 (HTTP 200)' });
    expect(await send(message(), { ...account, credentials: { token: 'nope-nope' } })).toMatchObject({ code: 'ACCOUNT_AUTH_FAILED', providerCode: '401 (HTTP 200)' });
  });

  it('retries a 500, slows down on a 429, and retries an undocumented answer keeping it', async () => {
    fake.script({ status: 500, body: '{"status":500,"msg":"Error interno"}' });
    expect(await send(message())).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNAVAILABLE', providerText: 'Error interno' });
    fake.script({ status: 429, body: 'Too Many Requests', headers: { 'retry-after': '2' } });
    expect(await send(message())).toMatchObject({ kind: 'rate_limited', code: 'RATE_LIMITED', retryAfterMs: 2000 });
    fake.script({ status: 200, body: `<html>maintenance, Key ${fake.token}</html>` });
    const odd = await send(message());
    expect(odd).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
    expect(odd.raw).toContain('maintenance');
  });

  it('scripts a reply for one phone only', async () => {
    fake.script({ status: 404, body: '{"status":404,"msg":"HSM no registrado"}' }, { phone: '56911110002' });
    expect(await send(message({ phone: '+56911110003' }))).toMatchObject({ kind: 'sent' });
    expect(await send(message({ phone: '+56911110002' }))).toMatchObject({ kind: 'template_error', code: 'TEMPLATE_NOT_FOUND' });
  });

  transportScenarios(
    () => fake,
    ({ timeoutMs, baseUrl }) => send(message(), baseUrl ? { ...account, config: { ...account.config, baseUrl } } : account, timeoutMs),
  );

  it('records every request, so a phone sent twice can be seen', async () => {
    const phone = '+56911110009';
    await send(message({ phone }));
    expect(fake.deliveries.filter((d) => d.phone === '56911110009')).toHaveLength(1);
    expect(fake.requests.filter((r) => (r.json as { phone?: string } | undefined)?.phone === '56911110009')).toHaveLength(1);
  });
});

describe('Adereso conversations and ticket replies through HTTP', () => {
  const conversation = { phone: '+56912349876', userName: 'Carlos Soto', message: 'Hola Carlos' };

  it('opens a proactive conversation, or says the account is not allowed to', async () => {
    expect(await exchange(buildConversationRequest(conversation, account), parseConversationResponse)).toMatchObject({ kind: 'sent' });
    const closed = { ...account, config: { ...account.config, accountId: 'closedacct' } };
    const refused = await exchange(buildConversationRequest(conversation, closed), parseConversationResponse);
    expect(refused).toMatchObject({ kind: 'account_error', code: 'ACCOUNT_MISCONFIGURED', providerCode: '202' });
    expect(refused.message).toMatch(/Activar mensajes proactivos/);
  });

  it('replies in a ticket, or gets its 403 / 404', async () => {
    const reply = (ticketId: string, privateOnly?: boolean) =>
      exchange(buildTicketReplyRequest({ ticketId, message: 'Su comprobante', ...(privateOnly === undefined ? {} : { privateOnly }) }, account), parseTicketReplyResponse);
    expect(await reply('t1')).toMatchObject({ kind: 'sent', providerText: 'Message sent to carlos@soto.cl' });
    expect(await reply('t2')).toMatchObject({ kind: 'recipient_error', code: 'RECIPIENT_UNREACHABLE', providerCode: '403' });
    expect(await reply('t2', false)).toMatchObject({ kind: 'sent' });
    expect(await reply('t3')).toMatchObject({ kind: 'recipient_error', code: 'RECIPIENT_INVALID', providerCode: '404' });
    expect((fake.requests.at(-1)?.json as { private_only?: boolean }).private_only).toBe(true);
  });
});
