// Every data call goes to the engine's public /v1 API, with the session cookie and, for a
// state-changing call, the session's CSRF token in a header.
import { has, t } from './i18n.js';

const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
  /** The catalog's sentence for the code when it has one, else the API's own sentence. */
  get text() {
    return has(`error.${this.code}`) ? t(`error.${this.code}`) : this.message;
  }
}

export function csrfHeaders(method = 'POST') {
  return method === 'GET' || method === 'HEAD' ? {} : { 'x-csrf-token': csrf };
}

export async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...csrfHeaders(method), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return readResponse(response.status, await response.text());
}

export function readResponse(status, text) {
  const data = text ? safeJson(text) : null;
  if (status === 401) {
    location.assign(`/console/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(status, 'UNAUTHORIZED', t('error.UNAUTHORIZED'));
  }
  if (status >= 400) {
    const error = data?.error ?? {};
    throw new ApiError(status, error.code ?? 'HTTP_' + status, error.message ?? t('error.generic'), error.details);
  }
  return data;
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Live snapshots over server-sent events; the browser reconnects by itself after a drop. */
export function liveCampaigns(ids, onSnapshot) {
  if (ids.length === 0) return () => undefined;
  const source = new EventSource(`/v1/live/campaigns?ids=${ids.join(',')}`);
  source.addEventListener('campaign', (event) => onSnapshot(JSON.parse(event.data)));
  return () => source.close();
}
