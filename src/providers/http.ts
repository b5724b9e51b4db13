/**
 * The one function that does provider HTTP. It turns network failures into outcomes by what
 * they mean: a connection that never opened is safe to retry; a timeout after the request was
 * written is ambiguous (the provider may have sent the message).
 *
 * Every connection goes through the outbound guard (src/security/outbound-guard.ts): https
 * only, public addresses only, checked on the address actually dialled, unless the operator
 * allows private hosts. Redirects are never followed (undici's request does not, and no
 * redirect interceptor is installed): a 3xx is an answer like any other. An answer is read up
 * to MAX_ANSWER_BYTES and no further.
 */
import type { Duplex } from 'node:stream';
import { Agent, request, errors as undiciErrors, type Dispatcher } from 'undici';
import { guardedConnector, OutboundRefusedError, readCapped, type OutboundPolicy } from '../security/outbound-guard.js';
import { securitySettings } from '../security/security-settings.js';
import { outcome } from './outcome.js';
import type { HttpRequest, HttpResponse, SendOutcome } from './types.js';

/** Most bytes of a provider answer read; a longer answer is cut off and classified, never buffered whole. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** Most keep-alive sockets to one provider host per process: four accounts at 1,000/s and 1 s per answer. */
export const PROVIDER_CONNECTIONS_PER_HOST = 4_096;

/** An agent whose every connection passes the outbound guard for `policy`. */
export function createProviderAgent(policy: OutboundPolicy, options: { lookup?: Parameters<typeof guardedConnector>[1]['lookup'] } = {}): Agent {
  // Keep-alive connections per origin (one provider host): one socket per request in flight, and
  // every account on that host shares the pool, so it must hold several accounts' in-flight sends
  // (each up to WORKER_CONCURRENCY, sized as rate x latency). The bound only guards file descriptors.
  return new Agent({ connections: PROVIDER_CONNECTIONS_PER_HOST, keepAliveTimeout: 10_000, pipelining: 1, connect: guardedConnector(policy, { timeoutMs: 10_000, ...options }) });
}

let sharedAgent: { agent: Agent; policy: OutboundPolicy } | undefined;
/** The process's guarded agent, rebuilt if the settings were replaced (useSecuritySettings). */
function defaultAgent(): Agent {
  const policy = securitySettings().outbound;
  if (sharedAgent?.policy !== policy) {
    void sharedAgent?.agent.close();
    sharedAgent = { agent: createProviderAgent(policy), policy };
  }
  return sharedAgent.agent;
}

export type HttpResult = { ok: true; response: HttpResponse } | { ok: false; outcome: SendOutcome };

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * `dispatcher`: for tests of the guard itself; the default is the process's guarded agent.
 * `onWire`: called the moment the request goes on its connection (undici starts it right before
 * writing its bytes, on a connection already open), not when it is queued for one.
 */
export async function sendHttp(req: HttpRequest, timeoutMs: number, options: { dispatcher?: Dispatcher; onWire?: () => void } = {}): Promise<HttpResult> {
  let written = false;
  const dispatcher = options.dispatcher ?? defaultAgent();
  try {
    const res = await request(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      dispatcher: options.onWire ? noticeWire(dispatcher, options.onWire) : dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    written = true;
    const body = await readCapped(res.body, MAX_ANSWER_BYTES);
    if (body === null) return { ok: false, outcome: answerTooLarge(res.statusCode) };
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

/** sendHttp as the send path calls it (its ProviderCall): `onWire` as the request goes on its connection. */
export function sendHttpNoticingWire(req: HttpRequest, timeoutMs: number, onWire?: () => void): Promise<HttpResult> {
  return sendHttp(req, timeoutMs, onWire ? { onWire } : {});
}

/** `dispatcher`, calling `onWire` as each request it dispatches starts on its connection. */
function noticeWire(dispatcher: Dispatcher, onWire: () => void): Dispatcher {
  return dispatcher.compose((dispatch) => (opts, handler) => dispatch(opts, new WireNotice(handler, onWire)));
}

/** Undici's header object, as its handlers receive it. */
type Headers = Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[2];

/** Passes everything on to the request's own handler; tells `onWire` when the request starts. */
class WireNotice implements Dispatcher.DispatchHandler {
  constructor(
    private readonly handler: Dispatcher.DispatchHandler,
    private readonly onWire: () => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.handler.onRequestStart?.(controller, context);
    if (!controller.aborted) this.onWire();
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers, socket: Duplex): void {
    this.handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers, statusMessage?: string): void {
    this.handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: Headers): void {
    this.handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.handler.onResponseError?.(controller, error);
  }
}

/**
 * An answer over MAX_ANSWER_BYTES. A 2xx/3xx one may mean the provider took the message: it is
 * ambiguous, never resent blindly. An error status means it did not: a provider error, retried.
 */
function answerTooLarge(status: number): SendOutcome {
  const providerText = `The answer (HTTP ${status}) was larger than ${MAX_ANSWER_BYTES} bytes and was not read.`;
  if (status >= 400) {
    return outcome('PROVIDER_UNDOCUMENTED_RESPONSE', `The provider answered HTTP ${status} with more than ${MAX_ANSWER_BYTES} bytes; the send will be retried.`, { providerCode: String(status), providerText });
  }
  return outcome('PROVIDER_ANSWER_TOO_LARGE', `The provider answered HTTP ${status} with more than ${MAX_ANSWER_BYTES} bytes; the message may or may not have been sent.`, { providerCode: String(status), providerText });
}

export function classifyNetworkError(error: unknown, responseStarted: boolean): SendOutcome {
  const code = (error as { code?: string }).code ?? (error as { name?: string }).name ?? 'UNKNOWN';
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof OutboundRefusedError) {
    // Nothing was sent; the account's address is what is wrong, so it stops until an operator fixes it.
    return outcome('ACCOUNT_MISCONFIGURED', `${text} Provider URLs must be public https addresses (an operator can allow private hosts with PROVIDER_ALLOW_PRIVATE_HOSTS).`, { providerCode: code });
  }
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
  const current = sharedAgent;
  sharedAgent = undefined;
  await current?.agent.close();
}
