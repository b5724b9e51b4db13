/**
 * Issue 12, item 4: the API key lifecycle. Scopes (read, full, admin), expiry, last use; list,
 * create, revoke and rotate through the API and the CLI; a revoked or expired key answers 401 at
 * once, on every API process (two apps share one Redis and one Postgres here, as two API
 * processes would); an unknown key is cached as unknown, so repeating it costs no query.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, hashApiKey } from '../../src/tenants/api-keys.js';
import { buildApp } from '../../src/api/app.js';
import { apiClient, expectError, expectStatus, startApi, type ApiClient, type ApiHarness } from './api-harness.js';
import { redisKeys } from '../../src/redis-keys.js';

type PublicKey = { id: string; name: string; prefix: string; scope: string; state: string; lastUsedAt: string | null; expiresAt: string | null; revokedAt: string | null };
type CreatedKey = PublicKey & { key: string };

let h: ApiHarness;
/** A second API process: same database and Redis, its own app. */
let other: FastifyInstance;
beforeAll(async () => {
  h = await startApi();
  other = await buildApp({ config: h.ctx.config, db: h.ctx.db, redis: h.redis, logger: h.ctx.logger });
});
afterAll(async () => {
  await other.close();
  await h.close();
});

async function newKey(body: Record<string, unknown>): Promise<CreatedKey> {
  return expectStatus<CreatedKey>(await h.api.post('/v1/api-keys', body), 201);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('create and list (admin scope)', () => {
  it('creates a key with a name, scope and expiry; the key is shown once, listings never show it or its hash', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const created = await newKey({ name: 'reporting', scope: 'read', expiresAt });
    expect(created).toMatchObject({ name: 'reporting', scope: 'read', state: 'active', expiresAt, lastUsedAt: null, revokedAt: null });
    expect(created.key).toMatch(/^wce_[0-9a-f]{8}_/);
    expect(created.key.startsWith(`wce_${created.prefix}_`)).toBe(true);
    const list = await h.api.get('/v1/api-keys');
    const keys = expectStatus<{ apiKeys: PublicKey[] }>(list, 200).apiKeys;
    expect(keys.map((k) => k.name)).toEqual(['default', 'reporting']);
    expect(keys[0]?.scope).toBe('admin');
    expect(list.body).not.toContain(created.key);
    expect(list.body).not.toContain(hashApiKey(created.key));
    expect(expectStatus<PublicKey>(await h.api.get(`/v1/api-keys/${created.id}`), 200)).toMatchObject({ id: created.id, name: 'reporting' });
  });

  it('refuses an expiry in the past or out of range, an unknown scope and a blank name', async () => {
    for (const body of [
      { name: 'x', expiresAt: '2020-01-01T00:00:00Z' },
      { name: 'x', expiresAt: '0000-01-01T00:00:00Z' },
      { name: 'x', scope: 'root' },
      { name: '  ' },
    ]) {
      expectError(await h.api.post('/v1/api-keys', body), 400, 'VALIDATION_FAILED');
    }
  });
});

describe('scopes', () => {
  let read: ApiClient;
  let readKey: string;
  let full: ApiClient;
  beforeAll(async () => {
    readKey = (await newKey({ name: 'ro', scope: 'read' })).key;
    read = apiClient(h.app, readKey);
    full = apiClient(h.app, (await newKey({ name: 'rw', scope: 'full' })).key);
  });

  it('a read key reads', async () => {
    expectStatus(await read.get('/v1/accounts'), 200);
    expectStatus(await read.get('/v1/campaigns'), 200);
  });

  it('a read key gets 403 INSUFFICIENT_SCOPE on every state-changing request, before the route runs', async () => {
    const before = await h.ctx.db.prisma.providerAccount.count();
    const refused = [
      await read.post('/v1/accounts', { provider: 'sandbox', name: 'x', config: { baseUrl: 'http://127.0.0.1:9' }, credentials: { token: 't' } }),
      await read.post('/v1/campaigns', {}),
      await read.patch(`/v1/accounts/${randomUUID()}`, { name: 'x' }),
      await read.post('/v1/suppressions', { phone: '+56987000001' }),
      await h.app.inject({ method: 'DELETE', url: '/v1/suppressions/%2B56987000001', headers: { authorization: `Bearer ${readKey}` } }),
      await h.app.inject({ method: 'PUT', url: '/v1/settings/stop-words', headers: { authorization: `Bearer ${readKey}` }, payload: { stopWords: [] } }),
    ];
    for (const response of refused) expect(expectError(response, 403, 'INSUFFICIENT_SCOPE').details).toEqual({ scope: 'read', required: 'full' });
    expect(await h.ctx.db.prisma.providerAccount.count()).toBe(before);
  });

  it('a full key changes state but cannot manage keys (403, admin needed)', async () => {
    expectStatus(await full.post('/v1/suppressions', { phone: '+56987000002' }), 201);
    expect(expectError(await full.get('/v1/api-keys'), 403, 'INSUFFICIENT_SCOPE').details).toEqual({ scope: 'full', required: 'admin' });
    expectError(await full.post('/v1/api-keys', { name: 'escalate', scope: 'admin' }), 403, 'INSUFFICIENT_SCOPE');
    expectError(await read.get('/v1/api-keys'), 403, 'INSUFFICIENT_SCOPE');
  });
});

