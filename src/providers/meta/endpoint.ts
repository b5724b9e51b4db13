/** Where Graph requests go and how they authenticate; shared by every Meta request builder. */
import type { HttpRequest } from '../types.js';
import { META_DEFAULT_API_VERSION, META_DEFAULT_BASE_URL, type MetaConfig, type MetaCredentials } from './schemas.js';

/** `{baseUrl}/{apiVersion}` with no trailing slash. */
export function graphRoot(config: MetaConfig): string {
  return `${(config.baseUrl ?? META_DEFAULT_BASE_URL).replace(/\/+$/, '')}/${config.apiVersion ?? META_DEFAULT_API_VERSION}`;
}

export function graphRequest(method: HttpRequest['method'], url: string, credentials: MetaCredentials, body?: unknown): HttpRequest {
  // The token goes in a header only: Graph also takes ?access_token=, but URLs end up in logs.
  const headers: Record<string, string> = { Authorization: `Bearer ${credentials.accessToken}` };
  if (body === undefined) return { method, url, headers };
  headers['Content-Type'] = 'application/json';
  return { method, url, headers, body: JSON.stringify(body) };
}

