/**
 * One delivery attempt: the body in the endpoint's format, signed, POSTed with a timeout.
 * Any 2xx is success; anything else, or no answer, is retried later.
 *
 * Every connection goes through the outbound guard (src/security/outbound-guard.ts), as provider
 * HTTP does: https to public addresses only, checked on the address actually dialled, so a name
 * that resolved to a public address when the endpoint was registered and to 127.0.0.1 now is
 * refused (EVENT_ADDRESS_REFUSED in the delivery log). No redirects are followed (a redirect
 * could lead the engine anywhere the guard would refuse), and the answer is read only up to
 * MAX_EVENT_ANSWER_BYTES.
 */
import type { lookup as dnsLookup } from 'node:dns';
import { Agent, request, type Dispatcher } from 'undici';
import { guardedConnector, outboundUrlProblem, readCapped, type GuardSubject, type OutboundPolicy } from '../security/outbound-guard.js';
import { slackText, type EventEnvelope } from './catalog.js';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signPayload, TIMESTAMP_HEADER } from './signature.js';

/** Most bytes of a receiver's answer read; it only goes, cut to 300 characters, into the delivery log. */
export const MAX_EVENT_ANSWER_BYTES = 16 * 1024;
const EVENT_SUBJECT: GuardSubject = { label: 'event endpoint', refusedCode: 'EVENT_ADDRESS_REFUSED' };

/** An agent whose every connection passes the outbound guard; `lookup` replaces DNS in tests. */
export function createEventAgent(policy: OutboundPolicy, options: { lookup?: typeof dnsLookup } = {}): Agent {
  return new Agent({ connections: 16, keepAliveTimeout: 10_000, connect: guardedConnector(policy, { timeoutMs: 10_000, subject: EVENT_SUBJECT, ...options }) });
}

const agents = new Map<boolean, Agent>();
function agentFor(allowPrivateHosts: boolean): Agent {
  let agent = agents.get(allowPrivateHosts);
  if (!agent) {
    agent = createEventAgent({ allowPrivateHosts });
    agents.set(allowPrivateHosts, agent);
  }
  return agent;
}

export type EndpointFormat = 'json' | 'slack';
export type DeliveryTarget = { url: string; secret: string; format: EndpointFormat };
export type AttemptResult = { ok: boolean; statusCode: number | null; error: string | null; durationMs: number };

export function deliveryBody(event: EventEnvelope, format: EndpointFormat): string {
  return format === 'slack' ? JSON.stringify({ text: slackText(event) }) : JSON.stringify(event);
}

export async function deliverOnce(
  target: DeliveryTarget,
  event: EventEnvelope,
  options: { timeoutMs: number; allowPrivateUrls: boolean; dispatcher?: Dispatcher },
): Promise<AttemptResult> {
  const started = Date.now();
  // The scheme and literal addresses, before anything is signed; names are checked when dialled.
  const problem = outboundUrlProblem(target.url, { allowPrivateHosts: options.allowPrivateUrls });
  if (problem) return { ok: false, statusCode: null, error: `URL refused: it ${problem}`, durationMs: 0 };
  const body = deliveryBody(event, target.format);
  const timestamp = Math.floor(Date.now() / 1000);
  try {
    const res = await request(target.url, {
      method: 'POST',
      dispatcher: options.dispatcher ?? agentFor(options.allowPrivateUrls),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'wce-events/1',
        [EVENT_ID_HEADER]: event.id,
        [EVENT_TYPE_HEADER]: event.type,
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signPayload(target.secret, timestamp, body),
      },
      body,
    });
    // Read (and drop) the answer, so the connection can be reused; keep a little for the log.
    const text = ((await readCapped(res.body, MAX_EVENT_ANSWER_BYTES)) ?? `(an answer over ${MAX_EVENT_ANSWER_BYTES} bytes, not read)`).slice(0, 300);
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    return { ok, statusCode: res.statusCode, error: ok ? null : `HTTP ${res.statusCode}${text ? `: ${text}` : ''}`, durationMs: Date.now() - started };
  } catch (error) {
    const message = error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error);
    return { ok: false, statusCode: null, error: message.slice(0, 300), durationMs: Date.now() - started };
  }
}

export async function closeDeliveryAgent(): Promise<void> {
  const open = [...agents.values()];
  agents.clear();
  await Promise.all(open.map((a) => a.close()));
}
