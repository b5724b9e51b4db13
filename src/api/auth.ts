/**
 * API key authentication and authorization for every route except health, metrics (its own
 * operator token), provider webhooks and the API's description (/openapi.json, /docs). The key comes as `Authorization: Bearer <key>` or
 * `X-Api-Key: <key>`; the request gets the key's tenant, and every query downstream is scoped
 * by it.
 *
 * Per request, in order: the key's shape (garbage costs no lookup), then at once the per-key
 * rate limit (Redis) and the key itself (this process's memory, then the Redis cache, then
 * Postgres; unknown keys are cached too: src/tenants/api-key-cache.ts), then its expiry and
 * revocation, then its scope against the route's: GET/HEAD need `read`, anything else `full`,
 * and a route may ask for more with `config: { scope: 'admin' }`. A read does not wait for the
 * limit's answer before it runs, only before its reply leaves; anything else waits for it first.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';
import { consoleSessionTenant, isConsoleRoute } from '../console/session-auth.js';
import type { Logger } from '../logger.js';
import { ApiKeyCache } from '../tenants/api-key-cache.js';
import { hashApiKey, looksLikeApiKey, scopeAllows, type ApiKeyScope } from '../tenants/api-keys.js';
import { PUBLIC_DOCS } from './openapi/register-docs.js';
import { RedisRateLimiter, type RateVerdict } from './rate-limit.js';
import { Readable } from 'node:stream';
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    tenantId: string;
    apiKeyId: string;
    /** How long authenticating this request took (ms; 0 when it needed none), for Server-Timing. */
    authMs: number;
    /** A read's share of its key's rate limit, spent at once and awaited before the reply leaves. */
    rateCheck: { hash: string; verdict: Promise<RateVerdict> } | null;
  }
  interface FastifyContextConfig {
    /** Least API key scope the route needs; default read for GET/HEAD, full otherwise. */
    scope?: ApiKeyScope;
  }
}

const PUBLIC = [/^\/health(\?|$)/, /^\/metrics(\?|$)/, /^\/webhooks\//, ...PUBLIC_DOCS];
/** How often a key's last_used_at is written (s); it is informational, not worth a write per request. */
const LAST_USED_EVERY_SECONDS = 60;

export type AuthDeps = { db: Db; redis: RedisClient; config: Config; logger: Logger };

export function registerAuth(app: FastifyInstance, deps: AuthDeps): ApiKeyCache {
  const { db, config } = deps;
  const cache = new ApiKeyCache(deps.redis, config.queuePrefix, config.apiKeyCacheSeconds);
  const limiter = new RedisRateLimiter(
    deps.redis,
    redisKeys.apiRateLimit(config.queuePrefix),
    { limit: config.apiRateLimit, windowMs: config.apiRateWindowSeconds * 1000 },
    (error) => deps.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'rate limit not checked: RedisClient did not answer'),
  );
  // Per process, in front of the shared check: most requests of a busy key skip even the Redis call.
  const touchedAt = new Map<string, number>();
  // Keys the limiter refused, until the moment it said: the shared budget cannot free up sooner
  // (nothing lowers it), so refusing here until then answers as Redis would, without asking it.
  const refusedUntil = new Map<string, number>();
  const enforce = (hash: string, verdict: RateVerdict): void => {
    if (verdict.allowed) return;
    if (refusedUntil.size >= 10_000) refusedUntil.clear();
    refusedUntil.set(hash, Date.now() + verdict.retryAfterMs);
    throw errors.rateLimited(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
  };
  app.addHook('onReady', async () => {
    cache.listen();
  });
  app.addHook('onClose', async () => {
    cache.close();
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const check = request.rateCheck;
    if (!check) return payload;
    request.rateCheck = null;
    const verdict = await check.verdict;
    if (verdict.allowed) return payload;
    // The answer the route made is not sent: a stream it opened is closed, and the refusal goes
    // out through the error handler as JSON.
    if (payload instanceof Readable) payload.destroy();
    void reply.removeHeader('content-type').removeHeader('content-disposition').removeHeader('content-length');
    enforce(check.hash, verdict);
    return payload;
  });
  app.decorateRequest('tenantId', '');
  app.decorateRequest('apiKeyId', '');
  app.decorateRequest('authMs', 0);
  app.decorateRequest('rateCheck', null);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (PUBLIC.some((pattern) => pattern.test(request.url))) return;
    if (isConsoleRoute(request.url)) return;
    const key = extractKey(request);
    if (!key) {
      // The console's alternative to a key: its session cookie (src/console/session-auth.ts),
      // held to the same key's expiry, revocation and scope.
      const session = await consoleSessionTenant(request);
      if (!session) throw errors.unauthorized();
      const needed = request.routeOptions.config.scope ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'full');
      if (!scopeAllows(session.scope, needed)) throw errors.insufficientScope(session.scope, needed);
      request.tenantId = session.tenantId;
      request.apiKeyId = session.apiKeyId;
      request.log = request.log.child({ tenantId: session.tenantId, console: true });
      return;
    }
    if (!looksLikeApiKey(key)) throw errors.invalidApiKey();
    const started = performance.now();
    const hash = hashApiKey(key);
    const refusedFor = refusedUntil.get(hash);
    if (refusedFor !== undefined) {
      if (refusedFor > Date.now()) throw errors.rateLimited(Math.max(1, Math.ceil((refusedFor - Date.now()) / 1000)));
      refusedUntil.delete(hash);
    }
    // The request spends its share of the key's limit at once, while the key is checked (from
    // this process's memory, most often: no wait at all).
    const verdict = limiter.take(hash);
    const resolved = await cache.resolve(db, hash);
    if (!resolved || resolved.revoked || (resolved.expiresAt !== null && resolved.expiresAt <= Date.now())) throw errors.invalidApiKey();
    const required = request.routeOptions.config.scope ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'full');
    if (!scopeAllows(resolved.scope, required)) throw errors.insufficientScope(resolved.scope, required);
    // A read changes nothing, so it does not wait for the limit's answer: the answer is awaited
    // before the reply leaves (onSend below), and a refused read answers 429 all the same. Anything
    // else waits, so a refused request changes nothing.
    if (request.method === 'GET' || request.method === 'HEAD') request.rateCheck = { hash, verdict };
    else enforce(hash, await verdict);
    request.tenantId = resolved.tenantId;
    request.apiKeyId = resolved.id;
    request.log = request.log.child({ tenantId: resolved.tenantId, apiKeyId: resolved.id });
    request.authMs = performance.now() - started;
    const now = Date.now();
    if (now - (touchedAt.get(resolved.id) ?? 0) > LAST_USED_EVERY_SECONDS * 1000) {
      if (touchedAt.size >= 10_000) touchedAt.clear();
      touchedAt.set(resolved.id, now);
      if (await cache.shouldTouch(resolved.id, LAST_USED_EVERY_SECONDS)) {
        void db.prisma.apiKey.update({ where: { id: resolved.id }, data: { lastUsedAt: new Date() } }).catch(() => undefined);
      }
    }
  });
  return cache;
}

function extractKey(request: FastifyRequest): string | null {
  const bearer = /^bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
  if (bearer?.[1]) return bearer[1].trim() || null;
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() ? apiKey.trim() : null;
}
