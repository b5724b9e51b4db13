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
      // Fastify logs every request: keep method, path and caller, with a webhook URL's secret hidden.
      req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, url: redactUrlSecrets(req.url ?? ''), remoteAddress: req.ip }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
