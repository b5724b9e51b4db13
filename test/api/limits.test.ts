/**
 * Issue 12, items 5 and 6 (API side): per-key rate limits held in Redis across API processes;
 * body limits whose 413 names the route's own limit; bodies and headers that arrive too slowly
 * or too large answered in the engine's error format, including what Node's HTTP parser itself
 * refuses (tested on a real socket: inject() bypasses the parser).
 */
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/tenants/api-keys.js';
import { buildApp } from '../../src/api/app.js';
import { RedisRateLimiter } from '../../src/api/rate-limit.js';
import { masters } from '../../src/redis-client.js';
import { apiClient, createSender, expectError, expectStatus, recipientObjects, startApi, type ApiHarness } from './api-harness.js';

/** Sends raw bytes to a listening app and resolves with everything it answers before closing. */
function rawRequest(port: number, chunks: string[], keepOpen = false): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (data) => (answer += data.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolvePromise(answer));
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      if (!keepOpen) socket.end();
    });
    setTimeout(() => reject(new Error(`no answer in 20 s; got: ${answer}`)), 20_000).unref();
  });
}

function parseRaw(answer: string): { status: number; body: { error?: { code: string; message: string } } } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), body: JSON.parse(body) as { error?: { code: string; message: string } } };
}

describe('rate limit per API key', () => {
  let h: ApiHarness;
  let second: FastifyInstance;
  beforeAll(async () => {
    h = await startApi({ apiRateLimit: 5, apiRateWindowSeconds: 60 });
    second = await buildApp({ config: h.ctx.config, db: h.ctx.db, redis: h.redis, logger: h.ctx.logger });
  });
  afterAll(async () => {
    await second.close();
    await h.close();
  });

  it('the 6th request in the window is 429 RATE_LIMITED with Retry-After; another key keeps its own budget', async () => {
    for (let i = 0; i < 5; i++) expectStatus(await h.api.get('/v1/accounts'), 200);
    const limited = await h.api.get('/v1/accounts');
    const error = expectError(limited, 429, 'RATE_LIMITED');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(error.details).toEqual({ retryAfterSeconds: retryAfter });
    const { key } = await createApiKey(h.ctx.db, h.tenant.tenantId, 'other');
    expectStatus(await apiClient(h.app, key).get('/v1/accounts'), 200);
  });

  it('the count holds across API processes (it lives in Redis)', async () => {
    const { key } = await createApiKey(h.ctx.db, h.tenant.tenantId, 'shared');
    for (let i = 0; i < 5; i++) expectStatus(await apiClient(i % 2 ? h.app : second, key).get('/v1/accounts'), 200);
    expectError(await apiClient(second, key).get('/v1/accounts'), 429, 'RATE_LIMITED');
    expectError(await apiClient(h.app, key).get('/v1/accounts'), 429, 'RATE_LIMITED');
  });

  it('a read over the limit answers 429 in JSON, not what its route made (a CSV export here)', async () => {
    const { key } = await createApiKey(h.ctx.db, h.tenant.tenantId, 'reader');
    const client = apiClient(h.app, key);
    for (let i = 0; i < 5; i++) expect((await client.get('/v1/suppressions/export.csv')).headers['content-type']).toMatch(/^text\/csv/);
    const refused = await client.get('/v1/suppressions/export.csv');
    expectError(refused, 429, 'RATE_LIMITED');
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    expect(refused.headers['content-disposition']).toBeUndefined();
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('a write over the limit changes nothing: it is refused before its route runs', async () => {
    const { key } = await createApiKey(h.ctx.db, h.tenant.tenantId, 'writer');
    const client = apiClient(h.app, key);
    for (let i = 0; i < 5; i++) expectStatus(await client.post('/v1/suppressions', { phone: `+5691234500${i}` }), 201);
    expectError(await client.post('/v1/suppressions', { phone: '+56912345099' }), 429, 'RATE_LIMITED');
    const reader = await createApiKey(h.ctx.db, h.tenant.tenantId, 'lister');
    const list = expectStatus<{ suppressions: { phone: string }[] }>(await apiClient(h.app, reader.key).get('/v1/suppressions'), 200);
    expect(list.suppressions.map((s) => s.phone)).not.toContain('+56912345099');
  });

  it('a key refused once is refused by that process until the moment the limiter named, without asking Redis again', async () => {
    const { key } = await createApiKey(h.ctx.db, h.tenant.tenantId, 'memo');
    const client = apiClient(second, key);
    for (let i = 0; i < 5; i++) expectStatus(await client.get('/v1/accounts'), 200);
    expectError(await client.get('/v1/accounts'), 429, 'RATE_LIMITED');
    // The shared budget wiped (an operator resetting it): the process that refused still refuses
    // until the moment it was told; the other, which holds no refusal, asks Redis and passes.
    for (const node of masters(h.redis)) {
      const limits = await node.keys(`${h.ctx.queuePrefix}:rl:api:*`);
      for (const limit of limits) await node.del(limit);
    }
    expectError(await client.get('/v1/accounts'), 429, 'RATE_LIMITED');
    expectStatus(await apiClient(h.app, key).get('/v1/accounts'), 200);
  });

  it('health and webhooks are not counted against keys', async () => {
    for (let i = 0; i < 8; i++) expectStatus(await h.app.inject({ method: 'GET', url: '/health' }), 200);
  });

  it('the limiter is atomic: 40 concurrent takes on a budget of 10 let exactly 10 through', async () => {
    const limiter = new RedisRateLimiter(h.redis, `${h.ctx.queuePrefix}:rl:test`, { limit: 10, windowMs: 60_000 });
    const verdicts = await Promise.all(Array.from({ length: 40 }, () => limiter.take('one-id')));
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(10);
    expect(Math.min(...verdicts.filter((v) => !v.allowed).map((v) => v.retryAfterMs))).toBeGreaterThan(0);
    expect((await limiter.take('another-id')).allowed).toBe(true);
  });
});

describe('body limits name the limit that applied', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApi();
  });
  afterAll(async () => {
    await h.close();
  });

  it('a 2 MiB JSON body to an ordinary route is 413 BODY_TOO_LARGE naming 1 MB, not the upload limit', async () => {
    const response = await h.api.post('/v1/accounts', { provider: 'sandbox', name: 'x'.repeat(2 * 1_048_576), config: {}, credentials: {} });
    const error = expectError(response, 413, 'BODY_TOO_LARGE');
    expect(error.details).toEqual({ limitBytes: 1_048_576 });
    expect(error.message).toContain('1 MB limit');
    expect(error.message).not.toContain('256');
  });

  it('inline recipients over POST /v1/campaigns\' limit (4 MB) are 413 BODY_TOO_LARGE pointing at the streamed upload', async () => {
    const sender = await createSender(h.api);
    const recipients = recipientObjects(90_000);
    const response = await h.api.post('/v1/campaigns', { name: 'big', accountId: sender.account.id, templateId: sender.template.id, recipients });
    const error = expectError(response, 413, 'BODY_TOO_LARGE');
    expect(error.details).toEqual({ limitBytes: 4 * 1_048_576 });
    expect(error.message).toContain('POST /v1/campaigns/:id/recipients');
  });
});

