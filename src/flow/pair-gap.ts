/**
 * Never two messages from one account to the same phone within a gap, whichever campaign or
 * worker process sends them: Meta refuses a second message to a user within about 6 s (pair
 * rate, 131056), and the refusal costs a retry.
 *
 * Each send first reserves the (account, phone) pair with SET NX PX gapMs. Redis grants the key
 * to exactly one caller however many processes race for it, and expires it on its own clock, so
 * a crashed process cannot leave a phone blocked for longer than the gap. A caller that loses
 * learns how long to wait (the key's PTTL).
 *
 * Key: `redisKeys.pairGap` (`<prefix>:{a.<accountId>}:flow:pair-gap:h:<hash>`), holding the reserving instance's token,
 * so `release` only ever frees the caller's own reservation. `hash` is an HMAC-SHA-256 of the
 * phone (as given: pass E.164) under a key from the environment (derived from the credentials
 * key), so Redis never holds a phone number, and every process derives the same key name.
 * Keys written by versions that put the phone in the name are simply never read again: the gap
 * of a phone sent to during the upgrade restarts, at most `gapMs` lost once.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import { LuaScript } from '../redis-script.js';

export type PairReservation = { ok: true } | { ok: false; waitMs: number };

/**
 * KEYS: one per phone. ARGV: gapMs, token. Returns, per key, -1 when reserved, else the ms until
 * the holder's gap ends (at least 1).
 */
const RESERVE = new LuaScript(`
local results = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[2], 'NX', 'PX', ARGV[1]) then
    results[i] = -1
  else
    local left = redis.call('PTTL', key)
    if left < 0 then left = tonumber(ARGV[1]) end
    results[i] = math.max(1, left)
  end
end
return results
`);

const RELEASE = new LuaScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`);

/** Phones per script call in `reserveMany`, so a huge batch doesn't hold Redis in one script; the chunks still share one round trip. */
const CHUNK = 1000;

export class PairGap {
  /** Marks this instance's reservations. */
  private readonly token = randomUUID();

  /** `hashKey`: the HMAC key for phones in key names; every process must use the same one. */
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly hashKey: Buffer,
  ) {}

  /** Reserves the phone for this send for `gapMs`, or says how long until it is free. */
  async reserve(accountId: string, phone: string, gapMs: number): Promise<PairReservation> {
    if (gapMs <= 0) return { ok: true };
    const [left] = (await RESERVE.run(this.redis, 1, this.key(accountId, phone), String(Math.ceil(gapMs)), this.token)) as number[];
    return toReservation(left);
  }

  /**
   * `reserve` for a batch, in one round trip. A phone listed twice is reserved once (one entry in
   * the map).
   */
  async reserveMany(accountId: string, phones: string[], gapMs: number): Promise<Map<string, PairReservation>> {
    const unique = [...new Set(phones)];
    const results = new Map<string, PairReservation>();
    if (gapMs <= 0 || unique.length === 0) {
      for (const phone of unique) results.set(phone, { ok: true });
      return results;
    }
    const pipeline = this.redis.pipeline();
    for (let i = 0; i < unique.length; i += CHUNK) {
      const chunk = unique.slice(i, i + CHUNK);
      pipeline.eval(RESERVE.source, chunk.length, ...chunk.map((phone) => this.key(accountId, phone)), String(Math.ceil(gapMs)), this.token);
    }
    const replies = (await pipeline.exec()) ?? [];
    let index = 0;
    for (const [error, reply] of replies) {
      if (error) throw error;
      for (const left of reply as number[]) {
        results.set(unique[index++] as string, toReservation(left));
      }
    }
    return results;
  }

  /** Frees a reservation this instance made, when the send was never attempted. */
  async release(accountId: string, phone: string): Promise<void> {
    await RELEASE.run(this.redis, 1, this.key(accountId, phone), this.token);
  }

  private key(accountId: string, phone: string): string {
    // 128 bits of the HMAC: collisions between phones are out of reach, and keys stay short.
    const hash = createHmac('sha256', this.hashKey).update(phone).digest('base64url').slice(0, 22);
    return redisKeys.pairGap(this.prefix, accountId, hash);
  }
}

function toReservation(left: number | undefined): PairReservation {
  if (left === undefined) throw new Error('pair-gap script returned fewer results than phones');
  return left < 0 ? { ok: true } : { ok: false, waitMs: left };
}
