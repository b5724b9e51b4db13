/** GET /health: no auth; 200 when Postgres and Redis answer, 503 otherwise. */
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../app.js';
import { doc, json } from '../openapi/route-doc.js';
import { health } from '../openapi/responses/misc.js';

const healthDoc = doc({
  auth: 'public',
  summary: 'Postgres and Redis reachability',
  responses: {
    200: json(health, { status: 'ok', postgres: 'ok', redis: 'ok' }, 'Both answer'),
    503: json(health, { status: 'degraded', postgres: 'ok', redis: 'down' }, 'One of them does not answer'),
  },
});

export function healthRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/health', healthDoc, async (_request, reply) => {
      const [postgres, redis] = await Promise.all([
        ctx.db.pool.query('SELECT 1').then(() => 'ok' as const, () => 'down' as const),
        ctx.redis.ping().then(() => 'ok' as const, () => 'down' as const),
      ]);
      const ok = postgres === 'ok' && redis === 'ok';
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', postgres, redis });
    });
  };
}
