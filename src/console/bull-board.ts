/**
 * Bull Board at /admin/queues, behind the console's sign-in. Queues are per provider account and
 * accounts belong to tenants, so a signed-in user sees only their own tenant's queues:
 *
 * - the tenant's account queues are added to the board on each visit (new accounts appear);
 * - the queue list (GET api/queues) is filtered to them;
 * - routes naming a queue answer 404 for another tenant's queue, like the API;
 * - routes over every queue at once (pause all, resume all, metrics history, job schedulers)
 *   answer 404: they would reach other tenants' queues.
 *
 * Read-only by default (readOnlyMode): retrying, cleaning or pausing from the board bypasses
 * the engine's own campaign and account actions. BULL_BOARD_ACTIONS=true allows them; the
 * board's own requests carry no CSRF token, so a state-changing one must come from this origin
 * (Origin / Referer checked) on top of the SameSite=Strict cookie.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { AppError, errors } from '../errors.js';
import { sendQueueName, type SendQueues } from '../queue/queues.js';
import { requirePageSession, sessionOf } from './session-auth.js';

export const BULL_BOARD_PATH = '/admin/queues';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    boardQueues?: Set<string>;
  }
}

export async function registerBullBoard(app: FastifyInstance, deps: { config: Config; db: Db; queues: SendQueues }): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  const board = createBullBoard({ queues: [], serverAdapter, options: { uiConfig: { boardTitle: 'Queues' } } });
  const added = new Set<string>();
  const readOnlyMode = !deps.config.bullBoardActions;

  async function tenantQueues(tenantId: string): Promise<Set<string>> {
    const accounts = await deps.db.prisma.providerAccount.findMany({ where: { tenantId }, select: { id: true, name: true } });
    for (const account of accounts) {
      const name = sendQueueName(account.id);
      if (added.has(name)) continue;
      board.addQueue(new BullMQAdapter(deps.queues.forAccount(account.id), { readOnlyMode, displayName: `${account.name} (${name})` }));
      added.add(name);
    }
    return new Set(accounts.map((a) => sendQueueName(a.id)));
  }

  await app.register(async (scope) => {
    // Bull Board's plugin answers errors in its own shape: the engine's refusals are sent here,
    // in the engine's {error: {code, message}}, before its handler sees them.
    scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        return await guard(request, reply);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        return reply.status(error.statusCode).send(error.toJSON());
      }
    });
    const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
      const path = request.url.split('?')[0] ?? '';
      const api = path.startsWith(`${BULL_BOARD_PATH}/api/`);
      if (!api && !path.startsWith(`${BULL_BOARD_PATH}/static/`)) {
        const resolved = await requirePageSession(request, reply);
        if (!resolved) return reply;
        request.boardQueues = await tenantQueues(resolved.session.tenantId);
        return;
      }
      if (!api) return; // the board's own scripts and styles
      const resolved = await sessionOf(request);
      if (!resolved) throw errors.consoleSignedOut();
      if (!SAFE.has(request.method) && !sameOrigin(request)) throw errors.csrfTokenInvalid();
      const allowed = await tenantQueues(resolved.session.tenantId);
      request.boardQueues = allowed;
      const rest = path.slice(`${BULL_BOARD_PATH}/api/`.length).split('/').map(decodeURIComponent);
      if (rest[0] === 'redis' || (rest[0] === 'queues' && rest.length === 1)) return;
      if (rest[0] === 'queues' && rest[1] && rest[1] !== 'pause' && rest[1] !== 'resume' && allowed.has(rest[1])) return;
      throw errors.notFound('queue', rest[1] ?? rest[0] ?? '');
    };
    // The queue list holds every tenant's queues added so far: keep the caller's own.
    scope.addHook('onSend', async (request, _reply, payload) => {
      const path = request.url.split('?')[0] ?? '';
      if (path !== `${BULL_BOARD_PATH}/api/queues` || typeof payload !== 'string' || !request.boardQueues) return payload;
      const allowed = request.boardQueues;
      try {
        const body = JSON.parse(payload) as { queues?: { name: string }[] };
        if (Array.isArray(body.queues)) body.queues = body.queues.filter((q) => allowed.has(q.name));
        return JSON.stringify(body);
      } catch {
        return payload;
      }
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
  });
}

function sameOrigin(request: FastifyRequest): boolean {
  const source = request.headers.origin ?? request.headers.referer;
  if (typeof source !== 'string') return false;
  try {
    // Both through URL, so a default port (":80") compares equal to none.
    return new URL(source).host === new URL(`http://${request.headers.host ?? ''}`).host;
  } catch {
    return false;
  }
}
