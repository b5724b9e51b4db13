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
import { API_KEY_SCOPES, createApiKey, findApiKey, listApiKeys, publicApiKey, revokeApiKey, rotateApiKey, type ApiKeyCache } from '../../tenants/api-keys.js';
import type { AppContext } from '../app.js';
import { isoDateTime, parseInput } from '../../validate.js';
import { errors } from '../../errors.js';

const createBody = z.object({
  name: z.string().trim().min(1).max(200),
  scope: z.enum(API_KEY_SCOPES).default('full'),
  expiresAt: isoDateTime.nullable().optional(),
});
const rotateBody = z.object({ graceSeconds: z.number().int().min(0).max(86_400).default(0) }).default({ graceSeconds: 0 });
const idParams = z.object({ id: z.string().uuid() });
const admin = { config: { scope: 'admin' as const } };

export function apiKeyRoutes(ctx: AppContext, cache: ApiKeyCache): FastifyPluginAsync {
  return async (app) => {
    app.get('/v1/api-keys', admin, async (request) => {
      return { apiKeys: (await listApiKeys(ctx.db, request.tenantId)).map(publicApiKey) };
    });

    app.get('/v1/api-keys/:id', admin, async (request) => {
      const { id } = parseInput(idParams, request.params);
      return publicApiKey(await findApiKey(ctx.db, request.tenantId, id));
    });

    app.post('/v1/api-keys', admin, async (request, reply) => {
      const body = parseInput(createBody, request.body);
      const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
      if (expiresAt && expiresAt.getTime() <= Date.now()) throw errors.validation(['expiresAt: must be in the future']);
      const { key, record } = await createApiKey(ctx.db, request.tenantId, body.name, { scope: body.scope, expiresAt });
      request.log.info({ createdApiKeyId: record.id, scope: record.scope }, 'api key created');
      return reply.status(201).send({ ...publicApiKey(record), key });
    });

    app.post('/v1/api-keys/:id/revoke', admin, async (request) => {
      const { id } = parseInput(idParams, request.params);
      const revoked = await revokeApiKey(ctx.db, cache, request.tenantId, id);
      request.log.info({ revokedApiKeyId: id }, 'api key revoked');
      return publicApiKey(revoked);
    });

    app.post('/v1/api-keys/:id/rotate', admin, async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      const { graceSeconds } = parseInput(rotateBody, request.body ?? undefined);
      const { key, record, old } = await rotateApiKey(ctx.db, cache, request.tenantId, id, graceSeconds);
      request.log.info({ rotatedApiKeyId: id, newApiKeyId: record.id, graceSeconds }, 'api key rotated');
      return reply.status(201).send({ ...publicApiKey(record), key, replaced: publicApiKey(old) });
    });
  };
}
