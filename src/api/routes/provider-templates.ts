/**
 * Templates at the provider: sync an account's templates from its provider's listing, and
 * create a template at the provider where it has an API for that (Optiwe). Templates of
 * providers with neither are registered by hand (./templates.ts).
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { createProviderTemplate } from '../../templates/create-provider-template.js';
import { syncTemplates } from '../../templates/sync-templates.js';
import type { AppContext } from '../app.js';
import { parseInput } from '../../validate.js';
import { publicTemplate } from './templates.js';

const idParams = z.object({ id: z.string().uuid() });

// Strings are loose on purpose: the provider's rules are checked after, all at once, so a
// user gets every problem in one answer.
const createBody = z.object({
  name: z.string().max(512),
  /** Body text with {{1}}..{{n}} placeholders; 1024 characters is WhatsApp's limit for a body. */
  body: z.string().max(1024),
  /** The body with sample values, for the provider's reviewers. */
  example: z.string().max(1024),
  category: z.string().default('MARKETING'),
  language: z.string().max(15).default('es'),
  buttons: z
    .array(
      z.object({
        type: z.string(),
        text: z.string(),
        url: z.string().optional(),
        urlExample: z.string().optional(),
        phoneNumber: z.string().optional(),
      }),
    )
    .max(10)
    .optional(),
});

export function providerTemplateRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    /** Reads every template the provider lists into this account's templates. */
    app.post('/v1/accounts/:id/templates/sync', async (request) => {
      const { id } = parseInput(idParams, request.params);
      return syncTemplates(ctx.db, request.tenantId, id, { timeoutMs: ctx.config.sendTimeoutMs, log: request.log });
    });

    /** Creates a template at the provider; it is stored as the provider answers (pending review). */
    app.post('/v1/accounts/:id/provider-templates', async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      const body = parseInput(createBody, request.body);
      const template = await createProviderTemplate(ctx.db, request.tenantId, id, body, { timeoutMs: ctx.config.sendTimeoutMs, log: request.log });
      return reply.status(201).send(publicTemplate(template));
    });
  };
}
