/**
 * AtomChat's pure build/parse functions against every example in its manual
 * (AtomChat's API manual; see src/providers/atomchat/atomchat-protocol.md). No network.
 */
import { describe, expect, it } from 'vitest';
import { atomchatAdapter, atomchatTemplateProblem, type AtomchatAccount } from '../../src/providers/atomchat/index.js';
import type { HttpResponse, OutboundMessage } from '../../src/providers/types.js';
import { expectBuildError } from './build-error.js';

const TOKEN = 'atomchat-secret-public-token-789';
const account: AtomchatAccount = {
  id: 'acc-1',
  config: atomchatAdapter.configSchema.parse({}),
  credentials: { publicToken: TOKEN },
};

function message(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    reference: 'rcp-1',
    phone: '+50755667788',
    template: { name: 'cobranza', externalId: 'tpl-1', language: 'es', category: 'UTILITY', body: 'Hola {{1}}, debe {{2}}', paramNames: ['nombre', 'monto'] },
    variables: ['Ana', '$10'],
    ...overrides,
  };
}

const res = (status: number, body: string | object): HttpResponse => ({ status, headers: {}, body: typeof body === 'string' ? body : JSON.stringify(body) });
const bodyOf = (msg: OutboundMessage, acct: AtomchatAccount = account): Record<string, unknown> =>
  JSON.parse(atomchatAdapter.buildSendRequest(msg, acct).body ?? '') as Record<string, unknown>;

describe('AtomChat config', () => {
  it('defaults the base URL to the real cloud function host', () => {
    expect(atomchatAdapter.configSchema.parse({})).toEqual({ baseUrl: 'https://us-central1-atomchat-io.cloudfunctions.net' });
    expect(atomchatAdapter.credentialsSchema.safeParse({}).success).toBe(false);
  });
});

