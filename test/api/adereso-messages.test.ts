/**
 * POST /v1/messages/adereso/ticket-reply and /v1/messages/adereso/conversation against a local
 * Adereso (test/fakes/adereso-server.ts): what is sent, how each documented answer comes back,
 * idempotency with Redis, suppression, and the refusals before anything is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADERESO_PROACTIVE_REFUSAL, startFakeAderesoServer, type FakeAderesoServer, type RecordedRequest } from '../fakes/adereso-server.js';
import { waitFor } from '../support/fixtures.js';
import { createAccount, expectError, expectStatus, startApi, type ApiHarness, type PublicAccount } from './api-harness.js';
import { redisKeys } from '../../src/redis-keys.js';

const TICKET = 'ticket-private';
const CLIENT = 'client-1';
const TICKET_REPLY = '/v1/messages/adereso/ticket-reply';
const CONVERSATION = '/v1/messages/adereso/conversation';
const REPLY_PATH = '/v2/message/';
const CONVERSATION_PATH = '/v2/message/create_conversation/';
const UNKNOWN_ID = '7d0c3a52-5f4e-4b0e-9a53-0d6f0a4b9e21';
/** Short, so a provider that hangs becomes a timeout quickly. */
const SEND_TIMEOUT_MS = 1_500;

type Answer = {
  outcome: { kind: string; code: string; message: string; providerCode?: string; providerText?: string };
  messageId: string;
  ticketId?: string;
  replayed: boolean;
};

let h: ApiHarness;
let fake: FakeAderesoServer;
/** Proactive messages allowed. */
let adereso: PublicAccount;
/** Its Adereso account id is not allowed proactive messages. */
let closed: PublicAccount;
/** No accountId: ticket replies only. */
let noAccountId: PublicAccount;

async function aderesoAccount(name: string, config: Record<string, unknown>): Promise<PublicAccount> {
  const response = await h.api.post('/v1/accounts', {
    provider: 'adereso',
    name,
    config: { baseUrl: fake.url, account: '56900000000', ...config },
    credentials: { token: fake.token },
  });
  return expectStatus<PublicAccount>(response, 201);
}

function sentTo(path: string): RecordedRequest[] {
  return fake.requests.filter((r) => r.path === path);
}

beforeAll(async () => {
  h = await startApi({ sendTimeoutMs: SEND_TIMEOUT_MS });
  fake = await startFakeAderesoServer({
    token: 'adereso-api-token-5b81e2',
    accountIds: { au2geg72gs: true, closedacct: false },
    tickets: {
      [TICKET]: { clientId: CLIENT, email: 'carlos@soto.cl', hasMessages: true, hasPrivateMessage: true },
      'ticket-public': { clientId: 'client-2', email: 'ana@soto.cl', hasMessages: true, hasPrivateMessage: false },
      'ticket-empty': { clientId: 'client-3', email: 'bea@soto.cl', hasMessages: false, hasPrivateMessage: false },
    },
  });
  adereso = await aderesoAccount('adereso', { accountId: 'au2geg72gs' });
  closed = await aderesoAccount('adereso not proactive', { accountId: 'closedacct' });
  noAccountId = await aderesoAccount('adereso replies only', {});
});

afterAll(async () => {
  await fake.close();
  await h.close();
});

