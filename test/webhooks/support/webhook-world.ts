/**
 * The webhook path end to end, for tests: the real API (receivers at /webhooks/<account>/<secret>)
 * on this file's own database, and a WebhookProcessor that is never started, so a test decides
 * when events are applied (processOnce / drainBacklog) and can keep it "down" meanwhile.
 *
 * Accounts are created through POST /v1/accounts, which is where a user gets the webhook URL.
 * Sends are recorded with writeSendResults, the same statement the send worker uses, so a
 * recipient looks exactly as it does after a real send (status, wamid, sent_at, a `send` history row).
 */
import type { Config } from '../../../src/config.js';
import { createHmac } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, expect } from 'vitest';
import { writeSendResults } from '../../../src/recipients/index.js';
import { SendQueues } from '../../../src/queue/queues.js';
import { WebhookProcessor } from '../../../src/webhooks/webhook-processor.js';
import { beforeAllValue, expectStatus, startApi, type ApiHarness } from '../../api/api-harness.js';

export type WebhookWorld = ApiHarness & {
  /** A processor over this file's database; nothing runs until a test calls it. */
  processor: WebhookProcessor;
  /** Another processor with its own batch size (to cross batch boundaries). */
  processorWithBatch(batchSize: number): WebhookProcessor;
};

/** The operator token GET /metrics needs (tenant keys do not work there). */
export const METRICS_TOKEN = 'webhook-world-metrics-token';

export async function startWebhookWorld(overrides: Partial<Config> = {}): Promise<WebhookWorld> {
  const harness = await startApi({ metricsToken: METRICS_TOKEN, ...overrides });
  const queues = new SendQueues(harness.redis, harness.ctx.queuePrefix);
  const processorWithBatch = (batchSize: number) =>
    new WebhookProcessor({ db: harness.ctx.db, queues, logger: harness.ctx.logger }, { pollMs: 60_000, batchSize });
  return {
    ...harness,
    processor: processorWithBatch(100),
    processorWithBatch,
    async close() {
      await queues.close();
      await harness.close();
    },
  };
}

/** The file's webhook world (startWebhookWorld), made before its tests and closed after them. */
export function webhookWorldForFile(overrides: Partial<Config> = {}): WebhookWorld {
  const world = beforeAllValue(() => startWebhookWorld(overrides));
  afterAll(async () => {
    await (world as Partial<WebhookWorld>).close?.();
  });
  return world;
}

// --- Accounts -------------------------------------------------------------------------------

export type WebhookProvider = 'meta' | 'multichat' | 'optiwe';
export type WebhookAccount = { id: string; provider: WebhookProvider; path: string; secret: string };

const ACCOUNT_SETTINGS: Record<WebhookProvider, { config: Record<string, unknown>; credentials: Record<string, unknown> }> = {
  meta: { config: { phoneNumberId: '106540352242922', wabaId: '102290129340398' }, credentials: { accessToken: 'EAAG-test-token' } },
  multichat: { config: { baseUrl: 'http://127.0.0.1:9' }, credentials: { login: 'tester', token: 'multichat-token' } },
  optiwe: { config: { baseUrl: 'http://127.0.0.1:9' }, credentials: { token: 'optiwe-token' } },
};

/** An account created through the API, with the webhook path its response shows once. */
export async function createWebhookAccount(
  world: WebhookWorld,
  provider: WebhookProvider,
  credentials: Record<string, unknown> = {},
): Promise<WebhookAccount> {
  const settings = ACCOUNT_SETTINGS[provider];
  const response = await world.api.post('/v1/accounts', {
    provider,
    name: `${provider} account`,
    config: settings.config,
    credentials: { ...settings.credentials, ...credentials },
  });
  const body = expectStatus<{ id: string; webhook: { url: string; supported: boolean } }>(response, 201);
  expect(body.webhook.supported).toBe(true);
  const path = new URL(body.webhook.url, 'http://engine.invalid').pathname;
  const secret = path.split('/').pop() ?? '';
  expect(path).toBe(`/webhooks/${body.id}/${secret}`);
  return { id: body.id, provider, path, secret };
}

