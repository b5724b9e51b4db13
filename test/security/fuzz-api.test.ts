/**
 * Property-based fuzzing (fast-check) of every route the app registers, read from the app
 * itself (app.registeredRoutes, filled by an onRoute hook), so routes added later are fuzzed
 * too. Requests carry an admin key, so they get past auth into the routes: arbitrary path
 * params (mixed with real ids of the tenant, to reach deeper code), query strings, JSON bodies
 * (arbitrary, and valid ones with fields replaced by hostile values), and raw bodies under
 * every content type the API takes (truncated multipart included).
 *
 * The property: never a 5xx, every refusal a 4xx in the engine's error format with a stable
 * code, and no unhandled rejection in the process. FUZZ_RUNS sets the random runs per route (default
 * 25); a failure prints fast-check's seed and the shrunk request.
 */
import fc from 'fast-check';
import type { HTTPMethods, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/tenants/api-keys.js';
import { createDraftCampaign, createSender, expectStatus, recipientObjects, startApi, type ApiHarness } from '../api/api-harness.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 25);

let h: ApiHarness;
let ids: Record<string, string>;
let bases: Record<string, () => unknown>;
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  // No rate limit: thousands of requests from one key are the point here.
  h = await startApi({ apiRateLimit: 0 });
  const sender = await createSender(h.api);
  const created = await createDraftCampaign(h.api, sender, { recipients: recipientObjects(3) });
  const recipients = expectStatus<{ recipients: { id: string }[] }>(await h.api.get(`/v1/campaigns/${created.campaign.id}/recipients`), 200);
  const webhook = expectStatus<{ webhook: { url: string } }>(await h.api.post(`/v1/accounts/${sender.account.id}/webhook-secret`), 200);
  expectStatus(await h.api.post('/v1/suppressions', { phone: '+56987650001' }), 201);
  const spare = await createApiKey(h.ctx.db, h.tenant.tenantId, 'fuzz target', { scope: 'read' });
  ids = {
    'accounts:id': sender.account.id,
    'campaigns:id': created.campaign.id,
    'api-keys:id': spare.id,
    uploadId: created.upload?.uploadId ?? '',
    recipientId: recipients.recipients[0]?.id ?? '',
    phone: '%2B56987650001',
    accountId: sender.account.id,
    secret: webhook.webhook.url.split('/').pop() ?? '',
  };
  const csv = 'phone,nombre,saldo\n+56987000001,Ana,1\n';
  bases = {
    'POST /v1/accounts': () => ({ provider: 'sandbox', name: 'fuzz', config: { baseUrl: 'http://127.0.0.1:9' }, credentials: { token: 'fuzz-token' } }),
    'PATCH /v1/accounts/:id': () => ({ name: 'renamed' }),
    'POST /v1/templates': () => ({ accountId: sender.account.id, name: 'fuzz', body: 'Hola {{1}}' }),
    'POST /v1/campaigns': () => ({ name: 'fuzz', accountId: sender.account.id, templateId: sender.template.id, recipients: recipientObjects(2, 500) }),
    'POST /v1/messages': () => ({ accountId: sender.account.id, templateId: sender.template.id, phone: '+56987000002', variables: ['a', 'b'], waitMs: 0 }),
    'POST /v1/messages/adereso/ticket-reply': () => ({ accountId: sender.account.id, ticketId: '1', text: 'hola' }),
    'POST /v1/messages/adereso/conversation': () => ({ accountId: sender.account.id, phone: '+56987000003', text: 'hola' }),
    'POST /v1/suppressions': () => ({ phone: '+56987000004' }),
    'PUT /v1/settings/stop-words': () => ({ stopWords: ['BAJA'] }),
    'POST /v1/api-keys': () => ({ name: 'fuzz', scope: 'read' }),
    'POST /v1/api-keys/:id/rotate': () => ({ graceSeconds: 0 }),
    'POST /v1/accounts/:id/provider-templates': () => ({ name: 'fuzz', body: 'Hola {{1}}', example: 'Hola Ana' }),
    'POST /v1/campaigns/:id/recipients': () => csv,
    'POST /v1/suppressions/import': () => csv,
  };
});
afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  await h?.close();
});

// --- Arbitraries ----------------------------------------------------------------------------

