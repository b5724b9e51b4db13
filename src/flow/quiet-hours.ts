/**
 * Quiet hours: a campaign sends only inside a daily window of each recipient's local wall-clock
 * time, [windowStart, windowEnd) in minutes after midnight. Pure: no I/O, no clock of its own.
 *
 * The recipient's zone comes from the phone's country (libphonenumber-js `max`), refined by the
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
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const MINUTES_PER_DAY = 1440;

/** The zone of a number whose country is unknown (a non-geographic or unparsable number). */
export const FALLBACK_TIME_ZONE = 'UTC';

/** Each country's most populous zone: the answer when the area code does not say otherwise. */
const COUNTRY_ZONES: Partial<Record<CountryCode, string>> = {
  // South America
  AR: 'America/Argentina/Buenos_Aires', // one offset nationwide, no DST
  BO: 'America/La_Paz',
  BR: 'America/Sao_Paulo',
  CL: 'America/Santiago',
  CO: 'America/Bogota',
  EC: 'America/Guayaquil', // Galápagos (Pacific/Galapagos) is not told apart
  GF: 'America/Cayenne',
  GY: 'America/Guyana',
  PE: 'America/Lima',
  PY: 'America/Asuncion',
  SR: 'America/Paramaribo',
  UY: 'America/Montevideo',
  VE: 'America/Caracas',
  // Central America and the Caribbean
  BZ: 'America/Belize',
  CR: 'America/Costa_Rica',
  CU: 'America/Havana',
  DO: 'America/Santo_Domingo',
  GT: 'America/Guatemala',
  HN: 'America/Tegucigalpa',
  HT: 'America/Port-au-Prince',
  JM: 'America/Jamaica',
  MX: 'America/Mexico_City',
  NI: 'America/Managua',
  PA: 'America/Panama',
  PR: 'America/Puerto_Rico',
  SV: 'America/El_Salvador',
  TT: 'America/Port_of_Spain',
  // North America
  CA: 'America/Toronto',
  US: 'America/New_York',
  // Europe
  DE: 'Europe/Berlin',
  ES: 'Europe/Madrid',
  FR: 'Europe/Paris',
  GB: 'Europe/London',
  IE: 'Europe/Dublin',
  IT: 'Europe/Rome',
  NL: 'Europe/Amsterdam',
  PT: 'Europe/Lisbon',
};

/** Builds "area code -> zone" from "zone -> space-separated area codes", which reads better. */
function byAreaCode(zones: Record<string, string>): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  for (const [zone, codes] of Object.entries(zones)) for (const code of codes.split(/\s+/)) map.set(code, zone);
  return map;
}

/** Brazil by DDD (the national number's first two digits); unlisted DDDs are America/Sao_Paulo. */
const BRAZIL_DDD = byAreaCode({
  'America/Cuiaba': '65 66', // Mato Grosso
  'America/Campo_Grande': '67', // Mato Grosso do Sul
  'America/Rio_Branco': '68', // Acre
  'America/Porto_Velho': '69', // Rondônia
  'America/Manaus': '92 97', // Amazonas (the far west, America/Eirunepe, shares 97)
  'America/Boa_Vista': '95', // Roraima
  'America/Belem': '91 94 96', // Pará (east), Amapá
  'America/Santarem': '93', // Pará (west)
  'America/Araguaina': '63', // Tocantins
  'America/Fortaleza': '83 84 85 86 88 89 98 99', // PB, RN, CE, PI, MA
  'America/Recife': '81 87', // Pernambuco (Fernando de Noronha is not told apart)
  'America/Maceio': '79 82', // Sergipe, Alagoas
  'America/Bahia': '71 73 74 75 77',
});

/**
 * Mexico by three-digit area code; unlisted codes (and the two-digit 33, 55, 56, 81) are central
 * time, America/Mexico_City. Listed: the zones that differ from it today or keep US DST.
 */
const MEXICO_AREA = byAreaCode({
  'America/Tijuana': '616 646 658 661 664 665 686', // Baja California, US Pacific DST
  'America/Hermosillo': '622 631 633 637 638 642 644 645 653 662', // Sonora, no DST
  'America/Mazatlan': '311 319 323 324 325 612 613 615 624 667 668 669 672 673 687 694 696 697 698', // Sinaloa, Nayarit, BCS
  'America/Chihuahua': '614 625 627 628 629 635 636 639 648 649',
  'America/Ciudad_Juarez': '656 657', // US Mountain DST
  'America/Ojinaga': '626', // US Central DST
  'America/Matamoros': '867 868 877 878 899', // border cities with US Central DST
  'America/Cancun': '983 984 987 998', // Quintana Roo, UTC-5
});