describe('what Node refuses, and slow clients, on a real socket', () => {
  let h: ApiHarness;
  let port: number;
  beforeAll(async () => {
    h = await startApi({ requestTimeoutMs: 1_000, headersTimeoutMs: 1_000 });
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const address = h.app.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  afterAll(async () => {
    await h.close();
  });

  it('headers over Node\'s limit are 431 HEADERS_TOO_LARGE in the engine format', async () => {
    const answer = parseRaw(await rawRequest(port, [`GET /v1/accounts HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]));
    expect({ status: answer.status, code: answer.body.error?.code }).toEqual({ status: 431, code: 'HEADERS_TOO_LARGE' });
  });

  it('bytes that are not HTTP are 400 BAD_REQUEST in the engine format', async () => {
    const answer = parseRaw(await rawRequest(port, ['GARBAGE\r\n\r\n']));
    expect({ status: answer.status, code: answer.body.error?.code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
  });

  it('a body announced as 240 MiB is refused from its Content-Length alone (413), without being read', async () => {
    const answer = parseRaw(
      await rawRequest(port, [`POST /v1/campaigns HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.tenant.apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${240 * 1_048_576}\r\n\r\n{"name":`], true),
    );
    expect({ status: answer.status, code: answer.body.error?.code }).toEqual({ status: 413, code: 'BODY_TOO_LARGE' });
  });

  it('a body that stops arriving is answered 408 REQUEST_TIMEOUT (REQUEST_TIMEOUT_MS), not held open', async () => {
    const answer = parseRaw(
      await rawRequest(port, [`POST /v1/suppressions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.tenant.apiKey}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"phone":`], true),
    );
    expect({ status: answer.status, code: answer.body.error?.code }).toEqual({ status: 408, code: 'REQUEST_TIMEOUT' });
  });

  it('headers that stop arriving are cut off too', async () => {
    const answer = await rawRequest(port, ['GET /v1/accounts HTTP/1.1\r\nHost: x\r\n'], true);
    expect(answer === '' || parseRaw(answer).status === 408).toBe(true);
  });
});