const HOSTILE_TEXT = ['', ' ', '\u0000', 'a\u0000b', '\ud800', '\udfff', '𝄞', '99999999999999999999', '-1', '0', '1e400', 'NaN', '../../etc', '%', '{{1}}', "'; DROP TABLE x; --", '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', 'x'.repeat(5000)];
/** Already percent-encoded bytes that no encoder would produce: NUL, CESU surrogates, truncated or overlong sequences. */
const RAW_ENCODED = ['%00', '%ED%A0%80', '%E0%A4%A', '%C0%AF', '%FF', '%2B56987650001', '%'];

const text = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTILE_TEXT), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 24 }), weight: 2 },
  { arbitrary: fc.bigInt().map(String), weight: 1 },
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: text, weight: 4 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 2 },
  { arbitrary: fc.constantFrom(null, -1, 0, 1e308, -1e308, 2 ** 63, true, [], {}, ['\u0000'], { k: '\ud800' }), weight: 2 },
  { arbitrary: fc.integer({ min: 40, max: 200 }).map((depth) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown), weight: 1 },
);

/** Percent-encodes UTF-8 bytes (a lone surrogate becomes U+FFFD, as a browser would send it). */
function encode(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}
const urlPart = fc.oneof(text.map(encode), fc.constantFrom(...RAW_ENCODED));
const QUERY_KEYS = ['status', 'after', 'limit', 'cursor', 'phone', 'accountId', 'defaultCountry', 'variables', 'phoneColumn', 'filename', 'detail', 'hub.mode', 'hub.verify_token', 'hub.challenge'];
const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), urlPart), urlPart), { maxLength: 4 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));

const CONTENT_TYPES = ['application/json', 'text/csv', 'application/x-ndjson', 'text/plain', 'application/octet-stream', 'application/xml', 'multipart/form-data', 'multipart/form-data; boundary=XyZ'];
const multipartish = fc
  .tuple(text, fc.boolean())
  .map(([content, closed]) => `--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n${content}${closed ? '\r\n--XyZ--\r\n' : ''}`);

type Body = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; contentType: string; payload: string };

function bodyFor(route: string): fc.Arbitrary<Body> {
  const base = bases[route];
  const mutated =
    base === undefined
      ? fc.constant<Body>({ kind: 'none' })
      : fc.array(fc.tuple(fc.constantFrom(...Object.keys(typeof base() === 'object' ? (base() as object) : {}), 'extra'), hostileValue), { minLength: 1, maxLength: 3 }).map((changes): Body => {
          const value = base();
          if (typeof value !== 'object' || value === null) return { kind: 'raw', contentType: 'text/csv', payload: String(value) };
          const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
          // waitMs stays 0: a valid single send would otherwise wait up to 30 s for a worker that is not running.
          for (const [key, change] of changes) if (key !== 'waitMs') copy[key] = change;
          return { kind: 'json', value: copy };
        });
  return fc.oneof(
    { arbitrary: fc.constant<Body>({ kind: 'none' }), weight: 1 },
    { arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value): Body => ({ kind: 'json', value })), weight: 1 },
    { arbitrary: mutated, weight: base === undefined ? 0 : 4 },
    { arbitrary: fc.tuple(fc.constantFrom(...CONTENT_TYPES), fc.oneof(text, multipartish)).map(([contentType, payload]): Body => ({ kind: 'raw', contentType, payload })), weight: 2 },
    // Nesting far past what JSON.stringify survives, written out as text.
    { arbitrary: fc.constantFrom(100, 10_000).map((n): Body => ({ kind: 'raw', contentType: 'application/json', payload: `{"a":${'['.repeat(n)}${']'.repeat(n)}}` })), weight: 1 },
  );
}

function pathFor(url: string): fc.Arbitrary<string> {
  const resource = url.split('/')[2] ?? '';
  const parts = url.split('/').map((segment) => {
    if (!segment.startsWith(':')) return fc.constant(segment);
    const name = segment.slice(1);
    const real = ids[`${resource}:${name}`] ?? ids[name];
    return real ? fc.oneof(fc.constant(real), urlPart) : urlPart;
  });
  return fc.tuple(...parts).map((segments) => segments.join('/'));
}

// --- The property -----------------------------------------------------------------------------

function checkAnswer(response: LightMyRequestResponse, request = ''): void {
  expect(response.statusCode, `${request} -> ${response.body.slice(0, 500)}`).toBeLessThan(500);
  if (response.statusCode >= 400) {
    const body = response.json<{ error?: { code?: unknown; message?: unknown } }>();
    expect(typeof body.error?.code === "string" ? body.error.code : `no code: ${request} -> ${response.statusCode} ${response.body.slice(0, 300)}`).toMatch(/^[A-Z][A-Z0-9_]+$/);
    expect(typeof body.error?.message).toBe('string');
  }
}

