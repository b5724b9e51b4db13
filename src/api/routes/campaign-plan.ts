/**
 * POST /v1/campaigns/:id/plan: the launch planner's dry run (src/queue/launch-plan.ts), before
 * or after start. Changes nothing, so a `read` key may ask. Errors: 400 VALIDATION_FAILED (body or
 * id), 404 CAMPAIGN_NOT_FOUND.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { loadPlanInput, planOptions } from '../../queue/launch-plan-input.js';
import { planLaunch } from '../../queue/launch-plan.js';
import { errors } from '../../errors.js';
import type { AppContext } from '../app.js';
import { parseInput } from '../../validate.js';
import { EXAMPLE_CAMPAIGN_ID } from '../openapi/examples.js';
import { doc, json, jsonBody } from '../openapi/route-doc.js';

export const planParams = z.object({ id: z.string().uuid() });
export const planBody = z
  .object({
    /** Width of each projection bucket, minutes; 60 (hour by hour) unless said. */
    bucketMinutes: z.number().int().min(1).max(1_440).default(60),
    /** How far ahead to replay the feeder; what is still waiting past it is counted in `beyondHorizon`. */
    horizonDays: z.number().int().min(1).max(90).default(30),
  })
  .default({ bucketMinutes: 60, horizonDays: 30 });

const isoString = z.string().datetime();
/** The answer, as src/queue/launch-plan.ts builds it. */
export const launchPlanSchema = z.object({
  startsAt: isoString,
  finishesAt: isoString.nullable(),
  openRecipients: z.number().int(),
  outcomes: z.object({
    willSend: z.number().int(),
    suppressed: z.number().int(),
    expire: z.number().int(),
    rejectedAtUpload: z.number().int(),
    beyondHorizon: z.number().int(),
    settled: z.record(z.string(), z.number().int()),
  }),
  projection: z.array(z.object({ from: isoString, to: isoString, sends: z.number().int(), cost: z.number().nullable() })),
  bounds: z.object({
    rate: z.object({ perSecond: z.number(), effectivePerSecond: z.number() }),
    messagingLimit: z.object({ limit: z.number().int(), usedNow: z.number().int(), remainingNow: z.number().int(), deferrals: z.number().int() }).nullable(),
    quietHours: z.object({ window: z.string(), deferrals: z.number().int(), zones: z.array(z.object({ zone: z.string(), recipients: z.number().int() })) }).nullable(),
    schedule: z.object({ startAt: isoString.nullable(), expiresAt: isoString.nullable() }),
    binding: z.array(z.enum(['rate', 'messaging_limit', 'quiet_hours', 'start_at', 'expiry'])),
  }),
  cost: z
    .object({
      total: z.number(),
      unpriced: z.number().int(),
      lines: z.array(z.object({ category: z.string(), country: z.string().nullable(), count: z.number().int(), unitPrice: z.number(), total: z.number() })),
    })
    .nullable(),
  assumptions: z.array(z.string()),
});
export type LaunchPlanResponse = z.infer<typeof launchPlanSchema>;

const PLAN_START = '2026-12-01T15:00:00.000Z';
const planExample: LaunchPlanResponse = {
  startsAt: PLAN_START,
  finishesAt: '2026-12-02T15:00:25.300Z',
  openRecipients: 4000,
  outcomes: { willSend: 3970, suppressed: 30, expire: 0, rejectedAtUpload: 80, beyondHorizon: 0, settled: {} },
  projection: [
    { from: PLAN_START, to: '2026-12-01T16:00:00.000Z', sends: 1970, cost: 175.133 },
    { from: '2026-12-02T15:00:00.000Z', to: '2026-12-02T16:00:00.000Z', sends: 2000, cost: 177.8 },
  ],
  bounds: {
    rate: { perSecond: 80, effectivePerSecond: 78.0488 },
    messagingLimit: { limit: 2000, usedNow: 0, remainingNow: 2000, deferrals: 2000 },
    quietHours: { window: '09:00-20:00', deferrals: 0, zones: [{ zone: 'America/Santiago', recipients: 4000 }] },
    schedule: { startAt: PLAN_START, expiresAt: null },
    binding: ['rate', 'messaging_limit', 'start_at'],
  },
  cost: { total: 352.933, unpriced: 0, lines: [{ category: 'MARKETING', country: 'CL', count: 3970, unitPrice: 0.0889, total: 352.933 }] },
  assumptions: ['The campaign has the account to itself; campaigns running beside it on the same account share its rate.', 'Every send is accepted: provider errors, retries and rate-limit answers would slow it down.'],
};
const planDoc = doc(
  {
    summary: 'Plan a campaign: when it will finish, hour by hour, what bounds it and what it costs',
    description: 'A dry run of the feeder on a simulated clock, before or after start. Changes nothing, so a `read` key may ask. The body may be left out.',
    params: planParams,
    body: { ...jsonBody(planBody, { bucketMinutes: 60, horizonDays: 30 }), required: false },
    responses: { 200: json(launchPlanSchema, planExample) },
    errors: [errors.campaignNotFound(EXAMPLE_CAMPAIGN_ID)],
  },
  { scope: 'read' },
);

export function campaignPlanRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.post('/v1/campaigns/:id/plan', planDoc, async (request) => {
      const { id } = parseInput(planParams, request.params);
      const body = parseInput(planBody, request.body ?? undefined);
      const own = { bucketMinutes: body.bucketMinutes, horizonDays: body.horizonDays };
      const input = await loadPlanInput({ pool: ctx.db.pool, redis: ctx.redis, prefix: ctx.config.queuePrefix }, request.tenantId, id, planOptions(ctx.config, own));
      return planLaunch(input);
    });
  };
}
