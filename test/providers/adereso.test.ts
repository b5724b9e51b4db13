/**
 * Adereso's pure build/parse functions against every example in its manual
 * (Adereso's API manual; see src/providers/adereso/adereso-protocol.md). No network.
 */
import { describe, expect, it } from 'vitest';
import {
  aderesoAdapter,
  aderesoTicketId,
  buildConversationRequest,
  buildHsmRequest,
  buildTicketReplyRequest,
  parseConversationResponse,
  parseHsmResponse,
  parseTicketReplyResponse,
  redactOutcome,
  type AderesoAccount,
} from '../../src/providers/adereso/index.js';
import type { HttpResponse, OutboundMessage } from '../../src/providers/types.js';
import { expectBuildError } from './build-error.js';

const TOKEN = 'adereso-secret-token-123';
const account: AderesoAccount = {
  id: 'acc-1',
  config: aderesoAdapter.configSchema.parse({ account: '56900000000', accountId: 'au2geg72gs' }),
  credentials: { token: TOKEN },
};

function message(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    reference: 'rcp-1',
    phone: '+56911111111',
    template: { name: 'template_name', externalId: null, language: 'es', category: 'UTILITY', body: 'Estimado {{1}}, su orden número {{2}} se espera que llegue el día {{3}}', paramNames: [] },
    variables: ['Carlos', '12345', '01/01/2020'],
    ...overrides,
  };
}

