/**
 * The AtomChat adapter through the real HTTP function (sendHttp) against a local AtomChat
 * (test/fakes/atomchat-server.ts): every outcome kind it can produce, timeouts and refusals.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { atomchatAdapter, type AtomchatAccount } from '../../src/providers/atomchat/index.js';
import { sendHttp } from '../../src/providers/http.js';
import type { OutboundMessage, SendOutcome } from '../../src/providers/types.js';
import { startFakeAtomchatServer, type FakeAtomchatServer } from '../fakes/atomchat-server.js';
import { outcomeLedger, transportScenarios } from './http-support.js';

const TIMEOUT_MS = 2_000;
let fake: FakeAtomchatServer;
let account: AtomchatAccount;
const note = outcomeLedger(() => [fake.token, WRONG_TOKEN]);
const WRONG_TOKEN = 'wrong-public-token-000';

beforeAll(async () => {
  fake = await startFakeAtomchatServer({
    token: 'atomchat-live-token-def',
    templates: {
      'tpl-1': { paramNames: ['nombre', 'monto'] },
      'tpl-empty': { paramNames: [], message: '' },
      'tpl-offline': { paramNames: [], channelConfigured: false },
    },
  });
  account = {
    id: 'acc-1',
    config: atomchatAdapter.configSchema.parse({ baseUrl: fake.url, groupName: 'Cobranzas', assign: false }),
    credentials: atomchatAdapter.credentialsSchema.parse({ publicToken: fake.token }),
  };
});

afterAll(async () => {
  await fake.close();
});

afterEach(() => {
  fake.options.newNumbersAs202 = false;
  fake.options.conversationLimit = Number.POSITIVE_INFINITY;
});

let counter = 0;
function message(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  counter += 1;
  return {
    reference: `rcp-${counter}`,
    phone: `+5075566${String(counter).padStart(4, '0')}`,
    template: { name: 'cobranza', externalId: 'tpl-1', language: 'es', category: 'UTILITY', body: 'Hola {{1}}, debe {{2}}', paramNames: ['nombre', 'monto'] },
    variables: ['Ana', '$10'],
    ...overrides,
  };
}

async function send(msg: OutboundMessage, acct: AtomchatAccount = account, timeoutMs = TIMEOUT_MS): Promise<SendOutcome> {
  const http = await sendHttp(atomchatAdapter.buildSendRequest(msg, acct), timeoutMs);
  return note(http.ok ? atomchatAdapter.parseSendResponse(http.response, msg) : http.outcome);
}

describe('AtomChat send through HTTP', () => {
  it('answers a new number Pending (accepted) and a number with a conversation Sent, with its id', async () => {
    const msg = message({ recipientName: 'Ana Pérez' });
    expect(await send(msg)).toMatchObject({ kind: 'accepted', code: 'ACCEPTED_PENDING', providerText: 'Pending' });
    const request = fake.requests.at(-1);
    expect(request?.path).toBe('/api/Template/SendMessage');
    expect(request?.headers.authorization).toBe(`Bearer ${fake.token}`);
    expect(request?.json).toEqual({
      templateId: 'tpl-1',
      phoneNumber: msg.phone.slice(1),
      clientName: 'Ana Pérez',
      groupName: 'Cobranzas',
      assign: false,
      params: { nombre: 'Ana', monto: '$10' },
    });
    const again = await send({ ...msg, variables: ['Ana', '$20'] });
    expect(again).toMatchObject({ kind: 'sent', code: 'SENT' });
    expect(again.messageId).toBe(fake.conversations.get(msg.phone.slice(1)));
  });

  it("answers the manual's 202 for a pending template, keeping the conversation id", async () => {
    fake.options.newNumbersAs202 = true;
    const result = await send(message());
    expect(result).toMatchObject({ kind: 'accepted', code: 'ACCEPTED_PENDING', providerCode: '202' });
    expect(result.messageId).toBe(fake.deliveries.at(-1)?.conversationId);
  });

  it('gets an auth error as a 400 for a wrong public token, without keeping the token', async () => {
    const wrong = { ...account, credentials: { publicToken: WRONG_TOKEN } };
    const result = await send(message(), wrong);
    expect(result).toMatchObject({ kind: 'account_error', code: 'ACCOUNT_AUTH_FAILED', providerCode: '400' });
    expect(result.providerText).toBe('Cannot find a channel associated with the public token Bearer [redacted]');
  });

  it('gets the template errors and the channel error', async () => {
    expect(await send(message({ template: { ...message().template, externalId: 'tpl-unknown' } }))).toMatchObject({ kind: 'template_error', code: 'TEMPLATE_NOT_FOUND' });
    expect(await send(message({ template: { ...message().template, externalId: 'tpl-empty', paramNames: [] }, variables: [] }))).toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
    const wrongNames = message({ template: { ...message().template, paramNames: ['name', 'amount'] } });
    expect(await send(wrongNames)).toMatchObject({ kind: 'template_error', code: 'TEMPLATE_PARAMS_INVALID', providerText: 'Missing params:[nombre,monto] ' });
    const offline = message({ template: { ...message().template, externalId: 'tpl-offline', paramNames: [] }, variables: [] });
    expect(await send(offline)).toMatchObject({ kind: 'account_error', code: 'ACCOUNT_MISCONFIGURED' });
  });

  it("stops the account at the plan's conversation limit (401)", async () => {
    fake.options.conversationLimit = fake.conversations.size;
    expect(await send(message())).toMatchObject({ kind: 'account_limited', code: 'ACCOUNT_PLAN_LIMIT', providerCode: '401' });
  });

  it('retries a 500, slows down on a 429, and retries an undocumented answer keeping it', async () => {
    fake.script({
      status: 500,
      body: JSON.stringify({ context: { key: 'Api', label: 'api.SendTemplateController', value: 'error' }, message: 'Something went wrong while the operation was executed', path: ['api.SendTemplateController'], type: 'Internal Server Error' }),
    });
    expect(await send(message())).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNAVAILABLE', providerText: 'Something went wrong while the operation was executed' });
    fake.script({ status: 429, body: 'Rate exceeded.', headers: { 'retry-after': '1' } });
    expect(await send(message())).toMatchObject({ kind: 'rate_limited', code: 'RATE_LIMITED', retryAfterMs: 1000 });
    fake.script({ status: 200, body: JSON.stringify({ success: false, message: `Error: header Bearer ${fake.token}` }) });
    const odd = await send(message());
    expect(odd).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE' });
    expect(odd.raw).toContain('Bearer [redacted]');
  });

  it('scripts a reply for one phone only', async () => {
    const target = message();
    fake.script({ status: 401, body: '{"success":false,"message":"The client has reached conversations limit","conversationId":null,"status":401}' }, { phone: target.phone.slice(1) });
    expect(await send(message())).toMatchObject({ kind: 'accepted' });
    expect(await send(target)).toMatchObject({ code: 'ACCOUNT_PLAN_LIMIT' });
  });

  transportScenarios(
    () => fake,
    ({ timeoutMs, baseUrl }) => send(message(), baseUrl ? { ...account, config: { ...account.config, baseUrl } } : account, timeoutMs),
  );

  it('records each delivery, so a phone sent twice can be seen', async () => {
    const msg = message();
    await send(msg);
    expect(fake.deliveries.filter((d) => d.phoneNumber === msg.phone.slice(1))).toHaveLength(1);
  });
});
