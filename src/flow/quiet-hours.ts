/**
 * Quiet hours: a campaign sends only inside a daily window of each recipient's local wall-clock
 * time, [windowStart, windowEnd) in minutes after midnight. Pure: no I/O, no clock of its own.
 *
 * The recipient's zone comes from the phone's country (src/phones/phone-time-zone.ts), refined by the
 * area code where one country spans several zones and the area code says which cheaply (Brazil's
 * DDD, Mexico's and North America's area codes, a few landline codes elsewhere). A mobile number
 * keeps the area code of where it was issued, not where its owner is now; anything not listed
 * falls back to the country's most populous zone, and an unknown country to UTC.
 *
 * Local time is read with Intl (the zone rules of Node's ICU, so DST rule changes arrive with
 * Node updates) and converted back by walking offset segments: within a stretch of constant
 * UTC offset the wall clock is the instant plus the offset, so the next opening is found by
 * arithmetic; at an offset change (DST) the wall clock jumps, and if it lands inside the window
 * the window opens right there. That gives the documented behaviour on transition days:
 * - a skipped opening time (spring forward over 00:30 in Santiago, 02:30 in New York) opens at
 *   the first instant after the gap, as long as that instant is still inside the window; a
 *   window lying wholly inside the gap does not open that day;
 * - a repeated hour (fall back) is wall-clock too: the first occurrence of the opening time
 *   opens the window, and a jump back into the window reopens it.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const MINUTES_PER_DAY = 1440;

// The zone of a phone number lives with the phones; re-exported for the callers of this module.
export { FALLBACK_TIME_ZONE, phoneTimeZones, timeZoneForPhone } from '../phones/phone-time-zone.js';

/** True when Intl knows the zone (IANA names, case-insensitively, and their aliases). */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone.trim() === '') return false;
  try {
    formatter(timeZone);
    return true;
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}

/**
 * When the sending window next opens in `timeZone`: null when `now` is inside it, else the
 * first later instant whose local wall-clock time is inside [windowStart, windowEnd).
 * Minutes after local midnight; windowStart > windowEnd crosses midnight (22:00-06:00 is
 * 1320, 360); windowStart == windowEnd means always open; windowEnd may be 1440 (midnight).
 */
export function nextWindowOpen(now: Date, timeZone: string, windowStart: number, windowEnd: number): Date | null {
  checkWindow(windowStart, windowEnd);
  if (!isValidTimeZone(timeZone)) throw new RangeError(`"${timeZone}" is not a time zone: use an IANA name such as America/Santiago.`);
  let t = now.getTime();
  if (!Number.isFinite(t)) throw new RangeError('nextWindowOpen needs a valid date for "now".');
  if (windowStart === windowEnd) return null;
  if (isOpenAt(wallClock(t, timeZone), windowStart, windowEnd)) return null;
  // Each pass covers one stretch of constant offset; DST gives at most one change per pass.
  for (let pass = 0; pass < 8; pass++) {
    const offset = wallClock(t, timeZone) - t;
    const opening = t + positiveModulo(windowStart * MINUTE_MS - (t + offset), DAY_MS);
    const change = firstOffsetChange(t, opening, offset, timeZone);
    if (change === null) return new Date(opening);
    if (isOpenAt(wallClock(change, timeZone), windowStart, windowEnd)) return new Date(change);
    t = change;
  }
  throw new Error(`nextWindowOpen found no opening of ${windowStart}-${windowEnd} in ${timeZone} within a week of ${now.toISOString()}.`);
}

/** "09:30" -> 570. Accepts H:MM or HH:MM from 00:00 to 23:59, and 24:00 (1440) for a window's end. */
export function parseClock(text: string): number {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  const hours = Number(match?.[1]);
  const minutes = Number(match?.[2]);
  if (!match || hours > 24 || minutes > 59 || (hours === 24 && minutes !== 0)) {
    throw new RangeError(`"${text}" is not a time of day: write HH:MM from 00:00 to 23:59, or 24:00 for the end of the day.`);
  }
  return hours * 60 + minutes;
}

/** 570 -> "09:30"; 1440 -> "24:00". */
export function formatClock(minutes: number): string {
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > MINUTES_PER_DAY) {
    throw new RangeError(`${minutes} is not a time of day in minutes: expected a whole number from 0 to 1440.`);
  }
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function checkWindow(start: number, end: number): void {
  if (!Number.isInteger(start) || start < 0 || start >= MINUTES_PER_DAY) {
    throw new RangeError(`Window start ${start} is not a time of day: expected whole minutes after midnight from 0 to 1439.`);
  }
  if (!Number.isInteger(end) || end < 0 || end > MINUTES_PER_DAY) {
    throw new RangeError(`Window end ${end} is not a time of day: expected whole minutes after midnight from 0 to 1440.`);
  }
}

/** Whether a wall-clock time (ms, read as UTC) falls in the window. */
function isOpenAt(wallMs: number, start: number, end: number): boolean {
  const minute = positiveModulo(wallMs, DAY_MS) / MINUTE_MS;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/** Offsets change at most twice a year, never twice within this span. */
const OFFSET_SAMPLE_MS = 6 * 3_600_000;

/** The first instant in (from, to] whose offset differs from `offset`, or null when none does. */
function firstOffsetChange(from: number, to: number, offset: number, timeZone: string): number | null {
  let same = from;
  for (let probe = Math.min(from + OFFSET_SAMPLE_MS, to); ; probe = Math.min(probe + OFFSET_SAMPLE_MS, to)) {
    if (wallClock(probe, timeZone) - probe !== offset) {
      // Binary search to the millisecond; transitions fall on whole seconds, so this lands on one.
      let changed = probe;
      while (changed - same > 1) {
        const mid = same + Math.floor((changed - same) / 2);
        if (wallClock(mid, timeZone) - mid === offset) same = mid;
        else changed = mid;
      }
      return changed;
    }
    if (probe === to) return null;
    same = probe;
  }
}

/** Formatters are costly to build; one per zone name (the names seen are few). */
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 1000;

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timeZone, format);
  }
  return format;
}

/** The zone's wall clock at an instant, written as if it were a UTC instant (ms). */
function wallClock(instantMs: number, timeZone: string): number {
  const fields = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timeZone).formatToParts(instantMs)) {
    if (part.type in fields) fields[part.type as keyof typeof fields] = Number(part.value);
  }
  const { year, month, day, hour, minute, second } = fields;
  return Date.UTC(year, month - 1, day, hour, minute, second) + positiveModulo(instantMs, 1000);
}

function positiveModulo(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}
