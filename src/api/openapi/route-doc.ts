/**
 * What a route declares about itself, once, next to its handler: the zod schemas its handler
 * parses its input with (params, query, body), what it answers (zod schemas of the responses,
 * each with an example), the errors of its own it can answer (real AppErrors from src/errors.ts,
 * so each one's code, status and sentence are the engine's), and who may call it. The OpenAPI
 * document (./openapi-document.ts) is generated from these declarations and nothing else.
 *
 *     app.get('/v1/things/:id', doc({ summary: 'One thing', params: idParams,
 *       responses: { 200: json(thing, thingExample) }, errors: [errors.thingNotFound(EXAMPLE_ID)] }),
 *       async (request) => { const { id } = parseInput(idParams, request.params); ... });
 *
 * docs/openapi.md tells how to add a route; test/api/openapi.test.ts fails on a route without one.
 */
import type { z } from 'zod';
import type { AppError } from '../../errors.js';
import type { ApiKeyScope } from '../../tenants/api-keys.js';

/**
 * Who may call a route. `apiKey`: a tenant's key (or the console's session cookie); the
 * default. `operator`: the operator token (METRICS_TOKEN). `public`: anyone. `webhookUrl`: a
 * provider, authenticated by the secret in the URL (and its own signature where it signs).
 */
export type RouteAuth = 'apiKey' | 'operator' | 'public' | 'webhookUrl';

/** One body (request or response) in one media type: its schema and an example that satisfies it. */
export type MediaDoc = { schema: z.ZodType; example: unknown };

export type ResponseDoc = {
  description: string;
  /** By media type; none for an empty answer (204). */
  content?: Record<string, MediaDoc>;
  /** Response headers worth knowing (name: description). */
  headers?: Record<string, string>;
};

export type RequestBodyDoc = { content: Record<string, MediaDoc>; required: boolean; description?: string };

export type RouteDoc = {
  /** Groups operations on the docs page; by default the path's resource ("campaigns"). */
  tag?: string;
  summary: string;
  description?: string;
  auth?: RouteAuth;
  /** The schemas the handler parses with parseInput: the very same objects. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: Record<string, { description: string; required?: boolean; example?: string }>;
  body?: RequestBodyDoc;
  /** By HTTP status. The success answers; errors go in `errors`. */
  responses: Record<number, ResponseDoc>;
  /**
   * The route's own errors, as the factories in src/errors.ts make them. Those of the machinery
   * every route shares (authentication, malformed input, body limits) are added by the generator.
   */
  errors?: AppError[];
  /** A streamed or non-JSON body, where the generator should not promise JSON parse errors. */
  rawBody?: boolean;
};

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's OpenAPI declaration (src/api/openapi/route-doc.ts). */
    openapi?: RouteDoc;
  }
}

/** Route options carrying a declaration: `app.get(url, doc({...}), handler)`. */
export function doc(route: RouteDoc, config: { scope?: ApiKeyScope } = {}): { config: { openapi: RouteDoc; scope?: ApiKeyScope } } {
  return { config: { ...config, openapi: route } };
}

/** A JSON answer. */
export function json(schema: z.ZodType, example: unknown, description = 'OK'): ResponseDoc {
  return { description, content: { 'application/json': { schema, example } } };
}

/** A JSON request body (required). */
export function jsonBody(schema: z.ZodType, example: unknown, description?: string): RequestBodyDoc {
  return { required: true, content: { 'application/json': { schema, example } }, ...(description ? { description } : {}) };
}

/** An answer in another media type (CSV, Prometheus text, server-sent events). */
export function other(mediaType: string, schema: z.ZodType, example: unknown, description: string): ResponseDoc {
  return { description, content: { [mediaType]: { schema, example } } };
}

/** An empty answer. */
export function empty(description: string): ResponseDoc {
  return { description };
}

/** The Idempotency-Key request header, as the routes that take one read it (at most 200 characters). */
export function idempotencyKeyHeader(example: string, effect = 'Makes a retry safe: the same key and body answer the first result again') {
  return { 'Idempotency-Key': { description: `${effect} (at most 200 characters).`, example } };
}
