/**
 * What the flow tests share: two "processes", each its own ioredis connection, on one Redis,
 * under a key prefix of the file's own (its keys deleted after the file); `both` builds one
 * instance of a flow class per connection, as two worker processes would have.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { deleteQueueKeys } from '../support/test-context.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export type TwoProcesses = {
  prefix: string;
  connections: readonly [Redis, Redis];
  both<T>(make: (redis: Redis, prefix: string) => T): [T, T];
};

export function twoProcessRedis(): TwoProcesses {
  const prefix = `test-flow-${randomUUID().slice(0, 8)}`;
  const connections = [new Redis(REDIS_URL), new Redis(REDIS_URL)] as const;
  afterAll(async () => {
    await deleteQueueKeys(REDIS_URL, prefix);
    for (const redis of connections) redis.disconnect();
  });
  return { prefix, connections, both: (make) => [make(connections[0], prefix), make(connections[1], prefix)] };
}

/** At least `ms`: the flow tests only ever wait out a time, never race one. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `redis`, counting the Lua scripts it is asked to run (EVALSHA or EVAL): how many round trips a flow class made. */
export function countingScripts(redis: Redis): { redis: Redis; scripts: () => number } {
  let scripts = 0;
  const counted = new Proxy(redis, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if ((prop === 'evalsha' || prop === 'eval') && typeof value === 'function') {
        return (...args: unknown[]) => {
          scripts += 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { redis: counted, scripts: () => scripts };
}
