/**
 * What any Graph response means when it is not the success the caller expected. An error
 * envelope decides by its code whatever the HTTP status (a 200 carrying one is an error); a
 * body that is neither falls back on the status.
 */
import { outcome, parseJson, undocumented } from '../outcome.js';
import type { HttpResponse, SendOutcome } from '../types.js';
import { classifyMetaError, type MetaErrorContext } from './classify-error.js';
import { retryAfterMs } from '../response-helpers.js';
import { metaErrorBodySchema } from './schemas.js';

/**
 * undefined when the response is a success: a 2xx whose body `isSuccess` accepts and which
 * carries no error envelope. `attempt`: which attempt of a send this answers (1 for the first).
 */
export function metaFailure(response: HttpResponse, isSuccess: (json: unknown) => boolean, attempt?: number): SendOutcome | undefined {
  const json = parseJson(response.body);
  const envelope = metaErrorBodySchema.safeParse(json);
  if (envelope.success) return classifyEnvelope(response, envelope.data.error, { subcode: envelope.data.error.error_subcode, attempt });
  if (response.status >= 200 && response.status < 300 && isSuccess(json)) return undefined;
  return byStatus(response);
}

type GraphError = { code: number; message?: string | undefined; error_data?: { details?: string | undefined } | undefined };

function classifyEnvelope(response: HttpResponse, error: GraphError, context: MetaErrorContext): SendOutcome {
  const classified = classifyMetaError(error.code, error.message, error.error_data?.details, context);
  const waitMs = retryAfterMs(response.headers);
  const withWait = classified.retryAfterMs === undefined && waitMs !== undefined ? { ...classified, retryAfterMs: waitMs } : classified;
  if (classified.code !== 'PROVIDER_UNDOCUMENTED_RESPONSE') return withWait;
  // A code the table does not know: the status is all that is left to go on.
  const generic = byStatus(response);
  const base = generic.code === 'PROVIDER_UNDOCUMENTED_RESPONSE' ? withWait : generic;
  return { ...base, providerCode: classified.providerCode, providerText: classified.providerText, raw: response.body.slice(0, 2000) };
}

function byStatus(response: HttpResponse): SendOutcome {
  const { status, body } = response;
  const extra = { providerCode: String(status), raw: body.slice(0, 2000) };
  const waitMs = retryAfterMs(response.headers);
  const wait = waitMs === undefined ? {} : { retryAfterMs: waitMs };
  if (status === 401) return outcome('ACCOUNT_AUTH_FAILED', 'Meta answered 401 Unauthorized; renew the access token.', extra);
  if (status === 429) return outcome('RATE_LIMITED', 'Meta answered 429 Too Many Requests; sending slows down.', { ...extra, ...wait });
  if (status >= 500) return outcome('PROVIDER_UNAVAILABLE', `Meta answered HTTP ${status}; the message is retried later.`, { ...extra, ...wait });
  return undocumented(status, body);
}
