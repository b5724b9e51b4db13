/**
 * The providers' documented webhook payloads (payloads.ts) replayed through the real receivers
 * (POST/GET /webhooks/<account>/<secret>, app.inject) and the real processor (called by hand, so
 * "processor down" is simply not calling it), against this file's own Postgres database.
 *
 * Each test names the outcome it expects. Recipients are sent the way the worker records a send
 * (writeSendResults), then events arrive in the order the test chooses.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { WebhookStore } from '../../src/webhooks/webhook-store.js';
import { expectError, expectStatus, expectStatusCode } from '../api/api-harness.js';
import {
  FORM_CONTENT_TYPE,
  META_BUTTON_REPLY,
  META_BUTTON_REPLY_ID,
  META_OPTED_OUT_WAMID,
  META_SENT_AT,
  META_STATUS_DELIVERED,
  META_STATUS_FAILED_131050,
  META_STATUS_READ,
  META_STATUS_SENT,
  META_TEXT_REPLY,
  META_TEXT_REPLY_ID,
  META_WA_ID,
  META_WAMID,
  MULTICHAT_DELIVERED,
  MULTICHAT_MESSAGE_ID,
  MULTICHAT_READ,
  OPTIWE_FAILED_OUTBOUND,
  OPTIWE_NEW_MESSAGE,
} from './payloads.js';
import {
  campaignRow,
  createCampaign,
  createWebhookAccount,
  deliver,
  historyOf,
  markSending,
  metaSignature,
  metaStatuses,
  metaTextMessage,
  postMeta,
  postWebhook,
  recipientRow,
  recordSend,
  webhookWorldForFile,
  METRICS_TOKEN,
  storedEvents,
  suppressionsOf,
  unixNow,
  type WebhookAccount,
} from './support/webhook-world.js';

const APP_SECRET = 'meta-app-secret-3f9a';
/** The number the engine sent to (E.164 dropped Mexico's mobile 1); Meta reports wa_id 521... */
const MEXICO_PHONE = '+525512345678';

const world = webhookWorldForFile();

function metaAccount(credentials: Record<string, unknown> = { appSecret: APP_SECRET }): Promise<WebhookAccount> {
  return createWebhookAccount(world, 'meta', credentials);
}

/** A Meta account and a running campaign whose recipient was sent META_WAMID to +52 55 1234 5678. */
async function sentToMexico(): Promise<{ account: WebhookAccount; campaignId: string; recipientId: string }> {
  const account = await metaAccount();
  const { campaignId, recipients } = await createCampaign(world, account.id, [MEXICO_PHONE]);
  const recipientId = recipients[0]?.id ?? '';
  await recordSend(world, recipientId, META_WAMID);
  return { account, campaignId, recipientId };
}

