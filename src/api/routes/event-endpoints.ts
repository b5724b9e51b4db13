/**
 * Outbound event endpoints (src/events): where a tenant's own systems, or a Slack channel, hear
 * that a campaign started, paused or completed, an upload finished, an account stopped.
 *
 * - GET /v1/event-types: the catalog.
 * - POST /v1/event-endpoints {url, events?, format? (json | slack), description?, enabled?}:
 *   201 {endpoint, secret}; the signing secret is shown here and at rotation only.
 * - GET /v1/event-endpoints, GET/PATCH/DELETE /v1/event-endpoints/:id
 * - POST /v1/event-endpoints/:id/rotate-secret: {secret}
 * - GET /v1/event-endpoints/:id/deliveries?status=&before=&limit=: the delivery log, newest first.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { EVENT_DESCRIPTIONS, EVENT_TYPES } from '../../events/catalog.js';
import { createEndpoint, deleteEndpoint, getEndpoint, listDeliveries, listEndpoints, rotateEndpointSecret, updateEndpoint } from '../../events/endpoints.js';
import type { AppContext } from '../app.js';
import { parseInput } from '../../validate.js';

const eventList = z.array(z.enum(EVENT_TYPES)).min(1).max(EVENT_TYPES.length);
const createBody = z.object({
  url: z.string().trim().min(1).max(2048),
  /** Types to deliver here. Default: every type. */
  events: eventList.optional(),
  /** json: the signed envelope. slack: {"text": ...} for a Slack-compatible incoming webhook. Default json. */
  format: z.enum(['json', 'slack']).optional(),
  description: z.string().trim().max(200).nullable().optional(),
  enabled: z.boolean().optional(),
});
const updateBody = createBody.partial().refine((body) => Object.keys(body).length > 0, 'send at least one field to change');
const idParams = z.object({ id: z.uuid() });
const deliveriesQuery = z.object({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  /** The `next` of the previous page. */
  before: z.string().regex(/^\d{1,19}$/, 'not a cursor from a previous page').optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export function eventEndpointRoutes(ctx: AppContext): FastifyPluginAsync {
  const allowPrivate = ctx.config.eventsAllowPrivateUrls;
  return async (app) => {
    app.get('/v1/event-types', async () => ({ types: EVENT_TYPES.map((type) => ({ type, description: EVENT_DESCRIPTIONS[type] })) }));

    app.post('/v1/event-endpoints', async (request, reply) => {
      const body = parseInput(createBody, request.body);
      const created = await createEndpoint(ctx.db.pool, request.tenantId, body, allowPrivate);
      return reply.status(201).send(created);
    });

    app.get('/v1/event-endpoints', async (request) => ({ endpoints: await listEndpoints(ctx.db.pool, request.tenantId) }));

    app.get('/v1/event-endpoints/:id', async (request) => {
      const { id } = parseInput(idParams, request.params);
      return getEndpoint(ctx.db.pool, request.tenantId, id);
    });

    app.patch('/v1/event-endpoints/:id', async (request) => {
      const { id } = parseInput(idParams, request.params);
      return updateEndpoint(ctx.db.pool, request.tenantId, id, parseInput(updateBody, request.body), allowPrivate);
    });

    app.delete('/v1/event-endpoints/:id', async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      await deleteEndpoint(ctx.db.pool, request.tenantId, id);
      return reply.status(204).send();
    });

    app.post('/v1/event-endpoints/:id/rotate-secret', async (request) => {
      const { id } = parseInput(idParams, request.params);
      return { secret: await rotateEndpointSecret(ctx.db.pool, request.tenantId, id) };
    });

    app.get('/v1/event-endpoints/:id/deliveries', async (request) => {
      const { id } = parseInput(idParams, request.params);
      return listDeliveries(ctx.db.pool, request.tenantId, id, parseInput(deliveriesQuery, request.query));
    });
  };
}
