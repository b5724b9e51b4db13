/**
 * A circuit breaker per provider account, shared by every worker process through Redis: when
 * the provider is down (timeouts, network errors, 5xx), all processes stop calling it together,
 * and exactly one call in the whole cluster probes whether it is back.
 *
 * - Closed: calls go through; every result is counted in a rolling window of ten buckets
 *   spanning `windowMs`. When at least `minCalls` calls are in the window and more than
 *   `failureRatio` of them failed, the breaker opens for `openMs`.
 * - Open: `check` says how long to wait. Results of calls that were already in flight when it
 *   opened are ignored.
 * - Half open: once the open time is over, the first `check` in any process wins the probe
 *   (SET NX with a lease of `probeTimeoutMs`, so a probe whose process died is retried by
 *   someone else). Everyone else is told to come back shortly. The next result recorded
 *   while the probe lease is held decides: success closes the breaker and forgets the past;
 *   failure reopens it for twice as long as last time, capped at `maxOpenMs`.
 *
 * Every transition happens inside one Lua script, against Redis's clock (TIME), so two processes
 * can neither both open it with different times nor both win the probe.
 *
 * Keys, for an account:
 *   `${prefix}:flow:breaker:${accountId}:state`  hash {openedAt, retryAt, openMs}; exists only while open
 *   `${prefix}:flow:breaker:${accountId}:window` hash {c<bucket>: calls, f<bucket>: failures}
 *   `${prefix}:flow:breaker:${accountId}:probe`  the probe lease (PX probeTimeoutMs)
 */
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import { LuaScript } from '../redis-script.js';
import { SingleFlight } from '../single-flight.js';

export type CircuitBreakerOptions = {
  /** The rolling window results are counted in, ms. Default 10_000. */
  windowMs?: number;
  /** Fewer calls than this in the window never open the breaker. Default 20. */
  minCalls?: number;
  /** Opens when failures / calls in the window is above this. Default 0.5. */
  failureRatio?: number;
  /** How long the breaker first stays open, ms; doubles after each failed probe. Default 5_000. */
  openMs?: number;
  /** The open time never doubles past this, ms. Default 300_000. */
  maxOpenMs?: number;
  /** The probe's lease, ms: if its result never comes (the process died), another caller probes after this. Default 30_000, above the 15 s send timeout. */
  probeTimeoutMs?: number;
  /** How long callers turned away while a probe runs should wait before asking again, ms. Default 1_000. */
  probeWaitMs?: number;
  /** How long `check` reuses a "closed" answer in this process, ms. Default 100. */
  cacheMs?: number;
};

export type BreakerCheck = { state: 'closed' } | { state: 'open'; retryInMs: number } | { state: 'half_open_probe' };

export type BreakerState = {
  /** half_open: the open time is over and a probe is due or running. */
  state: 'closed' | 'open' | 'half_open';
  /** Redis time in epoch ms, while open or half open. */
  openedAt?: number;
  retryAt?: number;
  failures: number;
  calls: number;
};

/** The window is this many buckets: a result leaves the window between 0.9 and 1 windowMs after it came. */
const BUCKETS = 10;

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** KEYS: state, probe. ARGV: probeTimeoutMs, probeWaitMs. Returns {kind, retryInMs}. */
const CHECK = new LuaScript(`${NOW}
local retryAt = redis.call('HGET', KEYS[1], 'retryAt')
if not retryAt then return {'closed', 0} end
local wait = tonumber(retryAt) - now
if wait > 0 then return {'open', wait} end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return {'probe', 0} end
local left = redis.call('PTTL', KEYS[2])
return {'open', math.max(1, math.min(left, tonumber(ARGV[2])))}
`);

/** Sums the window's live buckets into calls and failures; with prune = true, deletes the dead ones. */
const SUM_WINDOW = `
local function sumWindow(key, now, bucketMs, prune)
  local current = math.floor(now / bucketMs)
  local fields = redis.call('HGETALL', key)
  local calls, failures, dead = 0, 0, {}
  for i = 1, #fields, 2 do
    local field = fields[i]
    if tonumber(string.sub(field, 2)) > current - ${BUCKETS} then
      if string.sub(field, 1, 1) == 'c' then calls = calls + tonumber(fields[i + 1]) else failures = failures + tonumber(fields[i + 1]) end
    else
      dead[#dead + 1] = field
    end
  end
  if prune and #dead > 0 then redis.call('HDEL', key, unpack(dead)) end
  return calls, failures, current
end
`;

/**
 * KEYS: state, window, probe. ARGV: ok (1|0), bucketMs, minCalls, failureRatio, openMs, maxOpenMs.
 * Returns the state after the result: 'closed' or 'open'.
 */
const RECORD = new LuaScript(`${NOW}${SUM_WINDOW}
local ok = ARGV[1] == '1'
local bucketMs, minCalls, ratio = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local baseOpenMs, maxOpenMs = tonumber(ARGV[5]), tonumber(ARGV[6])
local function open(openMs)
  redis.call('HSET', KEYS[1], 'openedAt', now, 'retryAt', now + openMs, 'openMs', openMs)
  redis.call('PEXPIRE', KEYS[1], openMs + maxOpenMs)
  redis.call('DEL', KEYS[2], KEYS[3])
end
local lastOpenMs = redis.call('HGET', KEYS[1], 'openMs')
if lastOpenMs then
  if redis.call('DEL', KEYS[3]) == 0 then return 'open' end
  if ok then
    redis.call('DEL', KEYS[1], KEYS[2])
    return 'closed'
  end
  open(math.min(tonumber(lastOpenMs) * 2, maxOpenMs))
  return 'open'
end
local bucket = math.floor(now / bucketMs)
redis.call('HINCRBY', KEYS[2], 'c' .. bucket, 1)
if not ok then redis.call('HINCRBY', KEYS[2], 'f' .. bucket, 1) end
redis.call('PEXPIRE', KEYS[2], bucketMs * ${BUCKETS + 1})
local calls, failures = sumWindow(KEYS[2], now, bucketMs, true)
if calls >= minCalls and failures / calls > ratio then
  open(baseOpenMs)
  return 'open'
end
return 'closed'
`);

