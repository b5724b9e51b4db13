/**
 * The adaptive rate across processes: each "process" is its own ioredis connection and its own
 * AdaptiveRate, sharing one Redis. Times are only ever lower bounds (a sleep of at least N ms),
 * or bounds measured around the calls, never speed thresholds.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { AdaptiveRate, type AdaptiveRateOptions } from '../../src/flow/adaptive-rate.js';
import { redisKeys } from '../../src/redis-keys.js';
import { countingScripts, sleep, twoProcessRedis } from './two-processes.js';

const { prefix, connections, both } = twoProcessRedis();

/** One AdaptiveRate per connection, as two worker processes would have. */
function twoProcesses(options: AdaptiveRateOptions): [AdaptiveRate, AdaptiveRate] {
  return both((redis, keyPrefix) => new AdaptiveRate(redis, keyPrefix, options));
}

it('is the configured rate until the provider rate-limits the account', async () => {
  const [a] = twoProcesses({ cacheMs: 0 });
  expect(await a.rateFor(randomUUID(), 80)).toBe(80);
});

it('fifty concurrent rate-limited answers on two connections halve the rate once', async () => {
  const account = randomUUID();
  const [a, b] = twoProcesses({ recoverPerSecond: 0, holdMs: 60_000, cacheMs: 0 });
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).onRateLimited(account, 80)));
  expect(new Set(answers)).toEqual(new Set([40]));
  expect(await a.rateFor(account, 80)).toBe(40);
  expect(await b.rateFor(account, 80)).toBe(40);
});

it('a decrease after holdMs has passed counts again, down to the floor and never below', async () => {
  const account = randomUUID();
  const [a, b] = twoProcesses({ recoverPerSecond: 0, holdMs: 20, minFraction: 0.1, cacheMs: 0 });
  const seen: number[] = [];
  for (let i = 0; i < 6; i++) {
    seen.push(await (i % 2 ? a : b).onRateLimited(account, 100));
    await sleep(30);
  }
  expect(seen).toEqual([50, 25, 12.5, 10, 10, 10]);
  expect(await b.rateFor(account, 100)).toBe(10);
});

it('recovers linearly from the last decrease, by recoverPerSecond of the configured rate', async () => {
  const account = randomUUID();
  const [a, b] = twoProcesses({ recoverPerSecond: 0.5, holdMs: 0, cacheMs: 0 });
  const before = performance.now();
  expect(await a.onRateLimited(account, 100)).toBe(50);
  await sleep(100);
  const rate = await b.rateFor(account, 100);
  const elapsedMs = performance.now() - before;
  // At least 100 ms passed between the decrease and the read, at most elapsedMs: 0.5 x 100/s per second.
  // Less 2 ms: Node's timer may fire up to a millisecond early, and the script reads Redis's clock in
  // whole milliseconds (a run beside another suite read 54.9888 here).
  expect(rate).toBeGreaterThanOrEqual(50 + 0.05 * (100 - 2));
  expect(rate).toBeLessThanOrEqual(Math.min(100, 50 + 0.05 * elapsedMs + 0.01));
  // A decrease from a partly recovered rate halves what was recovered to, not the stored share.
  const halved = await b.onRateLimited(account, 100);
  const elapsedAgainMs = performance.now() - before;
  expect(halved).toBeGreaterThanOrEqual(rate / 2 - 0.01);
  expect(halved).toBeLessThanOrEqual(Math.min(100, 50 + 0.05 * elapsedAgainMs) / 2 + 0.01);
});

it('recovery stops at the configured rate, and the key goes away', async () => {
  const account = randomUUID();
  const [a, b] = twoProcesses({ recoverPerSecond: 20, holdMs: 0, cacheMs: 0 });
  expect(await a.onRateLimited(account, 100)).toBe(50);
  await sleep(60); // 50% at 2000%/s is back in 25 ms
  expect(await b.rateFor(account, 100)).toBe(100);
  // The key's TTL is the time to full recovery plus a second; it must not be forever.
  const ttl = await connections[0].pttl(redisKeys.adaptiveRate(prefix, account));
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(1025);
});

it('the share scales with a configured rate edited mid-campaign', async () => {
  const account = randomUUID();
  const [a] = twoProcesses({ recoverPerSecond: 0, cacheMs: 0 });
  await a.onRateLimited(account, 80);
  expect(await a.rateFor(account, 200)).toBe(100);
});

it('rateFor reuses its value within cacheMs; its own decrease updates it at once', async () => {
  const account = randomUUID();
  const [a, b] = twoProcesses({ recoverPerSecond: 0, holdMs: 0, cacheMs: 60_000 });
  expect(await a.rateFor(account, 100)).toBe(100);
  expect(await b.onRateLimited(account, 100)).toBe(50);
  expect(await b.rateFor(account, 100)).toBe(50);
  expect(await a.rateFor(account, 100)).toBe(100); // a's cached read, until cacheMs passes
  expect(await new AdaptiveRate(connections[0], prefix, { cacheMs: 0, recoverPerSecond: 0 }).rateFor(account, 100)).toBe(50);
});

it('sends that find the cache stale at once share one read from Redis', async () => {
  const account = randomUUID();
  const [a] = twoProcesses({ recoverPerSecond: 0, holdMs: 60_000, cacheMs: 0 });
  await a.onRateLimited(account, 100);
  const counting = countingScripts(connections[1]);
  const rate = new AdaptiveRate(counting.redis, prefix, { recoverPerSecond: 0, cacheMs: 60_000 });
  const rates = await Promise.all(Array.from({ length: 200 }, () => rate.rateFor(account, 100)));
  expect(new Set(rates)).toEqual(new Set([50]));
  expect(counting.scripts()).toBe(1);
});

it('reset restores the full rate for every process', async () => {
  const account = randomUUID();
  const [a, b] = twoProcesses({ recoverPerSecond: 0, cacheMs: 0 });
  await a.onRateLimited(account, 100);
  await b.reset(account);
  expect(await a.rateFor(account, 100)).toBe(100);
  expect(await connections[0].exists(redisKeys.adaptiveRate(prefix, account))).toBe(0);
});

it('rejects options that cannot work', () => {
  expect(() => new AdaptiveRate(connections[0], prefix, { decreaseFactor: 1 })).toThrow(RangeError);
  expect(() => new AdaptiveRate(connections[0], prefix, { minFraction: 0 })).toThrow(RangeError);
});