const res = (status: number, body: string | object, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** The manual's JSON, pretty-printed as it is there, in the compact form a request carries. */
const compact = (manualJson: string): string => JSON.stringify(JSON.parse(manualJson));

describe('Adereso config', () => {
  it('defaults the base URL to the real host and drops a + from the account number', () => {
    const config = aderesoAdapter.configSchema.parse({ account: '+56900000000' });
    expect(config).toEqual({ baseUrl: 'https://api-cluster.postcenter.io', account: '56900000000' });
  });

  it('refuses an account number that is not digits, and empty credentials', () => {
    expect(aderesoAdapter.configSchema.safeParse({ account: '5690-000' }).success).toBe(false);
    expect(aderesoAdapter.credentialsSchema.safeParse({ token: '' }).success).toBe(false);
  });
});

describe('Adereso HSM send: POST /v2/message/hsm/', () => {
  it("builds the manual's example body byte for byte from its inputs", () => {
    const manual = `{
  "account": "56900000000",
  "phone": "56911111111",
  "name": "template_name",
  "parameters": ["Carlos", "12345", "01/01/2020"]
}`;
    const request = aderesoAdapter.buildSendRequest(message(), account);
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://api-cluster.postcenter.io/v2/message/hsm/');
    expect(request.headers).toEqual({ 'content-type': 'application/json', authorization: `Key ${TOKEN}` });
    expect(request.body).toBe(compact(manual));
  });

  it('keeps the path ending in / under an overridden base URL with a trailing slash', () => {
    const local = { ...account, config: { ...account.config, baseUrl: 'http://127.0.0.1:9999/' } };
    expect(buildHsmRequest(message(), local).url).toBe('http://127.0.0.1:9999/v2/message/hsm/');
  });

  it("refuses media or button parameters the endpoint cannot carry: the template's scope", () => {
    expectBuildError(() => buildHsmRequest(message({ media: { type: 'image', link: 'https://x.test/a.png' } }), account), 'template', /only body parameters/);
    expectBuildError(() => buildHsmRequest(message({ buttonParams: [{ index: 0, subType: 'url', value: 'x' }] }), account), 'template', /only body parameters/);
  });

  it("refuses an empty or blank parameter (the manual: WhatsApp drops it after a 200): that recipient's scope", () => {
    expectBuildError(() => buildHsmRequest(message({ variables: ['Carlos', '', '01/01/2020'] }), account), 'recipient', /^Variable 2 is empty/);
    expectBuildError(() => buildHsmRequest(message({ variables: ['Carlos', '12345', '  '] }), account), 'recipient', /^Variable 3 is empty/);
  });

  it("reads the manual's success body as sent, with its message_id and ticket_id", () => {
    const body = `{
  "status": 200,
  "message_id": "7a72e330d4cb11e9be4c",
  "ticket_id": "583dcb2855d0a46e438d0206"
}`;
    const result = aderesoAdapter.parseSendResponse(res(200, body), message());
    expect(result).toMatchObject({ kind: 'sent', code: 'SENT', messageId: '7a72e330d4cb11e9be4c' });
    expect(aderesoTicketId(res(200, body))).toBe('583dcb2855d0a46e438d0206');
  });

  it("reads the manual's missing-parameters body as a template error, under HTTP 400 or HTTP 200", () => {
    const body = `{
  "status": 400,
  "msg": "Missing parameters for selected HSM"
}`;
    expect(parseHsmResponse(res(400, body))).toMatchObject({
      kind: 'template_error',
      code: 'TEMPLATE_PARAMS_INVALID',
      providerCode: '400',
      providerText: 'Missing parameters for selected HSM',
    });
    // The body's status can differ from the HTTP status: a 200 carrying an error is an error.
    expect(parseHsmResponse(res(200, body))).toMatchObject({
      kind: 'template_error',
      code: 'TEMPLATE_PARAMS_INVALID',
      providerCode: '400 (HTTP 200)',
      providerText: 'Missing parameters for selected HSM',
    });
  });

  // The manual's "Otros códigos de error comunes" table gives codes and descriptions, no bodies.
  it.each([
    [400, 'Campo incompleto o faltante', 'account_error', 'ACCOUNT_MISCONFIGURED'],
    [401, 'No autenticado', 'account_error', 'ACCOUNT_AUTH_FAILED'],
    [404, 'HSM no registrado', 'template_error', 'TEMPLATE_NOT_FOUND'],
    [500, 'Error interno', 'retry', 'PROVIDER_UNAVAILABLE'],
  ])('classifies the error table row %i (%s)', (status, description, kind, code) => {
    const withBody = parseHsmResponse(res(status, { status, msg: description }));
    expect(withBody).toMatchObject({ kind, code, providerCode: String(status), providerText: description });
    // The same row when only the HTTP status says it, and when only the body does.
    expect(parseHsmResponse(res(status, ''))).toMatchObject({ kind, code, providerCode: String(status) });
    expect(parseHsmResponse(res(200, { status, msg: description }))).toMatchObject({ kind, code, providerCode: `${status} (HTTP 200)` });
  });

  it("puts the manual's remedies in the operator's message", () => {
    expect(parseHsmResponse(res(400, { status: 400, msg: 'Campo incompleto o faltante' })).message).toMatch(/account number/);
    expect(parseHsmResponse(res(404, { status: 404, msg: 'HSM no registrado' })).message).toMatch(/notify Adereso/);
  });

  it('lets an error in the HTTP status win over a success in the body', () => {
    expect(parseHsmResponse(res(500, { status: 200, message_id: 'x' }))).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNAVAILABLE' });
  });

  it('records a status-200 success without message_id as sent, keeping the body, so it is never resent', () => {
    const result = parseHsmResponse(res(200, { status: 200 }));
    expect(result).toMatchObject({ kind: 'sent', code: 'SENT', raw: '{"status":200}' });
    expect(result.messageId).toBeUndefined();
  });

  it('classifies 429 and other 5xx generically, reading Retry-After', () => {
    expect(parseHsmResponse(res(429, 'slow down', { 'retry-after': '3' }))).toMatchObject({ kind: 'rate_limited', code: 'RATE_LIMITED', retryAfterMs: 3000 });
    expect(parseHsmResponse(res(503, '<html>unavailable</html>'))).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNAVAILABLE', providerCode: '503' });
  });

  it('answers undocumented responses with retry and the raw body kept', () => {
    expect(parseHsmResponse(res(200, '<html>proxy page</html>'))).toMatchObject({
      kind: 'retry',
      code: 'PROVIDER_UNDOCUMENTED_RESPONSE',
      providerCode: '200',
      raw: '<html>proxy page</html>',
    });
    expect(parseHsmResponse(res(418, { status: 418, msg: 'teapot' }))).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
    expect(parseHsmResponse(res(202, { status: 202 }))).toMatchObject({ code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
  });

  it('never keeps a token the provider echoes back', () => {
    const echoed = parseHsmResponse(res(403, `{"detail":"bad header Authorization: Key ${TOKEN}"}`));
    expect(JSON.stringify(echoed)).not.toContain(TOKEN);
    const echoedInMsg = parseHsmResponse(res(401, { status: 401, msg: `token=${TOKEN} rejected` }));
    expect(JSON.stringify(echoedInMsg)).not.toContain(TOKEN);
    // And by value, for the sender that knows the account's secrets.
    const raw = redactOutcome({ kind: 'retry', code: 'X', message: 'm', raw: `...${TOKEN}...` }, [TOKEN]);
    expect(raw.raw).toBe('...[redacted]...');
  });
});

describe('Adereso proactive conversation: POST /v2/message/create_conversation/', () => {
  const input = { phone: '+56912349876', userName: 'Carlos Soto', message: 'Hola Carlos, bienvenido a nuestra tienda' };

  it("builds the manual's example body byte for byte from its inputs", () => {
    const manual = `{
  "phone": "56912349876",
  "user_name": "Carlos Soto",
  "account_id": "au2geg72gs",
  "message": "Hola Carlos, bienvenido a nuestra tienda"
}`;
    const request = buildConversationRequest(input, account);
    expect(request.url).toBe('https://api-cluster.postcenter.io/v2/message/create_conversation/');
    expect(request.headers.authorization).toBe(`Key ${TOKEN}`);
    expect(request.body).toBe(compact(manual));
  });

  it('adds no_manual_reopen and no_manual_merge only when asked', () => {
    const body = JSON.parse(buildConversationRequest({ ...input, noManualReopen: true, noManualMerge: false }, account).body ?? '') as Record<string, unknown>;
    expect(body).toMatchObject({ no_manual_reopen: true, no_manual_merge: false });
  });

  it('needs the account_id in the account settings', () => {
    const noId = { ...account, config: { ...account.config, accountId: undefined } };
    expectBuildError(() => buildConversationRequest(input, noId), 'account', /account_id/);
  });

  it("reads the manual's success body as sent, with its ticket", () => {
    const body = `{
  "status": 200,
  "ticket_id": "583dcb2855d0a46e438d0206"
}`;
    expect(parseConversationResponse(res(200, body))).toMatchObject({ kind: 'sent', code: 'SENT' });
    expect(aderesoTicketId(res(200, body))).toBe('583dcb2855d0a46e438d0206');
  });

  it("reads the manual's 202 'proactive not allowed' body as a configuration error with the manual's steps", () => {
    const body = `{
  "status": 202,
  "msg": "This account doesnot allow proactive messaging. Please configure at least one account to be allowed to send proactive messages in Admin / Channels / Whatsapp select account and then Configurations > Enable Proactive Messaging"
}`;
    for (const httpStatus of [202, 200]) {
      const result = parseConversationResponse(res(httpStatus, body));
      expect(result).toMatchObject({ kind: 'account_error', code: 'ACCOUNT_MISCONFIGURED' });
      expect(result.message).toMatch(/Activar mensajes proactivos/);
      expect(result.providerText).toMatch(/^This account doesnot allow proactive messaging/);
      expect(result.providerCode).toBe(httpStatus === 202 ? '202' : '202 (HTTP 200)');
    }
  });

  it('classifies the common error codes and anything else', () => {
    expect(parseConversationResponse(res(401, { status: 401 }))).toMatchObject({ code: 'ACCOUNT_AUTH_FAILED' });
    expect(parseConversationResponse(res(400, { status: 400, msg: 'Campo incompleto o faltante' }))).toMatchObject({ code: 'ACCOUNT_MISCONFIGURED' });
    expect(parseConversationResponse(res(500, { status: 500 }))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(parseConversationResponse(res(202, { status: 202, msg: 'something else' }))).toMatchObject({ code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
    expect(parseConversationResponse(res(200, { status: 200 }))).toMatchObject({ code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
  });
});

describe('Adereso reply in a ticket: POST /v2/message/', () => {
  it("builds the manual's first example, with private_only sent explicitly as true (the default)", () => {
    const manual = `{
  "ticket_id": "583dcb2855d0a46e438d0206",
  "message": "Este es un mensaje para un cliente"
}`;
    const request = buildTicketReplyRequest({ ticketId: '583dcb2855d0a46e438d0206', message: 'Este es un mensaje para un cliente' }, account);
    expect(request.url).toBe('https://api-cluster.postcenter.io/v2/message/');
    expect(request.body).toBe(JSON.stringify({ ...(JSON.parse(manual) as object), private_only: true }));
  });

  it("builds the manual's second example byte for byte", () => {
    const manual = `{
  "ticket_id": "583dcb2855d0a46e438d0206",
  "client_id": "546b9b2720a9f1301050fec3",
  "message": "Este es un mensaje para un cliente",
  "private_only": false
}`;
    const request = buildTicketReplyRequest(
      { ticketId: '583dcb2855d0a46e438d0206', clientId: '546b9b2720a9f1301050fec3', message: 'Este es un mensaje para un cliente', privateOnly: false },
      account,
    );
    expect(request.body).toBe(compact(manual));
  });

  it("reads the manual's success body as sent, keeping its text", () => {
    const body = `{
  "status": 200,
  "message": "Message sent to carlos@soto.cl"
}`;
    expect(parseTicketReplyResponse(res(200, body))).toMatchObject({ kind: 'sent', code: 'SENT', providerText: 'Message sent to carlos@soto.cl' });
  });

  it('reads 403 (no private message) and 404 (no message) as failures of this reply', () => {
    expect(parseTicketReplyResponse(res(403, { status: 403, msg: 'FORBIDDEN' }))).toMatchObject({ kind: 'recipient_error', code: 'RECIPIENT_UNREACHABLE', providerCode: '403' });
    expect(parseTicketReplyResponse(res(404, { status: 404, msg: 'NOT FOUND' }))).toMatchObject({ kind: 'recipient_error', code: 'RECIPIENT_INVALID', providerCode: '404' });
    expect(parseTicketReplyResponse(res(401, ''))).toMatchObject({ code: 'ACCOUNT_AUTH_FAILED' });
    expect(parseTicketReplyResponse(res(200, '{"status":200}'))).toMatchObject({ code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
  });
});