describe('revoke, expire, rotate: 401 at once on every API process', () => {
  it('a key revoked through one process is refused by the other on its next request', async () => {
    const created = await newKey({ name: 'to revoke' });
    const onOther = apiClient(other, created.key);
    expectStatus(await onOther.get('/v1/accounts'), 200); // now cached in Redis
    expect(expectStatus<PublicKey>(await h.api.post(`/v1/api-keys/${created.id}/revoke`), 200)).toMatchObject({ state: 'revoked' });
    expectError(await onOther.get('/v1/accounts'), 401, 'INVALID_API_KEY');
    expectError(await apiClient(h.app, created.key).get('/v1/accounts'), 401, 'INVALID_API_KEY');
    // Revoking again is harmless.
    expectStatus(await h.api.post(`/v1/api-keys/${created.id}/revoke`), 200);
  });

  it('an expired key is refused, even while its lookup is cached', async () => {
    const past = await createApiKey(h.ctx.db, h.tenant.tenantId, 'expired', { expiresAt: new Date(Date.now() - 1_000) });
    expectError(await apiClient(h.app, past.key).get('/v1/accounts'), 401, 'INVALID_API_KEY');
    const soon = await createApiKey(h.ctx.db, h.tenant.tenantId, 'expires soon', { expiresAt: new Date(Date.now() + 1_500) });
    const client = apiClient(other, soon.key);
    expectStatus(await client.get('/v1/accounts'), 200);
    await waitFor(async () => Date.now() > (soon.record.expiresAt?.getTime() ?? 0));
    expectError(await client.get('/v1/accounts'), 401, 'INVALID_API_KEY');
    expect(expectStatus<PublicKey>(await h.api.get(`/v1/api-keys/${soon.id}`), 200).state).toBe('expired');
  });

  it('rotate: the new key works, the old one stops at once on both processes; same name and scope', async () => {
    const old = await newKey({ name: 'ci', scope: 'read' });
    expectStatus(await apiClient(other, old.key).get('/v1/accounts'), 200);
    const rotated = expectStatus<CreatedKey & { replaced: PublicKey }>(await h.api.post(`/v1/api-keys/${old.id}/rotate`), 201);
    expect(rotated).toMatchObject({ name: 'ci', scope: 'read', state: 'active', replaced: { id: old.id, state: 'revoked' } });
    expectStatus(await apiClient(other, rotated.key).get('/v1/accounts'), 200);
    expectError(await apiClient(other, old.key).get('/v1/accounts'), 401, 'INVALID_API_KEY');
    expectError(await h.api.post(`/v1/api-keys/${old.id}/rotate`), 409, 'API_KEY_INACTIVE');
  });

  it('rotate with graceSeconds: the old key keeps working until then, with that expiry', async () => {
    const old = await newKey({ name: 'deploy' });
    const rotated = expectStatus<CreatedKey & { replaced: PublicKey }>(await h.api.post(`/v1/api-keys/${old.id}/rotate`, { graceSeconds: 3600 }), 201);
    expect(rotated.replaced.state).toBe('active');
    expect(Date.parse(rotated.replaced.expiresAt ?? '') - Date.now()).toBeGreaterThan(3500_000);
    expectStatus(await apiClient(other, old.key).get('/v1/accounts'), 200);
    expectStatus(await apiClient(other, rotated.key).get('/v1/accounts'), 200);
  });
});