describe('POST /v1/messages/adereso/ticket-reply', () => {
  it('posts the reply with private_only true by default and answers the sent outcome', async () => {
    const before = sentTo(REPLY_PATH).length;
    const response = await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId: TICKET, text: 'Tu pedido 4821 va en camino.' });
    const answer = expectStatus<Answer>(response, 200);
    expect(answer).toEqual({
      outcome: { kind: 'sent', code: 'SENT', message: 'Adereso posted the reply in the ticket.', providerCode: '200', providerText: 'Message sent to carlos@soto.cl' },
      messageId: expect.any(String),
      ticketId: TICKET,
      replayed: false,
    });
    const sent = sentTo(REPLY_PATH).slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.json).toEqual({ ticket_id: TICKET, message: 'Tu pedido 4821 va en camino.', private_only: true });
    expect(sent[0]?.headers.authorization).toBe(`Key ${fake.token}`);
  });

  it("takes the account's rate slots, shared with its campaigns: at 2/s three replies span at least a second", async () => {
    const slow = await h.api.post('/v1/accounts', {
      provider: 'adereso',
      name: 'adereso at 2/s',
      ratePerSecond: 2,
      config: { baseUrl: fake.url, account: '56900000000' },
      credentials: { token: fake.token },
    });
    const account = expectStatus<PublicAccount>(slow, 201);
    const started = Date.now();
    const answers = await Promise.all([1, 2, 3].map((n) => h.api.post(TICKET_REPLY, { accountId: account.id, ticketId: TICKET, text: `Hola ${n}` })));
    for (const answer of answers) expectStatus<Answer>(answer, 200);
    // Slots are 1/rate apart (paced to 97.6%), whatever else the machine does: never faster.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(await h.redis.exists(redisKeys.rateSlots(h.ctx.config.queuePrefix, account.id))).toBe(1);
  });

  it('sends client_id and private_only false when asked', async () => {
    const before = sentTo(REPLY_PATH).length;
    const response = await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId: 'ticket-public', clientId: 'client-2', text: 'Hola Ana', privateOnly: false });
    expect(expectStatus<Answer>(response, 200).outcome.providerText).toBe('Message sent to ana@soto.cl');
    expect(sentTo(REPLY_PATH).slice(before).map((r) => r.json)).toEqual([{ ticket_id: 'ticket-public', client_id: 'client-2', message: 'Hola Ana', private_only: false }]);
  });

  it("Adereso's 403 (no private message to answer) is 422 PROVIDER_RECIPIENT_REFUSED, saying how to allow a public reply", async () => {
    const response = await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId: 'ticket-public', text: 'Hola' });
    const error = expectError(response, 422, 'PROVIDER_RECIPIENT_REFUSED');
    expect(error.details).toEqual({ provider: 'Adereso', outcomeCode: 'RECIPIENT_UNREACHABLE', providerCode: '403' });
    expect(error.message).toContain('privateOnly false');
    expect(error.message).toContain('FORBIDDEN');
  });

  it("Adereso's 404 (no message in the ticket, or no such ticket) is 422 PROVIDER_RECIPIENT_REFUSED with RECIPIENT_INVALID", async () => {
    for (const ticketId of ['ticket-empty', 'no-such-ticket']) {
      const error = expectError(await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId, text: 'Hola' }), 422, 'PROVIDER_RECIPIENT_REFUSED');
      expect(error.details).toEqual({ provider: 'Adereso', outcomeCode: 'RECIPIENT_INVALID', providerCode: '404' });
    }
  });

  it("a 401 is a configuration error, and the account's token never comes back even when Adereso echoes it", async () => {
    fake.script(
      { status: 401, body: JSON.stringify({ status: 401, msg: `Invalid key ${fake.token} for this company` }), headers: { 'content-type': 'application/json' } },
      { path: REPLY_PATH },
    );
    const response = await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId: TICKET, text: 'Hola' });
    const error = expectError(response, 409, 'PROVIDER_ACCOUNT_MISCONFIGURED');
    expect(error.details).toMatchObject({ outcomeCode: 'ACCOUNT_AUTH_FAILED', providerCode: '401' });
    expect(error.message).toContain('Authorization: Key <token>');
    expect(response.body).not.toContain(fake.token);
    expect(response.body).toContain('[redacted]');
    // The same path as campaign sends: the refused account is paused, and nothing more is sent
    // with it until an operator resumes it.
    expect(expectStatus<{ status: string }>(await h.api.get(`/v1/accounts/${adereso.id}`), 200).status).toBe('paused');
    const before = fake.requests.length;
    expectError(await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId: TICKET, text: 'Hola' }), 409, 'PROVIDER_ACCOUNT_MISCONFIGURED');
    expect(fake.requests.length).toBe(before);
    expect(expectStatus<{ status: string }>(await h.api.post(`/v1/accounts/${adereso.id}/resume`), 200).status).toBe('active');
  });

  it('an answer Adereso errs on with HTTP 200 (status only in the body) is read by the body', async () => {
    fake.options.errorsAsHttp200 = true;
    try {
      const error = expectError(await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId: 'ticket-empty', text: 'Hola' }), 422, 'PROVIDER_RECIPIENT_REFUSED');
      expect(error.details).toEqual({ provider: 'Adereso', outcomeCode: 'RECIPIENT_INVALID', providerCode: '404 (HTTP 200)' });
    } finally {
      fake.options.errorsAsHttp200 = false;
    }
  });

  it('refuses a blank text or a missing ticket before sending anything', async () => {
    const before = fake.requests.length;
    const error = expectError(await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId: ' ', text: '   ' }), 400, 'VALIDATION_FAILED');
    expect(error.details?.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^ticketId:/), 'text: must not be blank']));
    expect(fake.requests.length).toBe(before);
  });
});

