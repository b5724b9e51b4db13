/**
 * The generator's handling of zod 4's traps, without an app: a request schema is shown as zod
 * reads it (defaults optional, a transform by what it accepts, coercion by its target type), a
 * response schema as it comes out, and what a response cannot carry as JSON (a transform's
 * result, a Date object) stops the generator instead of being documented wrongly.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildOpenApiDocument, schemaOf, type DocumentedRoute } from '../../src/api/openapi/openapi-document.js';
import { json, jsonBody, type RouteDoc } from '../../src/api/openapi/route-doc.js';
import { errors } from '../../src/errors.js';

function route(doc: RouteDoc, method = 'POST', url = '/v1/things/:id'): DocumentedRoute {
  return { method, url, doc };
}

type Op = { parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[]; requestBody: { content: Record<string, { schema: Record<string, unknown> }> } };

describe('request schemas: as zod reads them (io: input)', () => {
  const body = z.object({
    name: z.string(),
    start: z.boolean().default(false),
    phone: z.union([z.string(), z.number().int()]).transform(String),
    ids: z.string().transform((v) => v.split(',')).pipe(z.array(z.string().min(1))),
  });
  const query = z.object({ limit: z.coerce.number().int().min(1).max(100).default(50), after: z.string().optional() });
  const document = buildOpenApiDocument([route({ summary: 's', params: z.object({ id: z.uuid() }), query, body: jsonBody(body, {}), responses: { 200: json(z.object({ ok: z.boolean() }), { ok: true }) } })], { version: '1' });
  const op = document.paths['/v1/things/{id}']?.post as unknown as Op;

  it('a field with a default is optional; a transform shows what it accepts', () => {
    const schema = op.requestBody.content['application/json']?.schema as { required: string[]; properties: Record<string, Record<string, unknown>> };
    expect(schema.required.sort()).toEqual(['ids', 'name', 'phone']);
    expect((schema.properties.phone?.anyOf as { type: string }[]).map((s) => s.type)).toEqual(['string', 'integer']);
    expect(schema.properties.ids?.type).toBe('string');
  });

  it('query fields become parameters with their coerced type; path params are required', () => {
    const byName = Object.fromEntries(op.parameters.map((p) => [p.name, p]));
    expect(byName.id).toMatchObject({ in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });
    expect(byName.limit).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 } });
    expect(byName.after).toMatchObject({ in: 'query', required: false });
  });
});

describe('response schemas: as they come out (io: output)', () => {
  it('a response with a transform, or a Date object, is refused: JSON carries neither', () => {
    const withTransform = route({ summary: 's', responses: { 200: json(z.object({ n: z.string().transform(Number) }), { n: 1 }) } }, 'GET', '/v1/a');
    expect(() => buildOpenApiDocument([withTransform], { version: '1' })).toThrow(/Transforms cannot be represented/);
    const withDate = route({ summary: 's', responses: { 200: json(z.object({ at: z.date() }), { at: new Date() }) } }, 'GET', '/v1/b');
    expect(() => buildOpenApiDocument([withDate], { version: '1' })).toThrow(/Date cannot be represented/);
  });

  it('objects are closed (additionalProperties: false) unless declared loose; dates are ISO strings', () => {
    expect(schemaOf(z.object({ a: z.string() }), 'output').additionalProperties).toBe(false);
    expect(schemaOf(z.object({ a: z.string() }).loose(), 'output').additionalProperties).toEqual({});
    expect(schemaOf(z.iso.datetime(), 'output')).toEqual({ type: 'string', format: 'date-time' });
  });

  it('a recursive schema is refused, at the root or nested: the document cannot hold its relative refs', () => {
    type Tree = { children: Tree[] };
    const tree: z.ZodType<Tree> = z.object({ children: z.array(z.lazy(() => tree)) });
    expect(() => schemaOf(tree, 'output')).toThrow(/refers to itself/);
    expect(() => schemaOf(z.object({ a: tree }), 'output')).toThrow(/refers to itself/);
    expect(() => schemaOf(z.object({ a: z.string() }), 'output')).not.toThrow();
  });
});

describe('errors', () => {
  it("a route's own errors sit under their HTTP status, beside the shared ones; a duplicate route is refused", () => {
    const doc: RouteDoc = { summary: 's', responses: { 200: json(z.object({}), {}) }, errors: [errors.campaignNotFound('x'), errors.campaignEmpty('x')] };
    const document = buildOpenApiDocument([route(doc, 'GET', '/v1/c/:id')], { version: '1' });
    const responses = (document.paths['/v1/c/{id}']?.get as { responses: Record<string, { description: string }> }).responses;
    expect(responses['404']?.description).toBe('CAMPAIGN_NOT_FOUND');
    expect(responses['409']?.description).toBe('CAMPAIGN_EMPTY');
    expect(responses['401']?.description).toBe('UNAUTHORIZED, INVALID_API_KEY');
    expect(Object.keys(document.components.examples)).toContain('CAMPAIGN_EMPTY');
    expect(() => buildOpenApiDocument([route(doc, 'GET', '/v1/c/:id'), route(doc, 'GET', '/v1/c/:id')], { version: '1' })).toThrow(/operationId|twice/);
  });
});
