/**
 * One pino logger for the process. Secrets are redacted by path; phone numbers are masked by
 * a serializer wherever they appear under a `phone` key, so a log line never carries a full
 * number (the last 4 digits are kept, enough to find a row).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length <= 4) return '***';
  return `${phone.startsWith('+') ? '+' : ''}${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}

/** A webhook URL carries its account's secret (/webhooks/<account>/<secret>); logs show *** instead. */
export function redactUrlSecrets(url: string): string {
  return url.replace(/^(\/webhooks\/[^/?]+\/)[^/?]+/, '$1***').replace(/([?&]hub\.verify_token=)[^&]*/, '$1***');
}

/** Query parameters that carry phone numbers (GET /v1/suppressions: the filter and the page cursor). */
const PHONE_QUERY_KEYS = new Set(['phone', 'cursor']);

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** A path segment or query value that is a phone in international form ("+56 9 ...", "%2B569..."). */
function isInternationalPhone(decoded: string): boolean {
  return /^[+ ]\d[\d\s().-]{5,}$/.test(decoded);
}

/**
 * Request URLs as logged: phone numbers masked like everywhere else (DELETE
 * /v1/suppressions/<phone>, ?phone=, the suppression list's ?cursor=, any "+<digits>" segment or
 * value), and a webhook URL's secret hidden.
 */
export function maskUrl(url: string): string {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? null : url.slice(queryAt + 1);
  const segments = path.split('/').map((segment, i, all) => {
    const decoded = decodeSafely(segment);
    const suppression = all[i - 1] === 'suppressions' && all[i - 2] === 'v1' && !['import', 'export.csv'].includes(segment);
    return suppression || isInternationalPhone(decoded) ? encodeURIComponent(maskPhone(decoded)) : segment;
  });
  const params = query
    ?.split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) return pair;
      const key = decodeSafely(pair.slice(0, eq));
      const value = decodeSafely(pair.slice(eq + 1));
      return PHONE_QUERY_KEYS.has(key) || isInternationalPhone(value) ? `${pair.slice(0, eq)}=${encodeURIComponent(maskPhone(value))}` : pair;
    })
    .join('&');
  return redactUrlSecrets(`${segments.join('/')}${params === undefined ? '' : `?${params}`}`);
}

const SECRET_PATHS = [
  'credentials',
  '*.credentials',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.Authorization',
];

export function createLogger(level: string = 'info', bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...bindings },
    redact: { paths: SECRET_PATHS, censor: '[redacted]' },
    serializers: {
      phone: (value: unknown) => (typeof value === 'string' ? maskPhone(value) : value),
      // Fastify logs every request: keep method, path and caller, with phones masked and a webhook URL's secret hidden.
      req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, url: maskUrl(req.url ?? ''), remoteAddress: req.ip }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
