/**
 * Quiet hours: phone -> zone, clock parsing, and the next opening of a local-time window,
 * checked on DST days against instants worked out by hand from the zones' rules, and against a
 * minute-by-minute scan of the wall clock around many transitions.
 */
import { describe, expect, it } from 'vitest';
import { formatClock, isValidTimeZone, nextWindowOpen, parseClock, phoneTimeZones, timeZoneForPhone } from '../../src/flow/quiet-hours.js';

const at = (iso: string): Date => new Date(iso);
const open = (now: string, zone: string, start: string, end: string): string | null =>
  nextWindowOpen(at(now), zone, parseClock(start), parseClock(end))?.toISOString() ?? null;

describe('timeZoneForPhone', () => {
  it.each([
    ['+56987654321', 'America/Santiago'], // CL mobile
    ['+56223456789', 'America/Santiago'], // Santiago landline
    ['+56612345678', 'America/Punta_Arenas'], // Magallanes landline
    ['+5491123456789', 'America/Argentina/Buenos_Aires'],
    ['+573001234567', 'America/Bogota'],
    ['+51987654321', 'America/Lima'],
    ['+59899123456', 'America/Montevideo'],
    ['+595981123456', 'America/Asuncion'],
    ['+59171234567', 'America/La_Paz'],
    ['+593987654321', 'America/Guayaquil'],
    ['+584121234567', 'America/Caracas'],
    ['+50688123456', 'America/Costa_Rica'],
    ['+50761234567', 'America/Panama'],
    ['+50251234567', 'America/Guatemala'],
    ['+50371234567', 'America/El_Salvador'],
    ['+50491234567', 'America/Tegucigalpa'],
    ['+50581234567', 'America/Managua'],
    ['+18095551234', 'America/Santo_Domingo'],
    ['+17875551234', 'America/Puerto_Rico'],
    ['+5351234567', 'America/Havana'],
    ['+34612345678', 'Europe/Madrid'],
    ['+34922123456', 'Atlantic/Canary'],
    ['+351912345678', 'Europe/Lisbon'],
    ['+351296123456', 'Atlantic/Azores'],
  ])('%s is in %s', (phone, zone) => {
    expect(timeZoneForPhone(phone)).toBe(zone);
  });

  it.each([
    ['+5511987654321', 'America/Sao_Paulo'],
    ['+5521987654321', 'America/Sao_Paulo'],
    ['+5561987654321', 'America/Sao_Paulo'], // Brasília
    ['+5565987654321', 'America/Cuiaba'],
    ['+5566987654321', 'America/Cuiaba'],
    ['+5567987654321', 'America/Campo_Grande'],
    ['+5568987654321', 'America/Rio_Branco'],
    ['+5569987654321', 'America/Porto_Velho'],
    ['+5592987654321', 'America/Manaus'],
    ['+5597987654321', 'America/Manaus'],
    ['+5595987654321', 'America/Boa_Vista'],
    ['+5591987654321', 'America/Belem'],
    ['+5593987654321', 'America/Santarem'],
    ['+5585987654321', 'America/Fortaleza'],
    ['+5581987654321', 'America/Recife'],
    ['+5571987654321', 'America/Bahia'],
  ])('Brazil by DDD: %s is in %s', (phone, zone) => {
    expect(timeZoneForPhone(phone)).toBe(zone);
  });

  it.each([
    ['+525512345678', 'America/Mexico_City'],
    ['+5215512345678', 'America/Mexico_City'], // old mobile form with the 1
    ['+523312345678', 'America/Mexico_City'], // Guadalajara
    ['+528112345678', 'America/Mexico_City'], // Monterrey
    ['+526641234567', 'America/Tijuana'],
    ['+5216641234567', 'America/Tijuana'],
    ['+526861234567', 'America/Tijuana'], // Mexicali
    ['+526621234567', 'America/Hermosillo'],
    ['+526691234567', 'America/Mazatlan'],
    ['+526141234567', 'America/Chihuahua'],
    ['+526561234567', 'America/Ciudad_Juarez'],
    ['+528991234567', 'America/Matamoros'], // Reynosa
    ['+529981234567', 'America/Cancun'],
    ['+529991234567', 'America/Mexico_City'], // Mérida: same offset as the centre
  ])('Mexico by area code: %s is in %s', (phone, zone) => {
    expect(timeZoneForPhone(phone)).toBe(zone);
  });

  it.each([
    ['+12125551234', 'America/New_York'],
    ['+13055551234', 'America/New_York'], // Miami
    ['+13105551234', 'America/Los_Angeles'],
    ['+13125551234', 'America/Chicago'],
    ['+17135551234', 'America/Chicago'], // Houston
    ['+13035551234', 'America/Denver'],
    ['+16025551234', 'America/Phoenix'],
    ['+19075551234', 'America/Anchorage'],
    ['+18085551234', 'Pacific/Honolulu'],
    ['+14165551234', 'America/Toronto'],
    ['+16045551234', 'America/Vancouver'],
    ['+14035551234', 'America/Edmonton'],
  ])('North America by area code: %s is in %s', (phone, zone) => {
    expect(timeZoneForPhone(phone)).toBe(zone);
  });

  it.each([
    ['+800123456', 'a non-geographic number'],
    ['+81312345678', 'a country with no entry (Japan)'],
    ['not a phone', 'text'],
    ['', 'nothing'],
  ])('%s (%s) falls back to UTC', (phone) => {
    expect(timeZoneForPhone(phone)).toBe('UTC');
  });

  it('a +1 number in an area code the metadata does not list is read as the US', () => {
    expect(timeZoneForPhone('+12005551234')).toBe('America/New_York');
  });

  it('every zone it can answer is one the running ICU knows', () => {
    const zones = phoneTimeZones();
    expect(zones.length).toBeGreaterThan(60);
    expect(zones.filter((zone) => !isValidTimeZone(zone))).toEqual([]);
  });
});

