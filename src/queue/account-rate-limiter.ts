/**
 * The per-account send rate, held across every worker process: GCRA (the generic cell rate
 * algorithm) in one Redis script. Sends take slots on the account's timeline, exactly 1/rate
 * apart, so no one-second window ever holds more than `rate` of them, whichever processes took
 * them.
 *
 * Time comes from Redis (TIME), not from each machine's clock, so skew between workers cannot
 * double-book a slot. BullMQ's own limiter counts fixed windows, which allow up to twice the
 * rate in a wall-clock second; it is not used for this.
 *
 * Slots alone are not enough: a send that leaves late (a stalled event loop, a slow claim) bunches
 * with the next on-time one. So a second check, the departure gate, runs in the same step: it
 * keeps the account's departures in a sorted set and lets a send through only while fewer than
 * `rate` count in the last 1000 ms + jitter (a true sliding window, on Redis's clock), else says
 * how long until the oldest one ages out. Pacing can then sit close to the rate.
 *
 * A departure counts from the moment its request is written to the connection, not from the
 * gate: between the two there is still the event loop, maybe a connection to open, and on a
 * loaded machine that delay varies by tens of milliseconds. So a send the gate admits is
 * *pending*: it counts in every window (its score is put PENDING_HOLD_MS ahead) until the HTTP
 * client starts writing it (Departure.onWire), which re-stamps it on Redis's clock, a moment
 * after the write. A call that never said (held back, no connection, a ProviderCall that cannot
 * tell) counts from when it ended (Departure.settle): never from earlier than it may have been
 * written. Any window of writes then holds at most `rate`, however late each one was, across
 * processes. The price: a send counts for the gate-to-wire delay on top of the window, so a
 * machine whose event loop lags paces a little lower rather than bunching.
 *
 * Round trips: each process admits the sends of one account that wait in it together. One
 * script call lets through, in the order they came, every waiting send whose slot is due and that
 * the gate has room for, and says how long until more can go; the process asks again then (and
 * no sooner than NEXT_ASK_MS). The wire stamps of one turn of the event loop are written in one
 * call too. Before, each send asked on its own: once for its slot, again at it, and again each
 * time the gate turned it away; in bench:rate at 1,000/s that was about 2,500 admission calls a
 * second, against 16-50 now (BENCHMARKS.md, session 13). The bound does not depend on it: every
 * admission is one atomic step on the account's keys, whichever process asks.
 *
 * Optionally (RATE_DEPARTURE_LOG) each write's stamp is also appended, with its gate-to-wire
 * delay, to a per-account list, so a test or benchmark can check the bound on the engine's own
 * departure times, whatever the load on the machine (src/queue/departure-log.ts). Off in production.
 */
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import type { Admission, Departure } from '../sending/send-ports.js';
import { parseSendState, SEND_STATE_FIELDS } from '../accounts/account-state.js';
import { LuaScript } from '../redis-script.js';
import { LOG_MAX_ENTRIES, LOG_TTL_MS } from './departure-log.js';

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

/**
 * How long an admitted send counts as pending before its request is written, at most (ms): past
 * it, a send still not stamped (its process died, or stalled this long) stops holding its place. Covers a new connection's connect timeout (10 s, src/providers/http.ts).
 */
export const PENDING_HOLD_MS = 10_000;
/**
 * The most slots one admission may take at once when the process came back late, ms of them: the
 * slots of an account waiting on a process are not reserved ahead, so a process whose timer or
 * event loop ran late would otherwise lose the ones that fell due meanwhile. It takes at most this
 * much of the rate at once (none it missed when one slot is this long or longer: slow accounts keep
 * one send per slot). The departure gate still bounds every window; this only shapes the pace.
 */
export const CATCH_UP_MS = 100;
/** How long a process waits, at least, before it asks again for sends whose slots are not due yet (ms): each ask then admits the slots due since, several at once. */
const NEXT_ASK_MS = 4;
/** The most waiting sends one admission considers. */
const MOST_PER_ADMISSION = 256;

