/**
 * GET /v1/live/campaigns?ids=<id>,<id>: server-sent events with each campaign's live snapshot
 * (progress, rate, ETA, account state, funnel), about once a second, for the console's list and
 * campaign pages, or for anyone with curl. Snapshots come from the shared per-campaign poller
 * (src/console/live-hub.ts), so a viewer adds no query of its own.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { errors } from '../../errors.js';
import type { CampaignLiveHub } from '../../console/live-hub.js';
import type { AppContext } from '../app.js';
import { parseInput } from '../../validate.js';
import { doc, other } from '../openapi/route-doc.js';
import { EXAMPLE_CAMPAIGN_ID } from '../openapi/examples.js';

const MAX_IDS = 50;
const HEARTBEAT_MS = 15_000;
const query = z.object({
  ids: z
    .string()
    .min(1)
    .transform((v) => [...new Set(v.split(',').map((s) => s.trim()).filter(Boolean))])
    .pipe(z.array(z.string().uuid()).min(1).max(MAX_IDS)),
});

const liveDoc = doc({
  tag: 'campaigns',
  summary: "Server-sent events: each campaign's live snapshot (progress, rate, ETA, account state, funnel), about once a second",
  query,
  responses: {
    200: other(
      'text/event-stream',
      z.string(),
      `: live\n\nevent: campaign\ndata: {"id":"${EXAMPLE_CAMPAIGN_ID}","status":"running","progress":{"total":9980,"done":5892,"ratePerSecond":78.4,"etaSeconds":52}}\n\n`,
      'A stream of `campaign` events; a comment line every 15 s keeps it open',
    ),
  },
  errors: [errors.campaignNotFound(EXAMPLE_CAMPAIGN_ID)],
});

export function consoleLiveRoutes(ctx: AppContext, hub: CampaignLiveHub): FastifyPluginAsync {
  return async (app) => {
    app.get('/v1/live/campaigns', liveDoc, async (request, reply) => {
      const { ids } = parseInput(query, request.query);
      const { rows } = await ctx.db.pool.query<{ id: string }>(`SELECT id FROM campaigns WHERE id = ANY($1::uuid[]) AND tenant_id = $2`, [ids, request.tenantId]);
      const found = new Set(rows.map((r) => r.id));
      const missing = ids.find((id) => !found.has(id));
      if (missing) throw errors.campaignNotFound(missing);

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(': live\n\n');
      hub.track(res);
      const unsubscribe = ids.map((id) => hub.subscribe(id, (snapshot) => res.write(`event: campaign\ndata: ${JSON.stringify(snapshot)}\n\n`)));
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      const close = () => {
        clearInterval(heartbeat);
        for (const stop of unsubscribe) stop();
      };
      request.raw.on('close', close);
      res.on('error', close);
    });
  };
}
