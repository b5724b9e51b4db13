/**
 * The OpenAPI 3.1 document, generated from the routes' own declarations (./route-doc.ts): their
 * zod schemas become JSON Schema (2020-12, OpenAPI 3.1's dialect) with zod's own converter.
 * Request schemas are converted as zod reads them (io: 'input': defaults make a field optional,
 * a transform shows what it accepts); response schemas as they come out (io: 'output'), and a
 * response schema that cannot be shown (a transform, a Date object) throws here rather than
 * documenting something the API does not send. Responses carry JSON, so dates are ISO strings.
 *
 * The errors every route shares are added here, from where they arise: authentication
 * (src/api/auth.ts), the input checks and body parsing (src/api/app.ts, src/validate.ts).
 */
import { z } from 'zod';
import { errors, type AppError } from '../../errors.js';
import type { ApiKeyScope } from '../../tenants/api-keys.js';
import type { MediaDoc, RouteDoc } from './route-doc.js';

export type DocumentedRoute = { method: string; url: string; doc: RouteDoc; scope?: ApiKeyScope | undefined };
type JsonSchema = Record<string, unknown>;
export type OpenApiDocument = {
  openapi: string;
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  security: Record<string, string[]>[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, JsonSchema>>;
  components: { schemas: Record<string, JsonSchema>; examples: Record<string, JsonSchema>; securitySchemes: Record<string, JsonSchema> };
};

/** The one error body every route answers with (src/errors.ts, AppError.toJSON). */
export const errorBody = z.object({
  error: z.object({
    code: z.string().regex(/^[A-Z][A-Z0-9_]+$/).describe('Stable code, listed in src/errors.ts; branch on it.'),
    message: z.string().describe('A sentence a person can act on; may change.'),
    details: z.record(z.string(), z.unknown()).optional().describe('Facts about this error, as named fields.'),
  }),
});

const EXAMPLE_BYTES = 1_048_576;

/** Errors any route can answer: the HTTP machinery and the input checks run before every handler. */
const ANY_ROUTE: AppError[] = [
  errors.badRequest('the URL is not validly percent-encoded'),
  errors.invalidCharacters('query.name'),
  errors.inputTooDeep('body', 32),
  errors.requestTimeout(),
  errors.headersTooLarge(),
  errors.internal(),
];
const WITH_INPUT: AppError[] = [errors.validation(['id: Invalid UUID'])];
/** A route that reads a body: what the parsers refuse. Fastify answers these for any method that may carry one. */
const WITH_BODY: AppError[] = [errors.unsupportedMediaType('text/xml')];
const WITH_JSON_BODY: AppError[] = [errors.malformedJson(), errors.bodyTooLarge(EXAMPLE_BYTES, 'send a smaller body')];
const API_KEY: AppError[] = [errors.unauthorized(), errors.invalidApiKey(), errors.insufficientScope('read', 'full'), errors.rateLimited(12)];
/** The console's session cookie stands for a key; its writes need the session's CSRF token. */
const API_KEY_WRITE: AppError[] = [errors.csrfTokenInvalid()];

const TAGS: Record<string, string> = {
  accounts: 'Provider accounts: credentials (write-only), limits, state, the webhook URL.',
  templates: 'Approved templates: registered by hand, synced from the provider, or created there.',
  campaigns: 'Campaigns: create, fill, start, watch, page through recipients, export.',
  pools: "Sender pools: several accounts, across providers, sharing a campaign's sending by weight.",
  portfolios: 'Business portfolios: accounts that share one messaging limit.',
  uploads: "Recipient files before they are uploaded: a preview of how they will be read.",
  messages: 'Single messages through the campaign pipeline, and Adereso free-text messages.',
  suppressions: 'Phones never sent to again.',
  events: "Outbound events for the tenant's own systems: endpoints, signing secrets, the delivery log.",
  webhooks: "Provider callbacks: no API key, the URL's secret and the provider's signature authenticate.",
  operations: "For the engine's operator, not tenants.",
};

const SCOPE_TEXT: Record<ApiKeyScope, string> = {
  read: 'Needs an API key of scope `read` or more.',
  full: 'Needs an API key of scope `full` or `admin`.',
  admin: 'Needs an API key of scope `admin`.',
};

export function buildOpenApiDocument(routes: readonly DocumentedRoute[], info: { version: string }): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const tags = new Set<string>();
  const operationIds = new Set<string>();
  const examples = new ErrorExamples();
  for (const route of routes) {
    const method = route.method.toLowerCase();
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const operationId = operationIdOf(route.method, route.url);
    if (operationIds.has(operationId)) throw new Error(`OpenAPI: two routes make the operationId ${operationId}`);
    operationIds.add(operationId);
    const tag = route.doc.tag ?? tagOf(route.url);
    tags.add(tag);
    const entry = (paths[path] ??= {});
    if (entry[method]) throw new Error(`OpenAPI: ${route.method} ${route.url} is declared twice`);
    entry[method] = operation(route, operationId, tag, examples);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'WhatsApp campaign engine API',
      version: info.version,
      description:
        'Bulk WhatsApp template campaigns: provider accounts, templates, campaigns and their recipients, suppressions, outbound events. ' +
        'Authenticate with an API key as `Authorization: Bearer <key>` or `X-Api-Key: <key>`. Every error is ' +
        '`{"error": {"code", "message", "details"}}` with a stable `code`. Generated from the zod schemas the API validates requests with.',
    },
    servers: [{ url: '/' }],
    security: [{ bearerApiKey: [] }, { headerApiKey: [] }],
    tags: [...tags].sort().map((name) => (TAGS[name] ? { name, description: TAGS[name] } : { name })),
    paths,
    components: {
      schemas: { Error: schemaOf(errorBody, 'output') },
      examples: examples.all,
      securitySchemes: {
        bearerApiKey: { type: 'http', scheme: 'bearer', description: 'A tenant API key (`wce_...`) as `Authorization: Bearer <key>`. Its scope (read, full, admin) is listed per operation.' },
        headerApiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'The same API key in the `X-Api-Key` header.' },
        operatorToken: { type: 'http', scheme: 'bearer', description: "The operator's token (METRICS_TOKEN), not a tenant key." },
      },
    },
  };
}

