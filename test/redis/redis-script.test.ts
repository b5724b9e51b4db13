/**
 * LuaScript runs a script by its SHA1 and sends the source only when the server lacks it: on a
 * plain Redis, and on the Redis Cluster when one is there (each master loads it on first use).
 * Each test's script is new to the servers (a unique comment), so the first call meets NOSCRIPT.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { redisConnection, masters, type RedisClient } from '../../src/redis-client.js';
import { LuaScript } from '../../src/redis-script.js';
import { testCluster } from '../support/redis-cluster.js';

const cluster = testCluster();
const targets: [string, () => RedisClient][] = [['a plain Redis', () => redisConnection(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')]];
if (cluster) targets.push(['the Redis Cluster', () => redisConnection({ redisUrl: '', redisCluster: cluster })]);

describe.each(targets)('LuaScript on %s', (_, connect) => {
  const redis = connect();
  const prefix = `test-lua-${randomUUID().slice(0, 8)}`;
  afterAll(() => redis.disconnect());

  it('loads the script on first use, then runs it by SHA1 alone, with the same answers', async () => {
    const script = new LuaScript(`-- ${randomUUID()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`);
    const key = `${prefix}:{a}:n`;
    expect(await script.run(redis, 1, key, 2)).toBe(2);
    expect(await script.run(redis, 1, key, 3)).toBe(5);
    // On a cluster, the master that serves the key's slot now holds the script.
    const holders = await Promise.all(masters(redis).map(async (node) => ((await node.script('EXISTS', script.sha)) as number[])[0]));
    expect(holders).toContain(1);
    await redis.del(key);
  });

  it('keys in other slots reach masters that never saw the script, which load it then', async () => {
    const script = new LuaScript(`-- ${randomUUID()}\nreturn redis.call('SET', KEYS[1], ARGV[1])`);
    const keys = Array.from({ length: 12 }, (_, i) => `${prefix}:{s${i}}:k`);
    for (const key of keys) expect(await script.run(redis, 1, key, 'v')).toBe('OK');
    expect(await Promise.all(keys.map((k) => redis.get(k)))).toEqual(keys.map(() => 'v'));
    await Promise.all(keys.map((k) => redis.del(k)));
  });

  it("passes the script's own errors through rather than retrying them", async () => {
    const script = new LuaScript(`-- ${randomUUID()}\nreturn redis.error_reply('WCE_TEST refused')`);
    await expect(script.run(redis, 1, `${prefix}:{a}:x`)).rejects.toThrow('WCE_TEST refused');
    await expect(script.run(redis, 1, `${prefix}:{a}:x`)).rejects.toThrow('WCE_TEST refused');
  });
});
