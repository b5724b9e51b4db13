/**
 * An account's departure log (RATE_DEPARTURE_LOG, off in production): each send's time on the
 * wire, as the departure gate stamped it (src/queue/account-rate-limiter.ts writes it), so a test
 * or benchmark can check the rate's bound on the engine's own departure times, whatever the load
 * on the machine. One entry per departure: "<time on the wire> <gate to wire>", ms, Redis's clock.
 */
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';

/** How long a departure log outlives its last departure, and how many entries it keeps at most. */
export const LOG_TTL_MS = 3_600_000;
export const LOG_MAX_ENTRIES = 200_000;

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