/**
 * One admission for the sends of one account waiting in one process, in one round trip. KEYS: the
 * account's slot timeline, its departures, its send state, then the stop marks of the waiting
 * sends' campaigns (src/campaigns/campaign-stops.ts), each once. ARGV: the slot interval (ms), the
 * limit, the window, the pending hold, the catch-up (ms), how many sends wait, the base of their
 * members' names, then the state's field names.
 *
 * - The slots (GCRA, with a tolerance of `catch-up` ms): the timeline's next free slot, or
 *   `catch-up` ms back if it fell further behind, and every interval after it up to now, are due.
 * - The gate: at most `limit` departures count in the window. Each send admitted counts from now
 *   on as *pending*: its score is put `hold` ms ahead, so it ages out of no window until WIRE
 *   re-stamps it with the moment its request was written.
 * - It admits the first `take` sends: as many as wait, as slots are due and as the gate has room;
 *   the timeline moves on by the slots taken only, so none is wasted.
 * - It answers {take, wait, ...the account's send state, ...the stop marks or ''}: `wait` is how
 *   long until more could go (the next slot, or the oldest departure ageing out of a full window),
 *   0 when every send waiting went.
 */
const ADMIT = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local hold = tonumber(ARGV[4])
local catchUp = tonumber(ARGV[5])
local wanted = tonumber(ARGV[6])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(tat, now - catchUp)
local due = 0
if start <= now + 0.5 then due = math.floor((now + 0.5 - start) / interval) + 1 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
local room = math.max(0, limit - redis.call('ZCARD', KEYS[2]))
local take = math.min(wanted, due, room)
if take > 0 then
  redis.call('SET', KEYS[1], string.format('%.3f', start + take * interval), 'PX', math.ceil(interval) + 60000)
  local entries = {}
  for i = 1, take do
    entries[#entries + 1] = now + hold
    entries[#entries + 1] = ARGV[7] .. i
  end
  redis.call('ZADD', KEYS[2], unpack(entries))
  redis.call('PEXPIRE', KEYS[2], window * 2 + hold)
end
local wait = 0
if take < wanted then
  wait = math.max(0, start + take * interval - now)
  if take == room then
    local oldest = tonumber(redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2] or now)
    local free = now + window
    if oldest <= now then free = oldest + window end
    wait = math.max(wait, free - now)
  end
end
local state = redis.call('HMGET', KEYS[3], ARGV[8], ARGV[9], ARGV[10])
local answer = {take, string.format('%.3f', wait), state[1] or '', state[2] or '', state[3] or '0'}
for i = 4, #KEYS do answer[#answer + 1] = redis.call('GET', KEYS[i]) or '' end
return answer
`);

/**
 * Pending sends' requests were written: each counts from now (Redis's clock, a moment after the
 * writes). KEYS: the departures, the departure log. ARGV: the departures' TTL, whether to log,
 * the log's TTL and length, the pending hold, then the members.
 */
const WIRE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local log = ARGV[2] == '1'
for i = 6, #ARGV do
  local pending = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[i]) or '0')
  redis.call('ZADD', KEYS[1], now, ARGV[i])
  if log then
    local admitted = pending - tonumber(ARGV[5])
    if pending == 0 or admitted > now then admitted = now end
    redis.call('RPUSH', KEYS[2], string.format('%.3f %.3f', now, now - admitted))
  end
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
if log then
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
end
return 1
`);

/** A send waiting in this process for its account's admission. */
type Waiter = { campaignId: string | undefined; started: number; resolve: (admission: Admission) => void; reject: (error: unknown) => void };

/** One account's sends waiting in this process, and the pace and limit they were asked at (the latest). */
type AccountWaiters = { waiting: Waiter[]; asking: boolean; ratePerSecond: number; limitPerSecond: number };