function operation(route: DocumentedRoute, operationId: string, tag: string, examples: ErrorExamples): JsonSchema {
  const { doc } = route;
  const auth = doc.auth ?? 'apiKey';
  const scope: ApiKeyScope = route.scope ?? (route.method === 'GET' || route.method === 'HEAD' ? 'read' : 'full');
  const mayHaveBody = !['GET', 'HEAD', 'OPTIONS'].includes(route.method);
  const description = [doc.description, auth === 'apiKey' ? SCOPE_TEXT[scope] : null].filter(Boolean).join('\n\n');

  const shared: AppError[] = [...ANY_ROUTE];
  if (doc.params || doc.query || doc.body) shared.push(...WITH_INPUT);
  if (mayHaveBody) shared.push(...WITH_BODY);
  if (mayHaveBody && !doc.rawBody) shared.push(...WITH_JSON_BODY);
  if (auth === 'apiKey') shared.push(...API_KEY, ...(route.method === 'GET' ? [] : API_KEY_WRITE));
  const own = doc.errors ?? [];

  const responses: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(doc.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.headers ? { headers: Object.fromEntries(Object.entries(response.headers).map(([name, text]) => [name, { description: text, schema: { type: 'string' } }])) } : {}),
      ...(response.content ? { content: mediaContent(response.content, 'output') } : {}),
    };
  }
  for (const [status, list] of byStatus([...own, ...shared.filter((e) => !own.some((o) => o.code === e.code))])) {
    responses[String(status)] = {
      ...errorResponse(list, examples),
      ...(status === 429 ? { headers: { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } } } } : {}),
    };
  }

  return {
    operationId,
    tags: [tag],
    summary: doc.summary,
    ...(description ? { description } : {}),
    security: auth === 'apiKey' ? [{ bearerApiKey: [scope] }, { headerApiKey: [scope] }] : auth === 'operator' ? [{ operatorToken: [] }] : [],
    parameters: parameters(route),
    ...(doc.body
      ? { requestBody: { required: doc.body.required, ...(doc.body.description ? { description: doc.body.description } : {}), content: mediaContent(doc.body.content, 'input') } }
      : {}),
    responses,
  };
}

