/**
 * EVENTS_RETRY_HOURS, "how long before giving up" on an outbound event (README, Configuration):
 * against a receiver that always answers 500, the delivery loop gives up on an event older than
 * the window (its delivery is marked failed after the attempt, never tried again, and the next
 * event of its line goes ahead), while an event younger than the window stays pending and is
 * tried again. Checked at the default (72 h) and at a configured 30 h, so the setting, not a
 * fixed number, draws the line. Events are written by the engine's outbox writer and aged by
 * SQL; the loop is the engine's own, run one round at a time. (The 24 h floor is pinned in
 * test/config/config-defaults.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { EventDeliveryLoop } from '../../src/events/delivery-loop.js';
import { recordEvent } from '../../src/events/record-events.js';
import type { EventType } from '../../src/events/catalog.js';
import { apiForFile, expectStatus } from '../api/api-harness.js';
import { startEventReceiver, type EventReceiver } from './event-receiver.js';

const h = apiForFile({ eventsAllowPrivateUrls: true });
let receiver: EventReceiver;

beforeAll(async () => {
  receiver = await startEventReceiver({ mode: 'fail' });
});
afterAll(async () => {
  await receiver.close();
});

async function register(type: EventType): Promise<string> {
  const created = expectStatus<{ endpoint: { id: string } }>(await h.api.post('/v1/event-endpoints', { url: receiver.url, events: [type] }), 201);
  return created.endpoint.id;
}

/** An event written as the engine writes one (one delivery per subscribed endpoint), then made `ageMinutes` old. */
async function eventAged(type: EventType, orderKey: string, ageMinutes: number): Promise<string> {
  await recordEvent(h.ctx.db.pool, { tenantId: h.tenant.tenantId, type, orderKey, data: { line: orderKey, ageMinutes } });
  const { rows } = await h.ctx.db.pool.query<{ id: string }>(
    `UPDATE outbound_events SET created_at = now() - make_interval(mins => $2)
      WHERE id = (SELECT id FROM outbound_events WHERE order_key = $1 ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE)
      RETURNING id::text`,
    [orderKey, ageMinutes],
  );
  const id = rows[0]?.id;
  if (!id) throw new Error(`no event written for ${orderKey}`);
  return id;
}

/** A delivery's state; `retry_in_ms`: from its last try to its next one (both stamped by the same statement). */
type Delivery = { status: string; attempts: number; retry_in_ms: number | null };

async function delivery(endpointId: string, eventId: string): Promise<Delivery> {
  const { rows } = await h.ctx.db.pool.query<Delivery>(
    `SELECT d.status::text, d.attempts,
            (SELECT (extract(epoch FROM d.next_attempt_at - max(a.attempted_at)) * 1000)::int FROM event_delivery_attempts a WHERE a.delivery_id = d.id) AS retry_in_ms
       FROM event_deliveries d WHERE d.endpoint_id = $1 AND d.event_id = $2`,
    [endpointId, eventId],
  );
  const row = rows[0];
  if (!row) throw new Error(`no delivery of ${eventId}`);
  return row;
}

/** Requests the receiver got for an event. */
function tries(eventId: string): number {
  return receiver.requests.filter((r) => (JSON.parse(r.body) as { id: string }).id === eventId).length;
}

/** Makes every pending delivery of the endpoint due now, instead of waiting out its backoff. */
async function makeDue(endpointId: string): Promise<void> {
  await h.ctx.db.pool.query(`UPDATE event_deliveries SET next_attempt_at = now() WHERE endpoint_id = $1`, [endpointId]);
}

/** Leaves the endpoint's pending deliveries out of the other test's rounds. */
async function disable(endpointId: string): Promise<void> {
  expectStatus(await h.api.patch(`/v1/event-endpoints/${endpointId}`, { enabled: false }), 200);
}

function loop(config: Config): EventDeliveryLoop {
  return new EventDeliveryLoop(h.ctx.db.pool, config, h.ctx.logger);
}

