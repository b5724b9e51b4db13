/**
 * Request rate limits held across every API process: GCRA (the generic cell rate algorithm) in
 * one Redis script, on Redis's clock. A limit of `limit` requests per `windowMs` lets any window
 * of that length hold at most `limit` requests (a burst of `limit`, then one per windowMs/limit),
 * unlike fixed windows, which allow twice the limit across a boundary.
 *
 * One limiter per kind of caller; `take(id)` spends one request of that id's budget:
 *
 *   const limiter = new RedisRateLimiter(redis, `${prefix}:rl:webhook`, { limit: 600, windowMs: 60_000 });
 *   const verdict = await limiter.take(accountId);
 *   if (!verdict.allowed) throw errors.rateLimited(Math.ceil(verdict.retryAfterMs / 1000));
 *
 * The API applies one per API key (src/api/auth.ts); webhook receivers can apply another per
 * webhook URL the same way. When Redis does not answer, `take` lets the request through (the
 * limit protects the service; refusing every request because Redis blinked would not).
 */
import type { RedisClient } from '../redis-client.js';
import { LuaScript } from '../redis-script.js';

export type RateLimit = { limit: number; windowMs: number };
export type RateVerdict = { allowed: boolean; retryAfterMs: number; remaining: number };

// KEYS[1]: the id's theoretical arrival time (TAT). ARGV: limit, window (ms).
const TAKE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local interval = window / limit
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local after = tat + interval
local allowAt = after - window
if allowAt > now then
  return {0, math.ceil(allowAt - now), 0}
end
redis.call('SET', KEYS[1], string.format('%.3f', after), 'PX', math.ceil(after - now) + 1)
return {1, 0, math.floor((window - (after - now)) / interval)}
`);

export class RedisRateLimiter {
  constructor(
    private readonly redis: RedisClient,
    /** Redis key prefix of this limiter, e.g. `${QUEUE_PREFIX}:rl:api`. */
    private readonly keyPrefix: string,
    private readonly rate: RateLimit,
    private readonly onRedisError: (error: unknown) => void = () => undefined,
  ) {}

  /** Spends one request of `id`'s budget (an id is any string: a key hash, an account id). */
  async take(id: string): Promise<RateVerdict> {
    if (this.rate.limit <= 0) return { allowed: true, retryAfterMs: 0, remaining: Number.POSITIVE_INFINITY };
    try {
      const [allowed, retryAfterMs, remaining] = (await TAKE.run(this.redis, 1, `${this.keyPrefix}:${id}`, String(this.rate.limit), String(this.rate.windowMs))) as [
        number,
        number,
        number,
      ];
      return { allowed: allowed === 1, retryAfterMs, remaining };
    } catch (error) {
      this.onRedisError(error);
      return { allowed: true, retryAfterMs: 0, remaining: 0 };
    }
  }
}
