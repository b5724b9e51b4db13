/**
 * Outbound events end to end: the API registers endpoints, campaigns run in a real worker
 * process on the sandbox provider, and the worker's delivery loop POSTs the outbox to local
 * receivers.
 *
 * - A receiver that fails for a while, then accepts: every event arrives exactly once, signed
 *   (HMAC over timestamp and body, inside the replay window), in order per campaign.
 * - A worker SIGKILLed while a delivery is in flight, with more events written while no worker
 *   runs: a new worker delivers every one of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventDeliveryLoop } from '../../src/events/delivery-loop.js';
import { verifySignature } from '../../src/events/signature.js';
import { startSandboxServer, type SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { expectError, expectStatus, recipientObjects, SANDBOX_TOKEN, startApi, type ApiHarness, type CreateCampaignResponse } from '../api/api-harness.js';
import { waitFor } from '../support/fixtures.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { startEventReceiver, type EventReceiver, type ReceivedRequest } from './event-receiver.js';

const WORKER_ENV = {
  FEEDER_INTERVAL_MS: '50',
  EVENTS_POLL_MS: '50',
  EVENTS_RETRY_BASE_MS: '100',
  EVENTS_RETRY_MAX_MS: '400',
  EVENTS_TIMEOUT_MS: '3000',
  EVENTS_ALLOW_PRIVATE_URLS: 'true',
};

type Envelope = { id: string; type: string; createdAt: string; data: { campaign?: { id: string } | null; reason?: { code: string } | null; counts?: Record<string, number> } };

let api: ApiHarness;
let apiUrl: string;
let sandbox: SandboxServer;
const workers: WorkerProcess[] = [];
const receivers: EventReceiver[] = [];

beforeAll(async () => {
  api = await startApi({ eventsAllowPrivateUrls: true });
  // Listening: the sandbox calls the account's webhook URL with its status and reply callbacks.
  apiUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
  sandbox = await startSandboxServer({ latencyMs: [1, 5], token: SANDBOX_TOKEN });
});

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  for (const r of receivers) await r.close();
  await sandbox.close();
  await api.close();
});

async function receiver(options: Parameters<typeof startEventReceiver>[0] = {}): Promise<EventReceiver> {
  const r = await startEventReceiver(options);
  receivers.push(r);
  return r;
}

async function worker(): Promise<WorkerProcess> {
  const w = await startWorkerProcess(api.ctx, WORKER_ENV);
  workers.push(w);
  return w;
}

async function register(url: string, body: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const created = expectStatus<{ endpoint: { id: string }; secret: string }>(await api.api.post('/v1/event-endpoints', { url, ...body }), 201);
  return { id: created.endpoint.id, secret: created.secret };
}

async function sender(rate: number): Promise<{ accountId: string; templateId: string }> {
  const account = expectStatus<{ id: string }>(
    await api.api.post('/v1/accounts', { provider: 'sandbox', name: `sandbox ${rate}`, config: { baseUrl: sandbox.url }, credentials: { token: SANDBOX_TOKEN }, ratePerSecond: rate, pairGapSeconds: 0 }),
    201,
  );
  const template = expectStatus<{ id: string }>(await api.api.post('/v1/templates', { accountId: account.id, name: `t${rate}`, body: 'Hola {{1}}, saldo {{2}}.' }), 201);
  return { accountId: account.id, templateId: template.id };
}

async function campaign(s: { accountId: string; templateId: string }, name: string, count: number, offset: number): Promise<string> {
  const created = expectStatus<CreateCampaignResponse>(
    await api.api.post('/v1/campaigns', { name, ...s, recipients: recipientObjects(count, offset), start: true }),
    201,
  );
  return created.campaign.id;
}

async function action(campaignId: string, name: string): Promise<void> {
  expectStatus(await api.api.post(`/v1/campaigns/${campaignId}/${name}`), 200);
}

/** Events written for an endpoint, in the order the outbox holds them, per campaign. */
async function outbox(endpointId: string): Promise<{ id: string; type: string; campaignId: string | null }[]> {
  const { rows } = await api.ctx.db.pool.query<{ id: string; type: string; campaign_id: string | null }>(
    `SELECT ev.id, ev.type, ev.data->'campaign'->>'id' AS campaign_id FROM event_deliveries d JOIN outbound_events ev ON ev.id = d.event_id
      WHERE d.endpoint_id = $1 ORDER BY d.id`,
    [endpointId],
  );
  return rows.map((r) => ({ id: r.id, type: r.type, campaignId: r.campaign_id }));
}