/**
 * North America (US and Canada share +1) by area code; unlisted codes fall back to the
 * country's zone (America/New_York, America/Toronto). Codes that straddle zones take the
 * zone of most of their people.
 */
const NANP_AREA = byAreaCode({
  'America/Chicago':
    '205 210 214 217 218 224 225 228 251 254 256 262 274 281 308 309 312 314 316 318 319 320 325 331 334 337 346 361 402 405 409 ' +
    '414 417 430 432 447 464 469 479 501 504 507 512 515 531 534 539 557 563 572 573 580 601 605 608 612 615 618 620 629 630 636 ' +
    '641 651 659 660 662 682 701 708 712 713 715 726 731 737 763 769 773 779 785 806 815 816 817 830 832 847 870 872 901 903 913 ' +
    '918 920 936 938 940 945 952 956 972 975 979 985',
  'America/Denver': '208 303 307 385 406 435 505 575 719 720 801 915 970 983 986',
  'America/Phoenix': '480 520 602 623 928', // Arizona, no DST
  'America/Los_Angeles':
    '206 209 213 253 279 310 323 341 350 360 369 408 415 424 425 442 458 503 509 510 530 541 559 562 564 619 626 628 650 657 661 ' +
    '669 702 707 714 725 747 760 775 805 818 820 831 840 858 909 916 925 949 951 971',
  'America/Anchorage': '907',
  'Pacific/Honolulu': '808',
  // Canada
  'America/Vancouver': '236 250 604 672 778',
  'America/Edmonton': '368 403 587 780 825',
  'America/Regina': '306 474 639', // Saskatchewan, no DST
  'America/Winnipeg': '204 431 584',
  'America/Halifax': '782 902',
  'America/Moncton': '428 506',
  'America/St_Johns': '709 879',
});

/** Landline codes elsewhere (mobile numbers there carry no region). */
const CHILE_AREA = byAreaCode({ 'America/Punta_Arenas': '61', 'America/Coyhaique': '67' }); // Magallanes, Aysén: UTC-3 all year
const SPAIN_AREA = byAreaCode({ 'Atlantic/Canary': '822 828 922 928' });
const PORTUGAL_AREA = byAreaCode({ 'Atlantic/Azores': '292 295 296' });

/** The recipient's IANA time zone, from the phone's country and, where it tells, its area code. */
export function timeZoneForPhone(e164: string): string {
  const phone = parsePhoneNumberFromString(e164);
  if (!phone) return FALLBACK_TIME_ZONE;
  const national = phone.nationalNumber;
  // A +1 number in an area code the metadata does not know yet still dials the US.
  const country = phone.country ?? (phone.countryCallingCode === '1' ? 'US' : undefined);
  if (!country) return FALLBACK_TIME_ZONE;
  const countryZone = COUNTRY_ZONES[country] ?? FALLBACK_TIME_ZONE;
  switch (country) {
    case 'BR':
      return BRAZIL_DDD.get(national.slice(0, 2)) ?? countryZone;
    case 'MX': {
      // "+52 1 664 ..." is the old mobile form (and some wa_ids): the 1 is not part of the area code.
      const digits = national.length === 11 && national.startsWith('1') ? national.slice(1) : national;
      return MEXICO_AREA.get(digits.slice(0, 3)) ?? countryZone;
    }
    case 'US':
    case 'CA':
      return NANP_AREA.get(national.slice(0, 3)) ?? countryZone;
    case 'CL':
      return CHILE_AREA.get(national.slice(0, 2)) ?? countryZone;
    case 'ES':
      return SPAIN_AREA.get(national.slice(0, 3)) ?? countryZone;
    case 'PT':
      return PORTUGAL_AREA.get(national.slice(0, 3)) ?? countryZone;
    default:
      return countryZone;
  }
}

/** Every zone `timeZoneForPhone` can answer, for checking them against the running ICU. */
export function phoneTimeZones(): string[] {
  const zones = new Set<string>([FALLBACK_TIME_ZONE, ...Object.values(COUNTRY_ZONES)]);
  for (const table of [BRAZIL_DDD, MEXICO_AREA, NANP_AREA, CHILE_AREA, SPAIN_AREA, PORTUGAL_AREA]) {
    for (const zone of table.values()) zones.add(zone);
  }
  return [...zones].sort();
}

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