describe('Idempotency-Key', () => {
  it('a retried call replays the first answer and posts the reply once', async () => {
    const key = { 'idempotency-key': 'reply-4821' };
    const body = { accountId: adereso.id, ticketId: TICKET, text: 'Pago recibido, gracias.' };
    const before = sentTo(REPLY_PATH).length;
    const first = expectStatus<Answer>(await h.api.post(TICKET_REPLY, body, key), 200);
    const retry = await h.api.post(TICKET_REPLY, body, key);
    expect(expectStatus<Answer>(retry, 200)).toEqual({ ...first, replayed: true });
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(sentTo(REPLY_PATH).length - before).toBe(1);
  });

  it('the same key with another request is 409 IDEMPOTENCY_KEY_REUSED, and nothing is sent', async () => {
    const key = { 'idempotency-key': 'reply-reused' };
    expectStatus(await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId: TICKET, text: 'Primero' }, key), 200);
    const before = fake.requests.length;
    expectError(await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId: TICKET, text: 'Otro texto' }, key), 409, 'IDEMPOTENCY_KEY_REUSED');
    expectError(await h.api.post(CONVERSATION, { accountId: adereso.id, phone: '+56987650001', text: 'Primero' }, key), 409, 'IDEMPOTENCY_KEY_REUSED');
    expect(fake.requests.length).toBe(before);
  });

  it('a duplicate while the first call is in flight is 409 IDEMPOTENCY_KEY_IN_FLIGHT; a timeout is kept and replayed, never resent', async () => {
    const key = { 'idempotency-key': 'reply-slow' };
    const body = { accountId: adereso.id, ticketId: TICKET, text: 'Respuesta lenta' };
    const before = sentTo(REPLY_PATH).length;
    fake.script({ hang: true }, { path: REPLY_PATH });
    const first = h.api.post(TICKET_REPLY, body, key);
    await waitFor('the reply to reach Adereso', async () => sentTo(REPLY_PATH).length > before, 30_000, 10);
    expect(sentTo(REPLY_PATH).length - before).toBe(1);

    expectError(await h.api.post(TICKET_REPLY, body, key), 409, 'IDEMPOTENCY_KEY_IN_FLIGHT');
    const timedOut = expectError(await first, 504, 'PROVIDER_OUTCOME_UNKNOWN');
    expect(timedOut.details).toMatchObject({ outcomeCode: 'PROVIDER_TIMEOUT' });

    const retry = await h.api.post(TICKET_REPLY, body, key);
    expect(expectError(retry, 504, 'PROVIDER_OUTCOME_UNKNOWN')).toEqual(timedOut);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(sentTo(REPLY_PATH).length - before).toBe(1);
  });

  it('a call Adereso did not take (500) frees the key: the retry with it is sent', async () => {
    const key = { 'idempotency-key': 'reply-after-outage' };
    const body = { accountId: adereso.id, ticketId: TICKET, text: 'Tras la caída' };
    const before = sentTo(REPLY_PATH).length;
    fake.script({ status: 500, body: JSON.stringify({ status: 500, msg: 'Internal error' }) }, { path: REPLY_PATH });
    const error = expectError(await h.api.post(TICKET_REPLY, body, key), 503, 'PROVIDER_RETRY_LATER');
    expect(error.details).toEqual({ provider: 'Adereso', outcomeCode: 'PROVIDER_UNAVAILABLE', providerCode: '500' });
    const retry = expectStatus<Answer>(await h.api.post(TICKET_REPLY, body, key), 200);
    expect(retry).toMatchObject({ outcome: { code: 'SENT' }, replayed: false });
    expect(sentTo(REPLY_PATH).length - before).toBe(2);
  });

  it("a key belongs to its tenant: another tenant's call with the same key is its own", async () => {
    const key = { 'idempotency-key': 'shared-key' };
    expectStatus(await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId: TICKET, text: 'De A' }, key), 200);
    const { api: other } = await h.newTenant('tenant B');
    const theirs = expectStatus<PublicAccount>(
      await other.post('/v1/accounts', { provider: 'adereso', name: 'B', config: { baseUrl: fake.url, account: '56900000000' }, credentials: { token: fake.token } }),
      201,
    );
    const before = sentTo(REPLY_PATH).length;
    const answer = expectStatus<Answer>(await other.post(TICKET_REPLY, { accountId: theirs.id, ticketId: TICKET, text: 'De B' }, key), 200);
    expect(answer.replayed).toBe(false);
    expect(sentTo(REPLY_PATH).length - before).toBe(1);
  });
});

