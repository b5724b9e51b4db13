/**
 * How fast an account may send right now, after its provider said "too fast" (HTTP 429, Meta
 * 130429, Optiwe REQUESTS_LIMIT_REACHED): AIMD, held in Redis for every worker process.
 *
 * - Multiplicative decrease: a rate-limited answer multiplies the account's allowed share of its
 *   configured rate by `decreaseFactor`, in one Lua script, so every process sees the same
 *   share. When one burst draws fifty 429s at once (they all left before the first came back),
 *   only the first decrease within `holdMs` counts: the burst halves the rate once, not 2^50
 *   times.
 * - Additive increase: the share climbs back linearly by `recoverPerSecond` of the configured
 *   rate per second since the last decrease. It is computed when read, from the stored
 *   (share, time) pair, so no timer or leader has to run it, and a crashed process leaves
 *   nothing half done.
 * - Time is Redis's (TIME), so machines whose clocks disagree still agree on how far the
 *   account has recovered.
 *
 * The share is stored, not the rate, so a configured rate edited mid-campaign scales at once.
 * Key: `${prefix}:flow:adaptive-rate:${accountId}`, a hash {fraction, at (Redis ms)}; it expires
 * once the share is back to 1 (an absent key means "full rate").
 */
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import { LuaScript } from '../redis-script.js';
import { SingleFlight } from '../single-flight.js';

export type AdaptiveRateOptions = {
  /** Share of the current rate kept after a rate-limited answer. Default 0.5. */
  decreaseFactor?: number;
  /** Share of the configured rate regained per second since the last decrease. Default 0.05 (full rate 10-20 s after a halving). */
  recoverPerSecond?: number;
  /** The rate never drops below this share of the configured rate. Default 0.05. */
  minFraction?: number;
  /** A decrease within this many ms of the last one is ignored (one burst, one decrease). Default 1000. */
  holdMs?: number;
  /** How long `rateFor` reuses a value read from Redis in this process, ms. Default 200. */
  cacheMs?: number;
};

/** Reads the current share. ARGV: recoverPerSecond, minFraction. Returns the share as a string. */
const READ = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local stored = redis.call('HMGET', KEYS[1], 'fraction', 'at')
if not stored[1] then return '1' end
local fraction = tonumber(stored[1]) + tonumber(ARGV[1]) * math.max(0, now - tonumber(stored[2])) / 1000
return string.format('%.6f', math.max(tonumber(ARGV[2]), math.min(1, fraction)))
`);

/**
 * Decreases the share unless the last decrease is younger than holdMs.
 * ARGV: decreaseFactor, recoverPerSecond, minFraction, holdMs. Returns the share after the call.
 */
const DECREASE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local factor, recover, floor, hold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local stored = redis.call('HMGET', KEYS[1], 'fraction', 'at')
local current = 1
if stored[1] then
  local at = tonumber(stored[2])
  current = math.max(floor, math.min(1, tonumber(stored[1]) + recover * math.max(0, now - at) / 1000))
  if now - at < hold then return string.format('%.6f', current) end
end
local nextFraction = math.max(floor, current * factor)
redis.call('HSET', KEYS[1], 'fraction', string.format('%.6f', nextFraction), 'at', string.format('%.3f', now))
if recover > 0 then
  redis.call('PEXPIRE', KEYS[1], math.ceil(math.max((1 - nextFraction) / recover * 1000, hold)) + 1000)
else
  redis.call('PERSIST', KEYS[1])
end
return string.format('%.6f', nextFraction)
`);

export class AdaptiveRate {
  private readonly decreaseFactor: number;
  private readonly recoverPerSecond: number;
  private readonly minFraction: number;
  private readonly holdMs: number;
  private readonly cacheMs: number;
  private readonly cache = new Map<string, { fraction: number; until: number }>();
  private readonly reads = new SingleFlight<number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    options: AdaptiveRateOptions = {},
  ) {
    this.decreaseFactor = options.decreaseFactor ?? 0.5;
    this.recoverPerSecond = options.recoverPerSecond ?? 0.05;
    this.minFraction = options.minFraction ?? 0.05;
    this.holdMs = options.holdMs ?? 1000;
    this.cacheMs = options.cacheMs ?? 200;
    if (!(this.decreaseFactor > 0 && this.decreaseFactor < 1)) throw new RangeError('decreaseFactor must be between 0 and 1');
    if (!(this.minFraction > 0 && this.minFraction <= 1)) throw new RangeError('minFraction must be in (0, 1]');
    if (!(this.recoverPerSecond >= 0) || !(this.holdMs >= 0) || !(this.cacheMs >= 0)) {
      throw new RangeError('recoverPerSecond, holdMs and cacheMs must be zero or more');
    }
  }

  /** The account's allowed rate now: between minFraction and 1 times `configuredRate`. */
  async rateFor(accountId: string, configuredRate: number): Promise<number> {
    const cached = this.cache.get(accountId);
    if (cached && Date.now() < cached.until) return cached.fraction * configuredRate;
    // Sends that find the cache stale together share one read.
    const fraction = await this.reads.run(accountId, async () => {
      const read = Number(await READ.run(this.redis, 1, this.key(accountId), String(this.recoverPerSecond), String(this.minFraction)));
      this.remember(accountId, read);
      return read;
    });
    return fraction * configuredRate;
  }

  /** Slows the account after a rate-limited answer (once per `holdMs`); returns the new rate. */
  async onRateLimited(accountId: string, configuredRate: number): Promise<number> {
    const fraction = Number(
      await DECREASE.run(this.redis, 1,
        this.key(accountId),
        String(this.decreaseFactor),
        String(this.recoverPerSecond),
        String(this.minFraction),
        String(this.holdMs),
      ),
    );
    this.remember(accountId, fraction);
    return fraction * configuredRate;
  }

  /** Back to the full configured rate, in every process (this one at once, others within cacheMs). */
  async reset(accountId: string): Promise<void> {
    this.cache.delete(accountId);
    await this.redis.del(this.key(accountId));
  }

  private remember(accountId: string, fraction: number): void {
    if (this.cacheMs > 0) this.cache.set(accountId, { fraction, until: Date.now() + this.cacheMs });
  }

  private key(accountId: string): string {
    return redisKeys.adaptiveRate(this.prefix, accountId);
  }
}
