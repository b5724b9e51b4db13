/**
 * GET /metrics: Prometheus text format (API key required, like every route but health and
 * webhooks). Besides this process's counters, it reports the webhook backlog from Postgres, so
 * a stalled processor shows on a dashboard whichever process serves the scrape.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Gauge } from 'prom-client';
import { registry } from '../../metrics.js';
import type { AppContext } from '../app.js';

export function metricsRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const backlog = registry.getSingleMetric('wce_webhook_backlog') ?? new Gauge({
      name: 'wce_webhook_backlog',
      help: 'Stored webhook requests not processed yet, by state (pending, waiting for their send to be recorded).',
      labelNames: ['state'] as const,
      registers: [registry],
    });
    app.get('/metrics', async (_request, reply) => {
      const { rows } = await ctx.db.pool.query<{ status: string; n: string }>(
        `SELECT status::text, count(*) AS n FROM webhook_events WHERE status IN ('pending', 'waiting') GROUP BY status`,
      );
      if (backlog instanceof Gauge) {
        backlog.reset();
        backlog.set({ state: 'pending' }, 0);
        backlog.set({ state: 'waiting' }, 0);
        for (const row of rows) backlog.set({ state: row.status }, Number(row.n));
      }
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  };
}
