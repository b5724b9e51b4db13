// Turning a wall-clock time in a chosen IANA zone into an instant, with Intl only.
export function zoneList() {
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [here, 'UTC'];
  return all.includes(here) ? all : [here, ...all];
}

/** Offset of `zone` from UTC at `utcMs`, in ms. */
function offsetAt(zone, utcMs) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    .formatToParts(new Date(utcMs)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** "2026-12-05T09:30" in zone → ISO 8601 instant (UTC), or null when empty. */
export function zonedToIso(local, zone) {
  if (!local) return null;
  const [date, time] = local.split('T');
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const guess = Date.UTC(y, m - 1, d, hh, mm);
  const first = guess - offsetAt(zone, guess);
  const utc = guess - offsetAt(zone, first);
  return new Date(utc).toISOString();
}
