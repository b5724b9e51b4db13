/**
 * The per-account send rate, held across every worker process: GCRA (the generic cell rate
 * algorithm) in one Redis script. Each send reserves the next free slot on the account's
 * timeline; slots are exactly 1/rate apart, so no one-second window ever holds more than
 * `rate` of them, whichever processes took them. The caller waits until its slot, then sends.
 *
 * Time comes from Redis (TIME), not from each machine's clock, so skew between workers cannot
 * double-book a slot. BullMQ's own limiter counts fixed windows, which allow up to twice the
 * rate in a wall-clock second; it is not used for this.
 */
import type { Redis } from 'ioredis';

/**
 * Slots are paced at this share of the configured rate. A send leaves a little after its slot
 * (timers, a busy event loop, the network), which can bunch two sends; the 5% margin absorbs
 * up to ~50 ms of such delay, whatever the rate, so the provider never counts more than the
 * rate in a second. (2% = 20 ms was exceeded on a loaded two-core CI machine.)
 */
const PACING = 0.95;

const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, tat)
redis.call('SET', KEYS[1], string.format('%.3f', slot + interval), 'PX', math.ceil(interval) + 60000)
return string.format('%.3f', slot - now)
`;

export class AccountRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Reserves the account's next send slot; returns how long to wait for it, ms. */
  async reserve(accountId: string, ratePerSecond: number): Promise<number> {
    const interval = 1000 / (Math.max(1, ratePerSecond) * PACING);
    const wait = (await this.redis.eval(RESERVE, 1, `${this.prefix}:rate:${accountId}`, String(interval))) as string;
    return Number(wait);
  }

  /** Waits for the account's next send slot. */
  async acquire(accountId: string, ratePerSecond: number): Promise<void> {
    const waitMs = await this.reserve(accountId, ratePerSecond);
    if (waitMs > 0.5) await new Promise((resolve) => setTimeout(resolve, Math.ceil(waitMs)));
  }
}