async function allDelivered(endpointId: string): Promise<boolean> {
  const { rows } = await api.ctx.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM event_deliveries WHERE endpoint_id = $1 AND status <> 'delivered'`, [endpointId]);
  return rows[0]?.n === 0;
}

function envelope(request: ReceivedRequest): Envelope {
  return JSON.parse(request.body) as Envelope;
}

function expectSigned(request: ReceivedRequest, secret: string): void {
  const verdict = verifySignature(secret, { signature: header(request, 'x-wce-signature'), timestamp: header(request, 'x-wce-timestamp') }, request.body);
  expect(verdict).toEqual({ ok: true });
  expect(header(request, 'x-wce-event-id')).toBe(envelope(request).id);
  expect(header(request, 'x-wce-event-type')).toBe(envelope(request).type);
}

function header(request: ReceivedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

describe('outbound events', () => {
  it('refuses endpoint URLs into private networks unless the operator allows them', async () => {
    const strict = await startApi({ eventsAllowPrivateUrls: false });
    try {
      expectError(await strict.api.post('/v1/event-endpoints', { url: 'http://127.0.0.1:9/x' }), 422, 'EVENT_ENDPOINT_URL_REFUSED');
      expectError(await strict.api.post('/v1/event-endpoints', { url: 'https://10.1.2.3/x' }), 422, 'EVENT_ENDPOINT_URL_REFUSED');
      expectError(await strict.api.post('/v1/event-endpoints', { url: 'https://localhost/x' }), 422, 'EVENT_ENDPOINT_URL_REFUSED');
      expectStatus(await strict.api.post('/v1/event-endpoints', { url: 'https://hooks.example.com/wce' }), 201);
    } finally {
      await strict.close();
    }
  });

  it('delivers every event once, signed and in order per campaign, through a receiver that fails for a while', async () => {
    const flaky = await receiver({ failFirst: 8 });
    const slack = await receiver();
    const endpoint = await register(flaky.url, { description: 'batch system' });
    await register(slack.url, { format: 'slack', events: ['campaign.completed'] });
    // The secret is never listed again.
    const listed = expectStatus<{ endpoints: Record<string, unknown>[] }>(await api.api.get('/v1/event-endpoints'), 200);
    expect(listed.endpoints).toHaveLength(2);
    expect(JSON.stringify(listed)).not.toContain(endpoint.secret);

    await worker();
    const slow = await sender(20);
    const a = await campaign(slow, 'A', 40, 0);
    await action(a, 'pause');
    const b = await campaign(await sender(200), 'B', 20, 1000);
    await action(a, 'resume');

    await waitFor('campaigns completed and every event delivered', async () => {
      const { rows } = await api.ctx.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM campaigns WHERE status = 'completed' AND id = ANY($1::uuid[])`, [[a, b]]);
      return rows[0]?.n === 2 && (await allDelivered(endpoint.id));
    }, 90_000, 100);

    const written = await outbox(endpoint.id);
    const accepted = flaky.accepted();
    // Retries happened: the receiver failed, and then every event got through exactly once.
    expect(flaky.requests.filter((r) => r.answer === 'fail').length).toBe(8);
    expect(accepted.map((r) => envelope(r).id).sort()).toEqual(written.map((e) => e.id).sort());
    for (const request of accepted) expectSigned(request, endpoint.secret);
    // In order per campaign: the receiver saw each campaign's events in the order they were written.
    for (const id of [a, b]) {
      const sent = written.filter((e) => e.campaignId === id).map((e) => e.type);
      expect(accepted.map(envelope).filter((e) => e.data.campaign?.id === id).map((e) => e.type)).toEqual(sent);
    }
    expect(written.filter((e) => e.campaignId === a).map((e) => e.type)).toEqual(['upload.completed', 'campaign.started', 'campaign.paused', 'campaign.resumed', 'campaign.completed']);
    expect(written.filter((e) => e.campaignId === b).map((e) => e.type)).toEqual(['upload.completed', 'campaign.started', 'campaign.completed']);
    const completed = accepted.map(envelope).find((e) => e.type === 'campaign.completed' && e.data.campaign?.id === a);
    expect(completed?.data.counts).toEqual({ sent: 40 });
    // An operator's pause carries no engine reason.
    expect(accepted.map(envelope).find((e) => e.type === 'campaign.paused')?.data.reason).toBeNull();

    // The Slack-format endpoint got only what it subscribed to, as {"text"}.
    await waitFor('slack messages', async () => slack.accepted().length === 2);
    const texts = slack.accepted().map((r) => (JSON.parse(r.body) as { text: string }).text).sort();
    expect(texts).toEqual([':white_check_mark: Campaign "A" completed (40 sent).', ':white_check_mark: Campaign "B" completed (20 sent).']);

    // The delivery log: the first events needed several attempts, each recorded.
    const log = expectStatus<{ deliveries: { status: string; attempts: number; tries: { statusCode: number | null }[] }[] }>(
      await api.api.get(`/v1/event-endpoints/${endpoint.id}/deliveries?limit=100`),
      200,
    );
    expect(log.deliveries.length).toBe(written.length);
    expect(log.deliveries.every((d) => d.status === 'delivered')).toBe(true);
    const retried = log.deliveries.filter((d) => d.attempts > 1);
    expect(retried.length).toBeGreaterThan(0);
    for (const d of retried) expect(d.tries.map((t) => t.statusCode)).toEqual([...Array.from({ length: d.attempts - 1 }, () => 500), 204]);
  }, 180_000);

  it('loses no event when the worker is SIGKILLed between the change and the delivery', async () => {
    const hanging = await receiver({ mode: 'hang' });
    const endpoint = await register(hanging.url, { events: ['campaign.started', 'campaign.paused', 'campaign.resumed', 'campaign.cancelled', 'upload.completed'] });
    const first = await worker();
    const s = await sender(5);
    const c = await campaign(s, 'C', 30, 2000);
    // The first delivery is in flight (the receiver holds it): kill the worker now.
    await waitFor('a delivery in flight', async () => hanging.requests.length > 0);
    await first.kill('SIGKILL');
    // More changes while no worker runs: their events wait in the outbox.
    await action(c, 'pause');
    await action(c, 'resume');
    await action(c, 'cancel');
    hanging.set('accept');
    await worker();
    await waitFor('every event delivered after the restart', () => allDelivered(endpoint.id), 60_000, 100);
    const written = await outbox(endpoint.id);
    expect(written.map((e) => e.type)).toEqual(['upload.completed', 'campaign.started', 'campaign.paused', 'campaign.resumed', 'campaign.cancelled']);
    const accepted = hanging.accepted().map(envelope);
    expect(accepted.map((e) => e.id)).toEqual(written.map((e) => e.id));
    // The hung attempt carried the same event id: a receiver that did process it would drop the repeat.
    expect(envelope(hanging.requests[0] as ReceivedRequest).id).toBe(written[0]?.id);
  }, 180_000);

  it('raises account events, and replies and opt-outs only for endpoints that want them', async () => {
    const all = await receiver();
    const quiet = await receiver();
    await register(all.url, { events: ['account.auth_failed', 'account.resumed', 'recipient.replied', 'recipient.opted_out'] });
    await register(quiet.url, { events: ['account.auth_failed', 'account.resumed'] });
    await worker();
    // A wrong token: the first send stops the account (auth error).
    const account = expectStatus<{ id: string; webhook: { url: string } }>(
      await api.api.post('/v1/accounts', { provider: 'sandbox', name: 'bad token', config: { baseUrl: sandbox.url }, credentials: { token: 'not-the-token' }, ratePerSecond: 50, pairGapSeconds: 0 }),
      201,
    );
    const template = expectStatus<{ id: string }>(await api.api.post('/v1/templates', { accountId: account.id, name: 'r', body: 'Hola {{1}}, {{2}}.' }), 201);
    // Every message is delivered, read and answered "BAJA".
    sandbox.settings.webhook = { url: `${apiUrl}${account.webhook.url}`, secret: SANDBOX_TOKEN, deliveredRate: 1, readRate: 1, replyRate: 1, optOutRate: 1, delayMs: [1, 5] };
    const c = await campaign({ accountId: account.id, templateId: template.id }, 'D', 4, 3000);
    await waitFor('account.auth_failed delivered', async () => quiet.accepted().length === 1);
    expectStatus(await api.api.patch(`/v1/accounts/${account.id}`, { credentials: { token: SANDBOX_TOKEN } }), 200);
    expectStatus(await api.api.post(`/v1/accounts/${account.id}/resume`), 200);
    await waitFor('replies and opt-outs delivered', async () => all.accepted().filter((r) => envelope(r).type === 'recipient.opted_out').length === 4, 60_000, 100);
    await waitFor('account.resumed delivered', async () => quiet.accepted().length === 2);

    const types = all.accepted().map(envelope);
    expect(types.filter((e) => e.type.startsWith('account.')).map((e) => e.type)).toEqual(['account.auth_failed', 'account.resumed']);
    const replies = types.filter((e) => e.type === 'recipient.replied');
    expect(replies).toHaveLength(4);
    for (const reply of replies) expect(reply.data.campaign?.id).toBe(c);
    expect(quiet.accepted().map((r) => envelope(r).type)).toEqual(['account.auth_failed', 'account.resumed']);
    sandbox.settings.webhook = null;
  }, 180_000);

  it('deletes events past the retention once nothing is pending for them, and keeps the rest', async () => {
    const endpoint = await register('http://127.0.0.1:9/never');
    // Disabled first, so the running workers leave its pending delivery alone during this test.
    expectStatus(await api.api.patch(`/v1/event-endpoints/${endpoint.id}`, { enabled: false }), 200);
    const pool = api.ctx.db.pool;
    const insert = async (ageDays: number, status: string) => {
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO outbound_events (id, tenant_id, type, order_key, data, created_at) VALUES (gen_random_uuid(), $1, 'campaign.started', 'campaign:x', '{}', now() - make_interval(days => $2)) RETURNING id`,
        [api.tenant.tenantId, ageDays],
      );
      const id = rows[0]?.id as string;
      await pool.query(`INSERT INTO event_deliveries (tenant_id, event_id, endpoint_id, order_key, status) VALUES ($1, $2, $3, 'campaign:x', $4::event_delivery_status)`, [api.tenant.tenantId, id, endpoint.id, status]);
      return id;
    };
    const oldDelivered = await insert(31, 'delivered');
    const oldFailed = await insert(31, 'failed');
    const oldPending = await insert(31, 'pending');
    const recent = await insert(1, 'delivered');
    const loop = new EventDeliveryLoop(pool, { ...api.ctx.config, eventsRetentionDays: 30 }, api.ctx.logger);
    expect(await loop.prune()).toBeGreaterThanOrEqual(2);
    const { rows } = await pool.query<{ id: string }>(`SELECT id FROM outbound_events WHERE id = ANY($1::uuid[])`, [[oldDelivered, oldFailed, oldPending, recent]]);
    expect(rows.map((r) => r.id).sort()).toEqual([oldPending, recent].sort());
  });

  it('raises no campaign or upload events for a single message (POST /v1/messages answers with its outcome)', async () => {
    const r = await receiver();
    const endpoint = await register(r.url);
    await worker();
    const s = await sender(50);
    const sent = expectStatus<{ campaignId: string; done: boolean }>(
      await api.api.post('/v1/messages', { accountId: s.accountId, templateId: s.templateId, phone: '+56985550001', variables: ['Ana', '1'], waitMs: 20_000 }),
      200,
    );
    await waitFor('the single message campaign completed', async () => {
      const { rows } = await api.ctx.db.pool.query<{ status: string }>(`SELECT status::text FROM campaigns WHERE id = $1`, [sent.campaignId]);
      return rows[0]?.status === 'completed';
    });
    // A real campaign right after it, on the same endpoint: its events arrive, so the loop was running.
    const c = await campaign(s, 'E', 2, 4000);
    await waitFor('the real campaign completed and delivered', async () => (await outbox(endpoint.id)).some((e) => e.type === 'campaign.completed' && e.campaignId === c) && (await allDelivered(endpoint.id)));
    expect((await outbox(endpoint.id)).filter((e) => e.campaignId === sent.campaignId)).toEqual([]);
  }, 180_000);
});