/** KEYS: state, window. ARGV: bucketMs. Returns {state, openedAt, retryAt, failures, calls}. */
const STATE = new LuaScript(`${NOW}${SUM_WINDOW}
local calls, failures = sumWindow(KEYS[2], now, tonumber(ARGV[1]), false)
local stored = redis.call('HMGET', KEYS[1], 'openedAt', 'retryAt')
if not stored[1] then return {'closed', 0, 0, failures, calls} end
local state = 'open'
if tonumber(stored[2]) <= now then state = 'half_open' end
return {state, tonumber(stored[1]), tonumber(stored[2]), failures, calls}
`);

export class CircuitBreaker {
  private readonly bucketMs: number;
  private readonly minCalls: number;
  private readonly failureRatio: number;
  private readonly openMs: number;
  private readonly maxOpenMs: number;
  private readonly probeTimeoutMs: number;
  private readonly probeWaitMs: number;
  private readonly cacheMs: number;
  private readonly checks = new SingleFlight<{ answer: BreakerCheck; probeTaken: boolean }>();
  /** Accounts whose breaker was closed when last asked, until when (local ms). */
  private readonly closedUntil = new Map<string, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    options: CircuitBreakerOptions = {},
  ) {
    const windowMs = options.windowMs ?? 10_000;
    this.bucketMs = Math.max(1, Math.ceil(windowMs / BUCKETS));
    this.minCalls = Math.max(1, options.minCalls ?? 20);
    this.failureRatio = options.failureRatio ?? 0.5;
    this.openMs = Math.max(1, Math.ceil(options.openMs ?? 5_000));
    this.maxOpenMs = Math.max(this.openMs, Math.ceil(options.maxOpenMs ?? 300_000));
    this.probeTimeoutMs = Math.max(1, Math.ceil(options.probeTimeoutMs ?? 30_000));
    this.probeWaitMs = Math.max(1, Math.ceil(options.probeWaitMs ?? 1_000));
    this.cacheMs = options.cacheMs ?? 100;
  }

  /**
   * May this caller send through the account now? `half_open_probe` means this caller is the one
   * probe allowed across every process: send, then `record` the result.
   */
  async check(accountId: string): Promise<BreakerCheck> {
    const until = this.closedUntil.get(accountId);
    if (until !== undefined && Date.now() < until) return { state: 'closed' };
    // Sends that find the cache stale together share one read, rather than each asking Redis as
    // the entry expires under a thousand sends in flight. Only one caller may be the probe: the
    // others, told "probe", ask for themselves.
    const shared = await this.checks.run(accountId, async () => ({ answer: await this.read(accountId), probeTaken: false }));
    if (shared.answer.state !== 'half_open_probe') return shared.answer;
    if (!shared.probeTaken) {
      shared.probeTaken = true;
      return shared.answer;
    }
    return this.read(accountId);
  }

  private async read(accountId: string): Promise<BreakerCheck> {
    const keys = this.keys(accountId);
    const [kind, retryInMs] = (await CHECK.run(this.redis, 2, keys.state, keys.probe, String(this.probeTimeoutMs), String(this.probeWaitMs))) as [
      string,
      number,
    ];
    if (kind === 'closed') {
      this.remember(accountId);
      return { state: 'closed' };
    }
    this.closedUntil.delete(accountId);
    return kind === 'probe' ? { state: 'half_open_probe' } : { state: 'open', retryInMs };
  }

  /** Counts one call's result: ok = false for timeouts, network errors and 5xx only. */
  async record(accountId: string, ok: boolean): Promise<void> {
    const keys = this.keys(accountId);
    const state = (await RECORD.run(this.redis, 3,
      keys.state,
      keys.window,
      keys.probe,
      ok ? '1' : '0',
      String(this.bucketMs),
      String(this.minCalls),
      String(this.failureRatio),
      String(this.openMs),
      String(this.maxOpenMs),
    )) as string;
    if (state === 'open') this.closedUntil.delete(accountId);
  }

  /** For dashboards: the breaker's state and the window's counts (an open breaker's window is empty). */
  async state(accountId: string): Promise<BreakerState> {
    const keys = this.keys(accountId);
    const [state, openedAt, retryAt, failures, calls] = (await STATE.run(this.redis, 2, keys.state, keys.window, String(this.bucketMs))) as [
      BreakerState['state'],
      number,
      number,
      number,
      number,
    ];
    return state === 'closed' ? { state, failures, calls } : { state, openedAt, retryAt, failures, calls };
  }

  private remember(accountId: string): void {
    if (this.cacheMs > 0) this.closedUntil.set(accountId, Date.now() + this.cacheMs);
  }

  private keys(accountId: string): { state: string; window: string; probe: string } {
    return {
      state: redisKeys.breaker(this.prefix, accountId, 'state'),
      window: redisKeys.breaker(this.prefix, accountId, 'window'),
      probe: redisKeys.breaker(this.prefix, accountId, 'probe'),
    };
  }
}