describe('last use and lookups', () => {
  it('last_used_at is written on use', async () => {
    const created = await newKey({ name: 'used' });
    expectStatus(await apiClient(h.app, created.key).get('/v1/accounts'), 200);
    await waitFor(async () => (await h.ctx.db.prisma.apiKey.findUniqueOrThrow({ where: { id: created.id } })).lastUsedAt !== null);
  });

  it('an unknown key is cached as unknown: repeating it is answered without reading Postgres', async () => {
    const unknown = `wce_0badc0de_${'A'.repeat(43)}`;
    expectError(await apiClient(h.app, unknown).get('/v1/accounts'), 401, 'INVALID_API_KEY');
    expect(await h.redis.get(redisKeys.apiKeyCache(h.ctx.queuePrefix, hashApiKey(unknown)))).toBe('-');
    // Were the key read from Postgres again, this row would now make it valid.
    await h.ctx.db.prisma.apiKey.create({ data: { tenantId: h.tenant.tenantId, name: 'planted', prefix: '0badc0de', hash: hashApiKey(unknown) } });
    expectError(await apiClient(other, unknown).get('/v1/accounts'), 401, 'INVALID_API_KEY');
  });

  it('a value that is not shaped like a key is refused without any lookup', async () => {
    expectError(await apiClient(h.app, 'wce_nope_nope').get('/v1/accounts'), 401, 'INVALID_API_KEY');
    expect(await h.redis.get(redisKeys.apiKeyCache(h.ctx.queuePrefix, hashApiKey('wce_nope_nope')))).toBeNull();
  });
});

describe('CLI', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--experimental-wasm-modules', '--no-warnings', '--import', 'tsx', resolve(import.meta.dirname, '../../src/cli/main.ts'), ...args], {
      // The API's own Redis: the test cluster's nodes when it runs on one (TEST_REDIS=cluster).
      env: { ...process.env, DATABASE_URL: h.ctx.databaseUrl, QUEUE_PREFIX: h.ctx.queuePrefix, ...(h.ctx.config.redisCluster ? { REDIS_CLUSTER_NODES: process.env.TEST_REDIS_CLUSTER_NODES } : {}) },
      encoding: 'utf8',
    });

  it('create-api-key with an unknown tenant prints a clear sentence, no Prisma stack, and exits 1', () => {
    const tenant = randomUUID();
    const run = cli('create-api-key', tenant);
    expect({ status: run.status, stdout: run.stdout }).toEqual({ status: 1, stdout: '' });
    expect(run.stderr.trim()).toBe(`No tenant with id ${tenant} exists; list tenants in the database or create one with create-tenant.`);
  });

  it('api-keys create, list, rotate and revoke; the revoked key stops at once in the running API', async () => {
    const created = cli('api-keys', 'create', h.tenant.tenantId, '--name', 'from cli', '--scope', 'read', '--expires-in-days', '30');
    expect(created.status, created.stderr).toBe(0);
    const [, id, key] = /api key (\S+) \(read; shown once\): (\S+)/.exec(created.stdout) ?? [];
    expectStatus(await apiClient(h.app, key ?? '').get('/v1/accounts'), 200);
    expect(cli('api-keys', 'list', h.tenant.tenantId).stdout).toMatch(new RegExp(`${id}\\s+\\S+\\s+read\\s+active\\s+from cli`));
    const rotated = cli('api-keys', 'rotate', h.tenant.tenantId, id ?? '');
    expect(rotated.status, rotated.stderr).toBe(0);
    const newKeyText = /shown once: (\S+)/.exec(rotated.stdout)?.[1] ?? '';
    expectError(await apiClient(h.app, key ?? '').get('/v1/accounts'), 401, 'INVALID_API_KEY');
    expectStatus(await apiClient(h.app, newKeyText).get('/v1/accounts'), 200);
    const newId = /api key (\S+) replaces/.exec(rotated.stdout)?.[1] ?? '';
    expect(cli('api-keys', 'revoke', h.tenant.tenantId, newId).status).toBe(0);
    expectError(await apiClient(h.app, newKeyText).get('/v1/accounts'), 401, 'INVALID_API_KEY');
  });
});
