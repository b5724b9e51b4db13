// The page's language and catalog (embedded by the server), and locale-aware formatting.
const data = JSON.parse(document.getElementById('i18n').textContent);
export const language = data.language;
const messages = data.messages;
const locale = language === 'es' ? 'es-CL' : 'en-US';
export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** A catalog sentence with {name} placeholders filled; the key when missing, so a gap shows. */
export function t(key, values = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (values[name] === undefined ? `{${name}}` : String(values[name])));
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(messages, key);
}

export function number(value, digits = 0) {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
}

export function percent(ratio) {
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(ratio);
}

/** Date and time in the user's zone, with the zone shown. */
export function dateTime(value) {
  if (!value) return '';
  // dateStyle/timeStyle cannot be combined with timeZoneName, so the fields are spelled out.
  return new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' }).format(new Date(value));
}

export function clock(value, seconds = false) {
  if (!value) return '';
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}), timeZoneName: 'short' }).format(new Date(value));
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return t('common.unknown');
  if (seconds < 60) return t('duration.seconds', { n: number(Math.max(0, Math.round(seconds))) });
  if (seconds < 3600) return t('duration.minutes', { n: number(Math.round(seconds / 60)) });
  if (seconds < 172800) return t('duration.hours', { n: number(seconds / 3600, 1) });
  return t('duration.days', { n: number(seconds / 86400, 1) });
}
