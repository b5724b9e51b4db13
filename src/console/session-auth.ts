/**
 * The console's half of authentication: a request that carries no API key may carry the
 * console's session cookie instead. The session must exist, its API key must still be valid
 * (revoking the key ends its console sessions), and a state-changing request must echo the
 * session's CSRF token in `X-CSRF-Token` (SameSite=Strict already keeps other sites' requests
 * from carrying the cookie; the token is the second lock).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/database.js';
import { apiKeyState, type ApiKeyScope } from '../tenants/api-keys.js';
import { errors } from '../errors.js';
import { csrfMatches, type ConsoleSession, type SessionStore } from './session-store.js';

export const SESSION_COOKIE = 'wce_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyInstance {
    consoleSessions: { store: SessionStore; db: Db };
  }
}

/** Console pages and Bull Board check the session themselves (they redirect to the sign-in page rather than answer 401). */
export function isConsoleRoute(url: string): boolean {
  return /^\/(console|admin\/queues)(\/|\?|$)/.test(url);
}

export function readCookie(request: FastifyRequest, name: string): string | null {
  const header = request.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

export type ResolvedSession = { id: string; session: ConsoleSession; scope: ApiKeyScope };

/** The request's live console session, or null (no cookie, expired, or its key revoked). */
export async function sessionOf(request: FastifyRequest): Promise<ResolvedSession | null> {
  const id = readCookie(request, SESSION_COOKIE);
  if (!id) return null;
  const { store, db } = request.server.consoleSessions;
  const session = await store.get(id);
  if (!session) return null;
  const key = await db.prisma.apiKey.findUnique({ where: { id: session.apiKeyId }, select: { tenantId: true, revokedAt: true, expiresAt: true, scope: true } });
  if (!key || key.tenantId !== session.tenantId || apiKeyState(key) !== 'active') {
    await store.destroy(id);
    return null;
  }
  return { id, session, scope: key.scope };
}

/**
 * Called by the API-key hook when a request has no key: the tenant of the session cookie, or
 * null when there is none. Throws when a state-changing request lacks the CSRF token.
 */
export async function consoleSessionTenant(request: FastifyRequest): Promise<{ tenantId: string; apiKeyId: string; scope: ApiKeyScope } | null> {
  const resolved = await sessionOf(request);
  if (!resolved) return null;
  if (!SAFE_METHODS.has(request.method)) {
    const given = request.headers[CSRF_HEADER];
    if (!csrfMatches(resolved.session, typeof given === 'string' ? given : undefined)) throw errors.csrfTokenInvalid();
  }
  return { tenantId: resolved.session.tenantId, apiKeyId: resolved.session.apiKeyId, scope: resolved.scope };
}

/** Secure when the page is served over https (directly, or as PUBLIC_URL says behind a proxy). */
export function sessionCookie(request: FastifyRequest, publicUrl: string | null, value: string, maxAgeSeconds: number): string {
  const secure = request.protocol === 'https' || (publicUrl ?? '').startsWith('https:');
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

export function decorateSessions(app: FastifyInstance, store: SessionStore, db: Db): void {
  app.decorate('consoleSessions', { store, db });
}

/** For console pages: the session, or a redirect to the sign-in page (null returned). */
export async function requirePageSession(request: FastifyRequest, reply: FastifyReply): Promise<ResolvedSession | null> {
  const resolved = await sessionOf(request);
  if (resolved) return resolved;
  const next = encodeURIComponent(request.url);
  await reply.redirect(`/console/sign-in?next=${next}`, 303);
  return null;
}