function parameters(route: DocumentedRoute): JsonSchema[] {
  const { doc } = route;
  const list: JsonSchema[] = [];
  const pathNames = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
  const pathSchema = doc.params ? schemaOf(doc.params, 'input') : null;
  for (const name of pathNames) {
    const schema = (pathSchema?.properties as Record<string, JsonSchema> | undefined)?.[name] ?? { type: 'string' };
    list.push(parameter(name, 'path', true, schema));
  }
  if (doc.query) {
    const schema = schemaOf(doc.query, 'input');
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries((schema.properties as Record<string, JsonSchema> | undefined) ?? {})) {
      list.push(parameter(name, 'query', required.has(name), property));
    }
  }
  for (const [name, header] of Object.entries(doc.headers ?? {})) {
    list.push({ name, in: 'header', required: header.required ?? false, description: header.description, schema: { type: 'string' }, ...(header.example ? { example: header.example } : {}) });
  }
  return list;
}

function parameter(name: string, where: 'path' | 'query', required: boolean, schema: JsonSchema): JsonSchema {
  const { description, ...rest } = schema;
  return { name, in: where, required, ...(typeof description === 'string' ? { description } : {}), schema: rest };
}

function mediaContent(content: Record<string, MediaDoc>, io: 'input' | 'output'): JsonSchema {
  return Object.fromEntries(Object.entries(content).map(([type, media]) => [type, { schema: schemaOf(media.schema, io), example: media.example }]));
}

/** Error examples, each kept once in components.examples (most routes share most of them). */
class ErrorExamples {
  readonly all: Record<string, JsonSchema> = {};
  private readonly names = new Map<string, string>();

  ref(error: AppError): JsonSchema {
    const value = error.toJSON();
    const text = JSON.stringify(value);
    let name = this.names.get(text);
    if (!name) {
      name = error.code;
      for (let n = 2; this.all[name]; n++) name = `${error.code}_${n}`;
      this.all[name] = { summary: error.code, value };
      this.names.set(text, name);
    }
    return { $ref: `#/components/examples/${name}` };
  }
}

function errorResponse(list: AppError[], examples: ErrorExamples): JsonSchema {
  const codes = [...new Set(list.map((e) => e.code))];
  return {
    description: codes.join(', '),
    content: {
      'application/json': {
        schema: { $ref: '#/components/schemas/Error', properties: { error: { type: 'object', properties: { code: { enum: codes } } } } },
        examples: Object.fromEntries(list.map((e) => [e.code, examples.ref(e)])),
      },
    },
  };
}

function byStatus(list: AppError[]): Map<number, AppError[]> {
  const map = new Map<number, AppError[]>();
  for (const error of list) map.set(error.statusCode, [...(map.get(error.statusCode) ?? []), error]);
  return new Map([...map.entries()].sort(([a], [b]) => a - b));
}

/**
 * JSON Schema of a zod schema, as it reads input or as it writes output. A schema that cannot be
 * expressed throws: a response must not promise what the wire does not carry.
 */
export function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const converted = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'throw' }) as JsonSchema;
  delete converted.$schema;
  withoutFormatPatterns(converted);
  // A recursive schema refers to itself ("#", "#/$defs/..."): inside the document those would point at its root.
  if (converted.$defs || JSON.stringify(converted).includes('"$ref":"#')) {
    throw new Error('OpenAPI: a schema refers to itself or needs $defs (a recursive or an id-named schema); the document cannot hold its relative refs, so make it not recursive');
  }
  return converted;
}

/** zod spells out a uuid's and a date-time's pattern beside their format; the format says it, at a tenth of the size. */
function withoutFormatPatterns(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) withoutFormatPatterns(item);
  } else if (value !== null && typeof value === 'object') {
    const schema = value as JsonSchema;
    if ((schema.format === 'uuid' || schema.format === 'date-time') && typeof schema.pattern === 'string') delete schema.pattern;
    for (const child of Object.values(schema)) withoutFormatPatterns(child);
  }
}

/** GET /v1/campaigns/:id/export.csv -> getV1CampaignsByIdExportCsv */
function operationIdOf(method: string, url: string): string {
  const words = url
    .split('/')
    .filter(Boolean)
    .flatMap((segment) => (segment.startsWith(':') ? [`by-${segment.slice(1)}`] : segment.split(/[^A-Za-z0-9]+/)))
    .flatMap((word) => word.split('-'))
    .filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join('');
}

function tagOf(url: string): string {
  const [first, second] = url.split('/').filter(Boolean);
  if (first === 'v1' && second) return second;
  return first ?? 'root';
}
