/** Where Optiwe requests go and how they authenticate; shared by every Optiwe request builder. */
import type { HttpRequest } from '../types.js';
import { OPTIWE_DEFAULT_BASE_URL, type OptiweConfig, type OptiweCredentials } from './schemas.js';

export const OPTIWE_PATHS = {
  templates: '/whatsapp-templates/',
  send: '/whatsapp-campaigns/customers/',
  bulkSend: '/whatsapp-campaigns/bulk/customers/',
} as const;

export function optiweRequest(
  method: HttpRequest['method'],
  path: string,
  config: OptiweConfig,
  credentials: OptiweCredentials,
  body?: unknown,
): HttpRequest {
  const base = (config.baseUrl ?? OPTIWE_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const headers: Record<string, string> = { Authorization: `Bearer ${credentials.token}` };
  if (body === undefined) return { method, url: base + path, headers };
  headers['Content-Type'] = 'application/json';
  return { method, url: base + path, headers, body: JSON.stringify(body) };
}
