/**
 * Endpoints the console needed that the API lacked; ordinary /v1 endpoints, usable with a key:
 *
 * - GET /v1/campaigns/:id/failures/recipients?code&providerCode&after&limit: the failed
 *   recipients with one normalized code (and optionally one provider code), keyset-paged, for
 *   the click-through from a campaign's failure breakdown.
 * - PATCH /v1/campaigns/:id/settings: a draft's schedule and options (startAt, expiresAt,
 *   sendWindow, errorBudget, options), validated as POST /v1/campaigns validates them, so the
 *   upload wizard can ask for them after the file's validation report.
 * - GET /v1/accounts/:id/state: the account's flow state in one word (src/console/account-state.ts),
 *   its breaker, rolling-24 h messaging-limit use, when its webhook last received an event, and
 *   the contacto-multichat balance.
 */
import { adapterFor } from '../../providers/registry.js';
import type { FastifyPluginAsync } from 'fastify';
import type { RedisClient } from '../../redis-client.js';
import { z } from 'zod';
import { checkBalanceBeforeStart } from '../../accounts/balance-check.js';
import { campaignOptionsSchema, mediaProblem, parseHeaderType } from '../../campaigns/campaign-options.js';
import { AccountStateReader } from '../../console/account-state.js';
import { errors } from '../../errors.js';
import { CircuitBreaker } from '../../flow/circuit-breaker.js';
import { DailyBudget } from '../../flow/daily-budget.js';
import { parseClock } from '../../flow/quiet-hours.js';
import type { AppContext } from '../app.js';
import { parseInput } from '../../validate.js';
import { publicCampaign } from './campaigns.js';
import { doc, json, jsonBody } from '../openapi/route-doc.js';
import { EXAMPLE_ACCOUNT_ID, EXAMPLE_CAMPAIGN_ID, EXAMPLE_LATER, EXAMPLE_TIME } from '../openapi/examples.js';
import { accountState, accountStateExample } from '../openapi/responses/accounts.js';
import { campaign, campaignExample, failedPage, recipientPageExample } from '../openapi/responses/campaigns.js';

