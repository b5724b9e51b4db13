/**
 * A lease in Redis that one process at a time holds, for work that must run once across the
 * cluster (the feeder, the sweeper). The holder renews it; if it dies, the lease lapses and
 * another process takes over within `ttlMs`.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis-client.js';
import { LuaScript } from '../redis-script.js';

const RENEW = new LuaScript(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`);
const RELEASE = new LuaScript(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`);

export class LeaderLock {
  private readonly token = randomUUID();

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private readonly ttlMs: number,
  ) {}

  /** True while this process holds the lease (acquires it if free, renews it if ours). */
  async hold(): Promise<boolean> {
    const renewed = (await RENEW.run(this.redis, 1, this.key, this.token, String(this.ttlMs))) as number;
    if (renewed === 1) return true;
    const acquired = await this.redis.set(this.key, this.token, 'PX', this.ttlMs, 'NX');
    return acquired === 'OK';
  }

  async release(): Promise<void> {
    await RELEASE.run(this.redis, 1, this.key, this.token);
  }
}
