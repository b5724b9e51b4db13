/**
 * The console's own routes: its pages (an HTML shell each; the data comes from the /v1 API),
 * its static files, sign-in and sign-out, and the language switch. Pages need a session and
 * redirect to the sign-in page without one; a campaign page for an id the tenant does not own
 * answers 404 like the API does.
 */
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hashApiKey } from '../tenants/api-keys.js';
import { parseInput } from '../validate.js';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';
import { LANGUAGE_COOKIE, languageOf, translate, type Language } from './i18n.js';
import { pageShell } from './page-shell.js';
import { CSRF_HEADER, requirePageSession, SESSION_COOKIE, sessionCookie, sessionOf } from './session-auth.js';
import { csrfMatches, type SessionStore } from './session-store.js';

/** Content-Security-Policy of every console page: nothing but the engine's own files. */
/** Same origin only, no inline code; the docs page (/docs) is held to it too. */
export const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const PAGES: Record<string, { page: string; title: string }> = {
  '/console/campaigns': { page: 'campaigns', title: 'campaigns.title' },
  '/console/campaigns/new': { page: 'new', title: 'wizard.title' },
  '/console/accounts': { page: 'accounts', title: 'accounts.title' },
  '/console/suppressions': { page: 'suppressions', title: 'suppressions.title' },
};

export type ConsoleDeps = { config: Config; db: Db; sessions: SessionStore };

export function consoleRoutes(deps: ConsoleDeps): FastifyPluginAsync {
  return async (app) => {
    await app.register(fastifyStatic, { root: join(import.meta.dirname, 'public'), prefix: '/console/static/', index: false, cacheControl: false });

    function send(reply: FastifyReply, request: FastifyRequest, status: number, page: string, titleKey: string, csrf: string | null, data: Record<string, string> = {}) {
      const language = languageOf(request);
      return reply
        .status(status)
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', CSP)
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
        .send(pageShell({ language, page, title: translate(language, titleKey), csrfToken: csrf, path: request.url.split('?')[0] ?? '/console', data, bullBoard: true }));
    }

    app.get('/console', async (_request, reply) => reply.redirect('/console/campaigns', 303));

    app.get('/console/sign-in', async (request, reply) => send(reply, request, 200, 'sign-in', 'signIn.title', null));

    /** {apiKey} → a session cookie. The key is checked like the API checks it, then forgotten. */
    app.post('/console/session', async (request, reply) => {
      const { apiKey } = parseInput(z.object({ apiKey: z.string().min(1).max(500) }), request.body);
      const row = await deps.db.prisma.apiKey.findUnique({ where: { hash: hashApiKey(apiKey.trim()) }, select: { id: true, tenantId: true, revokedAt: true } });
      if (!row || row.revokedAt) throw errors.invalidApiKey();
      const { id } = await deps.sessions.create(row.tenantId, row.id);
      request.log.info({ tenantId: row.tenantId, apiKeyId: row.id }, 'console signed in');
      return reply.header('set-cookie', sessionCookie(request, deps.config.publicUrl, id, deps.config.consoleSessionTtlSeconds)).send({ signedIn: true });
    });

    app.post('/console/sign-out', async (request, reply) => {
      const resolved = await sessionOf(request);
      if (resolved) {
        const given = request.headers[CSRF_HEADER];
        if (!csrfMatches(resolved.session, typeof given === 'string' ? given : undefined)) throw errors.csrfTokenInvalid();
        await deps.sessions.destroy(resolved.id);
      }
      return reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`).send({ signedIn: false });
    });

    app.get('/console/language/:language', async (request, reply) => {
      const { language } = parseInput(z.object({ language: z.enum(['es', 'en']) }), request.params);
      const { back } = parseInput(z.object({ back: z.string().max(500).optional() }), request.query);
      // Only a path of the console itself: never an open redirect.
      const target = back && /^\/(console|admin\/queues)(\/[\w\-/]*)?$/.test(back) ? back : '/console/campaigns';
      const lang: Language = language;
      return reply.header('set-cookie', `${LANGUAGE_COOKIE}=${lang}; Path=/; SameSite=Lax; Max-Age=31536000`).redirect(target, 303);
    });

    for (const [path, { page, title }] of Object.entries(PAGES)) {
      app.get(path, async (request, reply) => {
        const resolved = await requirePageSession(request, reply);
        if (!resolved) return reply;
        return send(reply, request, 200, page, title, resolved.session.csrfToken);
      });
    }

    app.get('/console/campaigns/:id', async (request, reply) => {
      const resolved = await requirePageSession(request, reply);
      if (!resolved) return reply;
      const { id } = request.params as { id: string };
      const valid = /^[0-9a-f-]{36}$/i.test(id);
      const campaign = valid ? await deps.db.prisma.campaign.findFirst({ where: { id, tenantId: resolved.session.tenantId }, select: { id: true } }) : null;
      if (!campaign) return send(reply, request, 404, 'not-found', 'notFound.title', resolved.session.csrfToken);
      return send(reply, request, 200, 'campaign', 'campaign.title', resolved.session.csrfToken, { id });
    });
  };
}