describe('POST /v1/messages/adereso/conversation', () => {
  it('opens the conversation with the phone normalized (CL by default) and answers the ticket id', async () => {
    const before = sentTo(CONVERSATION_PATH).length;
    const response = await h.api.post(CONVERSATION, {
      accountId: adereso.id,
      phone: '9 8765 0001',
      userName: 'Carlos Soto',
      text: 'Hola Carlos, bienvenido a nuestra tienda',
      noManualReopen: true,
      noManualMerge: false,
    });
    const answer = expectStatus<Answer>(response, 200);
    expect(answer).toEqual({ outcome: { kind: 'sent', code: 'SENT', message: 'Adereso opened the conversation.' }, messageId: expect.any(String), ticketId: expect.any(String), replayed: false });
    expect(answer.ticketId).toMatch(/^[0-9a-f]{24}$/);
    const sent = sentTo(CONVERSATION_PATH).slice(before);
    expect(sent.map((r) => r.json)).toEqual([
      { phone: '56987650001', user_name: 'Carlos Soto', account_id: 'au2geg72gs', message: 'Hola Carlos, bienvenido a nuestra tienda', no_manual_reopen: true, no_manual_merge: false },
    ]);
  });

  it('leaves no_manual_reopen and no_manual_merge out when not given, and names the client by their phone', async () => {
    const before = sentTo(CONVERSATION_PATH).length;
    expectStatus(await h.api.post(CONVERSATION, { accountId: adereso.id, phone: '+57 300 123 4567', text: 'Hola' }), 200);
    expect(sentTo(CONVERSATION_PATH).slice(before).map((r) => r.json)).toEqual([
      { phone: '573001234567', user_name: '+573001234567', account_id: 'au2geg72gs', message: 'Hola' },
    ]);
  });

  it("Adereso's 202 (proactive messaging not allowed) is 409 PROVIDER_ACCOUNT_MISCONFIGURED with the manual's instructions", async () => {
    const response = await h.api.post(CONVERSATION, { accountId: closed.id, phone: '+56987650002', text: 'Hola' });
    const error = expectError(response, 409, 'PROVIDER_ACCOUNT_MISCONFIGURED');
    expect(error.details).toEqual({ provider: 'Adereso', outcomeCode: 'ACCOUNT_MISCONFIGURED', providerCode: '202' });
    expect(error.message).toContain('not allowed to send proactive messages');
    expect(error.message).toContain('Administración / Canales, tab WhatsApp');
    expect(error.message).toContain('Configuración > Opciones de WhatsApp > Activar mensajes proactivos');
    expect(error.message).toContain(ADERESO_PROACTIVE_REFUSAL);
  });

  it('a suppressed phone is refused with 409 PHONE_SUPPRESSED, however it is typed, and nothing is sent', async () => {
    expectStatus(await h.api.post('/v1/suppressions', { phone: '+56987650003' }), 201);
    const before = fake.requests.length;
    const error = expectError(await h.api.post(CONVERSATION, { accountId: adereso.id, phone: '(9) 8765-0003', text: 'Hola' }), 409, 'PHONE_SUPPRESSED');
    expect(error.details).toEqual({ phone: '+56987650003' });
    expect(fake.requests.length).toBe(before);
  });

  it('an invalid phone is 422 RECIPIENT_REJECTED, and nothing is sent', async () => {
    const before = fake.requests.length;
    const error = expectError(await h.api.post(CONVERSATION, { accountId: adereso.id, phone: '12345', text: 'Hola' }), 422, 'RECIPIENT_REJECTED');
    expect(error.details).toEqual({ reason: 'PHONE_INVALID' });
    expect(fake.requests.length).toBe(before);
  });

  it("an account without Adereso's accountId is 400 INVALID_ACCOUNT_CONFIG, and nothing is sent", async () => {
    const before = fake.requests.length;
    const error = expectError(await h.api.post(CONVERSATION, { accountId: noAccountId.id, phone: '+56987650004', text: 'Hola' }), 400, 'INVALID_ACCOUNT_CONFIG');
    expect(error.message).toContain('set accountId in the account settings');
    expect(fake.requests.length).toBe(before);
  });

  it('a retried call with the same Idempotency-Key opens one conversation', async () => {
    const key = { 'idempotency-key': 'welcome-0005' };
    const body = { accountId: adereso.id, phone: '+56987650005', text: 'Bienvenido' };
    const before = sentTo(CONVERSATION_PATH).length;
    const first = expectStatus<Answer>(await h.api.post(CONVERSATION, body, key), 200);
    // Typed otherwise, it is the same request.
    const retry = expectStatus<Answer>(await h.api.post(CONVERSATION, { ...body, phone: '9 8765 0005' }, key), 200);
    expect(retry).toEqual({ ...first, replayed: true });
    expect(sentTo(CONVERSATION_PATH).length - before).toBe(1);
  });
});

