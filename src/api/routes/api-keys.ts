/**
 * The tenant's API keys (admin scope): list, read, create, revoke, rotate. A key is shown once,
 * in the answer that creates it; listings show its prefix, scope, state and last use.
 *
 * - POST /v1/api-keys {name, scope?: read|full|admin (default full), expiresAt?}
 * - POST /v1/api-keys/:id/revoke: 401 on the next request to any API process.
 * - POST /v1/api-keys/:id/rotate {graceSeconds?}: a new key with the same name, scope and
 *   expiry; the old one stops at once, or after graceSeconds (at most a day).
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ApiKeyCache } from '../../tenants/api-key-cache.js';
import { API_KEY_SCOPES, createApiKey, findApiKey, listApiKeys, publicApiKey, revokeApiKey, rotateApiKey } from '../../tenants/api-keys.js';
import type { AppContext } from '../app.js';
import { isoDateTime, parseInput } from '../../validate.js';
import { errors } from '../../errors.js';
import { doc, json, jsonBody } from '../openapi/route-doc.js';
import { EXAMPLE_API_KEY_ID } from '../openapi/examples.js';
import { apiKey, apiKeyExample, apiKeyList, createdApiKey, createdApiKeyExample, rotatedApiKey, rotatedApiKeyExample } from '../openapi/responses/misc.js';

const createBody = z.object({
  name: z.string().trim().min(1).max(200),
  scope: z.enum(API_KEY_SCOPES).default('full'),
  expiresAt: isoDateTime.nullable().optional(),
});
const rotateBody = z.object({ graceSeconds: z.number().int().min(0).max(86_400).default(0) }).default({ graceSeconds: 0 });
const idParams = z.object({ id: z.string().uuid() });
const admin = { scope: 'admin' as const };
const notFound = errors.apiKeyNotFound(EXAMPLE_API_KEY_ID);

export function apiKeyRoutes(ctx: AppContext, cache: ApiKeyCache): FastifyPluginAsync {
  return async (app) => {
    app.get('/v1/api-keys', doc({ summary: "The tenant's API keys (never the keys themselves)", responses: { 200: json(apiKeyList, { apiKeys: [apiKeyExample] }) } }, admin), async (request) => {
      return { apiKeys: (await listApiKeys(ctx.db, request.tenantId)).map(publicApiKey) };
    });

    app.get('/v1/api-keys/:id', doc({ summary: 'One API key', params: idParams, responses: { 200: json(apiKey, apiKeyExample) }, errors: [notFound] }, admin), async (request) => {
      const { id } = parseInput(idParams, request.params);
      return publicApiKey(await findApiKey(ctx.db, request.tenantId, id));
    });

    const createDoc = doc(
      {
        summary: 'Create an API key (shown once)',
        body: jsonBody(createBody, { name: 'nightly batch', scope: 'full', expiresAt: '2027-06-30T23:59:59-04:00' }),
        responses: { 201: json(createdApiKey, createdApiKeyExample, 'Created; `key` is shown only here') },
      },
      admin,
    );
    app.post('/v1/api-keys', createDoc, async (request, reply) => {
      const body = parseInput(createBody, request.body);
      const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
      if (expiresAt && expiresAt.getTime() <= Date.now()) throw errors.validation(['expiresAt: must be in the future']);
      const { key, record } = await createApiKey(ctx.db, request.tenantId, body.name, { scope: body.scope, expiresAt });
      request.log.info({ createdApiKeyId: record.id, scope: record.scope }, 'api key created');
      return reply.status(201).send({ ...publicApiKey(record), key });
    });

    const revokeDoc = doc({ summary: 'Revoke an API key (401 on its next request, on every API process)', params: idParams, responses: { 200: json(apiKey, { ...apiKeyExample, state: 'revoked', revokedAt: apiKeyExample.createdAt }) }, errors: [notFound] }, admin);
    app.post('/v1/api-keys/:id/revoke', revokeDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      const revoked = await revokeApiKey(ctx.db, cache, request.tenantId, id);
      request.log.info({ revokedApiKeyId: id }, 'api key revoked');
      return publicApiKey(revoked);
    });

    const rotateDoc = doc(
      {
        summary: 'Rotate an API key: a new key with the same name, scope and expiry',
        description: 'The old key stops at once, or after `graceSeconds` (at most a day). The body is optional.',
        params: idParams,
        body: { ...jsonBody(rotateBody, { graceSeconds: 3600 }), required: false },
        responses: { 201: json(rotatedApiKey, rotatedApiKeyExample, 'Created; `key` is shown only here') },
        errors: [notFound, errors.apiKeyInactive(EXAMPLE_API_KEY_ID, 'revoked')],
      },
      admin,
    );
    app.post('/v1/api-keys/:id/rotate', rotateDoc, async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      const { graceSeconds } = parseInput(rotateBody, request.body ?? undefined);
      const { key, record, old } = await rotateApiKey(ctx.db, cache, request.tenantId, id, graceSeconds);
      request.log.info({ rotatedApiKeyId: id, newApiKeyId: record.id, graceSeconds }, 'api key rotated');
      return reply.status(201).send({ ...publicApiKey(record), key, replaced: publicApiKey(old) });
    });
  };
}
