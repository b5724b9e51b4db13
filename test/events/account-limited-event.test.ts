/**
 * The account limited / resumed outbound events the README lists: a provider answering a tier
 * limit (the sandbox's 403 tier_limit, through the send workers) stops the account and raises
 * one signed `account.limited` for an endpoint subscribed to it, however many sends met the
 * limit, with the account's state, the limit's code and reason and the next probe in its data.
 * When the account sends again it raises `account.resumed`: when its probe gets through with no
 * operator, and when an operator resumes it through the API. The receiver gets them in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventDeliveryLoop } from '../../src/events/delivery-loop.js';
import { verifySignature } from '../../src/events/signature.js';
import { expectStatus, recipientObjects, SANDBOX_TOKEN, type CreateCampaignResponse } from '../api/api-harness.js';
import { FAST_ENGINE_CONFIG, startEngine, type Engine } from '../support/engine-harness.js';
import { waitFor } from '../support/fixtures.js';
import { startEventReceiver, type EventReceiver, type ReceivedRequest } from './event-receiver.js';

type World = Engine<{ api: true; sendWorkers: true; sandbox: { token: string } }>;
type AccountData = { id: string; name: string; provider: string; status: string; statusCode: string | null; statusReason: string | null; nextProbeAt: string | null };
type Envelope = { id: string; type: string; createdAt: string; data: { account: AccountData } };

let w: World;
let receiver: EventReceiver;
let deliveries: EventDeliveryLoop;
let endpoint: { id: string; secret: string };
let sender: { accountId: string; templateId: string };

beforeAll(async () => {
  w = await startEngine({
    config: { ...FAST_ENGINE_CONFIG, eventsAllowPrivateUrls: true, eventsPollMs: 50 },
    api: true,
    sendWorkers: true,
    sandbox: { token: SANDBOX_TOKEN },
  });
  receiver = await startEventReceiver();
  // The worker process's delivery loop (workers/send-worker.ts), run here beside the worker host.
  deliveries = new EventDeliveryLoop(w.ctx.db.pool, w.ctx.config, w.ctx.logger);
  deliveries.start();
  const created = expectStatus<{ endpoint: { id: string }; secret: string }>(
    await w.api.post('/v1/event-endpoints', { url: receiver.url, events: ['account.limited', 'account.resumed'] }),
    201,
  );
  endpoint = { id: created.endpoint.id, secret: created.secret };
  const account = expectStatus<{ id: string }>(
    await w.api.post('/v1/accounts', { provider: 'sandbox', name: 'Tier uno', config: { baseUrl: w.sandbox.url }, credentials: { token: SANDBOX_TOKEN }, ratePerSecond: 50, pairGapSeconds: 0 }),
    201,
  );
  const template = expectStatus<{ id: string }>(await w.api.post('/v1/templates', { accountId: account.id, name: 'aviso', body: 'Hola {{1}}, saldo {{2}}.' }), 201);
  sender = { accountId: account.id, templateId: template.id };
});

afterAll(async () => {
  await deliveries?.stop();
  await w?.close();
  await receiver?.close();
});

async function startCampaign(name: string, count: number, offset: number): Promise<string> {
  const created = expectStatus<CreateCampaignResponse>(
    await w.api.post('/v1/campaigns', { name, ...sender, recipients: recipientObjects(count, offset), start: true }),
    201,
  );
  return created.campaign.id;
}

async function accountStatus(): Promise<{ status: string; status_code: string | null }> {
  const { rows } = await w.ctx.db.pool.query<{ status: string; status_code: string | null }>(`SELECT status::text, status_code FROM provider_accounts WHERE id = $1`, [sender.accountId]);
  return rows[0] ?? { status: 'missing', status_code: null };
}

async function counts(campaignId: string): Promise<Record<string, number>> {
  const { rows } = await w.ctx.db.pool.query<{ status: string; n: number }>(`SELECT status::text, count(*)::int AS n FROM recipients WHERE campaign_id = $1 GROUP BY 1`, [campaignId]);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Account events written to the outbox for this endpoint, in order. */
async function outboxTypes(): Promise<string[]> {
  const { rows } = await w.ctx.db.pool.query<{ type: string }>(
    `SELECT ev.type FROM event_deliveries d JOIN outbound_events ev ON ev.id = d.event_id WHERE d.endpoint_id = $1 ORDER BY d.id`,
    [endpoint.id],
  );
  return rows.map((r) => r.type);
}