describe('isValidTimeZone', () => {
  it.each(['America/Santiago', 'America/Argentina/Buenos_Aires', 'UTC', 'Europe/Madrid', 'america/santiago'])('accepts %s', (zone) => {
    expect(isValidTimeZone(zone)).toBe(true);
  });
  it.each(['', ' ', 'Mars/Olympus', 'America/Santiag', 'GMT+99'])('refuses %j', (zone) => {
    expect(isValidTimeZone(zone)).toBe(false);
  });
});

describe('parseClock and formatClock', () => {
  it.each([
    ['00:00', 0],
    ['9:30', 570],
    ['09:30', 570],
    [' 21:00 ', 1260],
    ['23:59', 1439],
    ['24:00', 1440],
  ])('%j is %i minutes', (text, minutes) => {
    expect(parseClock(text)).toBe(minutes);
  });

  it.each(['', '9', '930', '09:3', '09:60', '24:01', '25:00', '-1:00', '09:30:00', '9h30', '１:00'])('refuses %j with a RangeError that quotes it', (text) => {
    expect(() => parseClock(text)).toThrow(RangeError);
    expect(() => parseClock(text)).toThrow(`"${text}" is not a time of day`);
  });

  it.each([
    [0, '00:00'],
    [570, '09:30'],
    [1439, '23:59'],
    [1440, '24:00'],
  ])('%i minutes is %s, and parses back', (minutes, text) => {
    expect(formatClock(minutes)).toBe(text);
    expect(parseClock(text)).toBe(minutes);
  });

  it.each([-1, 1441, 9.5, Number.NaN])('formatClock refuses %d', (minutes) => {
    expect(() => formatClock(minutes)).toThrow(RangeError);
  });
});

