/**
 * POST /v1/messages: one template message to one phone, through the campaign pipeline.
 * Answers 200 with the outcome when it is final within `waitMs`, else 202 with the state so
 * far (poll GET /v1/campaigns/:campaignId). Idempotency-Key works as for campaigns.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { errors } from '../../errors.js';
import { sendSingleMessage } from '../../messages/send-single-message.js';
import { defaultCountrySchema } from '../../phones/country.js';
import type { AppContext } from '../app.js';
import { parseInput } from '../../validate.js';

const body = z.object({
  accountId: z.string().uuid(),
  templateId: z.string().uuid(),
  phone: z.string().min(1).max(40),
  variables: z.array(z.string()).default([]),
  defaultCountry: defaultCountrySchema,
  /** How long to wait for the outcome, ms (default 10 s, at most 30 s; 0 answers at once). */
  waitMs: z.number().int().min(0).max(30_000).default(10_000),
});

export function messageRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.post('/v1/messages', async (request, reply) => {
      const input = parseInput(body, request.body);
      const key = request.headers['idempotency-key'];
      const idempotencyKey = typeof key === 'string' && key.trim() ? key.trim() : undefined;
      if (idempotencyKey && idempotencyKey.length > 200) throw errors.validation(['Idempotency-Key: at most 200 characters']);
      const result = await sendSingleMessage(ctx.db, request.tenantId, input, idempotencyKey);
      return reply.status(result.done ? 200 : 202).send(result);
    });
  };
}
