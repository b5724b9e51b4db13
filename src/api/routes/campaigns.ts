/**
 * Campaigns: create (optionally with recipients and start, idempotent), read with progress,
 * act on (start, pause, resume, cancel, resend-unknown), page through recipients, export.
 *
 * Over 300 lines because each of its fifteen routes declares its OpenAPI description (doc())
 * beside its handler, where a change to one is seen with the other.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { requireBalanceForStart } from '../../accounts/balance-check.js';
import { applyCampaignAction, type CampaignAction } from '../../campaigns/campaign-actions.js';
import { CampaignStops } from '../../campaigns/campaign-stops.js';
import { recipientHistory } from '../../campaigns/campaign-funnel.js';
import { campaignOptionsSchema } from '../../campaigns/campaign-options.js';
import { accountShares, loadCampaignDetail, type CampaignDetail } from '../../campaigns/campaign-stats.js';
import { createCampaign } from '../../campaigns/create-campaign.js';
import { ErrorBudget } from '../../flow/error-budget.js';
import { formatClock, parseClock } from '../../flow/quiet-hours.js';
import { defaultCountrySchema } from '../../phones/country.js';
import type { Campaign } from '../../db/database.js';
import { spreadsheetCsv } from '../../exports/spreadsheet-csv.js';
import { SingleFlight } from '../../single-flight.js';
import { errors } from '../../errors.js';
import type { RecipientStatus } from '../../generated/prisma/enums.js';
import type { AppContext } from '../app.js';
import { bigintCursor, isoDateTime, parseInput } from '../../validate.js';
import { doc, idempotencyKeyHeader, json, jsonBody, other } from '../openapi/route-doc.js';
import { EXAMPLE_CAMPAIGN_ID } from '../openapi/examples.js';
import {
  actionResult,
  createCampaignErrors,
  createCampaignRequestExample,
  EXPORT_CSV_EXAMPLE,
  startRefusals,
  campaignDetail,
  campaignDetailExample,
  campaignExample,
  campaignList,
  createdCampaign,
  createdCampaignExample,
  funnel,
  funnelExample,
  history,
  historyExample,
  recipientPage,
  recipientPageExample,
  replies,
  repliesExample,
} from '../openapi/responses/campaigns.js';

const STATUSES = ['pending', 'deferred', 'queued', 'sending', 'accepted', 'sent', 'delivered', 'read', 'failed', 'unknown', 'cancelled'] as const satisfies readonly RecipientStatus[];

const createBody = z.object({
  name: z.string().min(1).max(200),
  /** The one account that sends it; or poolId (exactly one of the two). */
  accountId: z.string().uuid().optional(),
  /** A sender pool whose accounts share the sending. */
  poolId: z.string().uuid().optional(),
  /** The approved template; omit for a text campaign. */
  templateId: z.string().uuid().optional(),
  /** `text` sends free text (Adereso's proactive conversations) instead of a template. */
  kind: z.enum(['template', 'text']).default('template'),
  /** A text campaign's text, with {{n}} placeholders filled from each recipient's variables. */
  text: z.string().min(1).max(4096).optional(),
  /** ISO 3166-1 alpha-2 country for phones written in national format. */
  defaultCountry: defaultCountrySchema,
  priority: z.number().int().min(-100).max(100).default(0),
  maxAttempts: z.number().int().min(1).max(20).default(5),
  /** Scheduled start (ISO 8601): a started campaign sends nothing before it. */
  startAt: isoDateTime.optional(),
  /** Validity (ISO 8601): what is not sent by then expires. */
  expiresAt: isoDateTime.optional(),
  /** Quiet hours, as the window in which sending is allowed, in each recipient's local time ("09:00" to "20:00"). */
  sendWindow: z.object({ start: z.string().regex(/^\d{2}:\d{2}$/), end: z.string().regex(/^\d{2}:\d{2}$/) }).optional(),
  /** Failure ratio (0-1) of recent sends past which the campaign pauses itself; null turns it off. */
  errorBudget: z.number().min(0).max(1).nullable().optional(),
  /** Header media ({type, link | id}), button parameters, Adereso's noManualReopen / noManualMerge. */
  options: campaignOptionsSchema.optional(),
  recipients: z.array(z.unknown()).optional(),
  phoneColumn: z.string().min(1).optional(),
  variables: z.array(z.union([z.string().min(1), z.number().int().min(1)])).optional(),
  start: z.boolean().default(false),
});
const idParams = z.object({ id: z.string().uuid() });
const campaignsQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });
const historyParams = idParams.extend({ recipientId: z.string().regex(/^\d{1,18}$/) });
const repliesQuery = z.object({ after: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) });
const notFound = errors.campaignNotFound(EXAMPLE_CAMPAIGN_ID);
const ACTIONS: Record<CampaignAction, string> = {
  start: 'Start a draft campaign (it sends nothing before its startAt)',
  pause: 'Pause a running campaign',
  resume: 'Resume a paused campaign (with a fresh error budget)',
  cancel: 'Cancel a campaign: what is not sent is cancelled',
  'resend-unknown': 'Send again to the recipients whose outcome is unknown',
};
const csvText = z.string();
const listQuery = z.object({
  status: z.enum(STATUSES).optional(),
  /** Keyset cursor: the `next` value of the previous page. */
  after: bigintCursor.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function publicCampaign(c: Campaign) {
  return {
    id: c.id,
    name: c.name,
    accountId: c.accountId,
    poolId: c.poolId,
    templateId: c.templateId,
    kind: c.kind,
    text: c.text,
    status: c.status,
    statusCode: c.statusCode,
    statusReason: c.statusReason,
    defaultCountry: c.defaultCountry,
    priority: c.priority,
    maxAttempts: c.maxAttempts,
    startAt: c.startAt,
    expiresAt: c.expiresAt,
    sendWindow: c.windowStart !== null && c.windowEnd !== null ? { start: formatClock(c.windowStart), end: formatClock(c.windowEnd) } : null,
    errorBudget: c.errorBudget,
    options: c.options,
    createdAt: c.createdAt,
    startedAt: c.startedAt,
    finishedAt: c.finishedAt,
  };
}

export function campaignRoutes(ctx: AppContext): FastifyPluginAsync {
  // A pause or cancel holds back the sends already claimed, before the wire.
  const stops = new CampaignStops(ctx.redis, ctx.config.queuePrefix, ctx.db.pool, ctx.logger);
  return async (app) => {
    async function findCampaign(tenantId: string, id: string): Promise<Campaign> {
      const campaign = await ctx.db.prisma.campaign.findFirst({ where: { id, tenantId } });
      if (!campaign) throw errors.campaignNotFound(id);
      return campaign;
    }

    const createDoc = doc({
      summary: 'Create a campaign, optionally with its recipients, and start it',
      description:
        'Recipients given here are read like an upload (phone column found by name, variables by column or as a list); larger lists go to POST /v1/campaigns/{id}/recipients. With an Idempotency-Key a retry answers the first result (200, `replayed: true`).',
      headers: idempotencyKeyHeader('batch-2026-11-22-cobranza'),
      body: jsonBody(createBody, createCampaignRequestExample),
      responses: { 201: json(createdCampaign, createdCampaignExample, 'Created'), 200: json(createdCampaign, { ...createdCampaignExample, replayed: true }, 'Replayed: an earlier call with this Idempotency-Key') },
      errors: createCampaignErrors,
    });
    app.post('/v1/campaigns', { bodyLimit: ctx.config.campaignJsonMaxBytes, ...createDoc }, async (request, reply) => {
      const { startAt, expiresAt, sendWindow, ...body } = parseInput(createBody, request.body);
      const schedule = {
        startAt: startAt ? new Date(startAt) : null,
        expiresAt: expiresAt ? new Date(expiresAt) : null,
        windowStart: sendWindow ? clock('sendWindow.start', sendWindow.start) : null,
        windowEnd: sendWindow ? clock('sendWindow.end', sendWindow.end) : null,
      };
      if (schedule.startAt && schedule.expiresAt && schedule.expiresAt <= schedule.startAt) throw errors.validation(['expiresAt: must be after startAt']);
      const key = request.headers['idempotency-key'];
      const idempotencyKey = typeof key === 'string' && key.trim() ? key.trim() : undefined;
      if (idempotencyKey && idempotencyKey.length > 200) throw errors.validation(['Idempotency-Key: at most 200 characters']);
      const result = await createCampaign(ctx.db, request.tenantId, { ...body, ...schedule }, idempotencyKey);
      return reply.status(result.replayed ? 200 : 201).send({
        campaign: publicCampaign(result.campaign),
        upload: result.upload,
        replayed: result.replayed,
        ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
      });
    });

    app.get('/v1/campaigns', doc({ summary: "The tenant's campaigns, newest first", query: campaignsQuery, responses: { 200: json(campaignList, { campaigns: [campaignExample] }) } }), async (request) => {
      const query = parseInput(campaignsQuery, request.query);
      const campaigns = await ctx.db.prisma.campaign.findMany({ where: { tenantId: request.tenantId }, orderBy: { createdAt: 'desc' }, take: query.limit });
      return { campaigns: campaigns.map(publicCampaign) };
    });

    const getDoc = doc({ summary: 'One campaign with its progress: counts by status, rate, ETA, account, uploads', params: idParams, responses: { 200: json(campaignDetail, campaignDetailExample) }, errors: [notFound] });
    // Dashboards poll a sending campaign from many tabs at once: concurrent reads of one campaign
    // (per tenant, so a tenant never joins another's lookup) share one load. Nothing is kept once
    // it settles: an answer is never a stored one, at most one load's time older than its request.
    const details = new SingleFlight<CampaignDetail | null>();
    app.get('/v1/campaigns/:id', getDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      const { tenantId } = request;
      const detail = await details.run(`${tenantId}:${id}`, () => loadCampaignDetail(ctx.db, ctx.redis, ctx.config.queuePrefix, tenantId, id));
      if (!detail) throw errors.campaignNotFound(id);
      const { campaign, progress, account, accounts, uploads } = detail;
      return {
        ...publicCampaign(campaign),
        progress,
        account,
        // Every sending account (a pool's members) with its state, share and counts.
        accounts,
        uploads,
      };
    });

    for (const action of ['start', 'pause', 'resume', 'cancel', 'resend-unknown'] as const satisfies readonly CampaignAction[]) {
      const actionDoc = doc({
        summary: ACTIONS[action],
        params: idParams,
        responses: { 200: json(actionResult, { campaignId: EXAMPLE_CAMPAIGN_ID, status: action === 'pause' ? 'paused' : action === 'cancel' ? 'cancelled' : 'running', affected: action === 'start' ? 9900 : 0 }) },
        errors: [notFound, ...(action === 'start' || action === 'resume' ? startRefusals : [errors.campaignState(EXAMPLE_CAMPAIGN_ID, 'draft', action, ['running'])])],
      });
      app.post(`/v1/campaigns/:id/${action}`, actionDoc, async (request) => {
        const { id } = parseInput(idParams, request.params);
        // A balance the provider reports as clearly short refuses the start; one it cannot read is a warning.
        const warnings = action === 'start' || action === 'resume' ? await requireBalanceForStart(ctx.db, request.tenantId, id, { log: request.log }) : [];
        const result = await applyCampaignAction(ctx.db, request.tenantId, id, action, { stops });
        // An operator resuming a campaign the error budget paused gives it a fresh budget.
        if (action === 'resume') await new ErrorBudget(ctx.redis, ctx.config.queuePrefix).reset(id);
        request.log.info({ campaignId: id, action, affected: result.affected }, 'campaign action');
        return warnings.length > 0 ? { ...result, warnings } : result;
      });
    }

    const recipientsDoc = doc({ summary: "The campaign's recipients, by status, keyset-paged", params: idParams, query: listQuery, responses: { 200: json(recipientPage, recipientPageExample) }, errors: [notFound] });
    app.get('/v1/campaigns/:id/recipients', recipientsDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      const query = parseInput(listQuery, request.query);
      await findCampaign(request.tenantId, id);
      const { rows } = await ctx.db.pool.query(
        `SELECT r.id::text AS id, phone, raw_phone AS "rawPhone", line, variables, status, attempts, provider_message_id AS "providerMessageId",
                error_code AS "errorCode", provider_error_code AS "providerErrorCode", provider_error_text AS "providerErrorText",
                sent_at AS "sentAt", delivered_at AS "deliveredAt", read_at AS "readAt", replied_at AS "repliedAt", opted_out_at AS "optedOutAt",
                failed_at AS "failedAt", not_before AS "notBefore", updated_at AS "updatedAt", account_id AS "accountId"
           FROM recipients r
          WHERE r.campaign_id = $1 AND r.tenant_id = $2 AND ($3::recipient_status IS NULL OR r.status = $3::recipient_status) AND r.id > $4::bigint
          ORDER BY r.id LIMIT $5`,
        [id, request.tenantId, query.status ?? null, query.after ?? '0', query.limit],
      );
      const last = rows[rows.length - 1] as { id: string } | undefined;
      return { recipients: rows, next: rows.length === query.limit && last ? last.id : null };
    });

    /** Delivery funnel: accepted → sent → delivered → read → replied, failures by code, time to deliver. */
    const funnelDoc = doc({ summary: 'Delivery funnel: accepted, sent, delivered, read, replied; failures by code; time to deliver', params: idParams, responses: { 200: json(funnel, funnelExample) }, errors: [notFound] });
    app.get('/v1/campaigns/:id/funnel', funnelDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      await findCampaign(request.tenantId, id);
      // Shared with the console and the other API instances, and recomputed no sooner than 20 times
      // what it took: a funnel reads every recipient row, so a client polling a big campaign's
      // funnel must not take Postgres from everyone's sends.
      const [timed, accounts] = await Promise.all([ctx.funnels.get(id, { minPeriodMs: 0 }), accountShares(ctx.db, id)]);
      const byAccount = accounts.map(({ accountId, name, counts, assigned }) => ({ accountId, name, counts, assigned }));
      return { campaignId: id, ...timed.funnel, computedAt: new Date(timed.computedAt).toISOString(), byAccount };
    });

    /** One recipient's history: every status change with its time and source (send, webhook, operator, engine). */
    const historyDoc = doc({
      summary: "One recipient's history: every status change with its time and source",
      params: historyParams,
      responses: { 200: json(history, historyExample) },
      errors: [notFound, errors.recipientNotFound('1048577')],
    });
    app.get('/v1/campaigns/:id/recipients/:recipientId/history', historyDoc, async (request) => {
      const { id, recipientId } = parseInput(historyParams, request.params);
      await findCampaign(request.tenantId, id);
      const history = await recipientHistory(ctx.db, request.tenantId, id, recipientId);
      if (!history) throw errors.recipientNotFound(recipientId);
      return { recipientId, events: history };
    });

    /** Replies and button taps linked to this campaign, newest first, keyset-paged on (time, id). */
    const repliesDoc = doc({ summary: 'Replies and button taps linked to the campaign, newest first', params: idParams, query: repliesQuery, responses: { 200: json(replies, repliesExample) }, errors: [notFound] });
    app.get('/v1/campaigns/:id/replies', repliesDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      const query = parseInput(repliesQuery, request.query);
      await findCampaign(request.tenantId, id);
      const cursor = query.after ? decodeReplyCursor(query.after) : null;
      const { rows } = await ctx.db.pool.query<{ id: string; receivedAt: Date }>(
        `SELECT id, recipient_id::text AS "recipientId", phone, text, button_payload AS "buttonPayload", opt_out AS "optOut", received_at AS "receivedAt"
           FROM inbound_messages
          WHERE campaign_id = $1 AND tenant_id = $2 AND ($3::timestamptz IS NULL OR (received_at, id) < ($3::timestamptz, $4::uuid))
          ORDER BY received_at DESC, id DESC LIMIT $5`,
        [id, request.tenantId, cursor?.at ?? null, cursor?.id ?? null, query.limit],
      );
      const last = rows[rows.length - 1];
      // Replies sharing a timestamp are not skipped at a page boundary: the id breaks the tie.
      return { replies: rows, next: rows.length === query.limit && last ? Buffer.from(`${last.receivedAt.toISOString()}|${last.id}`).toString('base64url') : null };
    });

    /** Every recipient's result as CSV, streamed in pages so memory stays flat. */
    const exportDoc = doc({
      summary: "Every recipient's result as CSV (streamed)",
      params: idParams,
      responses: {
        200: other('text/csv', csvText, EXPORT_CSV_EXAMPLE, 'One row per recipient'),
      },
      errors: [notFound],
    });
    app.get('/v1/campaigns/:id/export.csv', exportDoc, async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      const campaign = await findCampaign(request.tenantId, id);
      const pool = ctx.db.pool;
      async function* rows(): AsyncGenerator<unknown[]> {
        let after = '0';
        for (;;) {
          const page = await pool.query<Record<string, unknown> & { id: string }>(
            `SELECT r.id::text AS id, r.line, r.phone, r.raw_phone, r.status, r.attempts, r.provider_message_id, r.error_code, r.provider_error_code, r.provider_error_text,
                    r.sent_at, r.delivered_at, r.read_at, r.replied_at, r.opted_out_at, r.failed_at, r.variables, r.account_id, a.name AS account_name
               FROM recipients r LEFT JOIN provider_accounts a ON a.id = r.account_id
              WHERE r.campaign_id = $1 AND r.id > $2::bigint ORDER BY r.id LIMIT 5000`,
            [id, after],
          );
          for (const r of page.rows) {
            yield [r.line, r.phone, r.raw_phone, r.status, r.attempts, r.provider_message_id, r.error_code, r.provider_error_code, r.provider_error_text,
              iso(r.sent_at), iso(r.delivered_at), iso(r.read_at), iso(r.replied_at), iso(r.opted_out_at), iso(r.failed_at), JSON.stringify(r.variables),
              r.account_name ?? '', r.account_id ?? ''];
          }
          if (page.rows.length < 5000) return;
          after = page.rows[page.rows.length - 1]?.id ?? after;
        }
      }
      const csv = spreadsheetCsv(
        ['line', 'phone', 'raw_phone', 'status', 'attempts', 'provider_message_id', 'error_code', 'provider_error_code', 'provider_error_text',
          'sent_at', 'delivered_at', 'read_at', 'replied_at', 'opted_out_at', 'failed_at', 'variables', 'sending_account', 'account_id'],
        rows(),
      );
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="campaign-${campaign.id}.csv"`)
        .send(csv);
    });
  };
}

/** The `next` this endpoint returned: base64url of "<ISO time>|<uuid>"; anything else is a 400, never a query. */
function decodeReplyCursor(cursor: string): { at: string; id: string } {
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const time = at && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(at) ? Date.parse(at) : Number.NaN;
  if (!Number.isFinite(time) || time < 0 || !id || rest.length > 0 || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw errors.validation(['after: not a cursor this endpoint returned']);
  }
  return { at: new Date(time).toISOString(), id };
}

function clock(field: string, value: string): number {
  try {
    return parseClock(value);
  } catch (error) {
    throw errors.validation([`${field}: ${error instanceof Error ? error.message : 'not a time of day'}`]);
  }
}

function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : '';
}