describe('EVENTS_RETRY_HOURS', () => {
  it('by default (72 h) gives up on an event older than 72 h, and keeps retrying one younger than that', async () => {
    const config = h.ctx.config;
    expect(config.eventsRetryHours).toBe(72);
    const endpointId = await register('campaign.started');
    try {
      const old = await eventAged('campaign.started', 'campaign:old', 72 * 60 + 1);
      const nextInOldLine = await eventAged('campaign.started', 'campaign:old', 0);
      const young = await eventAged('campaign.started', 'campaign:young', 71 * 60);
      const deliveries = loop(config);

      // First round: the head of each line is tried, and the receiver refuses both.
      expect(await deliveries.runOnce()).toBe(2);
      expect([tries(old), tries(young), tries(nextInOldLine)]).toEqual([1, 1, 0]);
      expect(await delivery(endpointId, old)).toMatchObject({ status: 'failed', attempts: 1 });
      const youngAfterOne = await delivery(endpointId, young);
      expect(youngAfterOne).toMatchObject({ status: 'pending', attempts: 1 });
      // Retried later, after the first backoff delay (half of EVENTS_RETRY_BASE_MS fixed, half jitter).
      expect(youngAfterOne.retry_in_ms).toBeGreaterThanOrEqual(config.eventsRetryBaseMs / 2 - 1);
      expect(youngAfterOne.retry_in_ms).toBeLessThanOrEqual(config.eventsRetryBaseMs + 1);

      // Due again: the young event is retried; the given-up one is not, and its line moves on.
      await makeDue(endpointId);
      expect(await deliveries.runOnce()).toBe(2);
      expect([tries(old), tries(young), tries(nextInOldLine)]).toEqual([1, 2, 1]);
      expect(await delivery(endpointId, old)).toMatchObject({ status: 'failed', attempts: 1 });
      expect(await delivery(endpointId, young)).toMatchObject({ status: 'pending', attempts: 2 });
      expect(await delivery(endpointId, nextInOldLine)).toMatchObject({ status: 'pending', attempts: 1 });

      // The delivery log shows it given up, with its one try.
      const log = expectStatus<{ deliveries: { eventId: string; status: string; nextAttemptAt: string | null; tries: { statusCode: number | null }[] }[] }>(
        await h.api.get(`/v1/event-endpoints/${endpointId}/deliveries?status=failed`),
        200,
      );
      expect(log.deliveries.map((d) => ({ eventId: d.eventId, nextAttemptAt: d.nextAttemptAt, tries: d.tries.map((t) => t.statusCode) }))).toEqual([
        { eventId: old, nextAttemptAt: null, tries: [500] },
      ]);
    } finally {
      await disable(endpointId);
    }
  });

  it('configured to 30 h, gives up on an event 31 h old and keeps retrying one 29 h old', async () => {
    const retryHours = loadConfig({ ...process.env, EVENTS_RETRY_HOURS: '30' }).eventsRetryHours;
    expect(retryHours).toBe(30);
    const config: Config = { ...h.ctx.config, eventsRetryHours: retryHours };
    const endpointId = await register('campaign.paused');
    try {
      const old = await eventAged('campaign.paused', 'campaign:31h', 31 * 60);
      const young = await eventAged('campaign.paused', 'campaign:29h', 29 * 60);
      const deliveries = loop(config);

      expect(await deliveries.runOnce()).toBe(2);
      expect(await delivery(endpointId, old)).toMatchObject({ status: 'failed', attempts: 1 });
      expect(await delivery(endpointId, young)).toMatchObject({ status: 'pending', attempts: 1 });

      await makeDue(endpointId);
      expect(await deliveries.runOnce()).toBe(1);
      expect([tries(old), tries(young)]).toEqual([1, 2]);
      expect(await delivery(endpointId, old)).toMatchObject({ status: 'failed', attempts: 1 });
      expect(await delivery(endpointId, young)).toMatchObject({ status: 'pending', attempts: 2 });
    } finally {
      await disable(endpointId);
    }
  });
});
