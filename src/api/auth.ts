/**
 * API key authentication for every route except health and provider webhooks. The key comes
 * as `Authorization: Bearer <key>` or `X-Api-Key: <key>`; the request gets the key's tenant,
 * and every query downstream is scoped by it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';
import { consoleSessionTenant, isConsoleRoute } from '../console/session-auth.js';
import { hashApiKey } from './api-keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    tenantId: string;
  }
}

const PUBLIC = [/^\/health(\?|$)/, /^\/webhooks\//];
/** How often a key's last_used_at is refreshed (ms); it is informational, not worth a write per request. */
const LAST_USED_EVERY_MS = 60_000;

export function registerAuth(app: FastifyInstance, db: Db): void {
  // No cache of answers: a revoked key stops working on the next request (one indexed lookup).
  const lastUsedWritten = new Map<string, number>();
  app.decorateRequest('tenantId', '');
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (PUBLIC.some((pattern) => pattern.test(request.url))) return;
    if (isConsoleRoute(request.url)) return;
    const key = extractKey(request);
    if (!key) {
      // The console's alternative to a key: its session cookie (src/console/session-auth.ts).
      const sessionTenant = await consoleSessionTenant(request);
      if (!sessionTenant) throw errors.unauthorized();
      request.tenantId = sessionTenant;
      request.log = request.log.child({ tenantId: sessionTenant, console: true });
      return;
    }
    const hash = hashApiKey(key);
    const row = await db.prisma.apiKey.findUnique({ where: { hash }, select: { id: true, tenantId: true, revokedAt: true } });
    if (!row || row.revokedAt) throw errors.invalidApiKey();
    request.tenantId = row.tenantId;
    request.log = request.log.child({ tenantId: row.tenantId });
    if (Date.now() - (lastUsedWritten.get(row.id) ?? 0) > LAST_USED_EVERY_MS) {
      lastUsedWritten.set(row.id, Date.now());
      void db.prisma.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } }).catch(() => undefined);
    }
  });
}

function extractKey(request: FastifyRequest): string | null {
  const bearer = /^bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
  if (bearer?.[1]) return bearer[1].trim() || null;
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() ? apiKey.trim() : null;
}
