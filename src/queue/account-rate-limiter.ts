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
 * request goes out: it keeps the account's departures in a sorted set and lets one through only
 * while fewer than `rate` count in the last 1000 ms + jitter (a true sliding window, on Redis's
 * clock), else says how long until the oldest one ages out. Pacing can then sit close to the rate.
 *
 * A departure counts from the moment its request is written to the connection, not from the
 * gate: between the two there is still a Redis read, the event loop, maybe a connection to open,
 * and on a loaded machine that delay varies by tens of milliseconds. So a send the gate admits
 * is *pending*: it counts in every window (its score is put PENDING_HOLD_MS ahead) until the HTTP
 * client starts writing it (Departure.onWire), which re-stamps it with that moment, on Redis's
 * clock. A call that never said (held back, no connection, a ProviderCall that cannot tell)
 * counts from when it ended (Departure.settle): never from earlier than it may have been written.
 * Any window of writes then holds at most `rate`, however late each one was, across processes.
 * The price: a send counts for the gate-to-wire delay on top of the window, so a machine whose
 * event loop lags paces a little lower rather than bunching.
 *
 * Optionally (RATE_DEPARTURE_LOG) each write's stamp is also appended, with its gate-to-wire
 * delay, to a per-account list, so a test or benchmark can check the bound on the engine's own
 * departure times, whatever the load on the machine (`readDepartures`). Off in production.
 */
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import type { Admission, Departure } from '../sending/send-ports.js';
import { parseSendState, SEND_STATE_FIELDS } from '../accounts/account-state.js';
import { LuaScript } from '../redis-script.js';

/**
 * The jitter tolerated between a send's departure and the provider's own count (RATE_JITTER_MS):
 * the gate counts departures over 1000 ms + jitter, and slots are paced to match, so a provider
 * whose clock sees sends up to `jitterMs` apart from ours still never counts more than the rate
 * in one second. The price is the average: rate x 1000 / (1000 + jitter), 97.6% at 25 ms.
 */
export type RateLimiterOptions = {
  jitterMs: number;
  /** Keep every departure's time on the wire in `redisKeys.departureLog` (tests, bench:rate). Default off. */
  departureLog?: boolean;
};

/** How long a departure log outlives its last departure, and how many entries it keeps at most. */
const LOG_TTL_MS = 3_600_000;
const LOG_MAX_ENTRIES = 200_000;
/**
 * How long an admitted send counts as pending before its request is written, at most (ms): past
 * it, a send still not stamped (its process died, or stalled this long) stops holding its place. Covers a new connection's connect timeout (10 s, src/providers/http.ts).
 */
export const PENDING_HOLD_MS = 10_000;

/**
 * One step of a send's admission, in one round trip. KEYS: the account's slot timeline, its
 * departures, its send state, the gate's retries, and (for a campaign's send) the campaign's stop
 * mark on this account (src/campaigns/campaign-stops.ts). ARGV: the slot interval (ms; '' when the slot is already reserved),
 * the limit, the window, this send's member, the pending hold, then the state's field names.
 *
 * - The slot (GCRA): reserves the next free slot on the timeline; a slot more than half a
 *   millisecond away answers {'slot', wait}, and the caller comes back once it is due.
 * - The gate: admits the send while fewer than `limit` departures count in the window. A send it
 *   admits counts from that moment on as *pending*: its score is put `hold` ms ahead, so it ages
 *   out of no window until WIRE re-stamps it with the moment its request was written. A full
 *   window answers {'gate', wait}: the send comes back no earlier than the oldest departure ages
 *   out, and one slot interval (ARGV[9]) after the last send the gate turned away (a timeline of
 *   their own, KEYS[4]), so they return in order rather than all at once when the window frees
 *   (a herd that loaded Redis and the worker for nothing). The slot timeline itself is left as
 *   it is: the slots already handed out keep their times, and none is wasted.
 * - Admitted, it answers {'ok', ...the account's send state, the campaign's stop mark or ''}: the
 *   send's last check before the wire reads in the same step, not in a round trip of its own.
 */
const ADMIT = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
if ARGV[1] ~= '' then
  local interval = tonumber(ARGV[1])
  local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
  local slot = math.max(now, tat)
  redis.call('SET', KEYS[1], string.format('%.3f', slot + interval), 'PX', math.ceil(interval) + 60000)
  if slot - now > 0.5 then return {'slot', string.format('%.3f', slot - now)} end
