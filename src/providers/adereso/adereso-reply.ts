/**
 * Reading an Adereso reply. Adereso puts a `status` in the JSON body that can differ from the
 * HTTP status (./adereso-protocol.md), so both are read and reconciled here, once, for every endpoint.
 */
import { outcome, parseJson } from '../outcome.js';
import type { HttpResponse, SendOutcome } from '../types.js';
import { classifyGenericStatus, integerField, redactSecrets, stringField } from '../response-helpers.js';

export type AderesoReply = {
  httpStatus: number;
  /** The body's `status`, when the body is JSON and has one. */
  bodyStatus: number | undefined;
  /**
   * The status the outcome is decided on: the body's when present, except that an error in
   * either one wins over a success in the other (a 200 carrying `status: 400` is an error).
   */
  status: number;
  /** The body's `msg` (errors) or `message` (ticket replies), redacted. */
  text: string | undefined;
  json: unknown;
  headers: Record<string, string>;
};

const isSuccess = (status: number): boolean => status >= 200 && status <= 299;

export function readAderesoReply(response: HttpResponse): AderesoReply {
  const json = parseJson(response.body);
  const bodyStatus = integerField(json, 'status');
  let status = response.status;
  if (bodyStatus !== undefined && (isSuccess(response.status) || !isSuccess(bodyStatus))) status = bodyStatus;
  const rawText = stringField(json, 'msg') ?? stringField(json, 'message') ?? stringField(json, 'detail');
  const text = rawText === undefined ? undefined : redactSecrets(rawText);
  return { httpStatus: response.status, bodyStatus, status, text, json, headers: response.headers };
}

/** The provider's code and text to keep beside the normalized code. */
export function providerFields(reply: AderesoReply): Pick<SendOutcome, 'providerCode' | 'providerText'> {
  const code = reply.bodyStatus !== undefined && reply.bodyStatus !== reply.httpStatus
    ? `${reply.status} (HTTP ${reply.httpStatus})`
    : String(reply.status);
  return reply.text === undefined ? { providerCode: code } : { providerCode: code, providerText: reply.text };
}

/**
 * The rows of the manual's "Otros códigos de error comunes" table that mean the same on every
 * endpoint (401, 500), then the generic 429 / 5xx rule. Null when the endpoint must decide.
 */
export function commonAderesoOutcome(reply: AderesoReply): SendOutcome | null {
  const fields = providerFields(reply);
  if (reply.status === 401) {
    return outcome('ACCOUNT_AUTH_FAILED', 'Adereso did not authenticate the request (401): check the account token sent as "Authorization: Key <token>".', fields);
  }
  if (reply.status === 500) {
    return outcome('PROVIDER_UNAVAILABLE', 'Adereso had an internal error (500); the send will be retried. If it persists, contact Adereso support with the request body.', fields);
  }
  const generic = classifyGenericStatus({ status: reply.status, headers: reply.headers, body: '' });
  return generic ? { ...generic, ...fields } : null;
}

/** The ticket Adereso opened or used for a send (HSM or proactive conversation), when it says. */
export function aderesoTicketId(response: HttpResponse): string | undefined {
  return stringField(parseJson(response.body), 'ticket_id');
}
