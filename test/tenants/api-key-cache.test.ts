/**
 * The API key cache's two layers (src/tenants/api-keys.ts): an API process answers a known key
 * from its memory, with no round trip, only while it surely hears revocations; a revocation
 * returns once every listening process has dropped the key. Real Redis (or the test cluster,
 * TEST_REDIS=cluster) and Postgres; each ApiKeyCache here stands for one API process.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyCache, type ResolvedKey } from '../../src/tenants/api-key-cache.js';
import { createApiKey, hashApiKey, revokeApiKey } from '../../src/tenants/api-keys.js';
import { redisKeys } from '../../src/redis-keys.js';
import { masters, redisConnection, type RedisClient } from '../../src/redis-client.js';
import { createTestContext, type TestContext } from '../support/test-context.js';

let ctx: TestContext;
let redis: RedisClient;
const caches: ApiKeyCache[] = [];
beforeAll(async () => {
  ctx = await createTestContext();
  // The shared Redis, or the test cluster under TEST_REDIS=cluster (.ci/run runs this file on both).
  redis = redisConnection(ctx.config);
});
afterAll(async () => {
  for (const c of caches) c.close();
  redis.disconnect();
  await ctx.close();
});

/** One API process's cache; `trustMs` long, so a busy test machine cannot make it distrust its memory mid-test. */
async function listeningCache(options: { trustMs?: number; keepMs?: number } = { trustMs: 60_000, keepMs: 60_000 }): Promise<ApiKeyCache> {
  const cache = new ApiKeyCache(redis, ctx.queuePrefix, 60, options);
  caches.push(cache);
  cache.listen();
  // Trusted once a ping sent after subscribing has been answered.
  await waitFor(async () => {
    const probe = `probe-${Math.random()}`;
    await redis.set(redisKeys.apiKeyCache(ctx.queuePrefix, probe), JSON.stringify(active('p')), 'EX', 60);
    await cache.resolve(ctx.db, probe);
    await redis.set(redisKeys.apiKeyCache(ctx.queuePrefix, probe), '-', 'EX', 60);
    return (await cache.resolve(ctx.db, probe)) !== null;
  });
  return cache;
}