end
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local hold = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
if redis.call('ZCARD', KEYS[2]) < limit then
  redis.call('ZADD', KEYS[2], now + hold, ARGV[4])
  redis.call('PEXPIRE', KEYS[2], window * 2 + hold)
  local state = redis.call('HMGET', KEYS[3], ARGV[6], ARGV[7], ARGV[8])
  local stop = ''
  if KEYS[5] then stop = redis.call('GET', KEYS[5]) or '' end
  return {'ok', state[1] or '', state[2] or '', state[3] or '0', stop}
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2])
local free = now + window
if oldest <= now then free = oldest + window end
local interval = tonumber(ARGV[9])
local queued = tonumber(redis.call('GET', KEYS[4]) or '0')
local retry = math.max(free, queued)
redis.call('SET', KEYS[4], string.format('%.3f', retry + interval), 'PX', math.ceil(retry + interval - now) + 60000)
return {'gate', string.format('%.3f', retry - now)}
`);

/** A pending send's request was written: it counts from now (Redis's clock, a moment after the write). */
const WIRE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local pending = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0')
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
if ARGV[3] == '1' then
  local admitted = pending - tonumber(ARGV[6])
  if pending == 0 or admitted > now then admitted = now end
  redis.call('RPUSH', KEYS[2], string.format('%.3f %.3f', now, now - admitted))
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
end
return 1
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

  /**
   * Admits one send: waits for the account's next slot at `ratePerSecond` (the pace, lowered after
   * rate-limit answers), then for the departure gate under `limitPerSecond` (the configured rate,
   * the hard cap). The send then counts as pending until its Admission's `onWire` (the request
   * written) or `settle`. The Admission carries the account's send state, and the stop mark of
   * `campaignId` when given, read as it was admitted.
   */
  async acquire(accountId: string, ratePerSecond: number, limitPerSecond: number = ratePerSecond, campaignId?: string): Promise<Admission> {
    const started = performance.now();
    const keys = [redisKeys.rateSlots(this.prefix, accountId), redisKeys.departures(this.prefix, accountId), redisKeys.accountState(this.prefix, accountId), redisKeys.gateRetries(this.prefix, accountId)];
    if (campaignId !== undefined) keys.push(redisKeys.campaignStop(this.prefix, accountId, campaignId));
    const limit = String(Math.max(1, Math.floor(limitPerSecond)));
    const member = `${process.pid}:${++this.sequence}:${Math.random()}`;
    const pace = String(slotIntervalMs(ratePerSecond, this.windowMs - 1000));
    let interval = pace;
    for (;;) {
      const answer = (await ADMIT.run(this.redis, keys.length, ...keys, interval, limit, String(this.windowMs), member, String(PENDING_HOLD_MS), ...SEND_STATE_FIELDS, pace)) as string[];
      if (answer[0] === 'ok') {
        return { ...this.departure(accountId, member, performance.now() - started), state: parseSendState(answer.slice(1, 4)), campaignStop: answer[4] || null };
      }
      // The slot is reserved (by the first step, or anew by the gate); the next step only asks the gate.
      interval = '';
      await sleep(Number(answer[1]));
    }
  }

  private departure(accountId: string, member: string, waitedMs: number): Departure {
    let pending = true;
    // Fire and forget: this runs inside the HTTP client's write. Should it fail, the entry stays
    // pending and ages out PENDING_HOLD_MS later: the bound errs on the safe side.
    const stamp = (): void => {
      if (!pending) return;
      pending = false;
      const keys = [redisKeys.departures(this.prefix, accountId), redisKeys.departureLog(this.prefix, accountId)];
      const args = [member, String(this.windowMs * 2 + PENDING_HOLD_MS), this.departureLog ? '1' : '0', String(LOG_TTL_MS), String(LOG_MAX_ENTRIES), String(PENDING_HOLD_MS)];
      WIRE.run(this.redis, 2, ...keys, ...args).catch(() => undefined);
    };
    return { waitedMs, onWire: stamp, settle: stamp };
  }
}

/** Time between two of an account's send slots, ms: rate x 1000 / (1000 + jitter) per second (the launch planner paces with it too). */
export function slotIntervalMs(ratePerSecond: number, jitterMs: number): number {
  return (1000 + Math.max(0, jitterMs)) / Math.max(1, ratePerSecond);
}

/**
 * An account's departures, when RATE_DEPARTURE_LOG is on: each send's time on the wire (Redis
 * clock, ms, as its request was written; in the order they were stamped), and how long it took
 * from the gate admitting it to that moment, ms (both on Redis's clock, so a little more than
 * the process saw: each includes a Redis round trip).
 */
export async function readDepartures(redis: RedisClient, prefix: string, accountId: string): Promise<{ at: number; gateToWireMs: number }[]> {
  return (await redis.lrange(redisKeys.departureLog(prefix, accountId), 0, -1)).map((entry) => {
    const [at, gateToWire] = entry.split(' ');
    return { at: Number(at), gateToWireMs: Number(gateToWire ?? 0) };
  });
}

/** The departure times alone (readDepartures). */
export async function readDepartureLog(redis: RedisClient, prefix: string, accountId: string): Promise<number[]> {
  return (await readDepartures(redis, prefix, accountId)).map((d) => d.at);
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