describe('AtomChat send: POST /api/Template/SendMessage', () => {
  it("builds the manual's example body byte for byte from its inputs", () => {
    // The manual's body with its typographic quotes and trailing comma straightened, assign: true.
    const manual = `{
    "templateId": "id_del_template",
    "phoneNumber": "numero_de_telefono",
    "clientName": "nombre_del_cliente",
    "groupName": "nombre_del_grupo",
    "assign": true,
    "params": {
        "param1": "valor",
        "param2": "valor "
    }
}`;
    const withOptions: AtomchatAccount = { ...account, config: atomchatAdapter.configSchema.parse({ groupName: 'nombre_del_grupo', assign: true }) };
    const msg = message({
      phone: 'numero_de_telefono',
      recipientName: 'nombre_del_cliente',
      template: { ...message().template, externalId: 'id_del_template', paramNames: ['param1', 'param2'] },
      variables: ['valor', 'valor '],
    });
    const request = atomchatAdapter.buildSendRequest(msg, withOptions);
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://us-central1-atomchat-io.cloudfunctions.net/api/Template/SendMessage');
    expect(request.headers).toEqual({ 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${TOKEN}` });
    expect(request.body).toBe(JSON.stringify(JSON.parse(manual)));
  });

  it("writes the manual's phone example without the +, and defaults clientName to the phone", () => {
    expect(bodyOf(message())).toEqual({ templateId: 'tpl-1', phoneNumber: '50755667788', clientName: '50755667788', params: { nombre: 'Ana', monto: '$10' } });
    expect(bodyOf(message({ recipientName: '  ' })).clientName).toBe('50755667788');
  });

  it('leaves params out when the template has none', () => {
    expect(bodyOf(message({ template: { ...message().template, paramNames: [] }, variables: [] }))).not.toHaveProperty('params');
  });

  it("refuses, clearly, a position without a parameter name: the template's scope", () => {
    const unnamed = message({ template: { ...message().template, paramNames: ['nombre'] } });
    expectBuildError(() => atomchatAdapter.buildSendRequest(unnamed, account), 'template', /no parameter name for \{\{2\}\}/);
    expectBuildError(() => atomchatAdapter.buildSendRequest(message({ template: { ...message().template, externalId: null } }), account), 'template', /no AtomChat templateId/);
    expect(atomchatTemplateProblem({ ...message().template, paramNames: ['nombre', ' '] }, 2)).toMatch(/\{\{2\}\}/);
    expect(atomchatTemplateProblem({ ...message().template, paramNames: ['a', 'b', 'c'] }, 2)).toMatch(/names 3 parameter\(s\) but the message has 2/);
    expect(atomchatTemplateProblem({ ...message().template, paramNames: ['a', 'a'] }, 2)).toMatch(/repeats/);
    expect(atomchatTemplateProblem({ ...message().template, externalId: null }, 2)).toMatch(/templateId/);
    expect(atomchatTemplateProblem(message().template, 2)).toBeNull();
    expectBuildError(() => atomchatAdapter.buildSendRequest(message({ media: { type: 'image', link: 'https://x.test/a.png' } }), account), 'template', /media/);
    expectBuildError(() => atomchatAdapter.buildSendRequest(message({ buttonParams: [{ index: 0, subType: 'quick_reply', value: 'x' }] }), account), 'template', /button/);
  });

  it("reads the manual's 'new number' body as accepted, pending", () => {
    expect(atomchatAdapter.parseSendResponse(res(200, { success: true, message: 'Pending' }), message())).toMatchObject({
      kind: 'accepted',
      code: 'ACCEPTED_PENDING',
      providerCode: '200',
      providerText: 'Pending',
    });
  });

  it("reads the manual's 'existing number' body as sent, with the conversation id as message id", () => {
    const result = atomchatAdapter.parseSendResponse(res(200, { success: true, message: 'Sent', data: { conversation_id: 'Kq3ZtP0x' } }), message());
    expect(result).toMatchObject({ kind: 'sent', code: 'SENT', messageId: 'Kq3ZtP0x' });
  });

  it("reads the manual's 202 'pending template' body as accepted, keeping its conversation id", () => {
    const result = atomchatAdapter.parseSendResponse(res(202, '{"success": false, "conversationId": "Kq3ZtP0x", "status": 202}'), message());
    expect(result).toMatchObject({ kind: 'accepted', code: 'ACCEPTED_PENDING', messageId: 'Kq3ZtP0x', providerCode: '202' });
  });

  // Each 400/401/500 body twice: as JSON, and exactly as the manual prints it (a JavaScript literal).
  const documented: [string, number, string, string, string, string][] = [
    [
      'wrong parameters',
      400,
      JSON.stringify({ success: false, message: 'No hay datos para enviar' }),
      `{
success: false, 
message: "No hay datos para enviar"
}`,
      'template_error',
      'TEMPLATE_PARAMS_INVALID',
    ],
    [
      'missing template params',
      400,
      JSON.stringify({ code: 400, body: { context: { key: 'Body', label: 'body.params' }, message: 'Missing params:[] ', path: ['body.params'], type: 'Bad format' } }),
      `{
code: 400,
body: {
context: { key: 'Body', label: 'body.params' },
message: "Missing params:[] ",
path: [
  'body.params'
      ],
type: 'Bad format',
      },
}`,
      'template_error',
      'TEMPLATE_PARAMS_INVALID',
    ],
    [
      'template without id or message',
      400,
      JSON.stringify({ code: 400, body: { context: { key: 'Body', label: ['template.appId', 'template.message'] }, message: 'No data to send', path: ['template.appId', 'template.message'], type: 'Bad format' } }),
      `{
code: 400,
body: {
context: { key: 'Body', label: ['template.appId', 'template.message'] },
message: 'No data to send',
path: [
'template.appId', 'template.message'
],
type: 'Bad format',
      },
}`,
      'template_error',
      'TEMPLATE_NOT_FOUND',
    ],
    [
      'channel not connected',
      400,
      JSON.stringify({
        code: 400,
        body: {
          context: { value: 'inactive', key: 'Channel', label: 'channel.status' },
          message: 'The channel associated to the template is not configured yet, please contact the support team',
          path: ['channel.status'],
          type: 'Bad format',
        },
      }),
      `{
code: 400,
body: {
 context: { 
  value: atom.channel?.status, key: 'Channel', label: 'channel.status' 
          },
 message: 'The channel associated to the template is not configured yet, please contact the support team',
 path: ['channel.status'],
 type: 'Bad format',
      },
}`,
      'account_error',
      'ACCOUNT_MISCONFIGURED',
    ],
    [
      'wrong token',
      400,
      JSON.stringify({
        context: { key: 'Authorization', label: 'headers.authorization', value: 'Bearer' },
        message: 'Cannot find a channel associated with the public token Bearer',
        path: ['headers.authorization'],
        type: 'Bad format',
      }),
      `{
"context": {
"key": "Authorization",
"label": "headers.authorization",
"value": Bearer
           },
"message": "Cannot find a channel associated with the public token Bearer",
"path": [
      "headers.authorization"
        ],
"type": "Bad format"
}`,
      'account_error',
      'ACCOUNT_AUTH_FAILED',
    ],
    [
      "plan's conversation limit",
      401,
      JSON.stringify({ success: false, message: 'The client has reached conversations limit', conversationId: null, status: 401 }),
      `{
 "success": false,
 "message": "The client has reached conversations limit",
 "conversationId": null,
 "status": 401
}`,
      'account_limited',
      'ACCOUNT_PLAN_LIMIT',
    ],
    [
      'internal error',
      500,
      JSON.stringify({ context: { key: 'Api', label: 'api.SendTemplateController', value: 'error' }, message: 'Something went wrong while the operation was executed', path: ['api.SendTemplateController'], type: 'Internal Server Error' }),
      `{
context: { key: 'Api', label: 'api.SendTemplateController', value: error },
message: 'Something went wrong while the operation was executed',
path: ['api.SendTemplateController'],
type: 'Internal Server Error',
}`,
      'retry',
      'PROVIDER_UNAVAILABLE',
    ],
  ];

  it.each(documented)("reads the manual's '%s' body (%i)", (_name, status, jsonBody, manualBody, kind, code) => {
    const fromJson = atomchatAdapter.parseSendResponse(res(status, jsonBody), message());
    expect(fromJson).toMatchObject({ kind, code, providerCode: String(status) });
    expect(fromJson.providerText).toBe((JSON.parse(jsonBody) as { message?: string; body?: { message?: string } }).message ?? (JSON.parse(jsonBody) as { body: { message: string } }).body.message);
    expect(atomchatAdapter.parseSendResponse(res(status, manualBody), message())).toMatchObject({ kind, code, providerCode: String(status) });
  });

  it('reads a 200 with success:false as an error, never as sent', () => {
    expect(atomchatAdapter.parseSendResponse(res(200, { success: false, message: 'No hay datos para enviar' }), message())).toMatchObject({ kind: 'template_error', code: 'TEMPLATE_PARAMS_INVALID' });
    expect(atomchatAdapter.parseSendResponse(res(200, { success: false, message: 'Algo nuevo' }), message())).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE', raw: '{"success":false,"message":"Algo nuevo"}' });
    expect(atomchatAdapter.parseSendResponse(res(200, { message: 'Sent' }), message())).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
  });

  it('never resends what AtomChat said it took: success:true in an unknown form is accepted, "Sent" without id is sent', () => {
    expect(atomchatAdapter.parseSendResponse(res(200, { success: true, message: 'Queued' }), message())).toMatchObject({ kind: 'accepted', code: 'ACCEPTED_PENDING' });
    expect(atomchatAdapter.parseSendResponse(res(200, { success: true, message: 'Sent' }), message())).toMatchObject({ kind: 'sent', raw: '{"success":true,"message":"Sent"}' });
  });

  it('classifies 429 and other 5xx generically, and anything else as undocumented', () => {
    expect(atomchatAdapter.parseSendResponse({ status: 429, headers: { 'retry-after': '5' }, body: '' }, message())).toMatchObject({ kind: 'rate_limited', retryAfterMs: 5000 });
    expect(atomchatAdapter.parseSendResponse(res(503, 'Service Unavailable'), message())).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNAVAILABLE' });
    expect(atomchatAdapter.parseSendResponse(res(404, 'Cannot POST /api/Template/SendMessage'), message())).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
    expect(atomchatAdapter.parseSendResponse(res(400, { success: false, message: 'otra cosa' }), message())).toMatchObject({ code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
  });

  it('never keeps a token the wrong-token body echoes back', () => {
    const echoed = {
      context: { key: 'Authorization', label: 'headers.authorization', value: `Bearer ${TOKEN}` },
      message: `Cannot find a channel associated with the public token Bearer ${TOKEN}`,
      path: ['headers.authorization'],
      type: 'Bad format',
    };
    const result = atomchatAdapter.parseSendResponse(res(400, echoed), message());
    expect(result).toMatchObject({ code: 'ACCOUNT_AUTH_FAILED', providerText: 'Cannot find a channel associated with the public token Bearer [redacted]' });
    expect(JSON.stringify(result)).not.toContain(TOKEN);
    const bare = atomchatAdapter.parseSendResponse(res(400, { message: `Cannot find a channel associated with the public token ${TOKEN}` }), message());
    expect(JSON.stringify(bare)).not.toContain(TOKEN);
    const undocumentedEcho = atomchatAdapter.parseSendResponse(res(418, JSON.stringify(echoed)), message());
    expect(JSON.stringify(undocumentedEcho)).not.toContain(TOKEN);
  });
});
