/**
 * The Optiwe adapter through the real sendHttp against a local Optiwe that speaks the manual's
 * format: every outcome kind an Optiwe send can produce, plus a hanging response (ambiguous)
 * and a refused connection (retry). The token must never show in any outcome.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeHttpAgent, sendHttp } from '../../src/providers/http.js';
import {
  buildCreateTemplateRequest,
  buildOptiweListTemplatesRequest,
  optiweAdapter,
  parseCreateTemplateResponse,
  parseOptiweListTemplatesResponse,
  withOptiweButtons,
  type OptiweConfig,
  type OptiweCredentials,
} from '../../src/providers/optiwe/index.js';
import * as manual from '../../src/providers/optiwe/manual-examples.js';
import type { AccountSettings, HttpRequest, OutboundMessage, SendOutcome, TemplateRef } from '../../src/providers/types.js';
import { startFakeOptiwe, type FakeOptiwe, type FakeOptiweTemplate } from '../fakes/optiwe-server.js';

import { outcomeLedger, transportScenarios } from './http-support.js';

const TIMEOUT_MS = 2_000;
let fake: FakeOptiwe;
// Checked once every test has run: each kind a Optiwe exchange can produce was produced, and none shows the token.
const note = outcomeLedger(() => [fake.token], ['accepted', 'account_error', 'account_limited', 'ambiguous', 'opted_out', 'rate_limited', 'recipient_error', 'retry', 'sent', 'template_error']);

const accountFor = (server: { url: string; token: string }, config: Partial<OptiweConfig> = {}): AccountSettings<OptiweConfig, OptiweCredentials> => ({
  id: 'acc-optiwe',
  config: { baseUrl: server.url, ...config },
  credentials: { token: server.token },
});

function refOf(template: FakeOptiweTemplate): TemplateRef {
  const ref: TemplateRef = { name: template.name, externalId: String(template.id), language: 'es', category: 'UTILITY', body: template.text, paramNames: [] };
  return template.buttons ? withOptiweButtons(ref, template.buttons) : ref;
}

async function exchange(
  request: HttpRequest,
  parse: (r: { status: number; headers: Record<string, string>; body: string }) => SendOutcome,
  timeoutMs = TIMEOUT_MS,
): Promise<SendOutcome> {
  const result = await sendHttp(request, timeoutMs);
  return note(result.ok ? parse(result.response) : result.outcome);
}

async function send(message: OutboundMessage, config: Partial<OptiweConfig> = {}, server: { url: string; token: string } = fake): Promise<SendOutcome> {
  const request = optiweAdapter.buildSendRequest(message, accountFor(server, config));
  return exchange(request, (response) => optiweAdapter.parseSendResponse(response, message));
}

async function sendBatch(messages: OutboundMessage[]): Promise<SendOutcome[]> {
  const batch = optiweAdapter.batch;
  if (!batch) throw new Error('no batch capability');
  const result = await sendHttp(batch.buildBatchRequest(messages, accountFor(fake)), TIMEOUT_MS);
  const outcomes = result.ok ? batch.parseBatchResponse(result.response, messages) : messages.map(() => result.outcome);
  outcomes.forEach(note);
  return outcomes;
}

let reminder: FakeOptiweTemplate;
let buttons: FakeOptiweTemplate;
let inReview: FakeOptiweTemplate;

const reminderMessage = (phone: string, overrides: Partial<OutboundMessage> = {}): OutboundMessage => ({
  reference: `r-${phone}`,
  phone,
  template: refOf(reminder),
  variables: ['Diego', '15:30', 'Centro Medico Deragopyan'],
  ...overrides,
});

beforeEach(async () => {
  fake = await startFakeOptiwe();
  reminder = fake.addTemplate({ name: 'reminder', text: manual.CREATE_TEXT_REQUEST.text });
  buttons = fake.addTemplate({
    name: 'reminder_buttons',
    text: manual.CREATE_CALL_TO_ACTION_REQUEST.text,
    buttons: [
      { type: 'PHONE_NUMBER', text: 'Llamanos', phoneNumber: '543424010203' },
      { type: 'URL', text: 'Nuestra web', url: 'https://example.com/{{1}}', urlExample: 'https://example.com/bob/' },
    ],
  });
  inReview = fake.addTemplate({ name: 'pending_one', text: 'Todavía en revisión {{1}}', status: 'IN_REVIEW' });
});

afterEach(async () => {
  await fake.close();
});

afterAll(async () => {
  await closeHttpAgent();
});

describe('Optiwe single send over HTTP', () => {
  it('sends: 201 with an empty body, the E.164 split as the manual writes it', async () => {
    expect(await send(reminderMessage('+5491155174499'))).toMatchObject({ kind: 'sent', code: 'SENT' });
    expect(fake.deliveries).toEqual([
      { phone: '+541155174499', text: 'Hola Diego, queremos recordarle que para el día de hoy a las 15:30 tiene un turno en Centro Medico Deragopyan.', via: 'single' },
    ]);
    expect(fake.requests[0]?.headers['content-type']).toBe('application/json');
  });

  it('sends a template with buttons, which Optiwe matches only with the buttons appended', async () => {
    const message: OutboundMessage = {
      reference: 'r-b',
      phone: '+5491155174499',
      template: refOf(buttons),
      variables: ['Diego'],
      buttonParams: [{ index: 1, subType: 'url', value: 'bob/' }],
    };
    expect(await send(message)).toMatchObject({ kind: 'sent' });
    // Without the buttons the text matches no template.
    const bare: OutboundMessage = { ...message, template: { ...refOf(buttons), buttons: [] } as TemplateRef };
    expect(await send(bare)).toMatchObject({ kind: 'template_error', code: 'TEMPLATE_NOT_FOUND', providerCode: 'TEMPLATE_NOT_FOUND' });
  });

  it('TEMPLATE_NOT_FOUND when the text matches no template, TEMPLATE_NOT_APPROVED when it matches one in review', async () => {
    const edited = reminderMessage('+5491155174499', { template: { ...refOf(reminder), body: 'Hola {{1}}, otro texto' } });
    expect(await send(edited)).toMatchObject({ kind: 'template_error', code: 'TEMPLATE_NOT_FOUND' });
    const pending = reminderMessage('+5491155174499', { template: refOf(inReview), variables: ['x'] });
    expect(await send(pending)).toMatchObject({ kind: 'template_error', code: 'TEMPLATE_NOT_APPROVED' });
    expect(fake.deliveries).toEqual([]);
  });

  it('recipient outcomes: invalid number, opted out', async () => {
    fake.invalidNumbers.add('+541100000000');
    fake.optedOut.add('+541155174400');
    expect(await send(reminderMessage('+5491100000000'))).toMatchObject({ kind: 'recipient_error', code: 'RECIPIENT_INVALID', providerCode: 'INVALID_WHATSAPP_NUMBER' });
    expect(await send(reminderMessage('+5491155174400'))).toMatchObject({ kind: 'opted_out', code: 'RECIPIENT_OPTED_OUT' });
  });

  it('account outcomes: bad token, outbound disabled, tier limit, request quota, unknown customer fields', async () => {
    expect(await send(reminderMessage('+5491155174499'), {}, { url: fake.url, token: 'wrong-token' })).toMatchObject({
      kind: 'account_error',
      code: 'ACCOUNT_AUTH_FAILED',
      providerCode: 'NOT_AUTHENTICATED',
    });
    fake.script({ status: 400, body: manual.INVALID_CUSTOMER_FIELDS_400_BODY, headers: { 'content-type': 'application/json' } });
    expect(await send(reminderMessage('+5491155174499'))).toMatchObject({ kind: 'account_error', code: 'ACCOUNT_MISCONFIGURED', providerCode: 'INVALID_CUSTOMER_FIELDS' });

    const limited = await startFakeOptiwe({ tierLimit: 1, requestLimit: 3, outboundEnabled: true });
    try {
      limited.addTemplate({ name: 'reminder', text: reminder.text });
      const viaLimited = (phone: string) => send(reminderMessage(phone), {}, limited);
      expect(await viaLimited('+5491155174401')).toMatchObject({ kind: 'sent' });
      expect(await viaLimited('+5491155174402')).toMatchObject({ kind: 'account_limited', code: 'ACCOUNT_TIER_LIMIT' });
      expect(await viaLimited('+5491155174401')).toMatchObject({ kind: 'sent' }); // Already reached: still within the tier.
      expect(await viaLimited('+5491155174401')).toMatchObject({ kind: 'rate_limited', code: 'RATE_LIMITED', providerCode: 'REQUESTS_LIMIT_REACHED' });
    } finally {
      await limited.close();
    }

    const disabled = await startFakeOptiwe({ outboundEnabled: false });
    try {
      disabled.addTemplate({ name: 'reminder', text: reminder.text });
      expect(await send(reminderMessage('+5491155174499'), {}, disabled)).toMatchObject({ kind: 'account_error', providerCode: 'WHATSAPP_OUTBOUND_NOT_ENABLED' });
    } finally {
      await disabled.close();
    }
  });

  it('generic answers: 5xx retries, 429 slows down with Retry-After, undocumented retries with the body kept, 2xx error body is an error', async () => {
    fake.script({ status: 503, body: 'maintenance' });
    expect(await send(reminderMessage('+5491155174499'))).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNAVAILABLE' });
    fake.script({ status: 429, body: '', headers: { 'retry-after': '12' } });
    expect(await send(reminderMessage('+5491155174499'))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 12_000 });
    fake.script({ status: 409, body: '{"detail":"conflict"}' });
    expect(await send(reminderMessage('+5491155174499'))).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNDOCUMENTED_RESPONSE', raw: '{"detail":"conflict"}' });
    fake.script({ status: 200, body: manual.CUSTOMER_OPTED_OUT_400_BODY });
    expect(await send(reminderMessage('+5491155174499'))).toMatchObject({ kind: 'opted_out' });
    expect(fake.deliveries).toEqual([]);
  });

  transportScenarios(
    () => fake,
    ({ timeoutMs, baseUrl }) => {
      const message = reminderMessage('+5491155174499');
      const request = optiweAdapter.buildSendRequest(message, accountFor(fake, baseUrl ? { baseUrl } : {}));
      return exchange(request, (response) => optiweAdapter.parseSendResponse(response, message), timeoutMs);
    },
  );
});

describe('Optiwe bulk send over HTTP', () => {
  const bulkMessage = (phone: string, variables = ['Ana']): OutboundMessage => ({
    reference: `b-${phone}`,
    phone,
    template: { ...refOf(reminder), externalId: String(bulkTemplate.id), body: bulkTemplate.text },
    variables,
  });
  let bulkTemplate: FakeOptiweTemplate;
  beforeEach(() => {
    bulkTemplate = fake.addTemplate({ name: 'promo', text: 'Hola {{1}}, tenemos novedades' });
  });

  it('accepts the valid customers and fails the invalid ones, each matched back by phone', async () => {
    fake.invalidNumbers.add('+543442567890');
    const outcomes = await sendBatch([bulkMessage('+5491155174499'), bulkMessage('+5493442567890'), bulkMessage('+14155550123')]);
    expect(outcomes.map((o) => o.kind)).toEqual(['accepted', 'recipient_error', 'accepted']);
    expect(outcomes[1]).toMatchObject({ code: 'RECIPIENT_INVALID', providerCode: 'INVALID_NUMBER' });
    expect(fake.deliveries.map((d) => d.phone)).toEqual(['+541155174499', '+14155550123']);
    expect(fake.deliveries[0]).toMatchObject({ text: 'Hola Ana, tenemos novedades', via: 'bulk', campaignId: 1 });
  });

  it('a missing placeholder rejects the whole request (422), naming the recipient', async () => {
    const outcomes = await sendBatch([bulkMessage('+5491155174499'), bulkMessage('+5493442506786', [''])]);
    expect(outcomes.map((o) => o.code)).toEqual(['TEMPLATE_PARAMS_INVALID', 'TEMPLATE_PARAMS_INVALID']);
    expect(outcomes[1]?.message).toMatch(/named this recipient/);
    expect(fake.deliveries).toEqual([]);
  });

  it('template not found / not approved apply to every message', async () => {
    const missing = (phone: string): OutboundMessage => ({ ...bulkMessage(phone), template: { ...bulkMessage(phone).template, externalId: '999' } });
    expect((await sendBatch([missing('+5491155174499'), missing('+14155550123')])).map((o) => o.code)).toEqual(['TEMPLATE_NOT_FOUND', 'TEMPLATE_NOT_FOUND']);
    bulkTemplate.status = 'IN_REVIEW';
    expect((await sendBatch([bulkMessage('+5491155174499')])).map((o) => [o.code, o.providerText])).toEqual([
      ['TEMPLATE_NOT_APPROVED', `Template ${bulkTemplate.id} is not approved`],
    ]);
  });
});

describe('Optiwe templates over HTTP', () => {
  it('creates a template (then refuses a duplicate and a bad name) and syncs the list', async () => {
    const account = accountFor(fake);
    const create = async (draft: Parameters<typeof buildCreateTemplateRequest>[0]) => {
      const built = buildCreateTemplateRequest(draft, account);
      if (!built.ok) throw new Error(built.problems.join('; '));
      const result = await sendHttp(built.request, TIMEOUT_MS);
      if (!result.ok) throw new Error(result.outcome.message);
      return parseCreateTemplateResponse(result.response);
    };
    const created = await create({ ...manual.CREATE_CALL_TO_ACTION_REQUEST, key: 'cta', name: 'cta' });
    expect(created).toMatchObject({ ok: true, template: { name: 'cta', status: 'pending', language: 'es', paramCount: 1 } });
    expect(await create({ ...manual.CREATE_CALL_TO_ACTION_REQUEST, key: 'cta', name: 'cta' })).toMatchObject({ ok: false, problem: 'already_exists' });

    // Local validation stops a bad name before Optiwe sees it; Optiwe's own check is there too.
    expect(buildCreateTemplateRequest({ ...manual.CREATE_TEXT_REQUEST, name: 'Nuevo' }, account).ok).toBe(false);
    const unchecked: HttpRequest = {
      method: 'POST',
      url: `${fake.url}/whatsapp-templates/`,
      headers: { Authorization: `Bearer ${fake.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...manual.CREATE_TEXT_REQUEST, key: 'nuevo', name: 'Nuevo' }),
    };
    const raw = await sendHttp(unchecked, TIMEOUT_MS);
    if (!raw.ok) throw new Error('request failed');
    expect(parseCreateTemplateResponse(raw.response)).toMatchObject({ ok: false, problem: 'invalid', details: { name: expect.stringContaining('Found: N') } });

    const listed = await sendHttp(buildOptiweListTemplatesRequest(account), TIMEOUT_MS);
    if (!listed.ok) throw new Error('request failed');
    const sync = parseOptiweListTemplatesResponse(listed.response);
    if (!sync.ok) throw new Error(sync.outcome.message);
    expect(sync.templates.map((t) => [t.name, t.status])).toEqual([
      ['reminder', 'approved'],
      ['reminder_buttons', 'approved'],
      ['pending_one', 'pending'],
      ['cta', 'pending'],
    ]);
    expect(sync.templates[1]?.buttons.map((b) => b.type)).toEqual(['PHONE_NUMBER', 'URL']);
  });

  it('a bad token on sync pauses the account', async () => {
    const result = await sendHttp(buildOptiweListTemplatesRequest(accountFor({ url: fake.url, token: 'nope' })), TIMEOUT_MS);
    if (!result.ok) throw new Error('request failed');
    const sync = parseOptiweListTemplatesResponse(result.response);
    expect(sync).toMatchObject({ ok: false, outcome: { code: 'ACCOUNT_AUTH_FAILED', providerCode: 'NOT_AUTHENTICATED' } });
    if (!sync.ok) note(sync.outcome);
  });
});
