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
import { errors } from '../../errors.js';
import { doc, empty, json, jsonBody } from '../openapi/route-doc.js';
import { EXAMPLE_ENDPOINT_ID } from '../openapi/examples.js';
import { createdEndpoint, deliveries, deliveriesExample, endpointList, eventEndpoint, eventEndpointExample, eventTypes, secret, SECRET_EXAMPLE } from '../openapi/responses/misc.js';

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

const tag = 'events';
const notFound = errors.eventEndpointNotFound(EXAMPLE_ENDPOINT_ID);
const urlRefused = errors.eventEndpointUrlRefused('http://10.0.0.5/hook', 'is a private address');
const createExample = { url: 'https://hooks.example.com/wce', events: ['campaign.completed', 'campaign.paused'], format: 'json', description: 'ERP integration' };

export function eventEndpointRoutes(ctx: AppContext): FastifyPluginAsync {
  const allowPrivate = ctx.config.eventsAllowPrivateUrls;
  return async (app) => {
    const typesDoc = doc({ tag, summary: 'The catalog of event types', responses: { 200: json(eventTypes, { types: [{ type: 'campaign.completed', description: 'A campaign sent everything it could.' }] }) } });
    app.get('/v1/event-types', typesDoc, async () => ({ types: EVENT_TYPES.map((type) => ({ type, description: EVENT_DESCRIPTIONS[type] })) }));

    const createDoc = doc({
      tag,
      summary: 'Register an endpoint for outbound events',
      description: 'The signing secret is shown here and at rotation only.',
      body: jsonBody(createBody, createExample),
      responses: { 201: json(createdEndpoint, { endpoint: eventEndpointExample, secret: SECRET_EXAMPLE }, 'Created') },
      errors: [urlRefused],
    });
    app.post('/v1/event-endpoints', createDoc, async (request, reply) => {
      const body = parseInput(createBody, request.body);
      const created = await createEndpoint(ctx.db.pool, request.tenantId, body, allowPrivate);
      return reply.status(201).send(created);
    });

    app.get('/v1/event-endpoints', doc({ tag, summary: "The tenant's event endpoints", responses: { 200: json(endpointList, { endpoints: [eventEndpointExample] }) } }), async (request) => ({ endpoints: await listEndpoints(ctx.db.pool, request.tenantId) }));

    app.get('/v1/event-endpoints/:id', doc({ tag, summary: 'One event endpoint', params: idParams, responses: { 200: json(eventEndpoint, eventEndpointExample) }, errors: [notFound] }), async (request) => {
      const { id } = parseInput(idParams, request.params);
      return getEndpoint(ctx.db.pool, request.tenantId, id);
    });

    const updateDoc = doc({
      tag,
      summary: 'Change an event endpoint',
      params: idParams,
      body: jsonBody(updateBody, { enabled: false }),
      responses: { 200: json(eventEndpoint, { ...eventEndpointExample, enabled: false }) },
      errors: [notFound, urlRefused],
    });
    app.patch('/v1/event-endpoints/:id', updateDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      return updateEndpoint(ctx.db.pool, request.tenantId, id, parseInput(updateBody, request.body), allowPrivate);
    });

    app.delete('/v1/event-endpoints/:id', doc({ tag, summary: 'Delete an event endpoint', params: idParams, responses: { 204: empty('Deleted') }, errors: [notFound] }), async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      await deleteEndpoint(ctx.db.pool, request.tenantId, id);
      return reply.status(204).send();
    });

    const rotateDoc = doc({ tag, summary: "A new signing secret for the endpoint (shown once)", params: idParams, responses: { 200: json(secret, { secret: SECRET_EXAMPLE }) }, errors: [notFound] });
    app.post('/v1/event-endpoints/:id/rotate-secret', rotateDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      return { secret: await rotateEndpointSecret(ctx.db.pool, request.tenantId, id) };
    });

    const deliveriesDoc = doc({ tag, summary: "The endpoint's delivery log, newest first", params: idParams, query: deliveriesQuery, responses: { 200: json(deliveries, deliveriesExample) }, errors: [notFound] });
    app.get('/v1/event-endpoints/:id/deliveries', deliveriesDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      return listDeliveries(ctx.db.pool, request.tenantId, id, parseInput(deliveriesQuery, request.query));
    });
  };
}