function active(id: string): ResolvedKey {
  return { id, tenantId: ctx.tenantId, scope: 'read', expiresAt: null, revoked: false };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function newKey(name: string): Promise<{ id: string; hash: string }> {
  const { id, key } = await createApiKey(ctx.db, ctx.tenantId, name);
  return { id, hash: hashApiKey(key) };
}

describe('memory in front of Redis', () => {
  it('a listening process answers a key it has seen from memory: an entry changed behind its back is not read', async () => {
    const cache = await listeningCache();
    const { hash } = await newKey('memory');
    expect(await cache.resolve(ctx.db, hash)).toMatchObject({ revoked: false });
    // Changed in Redis without an announcement (as a direct edit would be): memory still answers.
    await redis.set(redisKeys.apiKeyCache(ctx.queuePrefix, hash), JSON.stringify({ ...active('x'), revoked: true }), 'EX', 60);
    expect(await cache.resolve(ctx.db, hash)).toMatchObject({ revoked: false });
  });

  it('past half its time in memory, a key is still answered at once and read again in the background', async () => {
    const keepMs = 10_000;
    const cache = await listeningCache({ trustMs: 60_000, keepMs });
    const { hash } = await newKey('refreshed');
    const loadedAt = Date.now();
    await cache.resolve(ctx.db, hash);
    await redis.set(redisKeys.apiKeyCache(ctx.queuePrefix, hash), JSON.stringify({ ...active('x'), revoked: true }), 'EX', 60);
    await waitFor(async () => Date.now() - loadedAt > keepMs / 2 + 200);
    // Answered from memory, and a reread started...
    expect(await cache.resolve(ctx.db, hash)).toMatchObject({ revoked: false });
    // ...which lands well before the entry's time is up (without it, memory would answer until then).
    await waitFor(async () => (await cache.resolve(ctx.db, hash))?.revoked === true);
    expect(Date.now() - loadedAt).toBeLessThan(keepMs);
  });

  it('a process that does not listen reads Redis every time', async () => {
    const cache = new ApiKeyCache(redis, ctx.queuePrefix, 60);
    const { hash } = await newKey('not listening');
    expect(await cache.resolve(ctx.db, hash)).toMatchObject({ revoked: false });
    await redis.set(redisKeys.apiKeyCache(ctx.queuePrefix, hash), JSON.stringify({ ...active('x'), revoked: true }), 'EX', 60);
    expect(await cache.resolve(ctx.db, hash)).toMatchObject({ revoked: true });
  });

  it('a revocation returns only once every listening process has dropped the key', async () => {
    const [one, two] = [await listeningCache(), await listeningCache()];
    const { id, hash } = await newKey('revoked');
    expect(await one.resolve(ctx.db, hash)).toMatchObject({ revoked: false });
    expect(await two.resolve(ctx.db, hash)).toMatchObject({ revoked: false });
    // Revoked through a third cache that does not listen, as the command-line tool does.
    await revokeApiKey(ctx.db, new ApiKeyCache(redis, ctx.queuePrefix, 60), ctx.tenantId, id);
    expect(await one.resolve(ctx.db, hash)).toMatchObject({ revoked: true });
    expect(await two.resolve(ctx.db, hash)).toMatchObject({ revoked: true });
  });

  it('a process whose subscription is cut forgets its memory and reads Redis until it hears again', async () => {
    const cache = await listeningCache();
    const { hash } = await newKey('cut');
    expect(await cache.resolve(ctx.db, hash)).toMatchObject({ revoked: false });
    await redis.set(redisKeys.apiKeyCache(ctx.queuePrefix, hash), JSON.stringify({ ...active('x'), revoked: true }), 'EX', 60);
    let cut = 0;
    for (const node of masters(redis)) {
      const clients = (await node.client('LIST')) as string;
      for (const line of clients.split('\n').filter((l) => l.includes(`name=${ctx.queuePrefix}:apikey-listener `))) {
        await node.client('KILL', 'ID', /(?:^|\s)id=(\d+)/.exec(line)?.[1] ?? '');
        cut += 1;
      }
    }
    expect(cut).toBeGreaterThan(0);
    // Without the cut, memory would answer unrevoked for the whole test (keepMs, trustMs: 60 s).
    await waitFor(async () => (await cache.resolve(ctx.db, hash))?.revoked === true);
    // It listens again after reconnecting, and memory is used again.
    await waitFor(async () => {
      const later = `later-${Math.random()}`;
      await redis.set(redisKeys.apiKeyCache(ctx.queuePrefix, later), JSON.stringify(active('later')), 'EX', 60);
      await cache.resolve(ctx.db, later);
      await redis.set(redisKeys.apiKeyCache(ctx.queuePrefix, later), JSON.stringify({ ...active('later'), revoked: true }), 'EX', 60);
      return (await cache.resolve(ctx.db, later))?.revoked === false;
    });
  });

  it('a process that stops hearing its pings answered stops trusting its memory', async () => {
    // Trust for 300 ms after an answered ping; the machine's load decides only how soon.
    const cache = await listeningCache({ trustMs: 300, keepMs: 60_000 });
    const { hash } = await newKey('stalled');
    await cache.resolve(ctx.db, hash);
    await redis.set(redisKeys.apiKeyCache(ctx.queuePrefix, hash), JSON.stringify({ ...active('x'), revoked: true }), 'EX', 60);
    // The event loop blocked past the trust (as a stalled API process): the next read goes to Redis.
    const blockedUntil = performance.now() + 400;
    while (performance.now() < blockedUntil);
    expect(await cache.resolve(ctx.db, hash)).toMatchObject({ revoked: true });
  });

  it('with Redis away, listening returns at once and closing lets the process end (an API starts and stops without Redis)', () => {
    const script = `
      import { ApiKeyCache } from ${JSON.stringify(resolve(import.meta.dirname, '../../src/tenants/api-key-cache.ts'))};
      import { redisConnection } from ${JSON.stringify(resolve(import.meta.dirname, '../../src/redis-client.ts'))};
      const redis = redisConnection('redis://127.0.0.1:1', { retryStrategy: () => 100 });
      redis.on('error', () => undefined);
      const cache = new ApiKeyCache(redis, 'away', 60);
      cache.listen();
      console.log('listening');
      setTimeout(() => { cache.close(); redis.disconnect(); console.log('closed'); }, 300);
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    // A subscriber left connecting (or a QUIT waiting for Redis) would keep the process alive past the timeout.
    expect({ status: run.status, out: run.stdout.trim().split('\n') }).toEqual({ status: 0, out: ['listening', 'closed'] });
  });

  it('closing while the subscription is being made again after a cut ends the process cleanly (no unhandled rejection)', () => {
    // The listener reaches Redis through a proxy that, after the cut, never passes a SUBSCRIBE on:
    // the resubscription stays unanswered until close() drops the connection. Node ends a process
    // on an unhandled rejection, so an API shutting down while Redis comes back would crash.
    const src = (file: string): string => JSON.stringify(resolve(import.meta.dirname, '../../src', file));
    const script = `
      import { createServer, connect } from 'node:net';
      import { Redis } from 'ioredis';
      import { ApiKeyCache } from ${src('tenants/api-key-cache.ts')};
      import { redisConnection } from ${src('redis-client.ts')};
      import { redisKeys } from ${src('redis-keys.ts')};
      const target = new URL(${JSON.stringify(ctx.config.redisUrl)});
      const prefix = 'cut-' + process.pid;
      let cut = false;
      let swallowed = false;
      const clients = new Set();
      const proxy = createServer((client) => {
        const server = connect(Number(target.port || 6379), target.hostname);
        const afterCut = cut;
        clients.add(client);
        // After the cut, what the client wrote is read as one text (a command may span chunks);
        // from its first SUBSCRIBE on nothing more is passed on, so Redis never answers it.
        let written = '';
        let holding = false;
        client.on('data', (chunk) => {
          if (afterCut && !holding) {
            written += chunk.toString('latin1');
            holding = /\\r\\nsubscribe\\r\\n/i.test(written);
            if (holding) swallowed = true;
          }
          if (!holding) server.write(chunk);
        });
        server.on('data', (chunk) => client.write(chunk));
        const end = () => { clients.delete(client); client.destroy(); server.destroy(); };
        for (const s of [client, server]) { s.on('close', end); s.on('error', end); }
      });
      await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
      const direct = new Redis(target.href);
      const redis = redisConnection('redis://127.0.0.1:' + proxy.address().port);
      // The cut may surface as a connection error on either client: expected, not what is tested.
      for (const c of [direct, redis]) c.on('error', () => undefined);
      const cache = new ApiKeyCache(redis, prefix, 60);
      cache.listen();
      const channel = redisKeys.apiKeyRevocations(prefix);
      const listeners = async () => Number((await direct.pubsub('NUMSUB', channel))[1]);
      while ((await listeners()) < 1) await new Promise((r) => setTimeout(r, 20));
      cut = true;
      for (const c of clients) c.destroy();
      // Connected again, its SUBSCRIBE sent and swallowed; then a moment for anything else in flight.
      const until = Date.now() + 20000;
      while (!swallowed && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      console.log(swallowed ? 'resubscribing' : 'never resubscribed');
      await new Promise((r) => setTimeout(r, 200));
      cache.close();
      redis.disconnect();
      direct.disconnect();
      proxy.close();
      await new Promise((r) => setTimeout(r, 200));
      console.log('closed');
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    // The old code died here with "Connection is closed" (exit 1) after printing 'resubscribing'.
    expect({ status: run.status, out: run.stdout.trim().split('\n'), unhandled: /unhandled|connection is closed/i.test(run.stderr) }).toEqual({ status: 0, out: ['resubscribing', 'closed'], unhandled: false });
  });
});