/** One hostile value at a time, in each place a route reads input: the systematic half of the fuzzing. */
const SWEEP_TEXT = ['\u0000', 'a\u0000b', '\ud800', '99999999999999999999', '0000-01-01T00:00:00Z', '-1'];
const SWEEP_URL = ['%00', '%ED%A0%80', '%E0%A4%A', '99999999999999999999', '0000-01-01T00%3A00%3A00Z', '-1', encode(Buffer.from('1|x').toString('base64url'))];
const SWEEP_BODY: unknown[] = [...SWEEP_TEXT, null, -1, 1e308, 2 ** 63, [], {}, ['\u0000'], { k: '\ud800' }, JSON.parse(`${'['.repeat(60)}${']'.repeat(60)}`)];

function realPath(url: string, replace?: { index: number; value: string }): string {
  const resource = url.split('/')[2] ?? '';
  return url
    .split('/')
    .map((segment, index) => {
      if (replace && index === replace.index) return replace.value;
      if (!segment.startsWith(':')) return segment;
      const name = segment.slice(1);
      return ids[`${resource}:${name}`] ?? ids[name] ?? 'x';
    })
    .join('/');
}

describe('fuzz: every registered route', () => {
  it('sweep: each hostile value in each path param, each known query parameter and each body field', { timeout: 180_000 }, async () => {
    await h.app.ready();
    const routes = h.app.registeredRoutes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS') as { method: HTTPMethods; url: string }[];
    const headers = { authorization: `Bearer ${h.tenant.apiKey}` };
    let requests = 0;
    const send = async (options: InjectOptions) => {
      requests++;
      const response = await h.app.inject({ ...options, headers: { ...headers, ...(options.headers ?? {}) } });
      checkAnswer(response, `${options.method} ${String(options.url)}`);
    };
    for (const route of routes) {
      const key = `${route.method} ${route.url}`;
      const base = bases[key]?.();
      const json = typeof base === 'object' && base !== null ? (base as Record<string, unknown>) : undefined;
      const body = json ? { payload: JSON.stringify(json), headers: { 'content-type': 'application/json' } } : {};
      const segments = route.url.split('/');
      for (const [index, segment] of segments.entries()) {
        if (!segment.startsWith(':')) continue;
        for (const value of SWEEP_URL) await send({ method: route.method, url: realPath(route.url, { index, value }), ...body });
      }
      if (route.method === 'GET') {
        for (const name of QUERY_KEYS) for (const value of SWEEP_URL) await send({ method: route.method, url: `${realPath(route.url)}?${name}=${value}` });
      }
      for (const field of Object.keys(json ?? {})) {
        if (field === 'waitMs') continue;
        for (const value of SWEEP_BODY) {
          await send({ method: route.method, url: realPath(route.url), headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ...json, [field]: value }) });
        }
      }
    }
    expect(requests).toBeGreaterThan(1000);
    expect(rejections).toEqual([]);
  });

  it('the app registers the routes this test fuzzes (the control: an empty list would pass anything)', async () => {
    await h.app.ready();
    expect(h.app.registeredRoutes.filter((r) => r.url.startsWith('/v1/')).length).toBeGreaterThan(30);
  });

  it('no input gives a 5xx, every refusal is a 4xx with a stable code, no unhandled rejection', { timeout: 180_000 }, async () => {
    await h.app.ready();
    const routes = h.app.registeredRoutes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS') as { method: HTTPMethods; url: string }[];
    for (const route of routes) {
      const key = `${route.method} ${route.url}`;
      await fc.assert(
        fc.asyncProperty(pathFor(route.url), fc.option(query, { nil: undefined }), bodyFor(key), async (path, search, body) => {
          const url = search ? `${path}?${search}` : path;
          const headers: Record<string, string> = { authorization: `Bearer ${h.tenant.apiKey}` };
          const request: InjectOptions =
            body.kind === 'none'
              ? { method: route.method, url, headers }
              : body.kind === 'json'
                ? { method: route.method, url, headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(body.value) ?? 'null' }
                : { method: route.method, url, headers: { ...headers, 'content-type': body.contentType }, payload: body.payload };
          const response = await h.app.inject(request);
          checkAnswer(response);
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
    }
    expect(rejections).toEqual([]);
  });
});
