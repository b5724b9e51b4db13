/**
 * The one function that does provider HTTP. It turns network failures into outcomes by what
 * they mean: a connection that never opened is safe to retry; a timeout after the request was
 * written is ambiguous (the provider may have sent the message).
 */
import { Agent, request, errors as undiciErrors } from 'undici';
import { outcome } from './outcome.js';
import type { HttpRequest, HttpResponse, SendOutcome } from './types.js';

// Keep-alive connections per origin; 128 sockets covers high-rate accounts at typical latency.
const agent = new Agent({ connections: 128, keepAliveTimeout: 10_000, pipelining: 1, connect: { timeout: 10_000 } });

export type HttpResult = { ok: true; response: HttpResponse } | { ok: false; outcome: SendOutcome };

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

export async function sendHttp(req: HttpRequest, timeoutMs: number): Promise<HttpResult> {
  let written = false;
  try {
    const res = await request(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      dispatcher: agent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    written = true;
    const body = await res.body.text();
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(res.headers)) {
      if (typeof value === 'string') headers[key] = value;
      else if (Array.isArray(value)) headers[key] = value.join(', ');
    }
    return { ok: true, response: { status: res.statusCode, headers, body } };
  } catch (error) {
    return { ok: false, outcome: classifyNetworkError(error, written) };
  }
}

export function classifyNetworkError(error: unknown, responseStarted: boolean): SendOutcome {
  const code = (error as { code?: string }).code ?? (error as { name?: string }).name ?? 'UNKNOWN';
  const text = error instanceof Error ? error.message : String(error);
  if (!responseStarted && (CONNECT_FAILURES.has(code) || error instanceof undiciErrors.ConnectTimeoutError)) {
    return outcome('PROVIDER_UNREACHABLE', 'The provider could not be reached; the message was not sent and will be retried.', {
      providerCode: code,
      providerText: text,
    });
  }
  // Anything after the connection opened (headers timeout, reset mid-response, abort) may have
  // reached the provider: never resend it blindly.
  return outcome('PROVIDER_TIMEOUT', 'The provider did not answer in time; the message may or may not have been sent.', {
    providerCode: code,
    providerText: text,
  });
}

export async function closeHttpAgent(): Promise<void> {
  await agent.close();
}
