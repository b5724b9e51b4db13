/**
 * GET /metrics: Prometheus text format, for the operator only: it needs METRICS_TOKEN as
 * `Authorization: Bearer <token>` (compared in constant time); tenant API keys never work here,
 * and with no token set the route is off. Besides this process's counters, it reports the webhook backlog from Postgres, so
 * a stalled processor shows on a dashboard whichever process serves the scrape.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { errors } from '../../errors.js';
import { Gauge } from 'prom-client';
import { registry } from '../../metrics.js';
import type { AppContext } from '../app.js';
import { z } from 'zod';
import { doc, other } from '../openapi/route-doc.js';

const metricsDoc = doc({
  tag: 'operations',
  auth: 'operator',
  summary: 'Prometheus metrics (operator token, not an API key)',
  description: 'Off (404 METRICS_DISABLED) unless the operator sets METRICS_TOKEN.',
  responses: {
    200: other(
      'text/plain; version=0.0.4',
      z.string(),
      '# HELP wce_webhook_backlog Stored webhook requests not processed yet, by state.\n# TYPE wce_webhook_backlog gauge\nwce_webhook_backlog{state="pending"} 0\n',
      'The Prometheus text format',
    ),
  },
  errors: [errors.metricsTokenRequired(), errors.metricsDisabled()],
});

export function metricsRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const backlog = registry.getSingleMetric('wce_webhook_backlog') ?? new Gauge({
      name: 'wce_webhook_backlog',
      help: 'Stored webhook requests not processed yet, by state (pending, waiting for their send to be recorded).',
      labelNames: ['state'] as const,
      registers: [registry],
    });
    const expected = ctx.config.metricsToken === null ? null : digest(ctx.config.metricsToken);
    const authorized = (request: FastifyRequest): boolean => {
      const presented = /^bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
      return expected !== null && presented !== undefined && timingSafeEqual(digest(presented), expected);
    };
    app.get('/metrics', metricsDoc, async (request, reply) => {
      if (expected === null) throw errors.metricsDisabled();
      if (!authorized(request)) throw errors.metricsTokenRequired();
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

/** Fixed-length digests, so the constant-time comparison does not reveal the token's length either. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