function envelope(request: ReceivedRequest): Envelope {
  return JSON.parse(request.body) as Envelope;
}

function header(request: ReceivedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The nth request the receiver accepted, once it has arrived, checked as signed with the endpoint's secret. */
async function received(n: number, type: string): Promise<Envelope> {
  const request = await waitFor(`${type} delivered (#${n + 1})`, async () => receiver.accepted()[n], 30_000, 50);
  const verdict = verifySignature(endpoint.secret, { signature: header(request, 'x-wce-signature'), timestamp: header(request, 'x-wce-timestamp') }, request.body);
  expect(verdict).toEqual({ ok: true });
  const event = envelope(request);
  expect({ type: event.type, typeHeader: header(request, 'x-wce-event-type'), idHeader: header(request, 'x-wce-event-id') }).toEqual({ type, typeHeader: type, idHeader: event.id });
  return event;
}

describe('account.limited and account.resumed', () => {
  it('a tier-limit answer stops the account and raises one signed account.limited; its probe getting through raises account.resumed', async () => {
    const tier = 2;
    const total = 6;
    w.sandbox.settings.tierLimit = tier;
    const campaignId = await startCampaign('over the tier', total, 0);

    const limited = await received(0, 'account.limited');
    expect(await accountStatus()).toEqual({ status: 'limited', status_code: 'ACCOUNT_TIER_LIMIT' });
    expect(limited.data.account).toMatchObject({ id: sender.accountId, name: 'Tier uno', provider: 'sandbox', status: 'limited', statusCode: 'ACCOUNT_TIER_LIMIT' });
    // The engine's reason and the provider's own text.
    expect(limited.data.account.statusReason).toBe(
      `The account reached its messaging limit (unique recipients per 24 h). (provider: Messaging limit of ${tier} unique recipients per 24 h reached.)`,
    );
    // The first probe, a minute after the stop (the event is stamped in the stop's transaction).
    expect(Date.parse(limited.data.account.nextProbeAt ?? '') - Date.parse(limited.createdAt)).toBe(60_000);

    // Every other send met the limit too (all waiting recipients deferred), yet the account was stopped, and announced, once.
    await waitFor('every waiting recipient deferred', async () => (await counts(campaignId)).deferred === total - tier, 30_000, 50);
    expect(await outboxTypes()).toEqual(['account.limited']);

    // The limit clears and the probe is due now: it gets through, with no operator.
    w.sandbox.settings.tierLimit = 0;
    await w.ctx.db.pool.query(`UPDATE provider_accounts SET next_probe_at = now() WHERE id = $1`, [sender.accountId]);
    const resumed = await received(1, 'account.resumed');
    expect(resumed.data.account).toMatchObject({ id: sender.accountId, status: 'active', statusCode: null, statusReason: null, nextProbeAt: null });
    await waitFor('the campaign completed', async () => (await counts(campaignId)).sent === total, 30_000, 50);
    expect(await outboxTypes()).toEqual(['account.limited', 'account.resumed']);
  }, 60_000);

  it('an operator resuming a limited account raises account.resumed', async () => {
    // The six phones above count against the tier; a new phone meets it at once.
    w.sandbox.settings.tierLimit = 6;
    const campaignId = await startCampaign('over the tier again', 3, 100);
    const limited = await received(2, 'account.limited');
    expect(limited.data.account).toMatchObject({ id: sender.accountId, status: 'limited', statusCode: 'ACCOUNT_TIER_LIMIT' });
    await waitFor('every waiting recipient deferred', async () => (await counts(campaignId)).deferred === 3, 30_000, 50);

    w.sandbox.settings.tierLimit = 0;
    expectStatus(await w.api.post(`/v1/accounts/${sender.accountId}/resume`), 200);
    const resumed = await received(3, 'account.resumed');
    expect(resumed.data.account).toMatchObject({ id: sender.accountId, status: 'active', statusCode: null, nextProbeAt: null });
    await waitFor('the campaign completed', async () => (await counts(campaignId)).sent === 3, 30_000, 50);
    // In the order they happened, each once.
    expect(receiver.accepted().map((r) => envelope(r).type)).toEqual(['account.limited', 'account.resumed', 'account.limited', 'account.resumed']);
    expect(await outboxTypes()).toEqual(['account.limited', 'account.resumed', 'account.limited', 'account.resumed']);
  }, 60_000);
});