// --- Campaigns and sends ----------------------------------------------------------------------

export type SentRecipient = { id: string; phone: string };

/** A campaign of `accountId` (tenant of the API key) with one pending recipient per phone, in order. */
export async function createCampaign(
  world: WebhookWorld,
  accountId: string,
  phones: readonly string[],
  status: 'draft' | 'running' | 'completed' = 'running',
): Promise<{ campaignId: string; recipients: SentRecipient[] }> {
  const { prisma, pool } = world.ctx.db;
  const tenantId = world.tenant.tenantId;
  const template = await prisma.template.upsert({
    where: { accountId_name_language: { accountId, name: 'promo_marzo', language: 'es' } },
    update: {},
    create: { tenantId, accountId, name: 'promo_marzo', language: 'es', body: 'Hola {{1}}', paramCount: 1 },
  });
  const campaign = await prisma.campaign.create({ data: { tenantId, accountId, templateId: template.id, name: 'webhook campaign' } });
  await pool.query(`UPDATE campaigns SET status = $2::campaign_status, started_at = now() WHERE id = $1`, [campaign.id, status]);
  const { rows } = await pool.query<SentRecipient>(
    `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables)
     SELECT $1, $2, p, p, n + 1, jsonb_build_array('Ana') FROM unnest($3::text[]) WITH ORDINALITY AS t(p, n)
     RETURNING id::text, phone`,
    [tenantId, campaign.id, phones],
  );
  return { campaignId: campaign.id, recipients: rows.sort((a, b) => Number(a.id) - Number(b.id)) };
}

/** The worker's claim: the recipient is `sending`, the send's response not recorded yet. Returns the attempt. */
export async function markSending(world: WebhookWorld, recipientId: string): Promise<number> {
  // Fed first, as the feeder does: the database refuses pending -> sending.
  await world.ctx.db.pool.query(`UPDATE recipients SET status = 'queued' WHERE id = $1 AND status IN ('pending', 'deferred')`, [recipientId]);
  const { rows } = await world.ctx.db.pool.query<{ attempts: number }>(
    `UPDATE recipients SET status = 'sending', attempts = attempts + 1, claimed_at = now(), updated_at = now() WHERE id = $1 RETURNING attempts`,
    [recipientId],
  );
  const attempt = rows[0]?.attempts;
  if (attempt === undefined) throw new Error(`no recipient ${recipientId}`);
  return attempt;
}

/** The send's response recorded as the worker records it (claim, then writeSendResults). */
export async function recordSend(
  world: WebhookWorld,
  recipientId: string,
  providerMessageId: string | null,
  status: 'sent' | 'accepted' = 'sent',
  attempt?: number,
): Promise<void> {
  const claimed = attempt ?? (await markSending(world, recipientId));
  const written = await writeSendResults(world.ctx.db.pool, [{ id: recipientId, attempt: claimed, status, providerMessageId }]);
  expect(written.has(recipientId)).toBe(true);
}

// --- Requests ---------------------------------------------------------------------------------

export function metaSignature(body: string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

export function postWebhook(world: WebhookWorld, path: string, body: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return world.app.inject({ method: 'POST', url: path, payload: body, headers: { 'content-type': 'application/json', ...headers } });
}

/** A Meta POST signed with `appSecret`, as Meta sends it. */
export function postMeta(world: WebhookWorld, account: WebhookAccount, body: string, appSecret: string): Promise<LightMyRequestResponse> {
  return postWebhook(world, account.path, body, { 'x-hub-signature-256': metaSignature(body, appSecret) });
}

/** Posts and expects the receiver's 200 `{received: true}`. */
export async function deliver(world: WebhookWorld, account: WebhookAccount, body: string, appSecret?: string, contentType?: string): Promise<void> {
  const response =
    account.provider === 'meta'
      ? await postMeta(world, account, body, appSecret ?? '')
      : await postWebhook(world, account.path, body, contentType ? { 'content-type': contentType } : {});
  expect(expectStatus<{ received: boolean }>(response, 200)).toEqual({ received: true });
}

// --- Meta bodies with chosen ids and times ------------------------------------------------------

type MetaStatus = {
  id: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  /** Unix seconds. */
  timestamp: number;
  recipientId: string;
  errors?: { code: number; title: string; message?: string; details?: string }[];
};

/** The Cloud API's documented envelope around `value` (as in payloads.ts). */
export function metaEnvelope(value: Record<string, unknown>): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [{ value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' }, ...value }, field: 'messages' }],
      },
    ],
  });
}

