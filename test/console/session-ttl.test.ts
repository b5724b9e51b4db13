/**
 * CONSOLE_SESSION_TTL_SECONDS, "how long a console sign-in lasts" (README, Configuration): the
 * sign-in cookie's Max-Age is the configured lifetime (28800 s when unset), the session kept in
 * Redis under the file's own prefix expires with it, a session within its lifetime reads the API
 * and the pages, and a session past it no longer does: the API answers 401 and a page redirects
 * to the sign-in page. Sessions are aged by shortening their Redis key's life (PEXPIRE), and one
 * app with a two-second lifetime shows the expiry happen by itself, never before the lifetime.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { redisConnection } from '../../src/redis-client.js';
import { redisKeys } from '../../src/redis-keys.js';
import { apiForFile } from '../api/api-harness.js';
import { waitFor } from '../support/fixtures.js';

/** The README's default. */
const DEFAULT_TTL_SECONDS = 28_800;

const h = apiForFile();
const extraApps: { app: FastifyInstance; close(): Promise<void> }[] = [];

afterAll(async () => {
  for (const extra of extraApps.splice(0)) await extra.close();
});

/** Another API app on the file's database and queue prefix, with its own console session lifetime. */
async function appWithTtl(ttlSeconds: number): Promise<FastifyInstance> {
  const config: Config = { ...h.ctx.config, consoleSessionTtlSeconds: ttlSeconds };
  const redis = redisConnection(config);
  const app = await buildApp({ config, db: h.ctx.db, redis, logger: h.ctx.logger });
  extraApps.push({
    app,
    async close() {
      await app.close();
      redis.disconnect();
    },
  });
  return app;
}

type SignedIn = { cookie: string; setCookie: string; redisKey: string; startedAt: number };

async function signIn(app: FastifyInstance): Promise<SignedIn> {
  const startedAt = performance.now();
  const response = await app.inject({ method: 'POST', url: '/console/session', payload: { apiKey: h.tenant.apiKey } });
  expect(response.statusCode).toBe(200);
  const setCookie = String(response.headers['set-cookie']);
  const cookie = setCookie.split(';')[0] ?? '';
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  // The store keeps the SHA-256 of the cookie's value, under the file's queue prefix.
  const redisKey = redisKeys.consoleSession(h.ctx.queuePrefix, createHash('sha256').update(value).digest('hex'));
  return { cookie, setCookie, redisKey, startedAt };
}

function maxAge(setCookie: string): number | null {
  const match = /;\s*Max-Age=(\d+)/i.exec(setCookie);
  return match ? Number(match[1]) : null;
}

/** The session's key in Redis lives the configured lifetime from the moment of the sign-in (measured, so load cannot matter). */
async function expectKeyLifetime(session: SignedIn, ttlSeconds: number): Promise<void> {
  const pttl = await h.redis.pttl(session.redisKey);
  const elapsed = performance.now() - session.startedAt;
  expect(pttl).toBeLessThanOrEqual(ttlSeconds * 1000);
  // Set no earlier than the sign-in request began: at most `elapsed` (and Redis's rounding) has gone since.
  expect(pttl).toBeGreaterThanOrEqual(ttlSeconds * 1000 - Math.ceil(elapsed) - 1000);
}

async function readsApi(app: FastifyInstance, cookie: string): Promise<number> {
  return (await app.inject({ method: 'GET', url: '/v1/accounts', headers: { cookie } })).statusCode;
}

async function expectSignedIn(app: FastifyInstance, cookie: string): Promise<void> {
  expect(await readsApi(app, cookie)).toBe(200);
  const page = await app.inject({ method: 'GET', url: '/console/campaigns', headers: { cookie } });
  expect(page.statusCode).toBe(200);
}

async function expectSignedOut(app: FastifyInstance, cookie: string): Promise<void> {
  const api = await app.inject({ method: 'GET', url: '/v1/accounts', headers: { cookie } });
  expect({ status: api.statusCode, code: api.json<{ error?: { code: string } }>().error?.code }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
  const page = await app.inject({ method: 'GET', url: '/console/campaigns', headers: { cookie } });
  expect(page.statusCode).toBe(303);
  expect(page.headers.location).toBe(`/console/sign-in?next=${encodeURIComponent('/console/campaigns')}`);
}

describe('CONSOLE_SESSION_TTL_SECONDS', () => {
  it('unset, a sign-in lasts 28800 s: the cookie says so and the stored session expires then', async () => {
    expect(h.ctx.config.consoleSessionTtlSeconds).toBe(DEFAULT_TTL_SECONDS);
    const session = await signIn(h.app);
    expect(maxAge(session.setCookie)).toBe(DEFAULT_TTL_SECONDS);
    await expectKeyLifetime(session, DEFAULT_TTL_SECONDS);
    await expectSignedIn(h.app, session.cookie);
  });

  it('set, the cookie and the stored session last the configured time; past it the session no longer signs in, within it another still does', async () => {
    const ttl = loadConfig({ ...process.env, CONSOLE_SESSION_TTL_SECONDS: '7200' }).consoleSessionTtlSeconds;
    expect(ttl).toBe(7200);
    const app = await appWithTtl(ttl);
    const aged = await signIn(app);
    const fresh = await signIn(app);
    expect(maxAge(aged.setCookie)).toBe(ttl);
    await expectKeyLifetime(aged, ttl);
    await expectSignedIn(app, aged.cookie);

    // The session reaches the end of its lifetime (its key's life cut to 1 ms).
    expect(await h.redis.pexpire(aged.redisKey, 1)).toBe(1);
    await waitFor('the aged session to expire in Redis', async () => (await h.redis.exists(aged.redisKey)) === 0, 10_000, 20);
    await expectSignedOut(app, aged.cookie);

    // The other session, still within its lifetime, works as before.
    await expectKeyLifetime(fresh, ttl);
    await expectSignedIn(app, fresh.cookie);
  });

  it('a short lifetime runs out by itself, never before the configured time', async () => {
    const ttl = 2;
    const app = await appWithTtl(ttl);
    const session = await signIn(app);
    expect(maxAge(session.setCookie)).toBe(ttl);
    await waitFor('the session to run out', async () => (await readsApi(app, session.cookie)) === 401, 15_000, 50);
    // Not before the lifetime: the first refusal came at least `ttl` after the sign-in began.
    expect(performance.now() - session.startedAt).toBeGreaterThanOrEqual(ttl * 1000);
    await expectSignedOut(app, session.cookie);
  });
});
