/**
 * A campaign's error budget: the failure ratio of its most recent results, shared by every
 * worker process, so the campaign can pause itself when too many recent sends fail (a broken
 * template, a bad list) instead of burning through the whole list.
 *
 * The window is counted in results, not time: a slow campaign and a fast one are judged on
 * the same number of sends. It is a ring of `buckets` (10, or windowSize if smaller) buckets
 * of `bucketSize` = ceil(windowSize / buckets) results each. Results fill the current bucket;
 * when it is full the ring moves on and clears the oldest. So the sample is exactly every
 * result until the ring first wraps, and after that the last `windowSize` results give or take
 * one bucket (between windowSize - bucketSize and windowSize). A ring was chosen over decayed
 * counters because "the last N results" is what an operator reads in the number, and it
 * forgets old failures completely rather than asymptotically.
 *
 * Results arrive in batches with no order inside; a batch that spans buckets is split between
 * them in proportion. Each `record` is one Lua script, so concurrent batches from several
 * processes never lose a count.
 *
 * Key: `redisKeys.errorBudget` (`<prefix>:{c.<campaignId>}:flow:error-budget`), a hash {idx, o<i>: ok, f<i>: failed}; it
 * expires 7 days after the last result. Every process must use the same windowSize.
 */
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import { LuaScript } from '../redis-script.js';

export type ErrorBudgetOptions = {
  /** Recent results the ratio is computed over. Default 200. */
  windowSize?: number;
  /** Fewer results than this never exceed the budget. Default 50. */
  minSample?: number;
};

export type ErrorBudgetReading = { ratio: number; sample: number };

/** A paused campaign may wait days for its operator; its recent results are kept this long (ms). */
const TTL_MS = 7 * 24 * 3600 * 1000;

/** KEYS: budget. ARGV: bucketSize, buckets, ok, failed, ttlMs. Returns {ok, failed} in the window. */
const RECORD = new LuaScript(`
local size, buckets = tonumber(ARGV[1]), tonumber(ARGV[2])
local ok, failed = tonumber(ARGV[3]), tonumber(ARGV[4])
local total = ok + failed
local window = size * buckets
if total > window then
  -- Only the last window results can count; keep the batch's proportion.
  failed = math.floor(failed * window / total + 0.5)
  ok = window - failed
  total = window
end
local idx = tonumber(redis.call('HGET', KEYS[1], 'idx') or '0') % buckets
-- A batch of at most one window touches at most buckets + 1 buckets, two steps each at worst;
-- the bound keeps a bug from ever looping forever inside Redis, which would block every client.
for _ = 1, 2 * buckets + 2 do
  if total <= 0 then break end
  local okField, failField = 'o' .. idx, 'f' .. idx
  local fill = tonumber(redis.call('HGET', KEYS[1], okField) or '0') + tonumber(redis.call('HGET', KEYS[1], failField) or '0')
  local take = math.max(0, math.min(size - fill, total))
  local failTake = math.floor(failed * take / total + 0.5)
  local okTake = take - failTake
  redis.call('HINCRBY', KEYS[1], okField, okTake)
  redis.call('HINCRBY', KEYS[1], failField, failTake)
  ok, failed, total = ok - okTake, failed - failTake, total - take
  if fill + take >= size then
    idx = (idx + 1) % buckets
    redis.call('HSET', KEYS[1], 'o' .. idx, 0, 'f' .. idx, 0)
  end
end
redis.call('HSET', KEYS[1], 'idx', idx)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local sumOk, sumFailed = 0, 0
for i = 0, buckets - 1 do
  local counts = redis.call('HMGET', KEYS[1], 'o' .. i, 'f' .. i)
  sumOk = sumOk + tonumber(counts[1] or '0')
  sumFailed = sumFailed + tonumber(counts[2] or '0')
end
return {sumOk, sumFailed}
`);

export class ErrorBudget {
  private readonly buckets: number;
  private readonly bucketSize: number;
  private readonly minSample: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    options: ErrorBudgetOptions = {},
  ) {
    const windowSize = Math.max(1, Math.floor(options.windowSize ?? 200));
    this.buckets = Math.min(10, windowSize);
    this.bucketSize = Math.ceil(windowSize / this.buckets);
    this.minSample = options.minSample ?? 50;
  }

  /** Adds a batch of results; returns the window's failure ratio and how many results it holds. */
  async record(campaignId: string, counts: { ok: number; failed: number }): Promise<ErrorBudgetReading> {
    if (!Number.isFinite(counts.ok) || !Number.isFinite(counts.failed)) throw new RangeError('ok and failed must be finite counts');
    const ok = Math.max(0, Math.floor(counts.ok));
    const failed = Math.max(0, Math.floor(counts.failed));
    const [sumOk, sumFailed] = (await RECORD.run(this.redis, 1,
      this.key(campaignId),
      String(this.bucketSize),
      String(this.buckets),
      String(ok),
      String(failed),
      String(TTL_MS),
    )) as [number, number];
    return reading(sumOk, sumFailed);
  }

  /** Whether the window's failure ratio is above `threshold` (0-1), on at least minSample results. */
  async exceeded(campaignId: string, threshold: number): Promise<{ exceeded: boolean } & ErrorBudgetReading> {
    const fields = await this.redis.hgetall(this.key(campaignId));
    let sumOk = 0;
    let sumFailed = 0;
    for (const [field, value] of Object.entries(fields)) {
      if (field.startsWith('o')) sumOk += Number(value);
      else if (field.startsWith('f')) sumFailed += Number(value);
    }
    const { ratio, sample } = reading(sumOk, sumFailed);
    return { exceeded: sample >= this.minSample && ratio > threshold, ratio, sample };
  }

  /** Forgets the campaign's results, when an operator resumes it. */
  async reset(campaignId: string): Promise<void> {
    await this.redis.del(this.key(campaignId));
  }

  private key(campaignId: string): string {
    return redisKeys.errorBudget(this.prefix, campaignId);
  }
}

function reading(ok: number, failed: number): ErrorBudgetReading {
  const sample = ok + failed;
  return { ratio: sample === 0 ? 0 : failed / sample, sample };
}
