/**
 * GET /openapi.json and the documentation page at /docs, both public (like most public APIs'
 * specs: it describes the API, never a tenant's data). Every route registered with a
 * declaration (`doc({...})`, ./route-doc.ts) is collected as fastify registers it; the document
 * is generated once, on first request. /docs is Swagger UI (@fastify/swagger-ui), its assets
 * served from this process (no outside origin), reading the same document.
 *
 * Routes with no declaration are only those UNDOCUMENTED lists; test/api/openapi.test.ts holds
 * every other route to having one.
 */
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CSP } from '../../console/console-routes.js';
import { buildOpenApiDocument, type DocumentedRoute, type OpenApiDocument } from './openapi-document.js';
import { doc, json } from './route-doc.js';

export const DOCS_PREFIX = '/docs';

/** Not API operations: the console's pages and assets, Bull Board, and the docs page's own files. */
export const UNDOCUMENTED: readonly RegExp[] = [/^\/console(\/|$)/, /^\/admin\/queues(\/|$)/, /^\/docs(\/|$)/];

/** Paths served without an API key (src/api/auth.ts reads it). */
export const PUBLIC_DOCS: readonly RegExp[] = [/^\/openapi\.json(\?|$)/, /^\/docs(\/|\?|$)/];

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * The console's policy (nothing from another origin, no inline code), with the one inline style
 * Swagger UI's script injects allowed by its hash (test/api/openapi.test.ts renders the page in
 * Chromium and fails on any violation, so a new Swagger UI with another style shows there).
 */
const DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='");

const openApiShape = z
  .object({ openapi: z.string(), info: z.object({ title: z.string(), version: z.string() }).loose(), paths: z.record(z.string(), z.unknown()) })
  .loose();

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route's declaration as registered, and the document made of them. */
    apiDocs: { routes: readonly DocumentedRoute[]; document(): OpenApiDocument };
  }
}

/** Collects the declared routes; call before any route is registered. */
export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  const routes: DocumentedRoute[] = [];
  app.addHook('onRoute', (route) => {
    const declared = route.config?.openapi;
    if (!declared) return;
    for (const method of [route.method].flat()) {
      // Fastify adds a HEAD to each GET; it is the GET's operation.
      if (method !== 'HEAD') routes.push({ method, url: route.url, doc: declared, scope: route.config?.scope });
    }
  });
  let document: OpenApiDocument | null = null;
  const current = (): OpenApiDocument => (document ??= buildOpenApiDocument(routes, { version: VERSION }));
  app.decorate('apiDocs', { routes, document: current });

  app.get(
    '/openapi.json',
    doc({
      tag: 'docs',
      auth: 'public',
      summary: 'This API described as OpenAPI 3.1',
      description: 'Generated from the schemas the API validates requests with. Public: it describes the API, not anyone\'s data. Browse it at /docs.',
      responses: { 200: json(openApiShape, { openapi: '3.1.0', info: { title: 'WhatsApp campaign engine API', version: VERSION }, paths: {} }) },
    }),
    async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(current()),
  );

  await app.register(swagger, { mode: 'static', specification: { document: { openapi: '3.1.0', info: { title: 'WhatsApp campaign engine API', version: VERSION }, paths: {} } } });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: DOCS_CSP,
    transformSpecification: () => current(),
    transformSpecificationClone: false,
    // validatorUrl null: no badge that sends the document's URL to an outside validator.
    uiConfig: { deepLinking: true, docExpansion: 'list', validatorUrl: null },
  });
}