async function webhookRequestsCounter(provider: string, result: string): Promise<number> {
  const response = await world.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expectStatusCode(response, 200);
  const line = response.body.split('\n').find((l) => l.startsWith('wce_webhook_requests_total{') && l.includes(`provider="${provider}"`) && l.includes(`result="${result}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('Meta receiver: authentication and shape', () => {
  it('GET handshake with the account verify token → 200, echoes hub.challenge', async () => {
    const account = await metaAccount({ appSecret: APP_SECRET, webhookVerifyToken: 'mi-token-de-verificacion' });
    const response = await world.app.inject({
      method: 'GET',
      url: `${account.path}?hub.mode=subscribe&hub.verify_token=mi-token-de-verificacion&hub.challenge=1158201444`,
    });
    expectStatusCode(response, 200);
    expect(response.body).toBe('1158201444');
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('GET handshake with no verify token configured → the URL secret is the token (200)', async () => {
    const account = await metaAccount();
    const response = await world.app.inject({ method: 'GET', url: `${account.path}?hub.mode=subscribe&hub.verify_token=${account.secret}&hub.challenge=42` });
    expectStatusCode(response, 200);
    expect(response.body).toBe('42');
  });

  it('GET handshake with a wrong verify token → 403 WEBHOOK_VERIFY_FAILED', async () => {
    const account = await metaAccount({ appSecret: APP_SECRET, webhookVerifyToken: 'mi-token-de-verificacion' });
    const response = await world.app.inject({ method: 'GET', url: `${account.path}?hub.mode=subscribe&hub.verify_token=otro&hub.challenge=1158201444` });
    expectError(response, 403, 'WEBHOOK_VERIFY_FAILED');
    expect(response.body).not.toContain('1158201444');
  });

  it('POST with a valid signature → 200, stored raw as a pending webhook_events row before any processing', async () => {
    const { account, recipientId } = await sentToMexico();
    await deliver(world, account, META_STATUS_DELIVERED, APP_SECRET);

    const stored = await storedEvents(world, account.id);
    expect(stored).toEqual([expect.objectContaining({ status: 'pending', attempts: 0, body: META_STATUS_DELIVERED, content_type: 'application/json' })]);
    // Nothing applied yet: the receiver only stores.
    expect((await recipientRow(world, recipientId)).status).toBe('sent');
    expect(await historyOf(world, recipientId, 'webhook')).toEqual([]);

    await world.processor.drainBacklog();
    expect((await storedEvents(world, account.id)).map((e) => e.status)).toEqual(['processed']);
    expect((await recipientRow(world, recipientId)).status).toBe('delivered');
  });

  it('POST with a bad signature → 401 WEBHOOK_SIGNATURE_INVALID, nothing stored; no signature at all → the same', async () => {
    const account = await metaAccount();
    expectError(await postMeta(world, account, META_STATUS_DELIVERED, 'another-app-secret'), 401, 'WEBHOOK_SIGNATURE_INVALID');
    // Signed, then altered in transit: the signature covers the exact bytes.
    const altered = await postWebhook(world, account.path, META_STATUS_DELIVERED.replace('delivered', 'read'), {
      'x-hub-signature-256': metaSignature(META_STATUS_DELIVERED, APP_SECRET),
    });
    expectError(altered, 401, 'WEBHOOK_SIGNATURE_INVALID');
    expectError(await postWebhook(world, account.path, META_STATUS_DELIVERED), 401, 'WEBHOOK_SIGNATURE_INVALID');
    expect(await storedEvents(world, account.id)).toEqual([]);
  });

  it('POST to a wrong URL secret, an unknown account or a non-uuid id → 404 WEBHOOK_NOT_FOUND, nothing stored', async () => {
    const account = await metaAccount();
    const wrongSecret = await postMeta(world, { ...account, path: `/webhooks/${account.id}/not-the-secret` }, META_STATUS_DELIVERED, APP_SECRET);
    expectError(wrongSecret, 404, 'WEBHOOK_NOT_FOUND');
    const otherAccount = await postMeta(world, { ...account, path: `/webhooks/00000000-0000-4000-8000-000000000000/${account.secret}` }, META_STATUS_DELIVERED, APP_SECRET);
    expectError(otherAccount, 404, 'WEBHOOK_NOT_FOUND');
    expectError(await postMeta(world, { ...account, path: `/webhooks/not-a-uuid/${account.secret}` }, META_STATUS_DELIVERED, APP_SECRET), 404, 'WEBHOOK_NOT_FOUND');
    expect(await storedEvents(world, account.id)).toEqual([]);
  });

  it('a rotated secret: the new URL works at once (POST 200, GET handshake 200)', async () => {
    const { account, recipientId } = await sentToMexico();
    // The receiver has seen (and cached) the account under its first secret.
    await deliver(world, account, META_STATUS_DELIVERED, APP_SECRET);
    const rotated = expectStatus<{ webhook: { url: string } }>(await world.api.post(`/v1/accounts/${account.id}/webhook-secret`), 200);
    const path = new URL(rotated.webhook.url, 'http://engine.invalid').pathname;
    const secret = path.split('/').pop() ?? '';
    expect(secret).not.toBe(account.secret);
    await deliver(world, { ...account, path, secret }, META_STATUS_READ, APP_SECRET);
    const handshake = await world.app.inject({ method: 'GET', url: `${path}?hub.mode=subscribe&hub.verify_token=${secret}&hub.challenge=7` });
    expectStatusCode(handshake, 200);
    expect(handshake.body).toBe('7');
    // The old URL is refused from then on.
    expectError(await postMeta(world, account, META_STATUS_READ, APP_SECRET), 404, 'WEBHOOK_NOT_FOUND');
    await world.processor.drainBacklog();
    expect((await storedEvents(world, account.id)).map((e) => e.status)).toEqual(['processed', 'processed']);
    expect((await recipientRow(world, recipientId)).status).toBe('read');
  });

  it.each([
    ['not JSON', '{"object": "whatsapp_business_account", "entry": ['],
    ['another object', JSON.stringify({ object: 'page', entry: [] })],
    ['a status without an id', metaStatuses([{ id: 'x', status: 'sent', timestamp: META_SENT_AT, recipientId: META_WA_ID }]).replace('"id":"x",', '')],
  ])('POST signed but malformed (%s) → 400 WEBHOOK_MALFORMED, nothing stored', async (_what, body) => {
    const account = await metaAccount();
    expectError(await postMeta(world, account, body, APP_SECRET), 400, 'WEBHOOK_MALFORMED');
    expect(await storedEvents(world, account.id)).toEqual([]);
  });

  it('POST to a Meta account without appSecret → 401 WEBHOOK_SIGNATURE_UNCONFIGURED, nothing stored', async () => {
    const account = await metaAccount({});
    expectError(await postMeta(world, account, META_STATUS_DELIVERED, APP_SECRET), 401, 'WEBHOOK_SIGNATURE_UNCONFIGURED');
    expect(await storedEvents(world, account.id)).toEqual([]);
  });

  it('GET /metrics (operator token) counts a bad-signature request as wce_webhook_requests_total{result="bad_signature"}', async () => {
    const account = await metaAccount();
    const before = await webhookRequestsCounter('meta', 'bad_signature');
    expectError(await postMeta(world, account, META_STATUS_SENT, 'wrong-secret'), 401, 'WEBHOOK_SIGNATURE_INVALID');
    expect(await webhookRequestsCounter('meta', 'bad_signature')).toBe(before + 1);
    expectError(await world.app.inject({ method: 'GET', url: '/metrics' }), 401, 'METRICS_TOKEN_REQUIRED');
  });
});

describe('WebhookStore (write before answering)', () => {
  it('40 requests at once → 40 committed rows with their own ids, written in fewer INSERTs than requests; drain() waits for all', async () => {
    const account = await metaAccount();
    let inserts = 0;
    const pool = world.ctx.db.pool;
    const counting = { query: (...args: Parameters<pg.Pool['query']>) => ((inserts += 1), pool.query(...args)) } as unknown as pg.Pool;
    const store = new WebhookStore(counting, { maxInFlight: 2 });
    const bodies = Array.from({ length: 40 }, (_, i) => metaStatuses([{ id: `wamid.store-${i}`, status: 'sent', timestamp: META_SENT_AT, recipientId: META_WA_ID }]));
    const ids = await Promise.all(bodies.map((body) => store.store({ tenantId: world.tenant.tenantId, accountId: account.id, provider: 'meta', contentType: 'application/json', body })));
    await store.drain();

    expect(new Set(ids).size).toBe(40);
    expect(inserts).toBeLessThan(40);
    const stored = await storedEvents(world, account.id);
    expect(stored.map((e) => e.id).sort()).toEqual([...ids].sort());
    expect(new Set(stored.map((e) => e.body))).toEqual(new Set(bodies));
    await world.ctx.db.pool.query(`UPDATE webhook_events SET status = 'ignored' WHERE account_id = $1`, [account.id]);
  });

  it('a refused INSERT (account deleted meanwhile) → store() rejects, so the receiver cannot acknowledge it', async () => {
    const store = new WebhookStore(world.ctx.db.pool);
    const stored = store.store({ tenantId: world.tenant.tenantId, accountId: '00000000-0000-4000-8000-000000000000', provider: 'meta', contentType: null, body: '{}' });
    await expect(stored).rejects.toThrow(/foreign key/);
    await store.drain();
  });
});

describe('Meta statuses applied by the processor', () => {
  it('sent, delivered, read (documented) → read, sent/delivered/read times from Meta, 3 webhook history rows', async () => {
    const { account, recipientId } = await sentToMexico();
    const sentAt = (await recipientRow(world, recipientId)).sent_at;
    for (const body of [META_STATUS_SENT, META_STATUS_DELIVERED, META_STATUS_READ]) await deliver(world, account, body, APP_SECRET);
    await world.processor.drainBacklog();

    const row = await recipientRow(world, recipientId);
    expect(row).toMatchObject({
      status: 'read',
      provider_message_id: META_WAMID,
      delivered_at: new Date((META_SENT_AT + 4) * 1000),
      read_at: new Date((META_SENT_AT + 65) * 1000),
    });
    // sent_at is the engine's own record of the send (first wins).
    expect(row.sent_at).toEqual(sentAt);
    expect((await historyOf(world, recipientId, 'webhook')).map((h) => h.status)).toEqual(['sent', 'delivered', 'read']);
    expect((await storedEvents(world, account.id)).map((e) => e.status)).toEqual(['processed', 'processed', 'processed']);
  });

  it('the same delivered event twice (a Meta retry) → applied once: no change, no second history row', async () => {
    const { account, recipientId } = await sentToMexico();
    await deliver(world, account, META_STATUS_DELIVERED, APP_SECRET);
    await world.processor.drainBacklog();
    const first = await recipientRow(world, recipientId);

    await deliver(world, account, META_STATUS_DELIVERED, APP_SECRET);
    await world.processor.drainBacklog();
    expect(await recipientRow(world, recipientId)).toEqual(first);
    expect((await historyOf(world, recipientId, 'webhook')).map((h) => h.status)).toEqual(['delivered']);
    // Both requests were stored and closed.
    expect((await storedEvents(world, account.id)).map((e) => e.status)).toEqual(['processed', 'processed']);
  });

  it('read before delivered (out of order) → read; the late delivered does not move it back', async () => {
    const { account, recipientId } = await sentToMexico();
    await deliver(world, account, META_STATUS_READ, APP_SECRET);
    await world.processor.drainBacklog();
    expect((await recipientRow(world, recipientId)).status).toBe('read');

    await deliver(world, account, META_STATUS_DELIVERED, APP_SECRET);
    await deliver(world, account, META_STATUS_SENT, APP_SECRET);
    await world.processor.drainBacklog();
    const row = await recipientRow(world, recipientId);
    expect(row.status).toBe('read');
    expect(row.read_at).toEqual(new Date((META_SENT_AT + 65) * 1000));
    // The history keeps every event that arrived, in arrival order.
    expect((await historyOf(world, recipientId, 'webhook')).map((h) => h.status)).toEqual(['read', 'delivered', 'sent']);
  });

  it('a status that arrives before the send is recorded (recipient still sending, no wamid) → waiting; once the send is recorded → applied', async () => {
    const account = await metaAccount();
    const { recipients } = await createCampaign(world, account.id, [MEXICO_PHONE]);
    const recipientId = recipients[0]?.id ?? '';
    const attempt = await markSending(world, recipientId);

    await deliver(world, account, META_STATUS_DELIVERED, APP_SECRET);
    await world.processor.drainBacklog();
    const [waiting] = await storedEvents(world, account.id);
    expect(waiting).toMatchObject({ status: 'waiting', attempts: 1 });
    expect(waiting?.next_attempt_at).not.toBeNull();
    expect((await recipientRow(world, recipientId)).status).toBe('sending');

    // The worker records the send's response; the backoff (1 s) is brought forward rather than slept through.
    await recordSend(world, recipientId, META_WAMID, 'sent', attempt);
    await world.ctx.db.pool.query(`UPDATE webhook_events SET next_attempt_at = now() WHERE account_id = $1`, [account.id]);
    await world.processor.drainBacklog();
    expect((await storedEvents(world, account.id))[0]).toMatchObject({ status: 'processed', attempts: 2 });
    expect(await recipientRow(world, recipientId)).toMatchObject({ status: 'delivered', delivered_at: new Date((META_SENT_AT + 4) * 1000) });
  });

  it('processor down while 25 events arrive → all stored pending, nothing applied; processor back → all applied', async () => {
    const account = await metaAccount();
    const phones = Array.from({ length: 25 }, (_, i) => `+5255${String(10_000_000 + i)}`);
    const { recipients } = await createCampaign(world, account.id, phones);
    const wamid = (i: number) => `wamid.down-${account.id}-${i}`;
    for (const [i, r] of recipients.entries()) await recordSend(world, r.id, wamid(i));
    const at = unixNow();
    await Promise.all(
      recipients.map((r, i) =>
        deliver(world, account, metaStatuses([{ id: wamid(i), status: 'delivered', timestamp: at, recipientId: r.phone.slice(1) }]), APP_SECRET),
      ),
    );

    const stored = await storedEvents(world, account.id);
    expect(stored).toHaveLength(25);
    expect(new Set(stored.map((e) => e.status))).toEqual(new Set(['pending']));
    const before = await world.ctx.db.pool.query<{ status: string }>(`SELECT DISTINCT status::text FROM recipients WHERE id = ANY($1::bigint[])`, [recipients.map((r) => r.id)]);
    expect(before.rows).toEqual([{ status: 'sent' }]);

    // Back up, with batches smaller than the backlog.
    await world.processorWithBatch(7).drainBacklog();
    expect(new Set((await storedEvents(world, account.id)).map((e) => e.status))).toEqual(new Set(['processed']));
    const after = await world.ctx.db.pool.query<{ status: string; n: string }>(
      `SELECT status::text, count(*) AS n FROM recipients WHERE id = ANY($1::bigint[]) GROUP BY 1`,
      [recipients.map((r) => r.id)],
    );
    expect(after.rows).toEqual([{ status: 'delivered', n: '25' }]);
  });
});

describe('the processor across processes and id order', () => {
  it('another process holds the oldest batch → this processor takes the next one (SKIP LOCKED), and the held rows are processed later', async () => {
    const account = await metaAccount();
    const phones = Array.from({ length: 6 }, (_, i) => `+5255${String(20_000_000 + i)}`);
    const { recipients } = await createCampaign(world, account.id, phones);
    const wamid = (i: number) => `wamid.locked-${account.id}-${i}`;
    for (const [i, r] of recipients.entries()) await recordSend(world, r.id, wamid(i));
    for (const [i, r] of recipients.entries()) {
      await deliver(world, account, metaStatuses([{ id: wamid(i), status: 'delivered', timestamp: unixNow(), recipientId: r.phone.slice(1) }]), APP_SECRET);
    }

    const other = await world.ctx.db.pool.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT id FROM webhook_events WHERE account_id = $1 ORDER BY id LIMIT 3 FOR UPDATE`, [account.id]);
      const report = await world.processorWithBatch(3).processOnce();
      expect(report).toEqual({ processed: 3, waiting: 0, ignored: 0, failed: 0 });
      expect((await storedEvents(world, account.id)).map((e) => e.status)).toEqual(['pending', 'pending', 'pending', 'processed', 'processed', 'processed']);
    } finally {
      await other.query('ROLLBACK');
      other.release();
    }
    await world.processor.drainBacklog();
    expect((await storedEvents(world, account.id)).map((e) => e.status)).toEqual(Array(6).fill('processed'));
  });

  it('a stored request that cannot be applied → that one marked failed with the reason, the rest of its batch applied', async () => {
    const { account, recipientId } = await sentToMexico();
    await deliver(world, account, META_STATUS_DELIVERED, APP_SECRET);
    // Stored before a parser change, say: the receiver would refuse it today.
    await world.ctx.db.pool.query(
      `INSERT INTO webhook_events (tenant_id, account_id, provider, content_type, body) VALUES ($1, $2, 'meta', 'application/json', '{"object": "page"}')`,
      [world.tenant.tenantId, account.id],
    );
    await deliver(world, account, META_STATUS_READ, APP_SECRET);

    const report = await world.processor.processOnce();
    expect(report).toEqual({ processed: 2, waiting: 0, ignored: 0, failed: 1 });
    const stored = await storedEvents(world, account.id);
    expect(stored.map((e) => e.status)).toEqual(['processed', 'failed', 'processed']);
    expect(stored[1]?.error).toMatch(/^Meta webhook: body/);
    expect((await recipientRow(world, recipientId)).status).toBe('read');
  });

  it('one batch with repeats and failures between delivery statuses → the same result as one request at a time', async () => {
    const account = await metaAccount();
    const { recipients } = await createCampaign(world, account.id, ['+525511120001', '+525511120002', '+525511120003']);
    const [a, b, c] = recipients.map((r) => r.id);
    const wamid = (i: number) => `wamid.batch-${account.id}-${i}`;
    for (const [i, r] of recipients.entries()) await recordSend(world, r.id, wamid(i));
    const t = unixNow();
    const status = (i: number, s: 'sent' | 'delivered' | 'read' | 'failed', at: number) =>
      metaStatuses([{ id: wamid(i), status: s, timestamp: at, recipientId: '5215511120001', ...(s === 'failed' ? { errors: [{ code: 131026, title: 'Message undeliverable' }] } : {}) }]);
    // a: read, then delivered twice. b: sent, then failed. c: failed, then delivered.
    for (const body of [status(0, 'read', t + 9), status(1, 'sent', t), status(0, 'delivered', t + 3), status(2, 'failed', t + 2), status(1, 'failed', t + 2), status(0, 'delivered', t + 3), status(2, 'delivered', t + 4)]) {
      await deliver(world, account, body, APP_SECRET);
    }
    const report = await world.processor.processOnce();
    expect(report).toEqual({ processed: 7, waiting: 0, ignored: 0, failed: 0 });

    expect(await recipientRow(world, a ?? '')).toMatchObject({ status: 'read', delivered_at: new Date((t + 3) * 1000), read_at: new Date((t + 9) * 1000) });
    expect((await historyOf(world, a ?? '', 'webhook')).map((h) => h.status)).toEqual(['read', 'delivered']);
    expect(await recipientRow(world, b ?? '')).toMatchObject({ status: 'failed', error_code: 'RECIPIENT_NOT_ON_WHATSAPP' });
    expect((await historyOf(world, b ?? '', 'webhook')).map((h) => h.status)).toEqual(['sent', 'failed']);
    expect(await recipientRow(world, c ?? '')).toMatchObject({ status: 'failed', delivered_at: null });
  });

  it('a Meta request with a status for a recorded send and one for a send not recorded yet → the first applied now, the request waits for the second', async () => {
    const { account, recipientId } = await sentToMexico();
    const t = unixNow();
    const body = metaStatuses([
      { id: META_WAMID, status: 'delivered', timestamp: t, recipientId: META_WA_ID },
      { id: `wamid.not-recorded-${account.id}`, status: 'delivered', timestamp: t, recipientId: '5215500000000' },
    ]);
    await deliver(world, account, body, APP_SECRET);
    await world.processor.drainBacklog();
    expect((await recipientRow(world, recipientId)).status).toBe('delivered');
    expect((await storedEvents(world, account.id))[0]).toMatchObject({ status: 'waiting', attempts: 1 });
    // Tidy: later tests count the whole table's backlog.
    await world.ctx.db.pool.query(`UPDATE webhook_events SET status = 'ignored' WHERE account_id = $1`, [account.id]);
  });

  it('requests are applied in arrival order across an id of more digits (9999, then 10000): read then delivered stays read, history in that order', async () => {
    const { rows } = await world.ctx.db.pool.query<{ max: string | null }>(`SELECT max(id)::text AS max FROM webhook_events`);
    expect(Number(rows[0]?.max ?? 0)).toBeLessThan(9_998);
    await world.ctx.db.pool.query(`SELECT setval(pg_get_serial_sequence('webhook_events', 'id'), 9998)`);
    const { account, recipientId } = await sentToMexico();
    await deliver(world, account, META_STATUS_READ, APP_SECRET);
    await deliver(world, account, META_STATUS_DELIVERED, APP_SECRET);
    expect((await storedEvents(world, account.id)).map((e) => e.id)).toEqual(['9999', '10000']);

    await world.processor.drainBacklog();
    expect((await historyOf(world, recipientId, 'webhook')).map((h) => h.status)).toEqual(['read', 'delivered']);
    expect((await recipientRow(world, recipientId)).status).toBe('read');
  });
});

