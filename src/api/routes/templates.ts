/**
 * Templates (HSM). Registered by hand for providers with no listing API (Adereso, sandbox);
 * provider sync comes with each adapter. The parameter count is read from the body's {{n}}.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Template } from '../../db/database.js';
import { errors } from '../../errors.js';
import type { AppContext } from '../app.js';
import { TEMPLATE_HEADER_TYPES } from '../../providers/types.js';
import { parseInput } from '../../validate.js';
import { countPlaceholders } from '../../providers/placeholders.js';
import { doc, json, jsonBody } from '../openapi/route-doc.js';
import { EXAMPLE_ACCOUNT_ID } from '../openapi/examples.js';
import { templateExample, template as templateSchema, templateList } from '../openapi/responses/misc.js';

const listQuery = z.object({ accountId: z.string().uuid().optional() });
const createBody = z.object({
  accountId: z.string().uuid(),
  name: z.string().min(1).max(512),
  externalId: z.string().min(1).optional(),
  language: z.string().min(2).max(15).default('es'),
  category: z.enum(['MARKETING', 'UTILITY', 'AUTHENTICATION']).default('MARKETING'),
  body: z.string().min(1).max(1024),
  /** Names of the placeholders by position, for providers that take named parameters. */
  paramNames: z.array(z.string().min(1)).optional(),
  status: z.enum(['pending', 'approved', 'rejected', 'paused', 'disabled']).default('approved'),
  /** Header kind as approved: a media header (image, video, document) needs media on every campaign. */
  headerType: z.enum(TEMPLATE_HEADER_TYPES).default('none'),
  /** Buttons in the approved order (at most 10, as WhatsApp allows). */
  buttons: z
    .array(z.object({ type: z.enum(['QUICK_REPLY', 'URL', 'PHONE_NUMBER']), text: z.string().min(1).max(25), value: z.string().min(1).max(2000).optional() }))
    .max(10)
    .default([]),
});

export { countPlaceholders };

export function publicTemplate(t: Template) {
  return {
    id: t.id,
    accountId: t.accountId,
    name: t.name,
    externalId: t.externalId,
    language: t.language,
    category: t.category,
    body: t.body,
    paramCount: t.paramCount,
    paramNames: t.paramNames,
    headerType: t.headerType,
    buttons: t.buttons,
    status: t.status,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

export function templateRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const createDoc = doc({
      summary: 'Register an approved template by hand (providers with no listing API)',
      description: 'Created, or replaced when the account already has one of that name and language. The parameter count is read from the body\'s {{n}}.',
      body: jsonBody(createBody, { accountId: EXAMPLE_ACCOUNT_ID, name: 'recordatorio_pago', language: 'es', category: 'UTILITY', body: 'Hola {{1}}, te recordamos tu saldo pendiente de {{2}}.' }),
      responses: { 201: json(templateSchema, templateExample, 'Created or replaced') },
      errors: [errors.accountNotFound(EXAMPLE_ACCOUNT_ID)],
    });
    app.post('/v1/templates', createDoc, async (request, reply) => {
      const body = parseInput(createBody, request.body);
      const account = await ctx.db.prisma.providerAccount.findFirst({ where: { id: body.accountId, tenantId: request.tenantId } });
      if (!account) throw errors.accountNotFound(body.accountId);
      const { count, problem } = countPlaceholders(body.body);
      if (problem) throw errors.validation([`body: ${problem}`]);
      if (body.paramNames && body.paramNames.length !== count) {
        throw errors.validation([`paramNames: the body has ${count} placeholder(s) but ${body.paramNames.length} name(s) were given`]);
      }
      const data = {
        tenantId: request.tenantId,
        accountId: body.accountId,
        name: body.name,
        externalId: body.externalId ?? null,
        language: body.language,
        category: body.category,
        body: body.body,
        paramCount: count,
        paramNames: body.paramNames ?? [],
        headerType: body.headerType,
        buttons: body.buttons,
        status: body.status,
      };
      const template = await ctx.db.prisma.template.upsert({
        where: { accountId_name_language: { accountId: body.accountId, name: body.name, language: body.language } },
        create: data,
        update: data,
      });
      return reply.status(201).send(publicTemplate(template));
    });

    app.get('/v1/templates', doc({ summary: "The tenant's templates, optionally of one account", query: listQuery, responses: { 200: json(templateList, { templates: [templateExample] }) } }), async (request) => {
      const query = parseInput(listQuery, request.query);
      const templates = await ctx.db.prisma.template.findMany({
        where: { tenantId: request.tenantId, ...(query.accountId ? { accountId: query.accountId } : {}) },
        orderBy: [{ name: 'asc' }, { language: 'asc' }],
      });
      return { templates: templates.map(publicTemplate) };
    });
  };
}
