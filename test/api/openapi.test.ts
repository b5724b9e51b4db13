/**
 * Issue 10, OpenAPI: /openapi.json is a valid OpenAPI 3.1 document (checked by a real
 * validator, @seriousme/openapi-schema-validator), it covers every route the app registers
 * (app.registeredRoutes, filled by an onRoute hook, against the document's paths and methods;
 * the routes left out are an explicit list, itself checked), every example satisfies its schema
 * (as zod reads it and as the generated JSON Schema says), and real answers satisfy the
 * documented response schemas. /docs serves Swagger UI from this process.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, launchChromium, SKIP_REASON } from '../console/browser.js';
import { UNDOCUMENTED } from '../../src/api/openapi/register-docs.js';
import type { OpenApiDocument } from '../../src/api/openapi/openapi-document.js';
import { createDraftCampaign, createSender, expectError, expectStatus, phones, startApi, type ApiHarness } from './api-harness.js';

type Operation = {
  operationId: string;
  parameters: { name: string; in: string; required: boolean }[];
  requestBody?: { content: Record<string, { schema: object; example?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: object; example?: unknown; examples?: Record<string, { value?: unknown; $ref?: string }> }> }>;
  security: Record<string, string[]>[];
};

let h: ApiHarness;
let spec: OpenApiDocument;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);

beforeAll(async () => {
  h = await startApi();
  const response = await h.app.inject({ method: 'GET', url: '/openapi.json' });
  spec = expectStatus<OpenApiDocument>(response, 200);
});
afterAll(async () => {
  await h?.close();
});

/** An example, or the one in components.examples it refers to. */
function exampleValue(example: { value?: unknown; $ref?: string }): unknown {
  if (!example.$ref) return example.value;
  const name = example.$ref.replace('#/components/examples/', '');
  const found = spec.components.examples[name] as { value?: unknown } | undefined;
  expect(found, example.$ref).toBeDefined();
  return found?.value;
}

function operations(): { method: string; path: string; op: Operation }[] {
  return Object.entries(spec.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, op: op as unknown as Operation })));
}

/** A schema of the document, with its $refs to the document's components resolvable. */
const compiled = new Map<string, ValidateFunction>();
function compile(schema: object): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) compiled.set(key, (validate = ajv.compile({ ...schema, components: spec.components })));
  return validate;
}