export function metaStatuses(statuses: readonly MetaStatus[]): string {
  return metaEnvelope({
    statuses: statuses.map((s) => ({
      id: s.id,
      status: s.status,
      timestamp: String(s.timestamp),
      recipient_id: s.recipientId,
      ...(s.errors
        ? { errors: s.errors.map((e) => ({ code: e.code, title: e.title, message: e.message ?? e.title, error_data: { details: e.details ?? e.title } })) }
        : {}),
    })),
  });
}

export function metaTextMessage(from: string, id: string, timestamp: number, text: string): string {
  return metaEnvelope({
    contacts: [{ profile: { name: 'Cliente' }, wa_id: from }],
    messages: [{ from, id, timestamp: String(timestamp), type: 'text', text: { body: text } }],
  });
}

export function unixNow(offsetSeconds = 0): number {
  return Math.floor(Date.now() / 1000) + offsetSeconds;
}

// --- Reading back ----------------------------------------------------------------------------

export type RecipientRow = {
  status: string;
  provider_message_id: string | null;
  error_code: string | null;
  provider_error_code: string | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  read_at: Date | null;
  replied_at: Date | null;
  failed_at: Date | null;
  opted_out_at: Date | null;
  not_before: Date | null;
};

export async function recipientRow(world: WebhookWorld, id: string): Promise<RecipientRow> {
  const { rows } = await world.ctx.db.pool.query<RecipientRow>(
    `SELECT status::text, provider_message_id, error_code, provider_error_code, sent_at, delivered_at, read_at, replied_at, failed_at, opted_out_at, not_before
       FROM recipients WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) throw new Error(`no recipient ${id}`);
  return row;
}

export type HistoryRow = { status: string; source: string; occurred_at: Date; error_code: string | null; provider_code: string | null; detail: string | null };

export async function historyOf(world: WebhookWorld, recipientId: string, source?: string): Promise<HistoryRow[]> {
  const { rows } = await world.ctx.db.pool.query<HistoryRow>(
    `SELECT status, source::text, occurred_at, error_code, provider_code, detail FROM recipient_events
      WHERE recipient_id = $1 AND ($2::text IS NULL OR source::text = $2) ORDER BY id`,
    [recipientId, source ?? null],
  );
  return rows;
}

export type StoredEvent = { id: string; status: string; attempts: number; body: string; content_type: string | null; error: string | null; next_attempt_at: Date | null };

export async function storedEvents(world: WebhookWorld, accountId: string): Promise<StoredEvent[]> {
  const { rows } = await world.ctx.db.pool.query<StoredEvent>(
    `SELECT e.id::text AS id, status::text, attempts, body, content_type, error, next_attempt_at FROM webhook_events e WHERE account_id = $1 ORDER BY e.id`,
    [accountId],
  );
  return rows;
}

export async function suppressionsOf(world: WebhookWorld): Promise<{ phone: string; reason: string }[]> {
  const { rows } = await world.ctx.db.pool.query<{ phone: string; reason: string }>(
    `SELECT phone, reason FROM suppressions WHERE tenant_id = $1 ORDER BY phone`,
    [world.tenant.tenantId],
  );
  return rows;
}

export async function campaignRow(world: WebhookWorld, campaignId: string): Promise<{ status: string; status_code: string | null; status_reason: string | null }> {
  const { rows } = await world.ctx.db.pool.query<{ status: string; status_code: string | null; status_reason: string | null }>(
    `SELECT status::text, status_code, status_reason FROM campaigns WHERE id = $1`,
    [campaignId],
  );
  const row = rows[0];
  if (!row) throw new Error(`no campaign ${campaignId}`);
  return row;
}
