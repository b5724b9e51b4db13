/**
 * The feeder's decisions as pure functions: how much of an account's queue window is free, how
 * a free window is shared among campaigns, and which candidates may be queued now (quiet hours,
 * the messaging limit). No I/O and no clock of their own: the feeder (./feeder.ts) calls them
 * with what it read from Postgres and Redis, and the launch planner (./launch-plan.ts)
 * calls the same functions on a simulated timeline, so a plan is the feeder's own arithmetic.
 */
import { ENGINE_CODES } from '../engine-codes.js';
import { nextWindowOpen, timeZoneForPhone } from '../flow/quiet-hours.js';

/** Most recipients one pick asks for, so the first jobs reach Redis (and workers) at once. */
export const FEED_STEP = 2_000;
/** When a refused reservation names no time, the next look is this far away. */
export const BUDGET_RETRY_MS = 3_600_000;

/**
 * How many jobs an account's queue may hold: `windowSeconds` of its rate, at least 100 and at most
 * `maxJobs` (QUEUE_WINDOW_MAX_JOBS); one while probing.
 */
export function queueWindowSize(ratePerSecond: number, windowSeconds: number, probing: boolean, maxJobs: number): number {
  return probing ? 1 : Math.min(maxJobs, Math.max(100, ratePerSecond * windowSeconds));
}

/**
 * Room left in the window, or 0 when it is not worth a top-up yet (less than a quarter free):
 * the queue is topped up in chunks, not a trickle of tiny batches.
 */
export function freeRoom(window: number, inFlight: number): number {
  const free = window - inFlight;
  return free < Math.ceil(window / 4) || free <= 0 ? 0 : free;
}

/** Each campaign's share when `sharing` campaigns of equal priority split `free`; what one cannot use passes to the next. */
export function shareOf(free: number, sharing: number): number {
  return Math.max(1, Math.ceil(free / Math.max(1, sharing)));
}

/** What one pick asks for: its share, no more than is free, in steps of FEED_STEP. */
export function stepAsked(share: number, free: number): number {
  return Math.min(share, free, FEED_STEP);
}

/** Campaigns grouped by priority, highest first; order within a group kept. */
export function priorityTiers<T extends { priority: number }>(campaigns: readonly T[]): T[][] {
  const tiers = new Map<number, T[]>();
  for (const c of campaigns) tiers.set(c.priority, [...(tiers.get(c.priority) ?? []), c]);
  return [...tiers.entries()].sort((a, b) => b[0] - a[0]).map(([, list]) => list);
}

/** A campaign's daily sending window, minutes after local midnight; null when it has none. */
export type SendWindow = { start: number; end: number } | null;

export function sendWindowOf(windowStart: number | null, windowEnd: number | null): SendWindow {
  return windowStart !== null && windowEnd !== null && windowStart !== windowEnd ? { start: windowStart, end: windowEnd } : null;
}

export type FeedCandidateLike = { id: string; phone: string; time_zone: string | null };
export type Deferral = { id: string; notBefore: Date; errorCode: string };

/** The recipient's zone for quiet hours: its own column, else the phone's. */
export function recipientTimeZone(c: Pick<FeedCandidateLike, 'phone' | 'time_zone'>): string {
  return c.time_zone ?? timeZoneForPhone(c.phone);
}

/**
 * Candidates inside their local window now, and the others deferred until it opens (QUIET_HOURS).
 * The opening is worked out once per time zone.
 */
export function splitByWindow<T extends FeedCandidateLike>(candidates: readonly T[], window: SendWindow, now: Date): { open: T[]; deferred: Deferral[] } {
  if (!window) return { open: [...candidates], deferred: [] };
  const open: T[] = [];
  const deferred: Deferral[] = [];
  const byZone = new Map<string, Date | null>();
  for (const c of candidates) {
    const zone = recipientTimeZone(c);
    let opensAt = byZone.get(zone);
    if (opensAt === undefined) {
      opensAt = nextWindowOpen(now, zone, window.start, window.end);
      byZone.set(zone, opensAt);
    }
    if (opensAt) deferred.push({ id: c.id, notBefore: opensAt, errorCode: ENGINE_CODES.QUIET_HOURS });
    else open.push(c);
  }
  return { open, deferred };
}

/**
 * After a messaging-limit reservation: the candidates whose phone was granted go, the others
 * wait until the next slot frees (DAILY_LIMIT_REACHED).
 */
export function splitByBudget<T extends FeedCandidateLike>(open: readonly T[], granted: ReadonlySet<string>, nextFreeAt: Date | null, now: Date): { allowed: T[]; deferred: Deferral[] } {
  const retryAt = nextFreeAt ?? new Date(now.getTime() + BUDGET_RETRY_MS);
  const allowed: T[] = [];
  const deferred: Deferral[] = [];
  for (const c of open) {
    if (granted.has(c.phone)) allowed.push(c);
    else deferred.push({ id: c.id, notBefore: retryAt, errorCode: ENGINE_CODES.DAILY_LIMIT_REACHED });
  }
  return { allowed, deferred };
}