describe('Meta asynchronous failures', () => {
  it.each([
    [132015, 'TEMPLATE_PAUSED', 'Template is paused'],
    [132016, 'TEMPLATE_NOT_APPROVED', 'Template is disabled'],
  ])('failed with %s → recipient failed %s, and the running campaign paused with the reason', async (code, normalized, title) => {
    const account = await metaAccount();
    const { campaignId, recipients } = await createCampaign(world, account.id, [MEXICO_PHONE, '+525512345679']);
    const [sent, waitingInQueue] = recipients;
    await recordSend(world, sent?.id ?? '', META_WAMID);
    await world.ctx.db.pool.query(`UPDATE recipients SET status = 'queued', queued_at = now() WHERE id = $1`, [waitingInQueue?.id]);

    await deliver(world, account, metaStatuses([{ id: META_WAMID, status: 'failed', timestamp: unixNow(), recipientId: META_WA_ID, errors: [{ code, title }] }]), APP_SECRET);
    await world.processor.drainBacklog();

    expect(await recipientRow(world, sent?.id ?? '')).toMatchObject({ status: 'failed', error_code: normalized, provider_error_code: String(code) });
    expect(await historyOf(world, sent?.id ?? '', 'webhook')).toEqual([expect.objectContaining({ status: 'failed', error_code: normalized, provider_code: String(code) })]);
    const campaign = await campaignRow(world, campaignId);
    expect(campaign).toMatchObject({ status: 'paused', status_code: normalized });
    expect(campaign.status_reason).toContain(title);
    // The paused campaign's queued recipient goes back to pending (not sent with a dead template).
    expect((await recipientRow(world, waitingInQueue?.id ?? '')).status).toBe('pending');
  });

  it('the same template failure again after the operator resumed the campaign → applied once: the campaign stays running', async () => {
    const account = await metaAccount();
    const { campaignId, recipients } = await createCampaign(world, account.id, [MEXICO_PHONE]);
    const recipientId = recipients[0]?.id ?? '';
    await recordSend(world, recipientId, META_WAMID);
    const body = metaStatuses([{ id: META_WAMID, status: 'failed', timestamp: unixNow(), recipientId: META_WA_ID, errors: [{ code: 132015, title: 'Template is paused' }] }]);
    await deliver(world, account, body, APP_SECRET);
    await world.processor.drainBacklog();
    expect((await campaignRow(world, campaignId)).status).toBe('paused');

    expectStatus(await world.api.post(`/v1/campaigns/${campaignId}/resume`), 200);
    // Meta delivers the same event again (at least once).
    await deliver(world, account, body, APP_SECRET);
    await world.processor.drainBacklog();
    expect((await campaignRow(world, campaignId)).status).toBe('running');
    expect((await historyOf(world, recipientId, 'webhook')).map((h) => h.status)).toEqual(['failed']);
  });

  it('failed with 131050 (documented) → recipient failed RECIPIENT_OPTED_OUT, opted_out_at set, phone suppressed', async () => {
    const account = await metaAccount();
    const { recipients } = await createCampaign(world, account.id, ['+573002222222']);
    const recipientId = recipients[0]?.id ?? '';
    await recordSend(world, recipientId, META_OPTED_OUT_WAMID);

    await deliver(world, account, META_STATUS_FAILED_131050, APP_SECRET);
    await world.processor.drainBacklog();

    const row = await recipientRow(world, recipientId);
    expect(row).toMatchObject({ status: 'failed', error_code: 'RECIPIENT_OPTED_OUT', provider_error_code: '131050', opted_out_at: new Date((META_SENT_AT + 100) * 1000) });
    expect(await suppressionsOf(world)).toContainEqual({ phone: '+573002222222', reason: 'PROVIDER_OPTED_OUT' });
  });

  it('failed with 131049 → recipient deferred with not_before = event time + 24 h, and its completed campaign reopens', async () => {
    const account = await metaAccount();
    const { campaignId, recipients } = await createCampaign(world, account.id, [MEXICO_PHONE], 'completed');
    const recipientId = recipients[0]?.id ?? '';
    await recordSend(world, recipientId, META_WAMID);
    const at = unixNow();

    await deliver(
      world,
      account,
      metaStatuses([{ id: META_WAMID, status: 'failed', timestamp: at, recipientId: META_WA_ID, errors: [{ code: 131049, title: 'This message was not delivered to maintain healthy ecosystem engagement.' }] }]),
      APP_SECRET,
    );
    await world.processor.drainBacklog();

    const row = await recipientRow(world, recipientId);
    expect(row).toMatchObject({ status: 'deferred', error_code: 'RECIPIENT_DAILY_CAP', provider_error_code: '131049', failed_at: null });
    expect(row.not_before).toEqual(new Date(at * 1000 + 24 * 3_600_000));
    expect((await campaignRow(world, campaignId)).status).toBe('running');
    expect((await historyOf(world, recipientId, 'webhook')).map((h) => h.status)).toEqual(['deferred']);
  });

  it('deferred twice by 131049 across two sends (two wamids) → two deferred history rows, and the resend\'s delivered is recorded', async () => {
    const account = await metaAccount();
    const { recipients } = await createCampaign(world, account.id, [MEXICO_PHONE]);
    const recipientId = recipients[0]?.id ?? '';
    const capped = (wamid: string, at: number) =>
      metaStatuses([{ id: wamid, status: 'failed', timestamp: at, recipientId: META_WA_ID, errors: [{ code: 131049, title: 'Per-user marketing cap' }] }]);

    await recordSend(world, recipientId, 'wamid.first-send');
    await deliver(world, account, capped('wamid.first-send', unixNow()), APP_SECRET);
    await world.processor.drainBacklog();
    // The feeder re-queues it the next day; the second send is capped again, the third delivered.
    await world.ctx.db.pool.query(`UPDATE recipients SET status = 'queued' WHERE id = $1`, [recipientId]);
    await recordSend(world, recipientId, 'wamid.second-send');
    await deliver(world, account, capped('wamid.second-send', unixNow(1)), APP_SECRET);
    await world.processor.drainBacklog();
    await world.ctx.db.pool.query(`UPDATE recipients SET status = 'queued' WHERE id = $1`, [recipientId]);
    await recordSend(world, recipientId, 'wamid.third-send');
    await deliver(world, account, metaStatuses([{ id: 'wamid.third-send', status: 'delivered', timestamp: unixNow(2), recipientId: META_WA_ID }]), APP_SECRET);
    await world.processor.drainBacklog();

    expect((await historyOf(world, recipientId, 'webhook')).map((h) => h.status)).toEqual(['deferred', 'deferred', 'delivered']);
    expect((await recipientRow(world, recipientId)).status).toBe('delivered');
  });

  it('failed with 131048 (spam limit) → recipient failed, and the account is stopped (paused) with the code', async () => {
    const account = await metaAccount();
    const { recipients } = await createCampaign(world, account.id, [MEXICO_PHONE]);
    const recipientId = recipients[0]?.id ?? '';
    await recordSend(world, recipientId, META_WAMID);

    await deliver(world, account, metaStatuses([{ id: META_WAMID, status: 'failed', timestamp: unixNow(), recipientId: META_WA_ID, errors: [{ code: 131048, title: 'Spam rate limit hit' }] }]), APP_SECRET);
    await world.processor.drainBacklog();

    expect(await recipientRow(world, recipientId)).toMatchObject({ status: 'failed', error_code: 'ACCOUNT_RESTRICTED' });
    const { rows } = await world.ctx.db.pool.query<{ status: string; status_code: string }>(`SELECT status::text, status_code FROM provider_accounts WHERE id = $1`, [account.id]);
    expect(rows[0]).toEqual({ status: 'paused', status_code: 'ACCOUNT_RESTRICTED' });
  });
});

