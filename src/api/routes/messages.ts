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
import { doc, idempotencyKeyHeader, json, jsonBody } from '../openapi/route-doc.js';
import { EXAMPLE_ACCOUNT_ID, EXAMPLE_TEMPLATE_ID } from '../openapi/examples.js';
import { singleMessage, singleMessageExample } from '../openapi/responses/lists.js';

const body = z.object({
  accountId: z.string().uuid(),
  templateId: z.string().uuid(),
  phone: z.string().min(1).max(40),
  variables: z.array(z.string()).default([]),
  defaultCountry: defaultCountrySchema,
  /** How long to wait for the outcome, ms (default 10 s, at most 30 s; 0 answers at once). */
  waitMs: z.number().int().min(0).max(30_000).default(10_000),
});

const sendDoc = doc({
  summary: 'One template message to one phone, through the campaign pipeline',
  description: 'Answers 200 with the outcome when it is final within `waitMs`, else 202 with the state so far (poll GET /v1/campaigns/{campaignId}).',
  headers: idempotencyKeyHeader('otp-8812'),
  body: jsonBody(body, { accountId: EXAMPLE_ACCOUNT_ID, templateId: EXAMPLE_TEMPLATE_ID, phone: '+56 9 1234 5678', variables: ['482913'], waitMs: 10000 }),
  responses: {
    200: json(singleMessage, singleMessageExample, 'Final within waitMs'),
    202: json(singleMessage, { ...singleMessageExample, done: false, recipient: { ...singleMessageExample.recipient, status: 'queued', attempts: 0, providerMessageId: null } }, 'Not final yet'),
  },
  errors: [
    errors.accountNotFound(EXAMPLE_ACCOUNT_ID),
    errors.templateNotFound(EXAMPLE_TEMPLATE_ID),
    errors.templateAccountMismatch('otp_login'),
    errors.templateNotApproved('otp_login', 'pending'),
    errors.templateMediaRequired('otp_login', 'its header is an image, so options.headerMedia is required'),
    errors.recipientRejected('PHONE_SUPPRESSED', 'The phone +56912345678 is on the suppression list.'),
    errors.idempotencyConflict('otp-8812'),
    errors.campaignEmpty('c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f'),
  ],
});

export function messageRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.post('/v1/messages', sendDoc, async (request, reply) => {
      const input = parseInput(body, request.body);
      const key = request.headers['idempotency-key'];
      const idempotencyKey = typeof key === 'string' && key.trim() ? key.trim() : undefined;
      if (idempotencyKey && idempotencyKey.length > 200) throw errors.validation(['Idempotency-Key: at most 200 characters']);
      const result = await sendSingleMessage(ctx.db, request.tenantId, input, idempotencyKey);
      return reply.status(result.done ? 200 : 202).send(result);
    });
  };
}