describe('refusals before sending', () => {
  it('an account of another provider is 400 PROVIDER_NOT_SUPPORTED on both routes', async () => {
    const sandbox = await createAccount(h.api);
    const before = fake.requests.length;
    const reply = expectError(await h.api.post(TICKET_REPLY, { accountId: sandbox.id, ticketId: TICKET, text: 'Hola' }), 400, 'PROVIDER_NOT_SUPPORTED');
    expect(reply.message).toBe('A reply inside an Adereso ticket works only with Adereso accounts, and this account is on The sandbox.');
    expectError(await h.api.post(CONVERSATION, { accountId: sandbox.id, phone: '+56987650006', text: 'Hola' }), 400, 'PROVIDER_NOT_SUPPORTED');
    expect(fake.requests.length).toBe(before);
  });

  it("an unknown account, or another tenant's, is 404 ACCOUNT_NOT_FOUND", async () => {
    const { api: other } = await h.newTenant('tenant C');
    expectError(await h.api.post(TICKET_REPLY, { accountId: UNKNOWN_ID, ticketId: TICKET, text: 'Hola' }), 404, 'ACCOUNT_NOT_FOUND');
    expectError(await other.post(TICKET_REPLY, { accountId: adereso.id, ticketId: TICKET, text: 'Hola' }), 404, 'ACCOUNT_NOT_FOUND');
    expectError(await other.post(CONVERSATION, { accountId: adereso.id, phone: '+56987650007', text: 'Hola' }), 404, 'ACCOUNT_NOT_FOUND');
  });

  it.each([TICKET_REPLY, CONVERSATION])('POST %s without an API key is 401 UNAUTHORIZED', async (url) => {
    const before = fake.requests.length;
    const response = await h.app.inject({ method: 'POST', url, payload: { accountId: adereso.id, ticketId: TICKET, phone: '+56987650008', text: 'Hola' } });
    expectError(response, 401, 'UNAUTHORIZED');
    expect(fake.requests.length).toBe(before);
  });
});