describe('Meta inbound messages', () => {
  type Reply = { recipientId: string | null; phone: string; text: string | null; buttonPayload: string | null; optOut: boolean };

  async function repliesOf(campaignId: string): Promise<Reply[]> {
    return expectStatus<{ replies: Reply[] }>(await world.api.get(`/v1/campaigns/${campaignId}/replies`), 200).replies;
  }

  it('a text reply from the wa_id variant (sent to +52 55…, wa_id 521 55…) → linked to the recipient, replied_at set, listed in GET /replies', async () => {
    const { account, campaignId, recipientId } = await sentToMexico();
    await deliver(world, account, META_TEXT_REPLY, APP_SECRET);
    await world.processor.drainBacklog();

    expect((await recipientRow(world, recipientId)).replied_at).toEqual(new Date((META_SENT_AT + 200) * 1000));
    expect(await repliesOf(campaignId)).toEqual([
      expect.objectContaining({ recipientId, phone: `+${META_WA_ID}`, text: 'Hola, ¿hasta cuándo es la promoción?', buttonPayload: null, optOut: false }),
    ]);
    expect(await historyOf(world, recipientId, 'webhook')).toEqual([expect.objectContaining({ status: 'replied', detail: 'Hola, ¿hasta cuándo es la promoción?' })]);

    // Meta's retry of the same message: still one reply.
    await deliver(world, account, META_TEXT_REPLY, APP_SECRET);
    await world.processor.drainBacklog();
    expect(await repliesOf(campaignId)).toHaveLength(1);
    const { rows } = await world.ctx.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM inbound_messages WHERE account_id = $1 AND provider_message_id = $2`, [account.id, META_TEXT_REPLY_ID]);
    expect(rows[0]?.n).toBe('1');
  });

  it('a quick-reply button tap (documented) → buttonPayload STOP_PROMOS recorded, replied, not an opt-out', async () => {
    const { account, campaignId, recipientId } = await sentToMexico();
    await deliver(world, account, META_BUTTON_REPLY, APP_SECRET);
    await world.processor.drainBacklog();

    expect(await repliesOf(campaignId)).toEqual([expect.objectContaining({ recipientId, buttonPayload: 'STOP_PROMOS', text: 'Dejar de recibir', optOut: false })]);
    expect(await recipientRow(world, recipientId)).toMatchObject({ replied_at: new Date((META_SENT_AT + 260) * 1000), opted_out_at: null });
    const { rows } = await world.ctx.db.pool.query(`SELECT 1 FROM inbound_messages WHERE provider_message_id = $1 AND account_id = $2`, [META_BUTTON_REPLY_ID, account.id]);
    expect(rows).toHaveLength(1);
  });

  it('a quick-reply tap names its template message (context.id) → linked to that send, not to a later campaign to the same phone', async () => {
    const { account, campaignId, recipientId } = await sentToMexico();
    // A second campaign of the same account sends to the same person later.
    const later = await createCampaign(world, account.id, [MEXICO_PHONE]);
    await recordSend(world, later.recipients[0]?.id ?? '', 'wamid.later-campaign');

    await deliver(world, account, META_BUTTON_REPLY, APP_SECRET);
    await world.processor.drainBacklog();
    expect(await repliesOf(campaignId)).toEqual([expect.objectContaining({ recipientId, buttonPayload: 'STOP_PROMOS' })]);
    expect(await repliesOf(later.campaignId)).toEqual([]);
  });

  it('a reply "BAJA" → opt-out: suppression for the number the engine sends to, opted_out_at set, funnel optedOut = 1', async () => {
    const { account, campaignId, recipientId } = await sentToMexico();
    const at = unixNow();
    await deliver(world, account, metaTextMessage(META_WA_ID, `wamid.baja-${account.id}`, at, 'BAJA'), APP_SECRET);
    await world.processor.drainBacklog();

    expect(await recipientRow(world, recipientId)).toMatchObject({ replied_at: new Date(at * 1000), opted_out_at: new Date(at * 1000) });
    const suppressed = (await suppressionsOf(world)).filter((s) => s.reason === 'OPT_OUT_REPLY').map((s) => s.phone);
    // The next campaign's list holds +52 55 1234 5678 (E.164), not the wa_id form.
    expect(suppressed).toContain(MEXICO_PHONE);
    expect(await repliesOf(campaignId)).toEqual([expect.objectContaining({ recipientId, text: 'BAJA', optOut: true })]);
    expect((await historyOf(world, recipientId, 'webhook')).map((h) => h.status)).toEqual(['replied', 'opted_out']);
    const funnel = expectStatus<{ optedOut: number; replied: number }>(await world.api.get(`/v1/campaigns/${campaignId}/funnel`), 200);
    expect(funnel).toMatchObject({ optedOut: 1, replied: 1 });
  });

  it('a reply from a number the engine never sent to → stored unlinked, processed, no recipient touched', async () => {
    const account = await metaAccount();
    await deliver(world, account, metaTextMessage('5215599999999', `wamid.stranger-${account.id}`, unixNow(), 'Hola'), APP_SECRET);
    await world.processor.drainBacklog();
    expect((await storedEvents(world, account.id)).map((e) => e.status)).toEqual(['processed']);
    const { rows } = await world.ctx.db.pool.query(`SELECT recipient_id, campaign_id FROM inbound_messages WHERE account_id = $1`, [account.id]);
    expect(rows).toEqual([{ recipient_id: null, campaign_id: null }]);
  });
});

describe('contacto-multichat', () => {
  const PHONE = '+573002222222';

  it('a documented delivered event carrying custom_field = recipient id → delivered (no provider id was recorded)', async () => {
    const account = await createWebhookAccount(world, 'multichat');
    const { recipients } = await createCampaign(world, account.id, [PHONE]);
    const recipientId = recipients[0]?.id ?? '';
    // Multichat's send reply is a bare code: no message id is recorded.
    await recordSend(world, recipientId, null);
    const body = JSON.stringify({ ...(JSON.parse(MULTICHAT_DELIVERED) as Record<string, string>), custom_field: recipientId });

    await deliver(world, account, body);
    await world.processor.drainBacklog();

    expect(await recipientRow(world, recipientId)).toMatchObject({ status: 'delivered', delivered_at: new Date('2025-03-14T10:15:04Z') });
    expect((await historyOf(world, recipientId, 'webhook')).map((h) => h.status)).toEqual(['delivered']);
  });

  it('the documented read event as printed (messageId only) → matched by the message id when the send recorded it', async () => {
    const account = await createWebhookAccount(world, 'multichat');
    const { recipients } = await createCampaign(world, account.id, [PHONE]);
    const recipientId = recipients[0]?.id ?? '';
    await recordSend(world, recipientId, MULTICHAT_MESSAGE_ID);

    await deliver(world, account, MULTICHAT_READ);
    await world.processor.drainBacklog();
    expect(await recipientRow(world, recipientId)).toMatchObject({ status: 'read', read_at: new Date('2025-03-14T10:16:05Z') });
  });

  it('a reply with custom_field (form-encoded) → linked to that recipient, even though a later campaign sent to the same phone', async () => {
    const account = await createWebhookAccount(world, 'multichat');
    const first = await createCampaign(world, account.id, [PHONE]);
    const second = await createCampaign(world, account.id, [PHONE]);
    const firstId = first.recipients[0]?.id ?? '';
    await recordSend(world, firstId, null);
    await recordSend(world, second.recipients[0]?.id ?? '', null);
    const body = new URLSearchParams({ mobile: '573002222222', message: 'Me interesa, gracias', custom_field: firstId, official_number: '573005202020' }).toString();

    await deliver(world, account, body, undefined, FORM_CONTENT_TYPE);
    await world.processor.drainBacklog();

    const { rows } = await world.ctx.db.pool.query<{ recipient_id: string; campaign_id: string; text: string }>(
      `SELECT recipient_id::text, campaign_id, text FROM inbound_messages WHERE account_id = $1`,
      [account.id],
    );
    expect(rows).toEqual([{ recipient_id: firstId, campaign_id: first.campaignId, text: 'Me interesa, gracias' }]);
    expect((await recipientRow(world, firstId)).replied_at).not.toBeNull();
    expect((await recipientRow(world, second.recipients[0]?.id ?? '')).replied_at).toBeNull();
  });
});

describe('Optiwe', () => {
  it('a failed outbound with CUSTOMER_OPTED_OUT (documented shape) matched by phone (+54 11… → sent to +54 9 11…) → failed, opted out, suppressed', async () => {
    const account = await createWebhookAccount(world, 'optiwe');
    const { recipients } = await createCampaign(world, account.id, ['+5491155174499']);
    const recipientId = recipients[0]?.id ?? '';
    // Optiwe answers a send 201 with no id.
    await recordSend(world, recipientId, null, 'accepted');

    await deliver(world, account, OPTIWE_FAILED_OUTBOUND);
    await world.processor.drainBacklog();

    expect(await recipientRow(world, recipientId)).toMatchObject({ status: 'failed', error_code: 'RECIPIENT_OPTED_OUT', provider_error_code: 'CUSTOMER_OPTED_OUT' });
    expect((await recipientRow(world, recipientId)).opted_out_at).not.toBeNull();
    expect(await suppressionsOf(world)).toContainEqual({ phone: '+5491155174499', reason: 'PROVIDER_OPTED_OUT' });
  });

  it('a new message "No quiero más, gracias" → linked by phone, opt-out recorded', async () => {
    const account = await createWebhookAccount(world, 'optiwe');
    const { recipients } = await createCampaign(world, account.id, ['+5491155174499']);
    const recipientId = recipients[0]?.id ?? '';
    await recordSend(world, recipientId, null, 'accepted');

    await deliver(world, account, OPTIWE_NEW_MESSAGE);
    await world.processor.drainBacklog();
    expect(await recipientRow(world, recipientId)).toMatchObject({ opted_out_at: new Date('2025-03-14T10:20:00Z'), replied_at: new Date('2025-03-14T10:20:00Z') });
  });
});

describe('funnel and history', () => {
  type Funnel = {
    total: number;
    accepted: number;
    sent: number;
    delivered: number;
    read: number;
    replied: number;
    failed: number;
    optedOut: number;
    failuresByCode: { code: string; count: number }[];
    failuresByProviderCode: { providerCode: string; code: string; count: number }[];
    timeToDeliver: { count: number; p50: number | null };
  };
  type History = { events: { status: string; source: string; occurredAt: string }[] };

  it('six recipients through sends and webhooks → the funnel counts each stage, failures by code, time to deliver; history is in time order with its sources', async () => {
    const account = await metaAccount();
    const phones = ['+525511110001', '+525511110002', '+525511110003', '+525511110004', '+525511110005', '+525511110006'];
    const { campaignId, recipients } = await createCampaign(world, account.id, phones);
    const ids = recipients.map((r) => r.id);
    const wamid = (i: number) => `wamid.funnel-${account.id}-${i}`;
    // Five sent; the sixth never leaves (pending).
    for (let i = 0; i < 5; i++) await recordSend(world, ids[i] ?? '', wamid(i));
    // Meta's times are whole seconds: its `sent` usually carries the second of the send itself,
    // which the engine recorded a fraction of a second into it.
    const t = unixNow();
    const waId = (i: number) => (phones[i] ?? '').replace('+52', '521');
    await deliver(
      world,
      account,
      metaStatuses([
        { id: wamid(0), status: 'sent', timestamp: t, recipientId: waId(0) },
        { id: wamid(0), status: 'delivered', timestamp: t + 3, recipientId: waId(0) },
        { id: wamid(0), status: 'read', timestamp: t + 10, recipientId: waId(0) },
        { id: wamid(1), status: 'delivered', timestamp: t + 4, recipientId: waId(1) },
        { id: wamid(2), status: 'sent', timestamp: t + 1, recipientId: waId(2) },
        { id: wamid(3), status: 'failed', timestamp: t + 2, recipientId: waId(3), errors: [{ code: 131026, title: 'Message undeliverable' }] },
        { id: wamid(4), status: 'failed', timestamp: t + 2, recipientId: waId(4), errors: [{ code: 131050, title: 'User stopped marketing messages' }] },
      ]),
      APP_SECRET,
    );
    await deliver(world, account, metaTextMessage(waId(0), `wamid.funnel-reply-${account.id}`, t + 20, '¿Cuál es el precio?'), APP_SECRET);
    await world.processor.drainBacklog();

    const funnel = expectStatus<Funnel>(await world.api.get(`/v1/campaigns/${campaignId}/funnel`), 200);
    expect(funnel).toMatchObject({ total: 6, accepted: 5, sent: 3, delivered: 2, read: 1, replied: 1, failed: 2, optedOut: 1 });
    expect(funnel.failuresByCode).toEqual([
      { code: 'RECIPIENT_NOT_ON_WHATSAPP', count: 1 },
      { code: 'RECIPIENT_OPTED_OUT', count: 1 },
    ]);
    expect(funnel.failuresByProviderCode).toEqual([
      { providerCode: '131026', code: 'RECIPIENT_NOT_ON_WHATSAPP', count: 1 },
      { providerCode: '131050', code: 'RECIPIENT_OPTED_OUT', count: 1 },
    ]);
    expect(funnel.timeToDeliver.count).toBe(2);
    expect(funnel.timeToDeliver.p50).toBeGreaterThan(0);

    const history = expectStatus<History>(await world.api.get(`/v1/campaigns/${campaignId}/recipients/${ids[0]}/history`), 200);
    expect(history.events.map((e) => [e.status, e.source])).toEqual([
      ['sent', 'send'],
      ['sent', 'webhook'],
      ['delivered', 'webhook'],
      ['read', 'webhook'],
      ['replied', 'webhook'],
    ]);
    const seconds = history.events.map((e) => Math.floor(Date.parse(e.occurredAt) / 1000));
    expect([...seconds].sort((a, b) => a - b)).toEqual(seconds);

    const failed = expectStatus<History>(await world.api.get(`/v1/campaigns/${campaignId}/recipients/${ids[3]}/history`), 200);
    expect(failed.events.map((e) => [e.status, e.source])).toEqual([
      ['sent', 'send'],
      ['failed', 'webhook'],
    ]);
    expectError(await world.api.get(`/v1/campaigns/${campaignId}/recipients/999999999/history`), 404, 'RECIPIENT_NOT_FOUND');
  });
});