export class AccountRateLimiter {
  private sequence = 0;
  private readonly windowMs: number;
  private readonly departureLog: boolean;
  private readonly accounts = new Map<string, AccountWaiters>();
  /** Wire stamps not yet written, per account; written together once this turn of the event loop is done. */
  private readonly stamps = new Map<string, string[]>();
  private stampsScheduled = false;

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
   * rate-limit answers), and for the departure gate under `limitPerSecond` (the configured rate,
   * the hard cap). The send then counts as pending until its Admission's `onWire` (the request
   * written) or `settle`. The Admission carries the account's send state, and the stop mark of
   * `campaignId` when given, read as it was admitted.
   *
   * The sends of one account waiting in this process are admitted together: one round trip lets
   * through every one whose slot is due and that the gate has room for, in the order they came,
   * then the process asks again when more can go (NEXT_ASK_MS at the soonest). Each process asks
   * for itself; the script keeps the bound across all of them.
   */
  acquire(accountId: string, ratePerSecond: number, limitPerSecond: number = ratePerSecond, campaignId?: string): Promise<Admission> {
    let account = this.accounts.get(accountId);
    if (!account) {
      account = { waiting: [], asking: false, ratePerSecond, limitPerSecond };
      this.accounts.set(accountId, account);
    }
    account.ratePerSecond = ratePerSecond;
    account.limitPerSecond = limitPerSecond;
    const waiting = account;
    return new Promise<Admission>((resolve, reject) => {
      waiting.waiting.push({ campaignId, started: performance.now(), resolve, reject });
      if (waiting.asking) return;
      // Asked for once the current task is done, so sends that come together go in one round trip.
      waiting.asking = true;
      queueMicrotask(() => void this.admitWaiting(accountId, waiting));
    });
  }

  /** Asks for the account's waiting sends until none is left; on an error, every waiting send gets it. */
  private async admitWaiting(accountId: string, account: AccountWaiters): Promise<void> {
    try {
      while (account.waiting.length > 0) {
        const considered = account.waiting.slice(0, MOST_PER_ADMISSION);
        const campaigns = [...new Set(considered.flatMap((w) => (w.campaignId === undefined ? [] : [w.campaignId])))];
        const keys = [
          redisKeys.rateSlots(this.prefix, accountId),
          redisKeys.departures(this.prefix, accountId),
          redisKeys.accountState(this.prefix, accountId),
          ...campaigns.map((campaignId) => redisKeys.campaignStop(this.prefix, accountId, campaignId)),
        ];
        const base = `${process.pid}:${++this.sequence}:${Math.random()}:`;
        const limit = String(Math.max(1, Math.floor(account.limitPerSecond)));
        const interval = slotIntervalMs(account.ratePerSecond, this.windowMs - 1000);
        const args = [String(interval), limit, String(this.windowMs), String(PENDING_HOLD_MS), String(Math.max(0, CATCH_UP_MS - interval)), String(considered.length), base, ...SEND_STATE_FIELDS];
        const answer = ((await ADMIT.run(this.redis, keys.length, ...keys, ...args)) as (string | number)[]).map(String);
        const taken = Number(answer[0]);
        const state = parseSendState(answer.slice(2, 5));
        const marks = answer.slice(5);
        const now = performance.now();
        account.waiting.splice(0, taken).forEach((waiter, i) => {
          const campaignStop = waiter.campaignId === undefined ? null : marks[campaigns.indexOf(waiter.campaignId)] || null;
          waiter.resolve({ ...this.departure(accountId, `${base}${i + 1}`, now - waiter.started), state, campaignStop });
        });
        // Sends that could not go yet wait until more can (a slot or the window), then are asked for
        // together with those that came meanwhile; sends that came during the round trip, asked at once.
        if (taken < considered.length) await sleep(Math.max(Number(answer[1]), NEXT_ASK_MS));
      }
    } catch (error) {
      for (const waiter of account.waiting.splice(0)) waiter.reject(error);
    } finally {
      account.asking = false;
    }
  }

  private departure(accountId: string, member: string, waitedMs: number): Departure {
    let pending = true;
    // Written after this turn of the event loop, together with the other writes of the turn: the
    // stamp is then a little later than the write, never earlier, so the bound errs on the safe side.
    const stamp = (): void => {
      if (!pending) return;
      pending = false;
      const members = this.stamps.get(accountId);
      if (members) members.push(member);
      else this.stamps.set(accountId, [member]);
      if (!this.stampsScheduled) {
        this.stampsScheduled = true;
        setImmediate(() => this.writeStamps());
      }
    };
    return { waitedMs, onWire: stamp, settle: stamp };
  }

  /** Fire and forget: should a write fail, its entries stay pending and age out PENDING_HOLD_MS later (safe: they count longer, never shorter). */
  private writeStamps(): void {
    this.stampsScheduled = false;
    for (const [accountId, members] of this.stamps) {
      const keys = [redisKeys.departures(this.prefix, accountId), redisKeys.departureLog(this.prefix, accountId)];
      const args = [String(this.windowMs * 2 + PENDING_HOLD_MS), this.departureLog ? '1' : '0', String(LOG_TTL_MS), String(LOG_MAX_ENTRIES), String(PENDING_HOLD_MS)];
      WIRE.run(this.redis, 2, ...keys, ...args, ...members).catch(() => undefined);
    }
    this.stamps.clear();
  }
}

/** Time between two of an account's send slots, ms: rate x 1000 / (1000 + jitter) per second (the launch planner paces with it too). */
export function slotIntervalMs(ratePerSecond: number, jitterMs: number): number {
  return (1000 + Math.max(0, jitterMs)) / Math.max(1, ratePerSecond);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.ceil(ms)));
}
