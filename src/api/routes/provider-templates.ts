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
import { errors } from '../../errors.js';
import { doc, json, jsonBody } from '../openapi/route-doc.js';
import { EXAMPLE_ACCOUNT_ID } from '../openapi/examples.js';
import { syncResult, syncResultExample, template, templateExample } from '../openapi/responses/misc.js';

/** What reaching the provider can answer (src/templates/provider-account.ts, fetch-provider-templates.ts). */
const providerErrors = [
  errors.accountNotFound(EXAMPLE_ACCOUNT_ID),
  errors.credentialsUnreadable(EXAMPLE_ACCOUNT_ID),
  errors.invalidAccountConfig('meta', ['credentials.accessToken: Required']),
  errors.providerRequestFailed('Meta', 'list the templates', 'the access token has expired', 'PROVIDER_AUTH_FAILED', '190'),
  errors.providerUnavailable('Meta', 'list the templates', false),
];

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
    const syncDoc = doc({
      tag: 'templates',
      summary: "Import the provider's templates into the account",
      description: 'New ones are created, changed ones updated, ones no longer listed disabled.',
      params: idParams,
      responses: { 200: json(syncResult, syncResultExample) },
      errors: [...providerErrors, errors.templateSyncUnsupported('Adereso', 'register its templates with POST /v1/templates')],
    });
    app.post('/v1/accounts/:id/templates/sync', syncDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      return syncTemplates(ctx.db, request.tenantId, id, { timeoutMs: ctx.config.sendTimeoutMs, log: request.log });
    });

    /** Creates a template at the provider; it is stored as the provider answers (pending review). */
    const createDoc = doc({
      tag: 'templates',
      summary: 'Create a template at the provider (Optiwe), checked locally first',
      params: idParams,
      body: jsonBody(createBody, { name: 'recordatorio_pago', body: 'Hola {{1}}, tu saldo es {{2}}.', example: 'Hola Ana, tu saldo es $12.000.', category: 'UTILITY', language: 'es' }),
      responses: { 201: json(template, { ...templateExample, status: 'pending' }, 'Created at the provider, pending its review') },
      errors: [
        ...providerErrors,
        errors.validation(['body: the placeholders must be numbered {{1}} to {{n}}']),
        errors.templateCreationUnsupported('Meta', 'create it in the WhatsApp Manager, then sync'),
        errors.providerTemplateExists('Optiwe', 'recordatorio_pago'),
        errors.providerTemplateInvalid('Optiwe', ['name: only lowercase letters, digits and underscores']),
      ],
    });
    app.post('/v1/accounts/:id/provider-templates', createDoc, async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      const body = parseInput(createBody, request.body);
      const template = await createProviderTemplate(ctx.db, request.tenantId, id, body, { timeoutMs: ctx.config.sendTimeoutMs, log: request.log });
      return reply.status(201).send(publicTemplate(template));
    });
  };
}