describe('nextWindowOpen on ordinary days', () => {
  const zone = 'America/Bogota'; // UTC-5 all year

  it('is null inside the window, including at its first minute', () => {
    expect(open('2026-05-11T17:00:00Z', zone, '09:00', '21:00')).toBeNull(); // 12:00
    expect(open('2026-05-11T14:00:00Z', zone, '09:00', '21:00')).toBeNull(); // 09:00 sharp
  });

  it('opens later today before the window, tomorrow after it (the end is exclusive)', () => {
    expect(open('2026-05-11T12:00:00Z', zone, '09:00', '21:00')).toBe('2026-05-11T14:00:00.000Z'); // 07:00
    expect(open('2026-05-12T02:00:00Z', zone, '09:00', '21:00')).toBe('2026-05-12T14:00:00.000Z'); // 21:00 sharp
    expect(open('2026-05-12T04:30:00Z', zone, '09:00', '21:00')).toBe('2026-05-12T14:00:00.000Z'); // 23:30
  });

  it('opens on the exact minute, whatever the seconds of now', () => {
    expect(open('2026-05-11T13:59:30.250Z', zone, '09:00', '21:00')).toBe('2026-05-11T14:00:00.000Z'); // 08:59:30.25
  });

  it('handles a window that crosses midnight', () => {
    expect(open('2026-05-11T17:00:00Z', zone, '22:00', '06:00')).toBe('2026-05-12T03:00:00.000Z'); // noon -> 22:00
    expect(open('2026-05-12T03:00:00Z', zone, '22:00', '06:00')).toBeNull(); // 22:00
    expect(open('2026-05-12T04:30:00Z', zone, '22:00', '06:00')).toBeNull(); // 23:30
    expect(open('2026-05-12T10:59:00Z', zone, '22:00', '06:00')).toBeNull(); // 05:59
    expect(open('2026-05-12T11:00:00Z', zone, '22:00', '06:00')).toBe('2026-05-13T03:00:00.000Z'); // 06:00 -> 22:00
  });

  it('is always open when start equals end, or the window is the whole day', () => {
    expect(open('2026-05-11T07:00:00Z', zone, '09:00', '09:00')).toBeNull();
    expect(open('2026-05-11T07:00:00Z', zone, '00:00', '24:00')).toBeNull();
  });

  it('takes 24:00 as the end of the day', () => {
    expect(open('2026-05-12T04:59:00Z', zone, '18:00', '24:00')).toBeNull(); // 23:59
    expect(open('2026-05-12T05:00:00Z', zone, '18:00', '24:00')).toBe('2026-05-12T23:00:00.000Z'); // midnight
  });

  it('answers in the recipient zone, not the server one', () => {
    // 12:00Z is 09:00 in Santiago (summer, UTC-3) and 13:00 in Madrid (winter, UTC+1).
    expect(open('2026-01-15T12:00:00Z', 'America/Santiago', '09:00', '20:00')).toBeNull();
    expect(open('2026-01-15T11:59:00Z', 'America/Santiago', '09:00', '20:00')).toBe('2026-01-15T12:00:00.000Z');
    expect(open('2026-01-15T07:00:00Z', 'Europe/Madrid', '09:00', '20:00')).toBe('2026-01-15T08:00:00.000Z');
  });

  it('refuses bad windows, zones and dates with a RangeError', () => {
    const now = at('2026-05-11T12:00:00Z');
    expect(() => nextWindowOpen(now, zone, -1, 600)).toThrow(RangeError);
    expect(() => nextWindowOpen(now, zone, 1440, 600)).toThrow(RangeError);
    expect(() => nextWindowOpen(now, zone, 540, 1441)).toThrow(RangeError);
    expect(() => nextWindowOpen(now, zone, 540.5, 600)).toThrow(RangeError);
    expect(() => nextWindowOpen(now, 'Mars/Olympus', 540, 600)).toThrow('"Mars/Olympus" is not a time zone');
    expect(() => nextWindowOpen(new Date(Number.NaN), zone, 540, 600)).toThrow(RangeError);
  });
});

describe('nextWindowOpen across DST', () => {
  // America/Santiago: DST ends at 24:00 on Saturday 2026-04-04 (03:00Z), clocks back to 23:00
  // (UTC-3 -> UTC-4); it starts at 24:00 on Saturday 2026-09-05 (04:00Z), clocks on to 01:00 on
  // Sunday (UTC-4 -> UTC-3): Sunday 00:00-00:59 does not exist.
  const santiago = 'America/Santiago';

  it('Santiago, the night clocks go back: Sunday 09:00 is at UTC-4', () => {
    expect(open('2026-04-05T01:00:00Z', santiago, '09:00', '21:00')).toBe('2026-04-05T13:00:00.000Z'); // Sat 22:00 -03
  });

  it('Santiago, the night clocks go forward: Sunday 09:00 is at UTC-3', () => {
    expect(open('2026-09-06T02:00:00Z', santiago, '09:00', '21:00')).toBe('2026-09-06T12:00:00.000Z'); // Sat 22:00 -04
  });

  it('Santiago, an opening in the skipped hour opens at the first instant after it (01:00 -03)', () => {
    expect(open('2026-09-06T02:00:00Z', santiago, '00:00', '08:00')).toBe('2026-09-06T04:00:00.000Z');
    expect(open('2026-09-06T02:00:00Z', santiago, '00:30', '08:00')).toBe('2026-09-06T04:00:00.000Z');
    expect(open('2026-09-06T02:00:00Z', santiago, '23:30', '00:30')).toBe('2026-09-06T03:30:00.000Z'); // before the gap
  });

  it('Santiago, a window wholly inside the skipped hour does not open that day', () => {
    expect(open('2026-09-06T02:00:00Z', santiago, '00:15', '00:45')).toBe('2026-09-07T03:15:00.000Z'); // Monday 00:15 -03
  });

  it('Santiago, the repeated hour: the first 23:30 opens, and the jump back reopens the window', () => {
    expect(open('2026-04-05T01:00:00Z', santiago, '23:30', '06:00')).toBe('2026-04-05T02:30:00.000Z'); // first 23:30, at -03
    expect(open('2026-04-05T02:45:00Z', santiago, '23:30', '06:00')).toBeNull(); // first 23:45
    // 23:40 -03 is after a 22:30-23:30 window; at 03:00Z the clock reads 23:00 -04, inside it again.
    expect(open('2026-04-05T02:40:00Z', santiago, '22:30', '23:30')).toBe('2026-04-05T03:00:00.000Z');
  });

  // America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z).
  const newYork = 'America/New_York';

  it('New York, spring forward: Sunday 09:00 is EDT, and 02:30 opens at 03:00 EDT', () => {
    expect(open('2026-03-08T02:00:00Z', newYork, '09:00', '20:00')).toBe('2026-03-08T13:00:00.000Z'); // Sat 21:00 EST
    expect(open('2026-03-08T06:00:00Z', newYork, '02:30', '05:00')).toBe('2026-03-08T07:00:00.000Z'); // Sun 01:00 EST
    expect(open('2026-03-08T07:00:00Z', newYork, '02:30', '05:00')).toBeNull(); // 03:00 EDT
  });

  it('New York, fall back: Sunday 09:00 is EST, and 01:30 opens at its first occurrence', () => {
    expect(open('2026-11-01T01:00:00Z', newYork, '09:00', '20:00')).toBe('2026-11-01T14:00:00.000Z'); // Sat 21:00 EDT
    expect(open('2026-11-01T04:30:00Z', newYork, '01:30', '03:00')).toBe('2026-11-01T05:30:00.000Z'); // 00:30 EDT
    expect(open('2026-11-01T06:10:00Z', newYork, '01:30', '03:00')).toBe('2026-11-01T06:30:00.000Z'); // 01:10 EST, second pass
  });

  // America/Sao_Paulo kept DST until 2019: 2018-11-04 00:00 -03 -> 01:00 -02 (03:00Z);
  // 2019-02-17 00:00 -02 -> 2019-02-16 23:00 -03 (02:00Z).
  const saoPaulo = 'America/Sao_Paulo';

  it('São Paulo (2018): midnight did not exist, so a midnight window opened at 01:00 -02', () => {
    expect(open('2018-11-04T02:00:00Z', saoPaulo, '00:00', '06:00')).toBe('2018-11-04T03:00:00.000Z');
    expect(open('2018-11-04T02:00:00Z', saoPaulo, '08:00', '20:00')).toBe('2018-11-04T10:00:00.000Z');
  });

  it('São Paulo (2019): the day after clocks went back, 08:00 was at -03', () => {
    expect(open('2019-02-16T23:00:00Z', saoPaulo, '08:00', '20:00')).toBe('2019-02-17T11:00:00.000Z');
  });

  it('São Paulo today has no DST: 08:00 is always 11:00Z', () => {
    expect(open('2025-11-02T02:00:00Z', saoPaulo, '08:00', '20:00')).toBe('2025-11-02T11:00:00.000Z');
  });
});