describe('the single message record', () => {
  type Row = { tenant_id: string; kind: string; phone: string | null; ticket_id: string | null; status: string; error_code: string | null; provider_error_code: string | null };
  type HistoryRow = { status: string; source: string; error_code: string | null; recipient_id: string | null; campaign_id: string | null };

  async function record(id: string): Promise<{ row: Row | undefined; history: HistoryRow[] }> {
    const { rows } = await h.ctx.db.pool.query<Row>('SELECT tenant_id, kind, phone, ticket_id, status, error_code, provider_error_code FROM single_messages WHERE id = $1', [id]);
    const history = await h.ctx.db.pool.query<HistoryRow>(
      'SELECT status, source::text, error_code, recipient_id::text, campaign_id::text FROM recipient_events WHERE single_message_id = $1 ORDER BY id',
      [id],
    );
    return { row: rows[0], history: history.rows };
  }

  async function lastMessageId(): Promise<string> {
    const { rows } = await h.ctx.db.pool.query<{ id: string }>('SELECT max(id)::text AS id FROM single_messages');
    return rows[0]?.id ?? '';
  }

  it('a sent ticket reply is a single message sent, with its history from sending to sent', async () => {
    const answer = expectStatus<Answer>(await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId: TICKET, text: 'Hola' }), 200);
    const { row, history } = await record(answer.messageId);
    expect(row).toEqual({ tenant_id: h.tenant.tenantId, kind: 'adereso_ticket_reply', phone: null, ticket_id: TICKET, status: 'sent', error_code: null, provider_error_code: null });
    expect(history).toEqual([
      { status: 'sending', source: 'operator', error_code: null, recipient_id: null, campaign_id: null },
      { status: 'sent', source: 'send', error_code: null, recipient_id: null, campaign_id: null },
    ]);
  });

  it('a conversation keeps its phone and the ticket Adereso opened', async () => {
    const answer = expectStatus<Answer>(await h.api.post(CONVERSATION, { accountId: adereso.id, phone: '9 8765 0011', text: 'Hola' }), 200);
    const { row } = await record(answer.messageId);
    expect(row).toMatchObject({ kind: 'adereso_conversation', phone: '+56987650011', ticket_id: answer.ticketId, status: 'sent' });
  });

  it('a reply Adereso refused is a single message failed with the outcome and provider codes', async () => {
    expectError(await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId: 'ticket-public', text: 'Hola' }), 422, 'PROVIDER_RECIPIENT_REFUSED');
    const { row, history } = await record(await lastMessageId());
    expect(row).toMatchObject({ ticket_id: 'ticket-public', status: 'failed', error_code: 'RECIPIENT_UNREACHABLE', provider_error_code: '403' });
    expect(history.map((e) => [e.status, e.source, e.error_code])).toEqual([
      ['sending', 'operator', null],
      ['failed', 'send', 'RECIPIENT_UNREACHABLE'],
    ]);
  });

  it('a reply that timed out on the wire is a single message in doubt (unknown), never failed', async () => {
    fake.script({ hang: true }, { path: REPLY_PATH });
    expectError(await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId: TICKET, text: 'Hola lento' }), 504, 'PROVIDER_OUTCOME_UNKNOWN');
    const { row, history } = await record(await lastMessageId());
    expect(row).toMatchObject({ status: 'unknown', error_code: 'PROVIDER_TIMEOUT' });
    expect(history.map((e) => e.status)).toEqual(['sending', 'unknown']);
  });

  it('Postgres holds single messages to the transition table, and a history row to exactly one subject', async () => {
    const answer = expectStatus<Answer>(await h.api.post(TICKET_REPLY, { accountId: adereso.id, ticketId: TICKET, text: 'Hola' }), 200);
    await expect(h.ctx.db.pool.query(`UPDATE single_messages SET status = 'sending' WHERE id = $1`, [answer.messageId])).rejects.toThrow(/cannot move from sent to sending/);
    await expect(h.ctx.db.pool.query(`INSERT INTO recipient_events (tenant_id, status, source) VALUES ($1, 'sent', 'send')`, [h.tenant.tenantId])).rejects.toThrow(
      /recipient_events_one_subject/,
    );
  });
});
