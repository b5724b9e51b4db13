/**
 * Tenant settings. Today: the stop words that, as a reply, opt a phone out (added to the
 * suppression list). An empty list means the engine's defaults in Spanish, Portuguese and English.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { DEFAULT_STOP_WORDS } from '../../webhooks/stop-words.js';
import type { AppContext } from '../app.js';
import { parseInput } from '../../validate.js';
import { doc, json, jsonBody } from '../openapi/route-doc.js';
import { stopWords, stopWordsExample } from '../openapi/responses/misc.js';

const stopWordsBody = z.object({
  /** Whole replies that opt out ("BAJA", "no más"); matched ignoring case, accents and punctuation. [] restores the defaults. */
  stopWords: z.array(z.string().trim().min(1).max(60)).max(200),
});

export function settingsRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/v1/settings/stop-words', doc({ summary: "The tenant's opt-out words (or the defaults)", responses: { 200: json(stopWords, stopWordsExample) } }), async (request) => {
      const tenant = await ctx.db.prisma.tenant.findUniqueOrThrow({ where: { id: request.tenantId }, select: { stopWords: true } });
      const own = tenant.stopWords;
      return { stopWords: own.length > 0 ? own : DEFAULT_STOP_WORDS, usingDefaults: own.length === 0, defaults: DEFAULT_STOP_WORDS };
    });

    const putDoc = doc({
      summary: 'Set the opt-out words; [] restores the defaults (es, pt, en)',
      body: jsonBody(stopWordsBody, { stopWords: ['BAJA', 'no más'] }),
      responses: { 200: json(stopWords, stopWordsExample) },
    });
    app.put('/v1/settings/stop-words', putDoc, async (request) => {
      const { stopWords } = parseInput(stopWordsBody, request.body);
      const unique = [...new Set(stopWords)];
      await ctx.db.prisma.tenant.update({ where: { id: request.tenantId }, data: { stopWords: unique } });
      // Worker processes pick the new list up within 30 s (they cache it per tenant).
      return { stopWords: unique.length > 0 ? unique : DEFAULT_STOP_WORDS, usingDefaults: unique.length === 0, defaults: DEFAULT_STOP_WORDS };
    });
  };
}