describe('nextWindowOpen agrees with a minute-by-minute scan of the wall clock', () => {
  // An independent reading of local time: the minute of the day, from Intl's formatted hour and minute.
  const formats = new Map<string, Intl.DateTimeFormat>();
  const minuteOfDay = (instant: number, zone: string): number => {
    const format = formats.get(zone) ?? new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(zone, format);
    const parts = format.formatToParts(instant);
    const value = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    return value('hour') * 60 + value('minute');
  };
  const inside = (minute: number, start: number, end: number) => (start < end ? minute >= start && minute < end : minute >= start || minute < end);
  const scan = (now: number, zone: string, start: number, end: number): number | null => {
    if (inside(minuteOfDay(now, zone), start, end)) return null;
    for (let t = now + 60_000; t < now + 3 * 86_400_000; t += 60_000) if (inside(minuteOfDay(t, zone), start, end)) return t;
    throw new Error('the scan found no opening');
  };

  // Deterministic pseudo-random cases around each transition.
  let seed = 42;
  const random = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
  const transitions: [string, string][] = [
    ['America/Santiago', '2026-04-05T03:00:00Z'],
    ['America/Santiago', '2026-09-06T04:00:00Z'],
    ['America/New_York', '2026-03-08T07:00:00Z'],
    ['America/New_York', '2026-11-01T06:00:00Z'],
    ['America/Sao_Paulo', '2018-11-04T03:00:00Z'],
    ['America/Sao_Paulo', '2019-02-17T02:00:00Z'],
    ['America/Tijuana', '2026-03-08T10:00:00Z'],
    ['Europe/Madrid', '2026-10-25T01:00:00Z'],
  ];

  it.each(transitions)('%s around %s', (zone, transition) => {
    const mismatches: string[] = [];
    for (let i = 0; i < 25; i++) {
      // A minute within a day either side of the change, and a window of random shape.
      const now = Date.parse(transition) + (random(2 * 1440) - 1440) * 60_000;
      const start = random(1440);
      const end = random(1441);
      const expected = scan(now, zone, start, end);
      const actual = nextWindowOpen(new Date(now), zone, start, end)?.getTime() ?? null;
      if (actual !== expected) {
        mismatches.push(`${new Date(now).toISOString()} ${start}-${end}: ${actual && new Date(actual).toISOString()} vs ${expected && new Date(expected).toISOString()}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
