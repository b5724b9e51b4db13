/**
 * The per-account send rate, held across every worker process: GCRA (the generic cell rate
 * algorithm) in one Redis script. Each send reserves the next free slot on the account's
 * timeline; slots are exactly 1/rate apart, so no one-second window ever holds more than
 * `rate` of them, whichever processes took them. The caller waits until its slot, then sends.
 *
 * Time comes from Redis (TIME), not from each machine's clock, so skew between workers cannot
 * double-book a slot. BullMQ's own limiter counts fixed windows, which allow up to twice the
 * rate in a wall-clock second; it is not used for this.
 *
 * Slots alone are not enough: a send that leaves late (a stalled event loop, a slow claim) bunches
 * with the next on-time one. So a second check, the departure gate, runs just before the
 * request goes out: it records each departure in a sorted set and lets one through only while
 * fewer than `rate` left in the last second (a true sliding window, on Redis's clock), else
 * says how long until the oldest one ages out. Pacing can then sit close to the rate.
 *
 * Optionally (RATE_DEPARTURE_LOG) the gate also appends each departure it admits, on the same
 * Redis clock, to a per-account list, so a test or benchmark can check the bound on the engine's
 * own departure times, whatever the load on the machine (`readDepartureLog`). Off in production.
 */
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import { LuaScript } from '../redis-script.js';

/**
 * The jitter tolerated between a send's departure and the provider's own count (RATE_JITTER_MS):
 * the gate counts departures over 1000 ms + jitter, and slots are paced to match, so a provider
 * whose clock sees sends up to `jitterMs` apart from ours still never counts more than the rate
 * in one second. The price is the average: rate x 1000 / (1000 + jitter), 97.6% at 25 ms.
 */
export type RateLimiterOptions = {
  jitterMs: number;
  /** Keep every admitted departure's time in `redisKeys.departureLog` (tests, bench:rate). Default off. */
  departureLog?: boolean;
};

/** How long a departure log outlives its last departure, and how many entries it keeps at most. */
const LOG_TTL_MS = 3_600_000;
const LOG_MAX_ENTRIES = 200_000;

const GATE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window * 2)
  if ARGV[4] == '1' then
    redis.call('RPUSH', KEYS[2], string.format('%.3f', now))
    redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)
    redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[5]))
  end
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return string.format('%.3f', tonumber(oldest[2]) + window - now)
`);

const RESERVE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, tat)
redis.call('SET', KEYS[1], string.format('%.3f', slot + interval), 'PX', math.ceil(interval) + 60000)
return string.format('%.3f', slot - now)
`);

export class AccountRateLimiter {
  private sequence = 0;
  private readonly windowMs: number;
  private readonly departureLog: boolean;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    options: RateLimiterOptions = { jitterMs: 25 },
  ) {
    this.windowMs = 1000 + Math.max(0, options.jitterMs);
    this.departureLog = options.departureLog ?? false;
  }

  /** The sliding window the departure gate counts over, ms: 1000 + the jitter allowance. */
  get gateWindowMs(): number {
    return this.windowMs;
  }

  /** Reserves the account's next send slot; returns how long to wait for it, ms. */
  async reserve(accountId: string, ratePerSecond: number): Promise<number> {
    const interval = slotIntervalMs(ratePerSecond, this.windowMs - 1000);
    const wait = (await RESERVE.run(this.redis, 1, redisKeys.rateSlots(this.prefix, accountId), String(interval))) as string;
    return Number(wait);
  }

  /**
   * Waits for the account's next send slot, then for the departure gate. `ratePerSecond` is the
   * pace (lowered after rate-limit answers); `limitPerSecond`, the configured rate, is the hard cap.
   * Resolves with how long it waited, ms.
   */
  async acquire(accountId: string, ratePerSecond: number, limitPerSecond: number = ratePerSecond): Promise<number> {
    const started = performance.now();
    const waitMs = await this.reserve(accountId, ratePerSecond);
    if (waitMs > 0.5) await sleep(waitMs);
    const limit = Math.max(1, Math.floor(limitPerSecond));
    for (;;) {
      const gateMs = Number(
        await GATE.run(this.redis, 2,
          redisKeys.departures(this.prefix, accountId),
          redisKeys.departureLog(this.prefix, accountId),
          String(limit),
          String(this.windowMs),
          `${process.pid}:${++this.sequence}:${Math.random()}`,
          this.departureLog ? '1' : '0',
          String(LOG_TTL_MS),
          String(LOG_MAX_ENTRIES),
        ),
      );
      if (gateMs <= 0) return performance.now() - started;
      await sleep(gateMs + 1);
    }
  }
}

/** Time between two of an account's send slots, ms: rate x 1000 / (1000 + jitter) per second (the launch planner paces with it too). */
export function slotIntervalMs(ratePerSecond: number, jitterMs: number): number {
  return (1000 + Math.max(0, jitterMs)) / Math.max(1, ratePerSecond);
}

/** The departures the gate admitted for an account (Redis-clock ms, in admission order), when RATE_DEPARTURE_LOG is on. */
export async function readDepartureLog(redis: RedisClient, prefix: string, accountId: string): Promise<number[]> {
  return (await redis.lrange(redisKeys.departureLog(prefix, accountId), 0, -1)).map(Number);
}

/**
 * The most departures in any window of `windowMs` (half-open, as the gate counts: a departure
 * exactly `windowMs` after another is outside its window). `times` need not be sorted.
 */
export function mostInAnyWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end += 1) {
    while ((sorted[end] ?? 0) - (sorted[start] ?? 0) >= windowMs) start += 1;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.ceil(ms)));
}
