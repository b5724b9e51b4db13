/**
 * One delivery attempt: the body in the endpoint's format, signed, POSTed with a timeout and
 * no redirects (a redirect could lead the engine anywhere the URL check would have refused).
 * Any 2xx is success; anything else, or no answer, is retried later.
 */
import { Agent, request } from 'undici';
import { slackText, type EventEnvelope } from './catalog.js';
import { endpointUrlProblem } from './endpoint-url.js';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signPayload, TIMESTAMP_HEADER } from './signature.js';

const agent = new Agent({ connections: 16, keepAliveTimeout: 10_000, connect: { timeout: 10_000 } });

export type EndpointFormat = 'json' | 'slack';
export type DeliveryTarget = { url: string; secret: string; format: EndpointFormat };
export type AttemptResult = { ok: boolean; statusCode: number | null; error: string | null; durationMs: number };

export function deliveryBody(event: EventEnvelope, format: EndpointFormat): string {
  return format === 'slack' ? JSON.stringify({ text: slackText(event) }) : JSON.stringify(event);
}

export async function deliverOnce(
  target: DeliveryTarget,
  event: EventEnvelope,
  options: { timeoutMs: number; allowPrivateUrls: boolean },
): Promise<AttemptResult> {
  const started = Date.now();
  const problem = endpointUrlProblem(target.url, options.allowPrivateUrls);
  if (problem) return { ok: false, statusCode: null, error: `URL refused: ${problem}`, durationMs: 0 };
  const body = deliveryBody(event, target.format);
  const timestamp = Math.floor(Date.now() / 1000);
  try {
    const res = await request(target.url, {
      method: 'POST',
      dispatcher: agent,
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
    const text = (await res.body.text()).slice(0, 300);
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    return { ok, statusCode: res.statusCode, error: ok ? null : `HTTP ${res.statusCode}${text ? `: ${text}` : ''}`, durationMs: Date.now() - started };
  } catch (error) {
    const message = error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error);
    return { ok: false, statusCode: null, error: message.slice(0, 300), durationMs: Date.now() - started };
  }
}

export async function closeDeliveryAgent(): Promise<void> {
  await agent.close();
}