function schemaErrors(schema: object, value: unknown): string {
  const validate = compile(schema);
  return validate(value) ? '' : ajv.errorsText(validate.errors);
}

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document, served without an API key', async () => {
    expect(spec.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(spec as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('the validator is not a rubber stamp: a broken document fails', async () => {
    const broken = JSON.parse(JSON.stringify(spec)) as { paths: Record<string, Record<string, { responses?: unknown }>> };
    const first = Object.values(broken.paths)[0] as Record<string, { responses?: unknown }>;
    (Object.values(first)[0] as { responses?: unknown }).responses = 'none';
    expect((await new Validator().validate(broken as unknown as Record<string, unknown>)).valid).toBe(false);
  });

  it('covers every route the app registers, and nothing else; the routes left out are only the listed ones', () => {
    const registered = h.app.registeredRoutes.filter((r) => r.method !== 'HEAD');
    const documented = new Set(operations().map(({ method, path }) => `${method} ${path}`));
    const key = (r: { method: string; url: string }) => `${r.method} ${r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;
    const left = registered.filter((r) => !UNDOCUMENTED.some((pattern) => pattern.test(r.url)));
    expect(left.map(key).filter((k) => !documented.has(k))).toEqual([]);
    expect([...documented].filter((k) => !left.some((r) => key(r) === k))).toEqual([]);
    expect(documented.size).toBeGreaterThan(50);
    // Each exclusion matches something (no stale entry), and none hides an API route.
    for (const pattern of UNDOCUMENTED) expect(registered.some((r) => pattern.test(r.url)), String(pattern)).toBe(true);
    expect(registered.filter((r) => /^\/v1\//.test(r.url) && UNDOCUMENTED.some((p) => p.test(r.url)))).toEqual([]);
  });

  it('every operation has an example of its success answer, and of its request body when it takes one', () => {
    for (const { method, path, op } of operations()) {
      const success = Object.entries(op.responses).filter(([status]) => Number(status) < 400);
      expect(success.length, `${method} ${path}`).toBeGreaterThan(0);
      for (const [status, response] of success) {
        for (const [type, media] of Object.entries(response.content ?? {})) expect(media.example, `${method} ${path} ${status} ${type}`).toBeDefined();
      }
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) expect(media.example, `${method} ${path} body ${type}`).toBeDefined();
    }
  });

  it('every example satisfies its JSON Schema: request bodies, answers, and each error', () => {
    const problems: string[] = [];
    for (const { method, path, op } of operations()) {
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        const problem = schemaErrors(media.schema, media.example);
        if (problem) problems.push(`${method} ${path} body ${type}: ${problem}`);
      }
      for (const [status, response] of Object.entries(op.responses)) {
        for (const [type, media] of Object.entries(response.content ?? {})) {
          const examples = media.examples ? Object.values(media.examples).map(exampleValue) : [media.example];
          for (const example of examples) {
            const problem = schemaErrors(media.schema, example);
            if (problem) problems.push(`${method} ${path} ${status} ${type}: ${problem}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every example satisfies the zod schema it was generated from (requests as zod reads them, answers as written)', () => {
    const problems: string[] = [];
    for (const route of h.app.apiDocs.routes) {
      for (const [type, media] of Object.entries(route.doc.body?.content ?? {})) {
        const parsed = media.schema.safeParse(media.example);
        if (!parsed.success) problems.push(`${route.method} ${route.url} body ${type}: ${parsed.error.message}`);
      }
      for (const [status, response] of Object.entries(route.doc.responses)) {
        for (const [type, media] of Object.entries(response.content ?? {})) {
          const parsed = media.schema.safeParse(media.example);
          if (!parsed.success) problems.push(`${route.method} ${route.url} ${status} ${type}: ${parsed.error.message}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every error code of src/errors.ts is documented on some operation, but those no API route answers', () => {
    /** Bull Board's (console session) and the operator CLI's. */
    const NOT_API = ['CONSOLE_SIGNED_OUT', 'NOT_FOUND', 'TENANT_NOT_FOUND'];
    const source = readFileSync(resolve(import.meta.dirname, '../../src/errors.ts'), 'utf8');
    const all = [...new Set([...source.matchAll(/new AppError\(\s*'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1] as string))];
    expect(all.length).toBeGreaterThan(60);
    const documented = new Set(
      operations().flatMap(({ op }) => Object.values(op.responses).flatMap((r) => Object.keys(r.content?.['application/json']?.examples ?? {}))),
    );
    expect(all.filter((code) => !documented.has(code) && !NOT_API.includes(code))).toEqual([]);
    expect(NOT_API.filter((code) => documented.has(code) || !all.includes(code))).toEqual([]);
  });

  it('documents the errors every route shares and the route\'s own, each under its HTTP status', () => {
    const get = (path: string, method: string) => spec.paths[path]?.[method] as unknown as Operation;
    const codesAt = (op: Operation, status: string) => Object.keys(op.responses[status]?.content?.['application/json']?.examples ?? {});
    const account = get('/v1/accounts/{id}', 'get');
    expect(codesAt(account, '404')).toEqual(['ACCOUNT_NOT_FOUND']);
    expect(codesAt(account, '401')).toEqual(['UNAUTHORIZED', 'INVALID_API_KEY']);
    expect(codesAt(account, '400')).toContain('VALIDATION_FAILED');
    expect(codesAt(account, '500')).toEqual(['INTERNAL_ERROR']);
    expect(account.security).toEqual([{ bearerApiKey: ['read'] }, { headerApiKey: ['read'] }]);
    expect(codesAt(get('/v1/accounts', 'post'), '413')).toEqual(['BODY_TOO_LARGE']);
    expect(get('/health', 'get').security).toEqual([]);
    expect(get('/metrics', 'get').security).toEqual([{ operatorToken: [] }]);
    expect(codesAt(get('/metrics', 'get'), '401')).toEqual(['METRICS_TOKEN_REQUIRED']);
    expect(get('/v1/api-keys', 'get').security).toEqual([{ bearerApiKey: ['admin'] }, { headerApiKey: ['admin'] }]);
  });
});

describe('/docs', () => {
  it('serves Swagger UI and its assets from this process, without a key, reading the same document', async () => {
    const page = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('swagger-ui');
    expect(page.body).not.toMatch(/src="https?:|href="https?:/);
    const css = await h.app.inject({ method: 'GET', url: '/docs/static/swagger-ui.css' });
    expect(css.statusCode).toBe(200);
    const json = await h.app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.json()).toEqual(spec);
    const root = await h.app.inject({ method: 'GET', url: '/docs' });
    expect([200, 302]).toContain(root.statusCode);
  });

  it('serves the pages under the console\'s Content-Security-Policy: same origin only', async () => {
    const page = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'.*script-src 'self'/);
    expect(String(page.headers['content-security-policy'])).not.toMatch(/https:|unsafe-inline|unsafe-eval/);
  });

  it.skipIf(!HAVE_CHROMIUM)('renders every operation in Chromium, with no error, no policy violation and no request to another origin', async () => {
    if (!HAVE_CHROMIUM) console.warn(SKIP_REASON);
    const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      const outside: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('request', (request) => {
        if (!request.url().startsWith(address) && !request.url().startsWith('data:')) outside.push(request.url());
      });
      await page.goto(`${address}/docs/`);
      await page.waitForSelector('.opblock', { timeout: 30_000 });
      const count = await page.locator('.opblock').count();
      expect(count).toBe(operations().length);
      expect(await page.locator('.info .title').innerText()).toContain('WhatsApp campaign engine API');
      expect(problems).toEqual([]);
      expect(outside).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('an API route still needs a key (the docs being public opens nothing else)', async () => {
    expectError(await h.app.inject({ method: 'GET', url: '/v1/accounts' }), 401, 'UNAUTHORIZED');
  });
});

describe('every answer is documented: status, code and body', () => {
  /** The answer's status is documented for the operation, and its body (JSON) satisfies that status's schema, error codes included. */
  function undocumented(method: string, path: string, status: number, contentType: string, body: string): string | null {
    const op = spec.paths[path]?.[method.toLowerCase()] as unknown as Operation | undefined;
    const response = op?.responses[String(status)];
    if (!response) return `${method} ${path}: ${status} is not documented (${body.slice(0, 200)})`;
    if (!contentType.startsWith('application/json')) return null;
    const schema = response.content?.['application/json']?.schema;
    if (!schema) return `${method} ${path}: ${status} answers JSON, documented without it`;
    const problem = schemaErrors(schema, JSON.parse(body));
    return problem ? `${method} ${path} ${status}: ${problem} (${body.slice(0, 200)})` : null;
  }

  it('without a key, with unknown ids, with malformed ids, with an empty body: each answer is one the document lists', async () => {
    const problems: string[] = [];
    let requests = 0;
    for (const { method, path, op } of operations()) {
      const needsKey = op.security.length > 0 && !op.security.some((s) => 'operatorToken' in s);
      const url = (value: string) => path.replace(/\{[^}]+\}/g, value);
      const tries: { url: string; key: boolean }[] = [
        { url: url('00000000-0000-4000-8000-000000000000'), key: true },
        { url: url('not-an-id'), key: true },
        ...(needsKey ? [{ url: url('00000000-0000-4000-8000-000000000000'), key: false }] : []),
      ];
      for (const t of tries) {
        if (path.includes('/live/') && t.key && !t.url.includes('?')) continue;
        const response = await h.app.inject({
          method: method as 'GET',
          url: t.url,
          headers: { ...(t.key ? { authorization: `Bearer ${h.tenant.apiKey}` } : {}), ...(method === 'GET' || method === 'DELETE' ? {} : { 'content-type': 'application/json' }) },
          ...(method === 'GET' || method === 'DELETE' ? {} : { payload: '{}' }),
        });
        requests++;
        const problem = undocumented(method, path, response.statusCode, String(response.headers['content-type'] ?? ''), response.body);
        if (problem) problems.push(problem);
      }
    }
    expect(requests).toBeGreaterThan(150);
    expect(problems).toEqual([]);
  });
});

describe('real answers satisfy the documented response schemas', () => {
  function check(method: string, path: string, status: number, body: unknown): void {
    const op = spec.paths[path]?.[method.toLowerCase()] as unknown as Operation | undefined;
    const schema = op?.responses[String(status)]?.content?.['application/json']?.schema;
    expect(schema, `${method} ${path} ${status} is documented`).toBeDefined();
    expect(schemaErrors(schema as object, body), `${method} ${path} ${status}`).toBe('');
  }

  it('accounts, templates, campaigns, uploads, suppressions, keys, settings, errors', async () => {
    const sender = await createSender(h.api);
    const { account } = sender;
    const created = await createDraftCampaign(h.api, sender, { recipients: phones(3).map((phone) => ({ phone, variables: ['Ana', '$1'] })) });
    const id = created.campaign.id;
    // A pool campaign and a portfolio, so the answers carry their fields (poolId, per-account shares, portfolioId).
    const pool = expectStatus<{ pool: { id: string } }>(await h.api.post('/v1/pools', { name: 'Docs pool', members: [{ accountId: account.id, weight: 2 }] }), 201);
    const portfolio = expectStatus<{ portfolio: { id: string } }>(await h.api.post('/v1/portfolios', { name: 'Docs portfolio', messagingLimit: 1000 }), 201);
    const pooled = await createDraftCampaign(h.api, sender, {
      accountId: undefined,
      poolId: pool.pool.id,
      recipients: phones(2, 100).map((phone) => ({ phone, variables: ['Ana', '$1'] })),
    });
    const calls: [string, string, string, unknown?][] = [
      ['GET', '/v1/accounts', '/v1/accounts'],
      ['GET', `/v1/accounts/${account.id}`, '/v1/accounts/{id}'],
      ['GET', `/v1/accounts/${account.id}/queue`, '/v1/accounts/{id}/queue'],
      ['GET', `/v1/accounts/${account.id}/state`, '/v1/accounts/{id}/state'],
      ['GET', '/v1/templates', '/v1/templates'],
      ['GET', '/v1/campaigns', '/v1/campaigns'],
      ['GET', `/v1/campaigns/${id}`, '/v1/campaigns/{id}'],
      ['GET', `/v1/campaigns/${id}/recipients`, '/v1/campaigns/{id}/recipients'],
      ['GET', `/v1/campaigns/${id}/funnel`, '/v1/campaigns/{id}/funnel'],
      ['GET', `/v1/campaigns/${id}/replies`, '/v1/campaigns/{id}/replies'],
      ['POST', `/v1/campaigns/${id}/start`, '/v1/campaigns/{id}/start'],
      ['POST', '/v1/suppressions', '/v1/suppressions', { phone: '+56 9 8765 0001' }],
      ['GET', '/v1/suppressions', '/v1/suppressions'],
      ['GET', '/v1/api-keys', '/v1/api-keys'],
      ['GET', '/v1/settings/stop-words', '/v1/settings/stop-words'],
      ['GET', '/v1/event-types', '/v1/event-types'],
      ['GET', '/health', '/health'],
      ['GET', `/v1/campaigns/${id}/uploads/00000000-0000-4000-8000-000000000000`, '/v1/campaigns/{id}/uploads/{uploadId}'],
      ['POST', `/v1/campaigns/${id}/plan`, '/v1/campaigns/{id}/plan', { bucketMinutes: 30 }],
      ['PUT', `/v1/portfolios/${portfolio.portfolio.id}/accounts/${account.id}`, '/v1/portfolios/{id}/accounts/{accountId}'],
      ['GET', `/v1/accounts/${account.id}`, '/v1/accounts/{id}'],
      ['GET', '/v1/portfolios', '/v1/portfolios'],
      ['PATCH', `/v1/pools/${pool.pool.id}`, '/v1/pools/{id}', { sticky: true }],
      ['GET', '/v1/pools', '/v1/pools'],
      ['GET', `/v1/campaigns/${pooled.campaign.id}`, '/v1/campaigns/{id}'],
      ['GET', `/v1/campaigns/${pooled.campaign.id}/funnel`, '/v1/campaigns/{id}/funnel'],
      ['POST', `/v1/campaigns/${pooled.campaign.id}/plan`, '/v1/campaigns/{id}/plan'],
    ];
    for (const [method, url, path, body] of calls) {
      const response = await h.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${h.tenant.apiKey}` }, ...(body ? { payload: body as object } : {}) });
      check(method, path, response.statusCode, response.json());
    }
    const upload = created.upload;
    if (upload) {
      const response = await h.api.get(`/v1/campaigns/${id}/uploads/${upload.uploadId}`);
      check('GET', '/v1/campaigns/{id}/uploads/{uploadId}', response.statusCode, response.json());
    }
  });
});