const idParams = z.object({ id: z.string().uuid() });
const failureQuery = z.object({
  code: z.string().min(1).max(100),
  providerCode: z.string().min(1).max(100).optional(),
  after: z.string().regex(/^\d+$/).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
const settingsBody = z
  .object({
    startAt: z.iso.datetime({ offset: true }).nullable(),
    expiresAt: z.iso.datetime({ offset: true }).nullable(),
    sendWindow: z.object({ start: z.string().regex(/^\d{2}:\d{2}$/), end: z.string().regex(/^\d{2}:\d{2}$/) }).nullable(),
    errorBudget: z.number().min(0).max(1).nullable(),
    options: campaignOptionsSchema,
  })
  .partial();

const failure = recipientPageExample.recipients[0];
const failuresDoc = doc({
  tag: 'campaigns',
  summary: 'The failed recipients with one normalized code (and optionally one provider code), keyset-paged',
  params: idParams,
  query: failureQuery,
  responses: {
    200: json(failedPage, {
      recipients: failure
        ? [{ id: failure.id, phone: failure.phone, line: failure.line, status: 'failed', attempts: 1, errorCode: failure.errorCode, providerErrorCode: failure.providerErrorCode, providerErrorText: failure.providerErrorText, failedAt: EXAMPLE_LATER, updatedAt: EXAMPLE_LATER }]
        : [],
      next: null,
    }),
  },
  errors: [errors.campaignNotFound(EXAMPLE_CAMPAIGN_ID)],
});
const settingsDoc = doc({
  tag: 'campaigns',
  summary: "Change a draft campaign's schedule and options",
  description: 'Validated as POST /v1/campaigns validates them; null clears a field.',
  params: idParams,
  body: { ...jsonBody(settingsBody, { startAt: '2026-12-01T12:00:00-03:00', sendWindow: { start: '09:00', end: '20:00' }, errorBudget: 0.2 }), required: false },
  responses: { 200: json(campaign, { ...campaignExample, status: 'draft', startAt: EXAMPLE_TIME, startedAt: null, errorBudget: 0.2 }) },
  errors: [
    errors.campaignNotFound(EXAMPLE_CAMPAIGN_ID),
    errors.campaignNotDraft(EXAMPLE_CAMPAIGN_ID, 'running'),
    errors.templateMediaRequired('promo_verano', 'its header is an image, so options.headerMedia is required'),
  ],
});
const stateDoc = doc({
  tag: 'accounts',
  summary: "The account's flow state in one word, its breaker, messaging-limit use, last webhook and balance",
  params: idParams,
  responses: { 200: json(accountState, accountStateExample) },
  errors: [errors.accountNotFound(EXAMPLE_ACCOUNT_ID)],
});

/** How long the accounts page waits for a contacto-multichat balance (ms); an unanswered query shows as unknown. */
const BALANCE_TIMEOUT_MS = 3_000;

export function consoleCampaignRoutes(ctx: AppContext, redis: RedisClient = ctx.redis): FastifyPluginAsync {
  const states = new AccountStateReader(ctx.db, redis, ctx.config.queuePrefix);
  const breaker = new CircuitBreaker(redis, ctx.config.queuePrefix, { cacheMs: 0 });
  const budget = new DailyBudget(redis, ctx.config.queuePrefix);
  return async (app) => {
    app.get('/v1/campaigns/:id/failures/recipients', failuresDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      const query = parseInput(failureQuery, request.query);
      const found = await ctx.db.prisma.campaign.findFirst({ where: { id, tenantId: request.tenantId }, select: { id: true } });
      if (!found) throw errors.campaignNotFound(id);
      const { rows } = await ctx.db.pool.query<{ id: string }>(
        `SELECT r.id::text AS id, phone, line, status, attempts, error_code AS "errorCode", provider_error_code AS "providerErrorCode",
                provider_error_text AS "providerErrorText", failed_at AS "failedAt", updated_at AS "updatedAt"
           FROM recipients r
          WHERE r.campaign_id = $1 AND r.tenant_id = $2 AND r.status = 'failed' AND coalesce(r.error_code, 'UNSPECIFIED') = $3
            AND ($4::text IS NULL OR r.provider_error_code = $4) AND r.id > $5::bigint
          ORDER BY r.id LIMIT $6`,
        [id, request.tenantId, query.code, query.providerCode ?? null, query.after ?? '0', query.limit],
      );
      const last = rows[rows.length - 1];
      return { recipients: rows, next: rows.length === query.limit && last ? last.id : null };
    });

    app.patch('/v1/campaigns/:id/settings', settingsDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      const body = parseInput(settingsBody, request.body ?? {});
      const campaign = await ctx.db.prisma.campaign.findFirst({ where: { id, tenantId: request.tenantId }, include: { template: true } });
      if (!campaign) throw errors.campaignNotFound(id);
      if (campaign.status !== 'draft') throw errors.campaignNotDraft(id, campaign.status);
      const data: Record<string, unknown> = {};
      if (body.startAt !== undefined) data.startAt = body.startAt ? new Date(body.startAt) : null;
      if (body.expiresAt !== undefined) data.expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
      if (body.sendWindow !== undefined) {
        data.windowStart = body.sendWindow ? clock('sendWindow.start', body.sendWindow.start) : null;
        data.windowEnd = body.sendWindow ? clock('sendWindow.end', body.sendWindow.end) : null;
      }
      if (body.errorBudget !== undefined) data.errorBudget = body.errorBudget;
      if (body.options !== undefined) {
        const media = campaign.template ? mediaProblem(parseHeaderType(campaign.template.headerType), body.options) : null;
        if (media && campaign.template) throw errors.templateMediaRequired(campaign.template.name, media);
        data.options = body.options;
      }
      const startAt = (data.startAt as Date | null | undefined) ?? campaign.startAt;
      const expiresAt = (data.expiresAt as Date | null | undefined) ?? campaign.expiresAt;
      if (startAt && expiresAt && expiresAt <= startAt) throw errors.validation(['expiresAt: must be after startAt']);
      const updated = await ctx.db.prisma.campaign.update({ where: { id }, data });
      return publicCampaign(updated);
    });

    app.get('/v1/accounts/:id/state', stateDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      const account = await ctx.db.prisma.providerAccount.findFirst({ where: { id, tenantId: request.tenantId } });
      if (!account) throw errors.accountNotFound(id);
      const [state, breakerState, usage, webhook, balance] = await Promise.all([
        states.ofAccount(account),
        breaker.state(id),
        account.messagingLimit ? budget.usage(id, account.messagingLimit) : Promise.resolve(null),
        ctx.db.pool.query<{ at: Date | null }>(`SELECT max(received_at) AS at FROM webhook_events WHERE account_id = $1`, [id]),
        adapterFor(account.provider)?.balance ? checkBalanceBeforeStart(ctx.db, id, 1, { timeoutMs: BALANCE_TIMEOUT_MS }) : Promise.resolve(null),
      ]);
      return {
        accountId: id,
        state,
        breaker: breakerState,
        messagingLimit: usage && account.messagingLimit ? { limit: account.messagingLimit, ...usage } : null,
        lastWebhookAt: webhook.rows[0]?.at ?? null,
        balance: balance === null ? null : { value: balance.balance ?? null, warning: balance.ok ? (balance.warning?.message ?? null) : null },
      };
    });
  };
}

function clock(field: string, value: string): number {
  try {
    return parseClock(value);
  } catch (error) {
    throw errors.validation([`${field}: ${error instanceof Error ? error.message : 'not a time of day'}`]);
  }
}
