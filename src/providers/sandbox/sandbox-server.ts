/**
 * The sandbox provider: a real local HTTP server with configurable latency, failure rate,
 * rate limit and tier limit. It records what it received so tests can prove a phone was sent
 * at most once. Protocol: ./sandbox-protocol.md.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type SandboxSettings = {
  /** Bearer token the server expects. */
  token: string;
  /** Added latency per request, ms; a [min, max] pair draws uniformly. Default 0. */
  latencyMs: number | [number, number];
  /** Fraction of sends answered 500, 0..1. Default 0. */
  failureRate: number;
  /** Fraction of sends answered 429 regardless of rate, 0..1. Default 0. */
  rateLimitedRate: number;
  /** Sends per second before answering 429; 0 means no limit. */
  ratePerSecond: number;
  /** Unique recipients per rolling 24 h before answering 403 tier_limit; 0 means no limit. */
  tierLimit: number;
  /** Phones (E.164) answered 400 invalid_recipient. */
  unreachablePhones: string[];
  /** Template names answered 404 template_not_found. */
  missingTemplates: string[];
  /** Parameter counts per template name, to reject a wrong count. */
  templateParamCounts: Record<string, number>;
  /** Fraction of sends whose response never comes (the socket is held until the client gives up). */
  hangRate: number;
  /** Quote the rejected token in the 401 text, as some real providers do (tests of redaction). */
  unauthorizedEcho: boolean;
  /** Delivery callbacks to the engine's webhook, in Meta's format and signed like Meta's; null: none. */
  webhook: SandboxWebhook | null;
};

/**
 * Status and reply callbacks after an accepted send, as Meta's Cloud API sends them
 * (`entry[].changes[].value.statuses[]` / `messages[]`), signed with X-Hub-Signature-256 over
 * the raw body keyed by `secret` (the account's sandbox token).
 */
export type SandboxWebhook = {
  url: string;
  secret: string;
  /** Share of accepted messages reported delivered, then read (of the delivered), then replied to (of the read). */
  deliveredRate: number;
  readRate: number;
  replyRate: number;
  /** Share of replies that are "BAJA" (an opt-out) rather than a thank-you. */
  optOutRate: number;
  /** Delay before the callback, ms: a [min, max] pair draws uniformly. */
  delayMs: [number, number];
};

export type SandboxStats = {
  received: number;
  accepted: number;
  byStatus: Record<string, number>;
  /** Accepted sends per phone. */
  perPhone: Record<string, number>;
  /** Most accepted sends that arrived in any one wall-clock second. */
  maxPerSecond: number;
  /**
   * Accepted sends per wall-clock second of their arrival (epoch seconds -> count): what a
   * provider's edge limiter counts, whatever latency its answer then takes.
   */
  perSecond: Record<string, number>;
  /** Accepted sends per wall-clock second their answer left (after the simulated latency), for comparison. */
  perSecondAnswered: Record<string, number>;
  /**
   * Arrival times (epoch ms, before any added latency) of every well-formed send request per
   * phone, whatever the answer: what the pair gap between two messages to one phone is judged on.
   */
  arrivalsPerPhone: Record<string, number[]>;
};

export type SandboxServer = {
  url: string;
  settings: SandboxSettings;
  stats(): SandboxStats;
  /** Accepted sends so far, without copying the stats (cheap enough to read every second of a million-recipient run). */
  accepted(): number;
  reset(): void;
  close(): Promise<void>;
};

const DEFAULTS: SandboxSettings = {
  token: 'sandbox-token',
  latencyMs: 0,
  failureRate: 0,
  rateLimitedRate: 0,
  ratePerSecond: 0,
  tierLimit: 0,
  unreachablePhones: [],
  missingTemplates: [],
  templateParamCounts: {},
  hangRate: 0,
  unauthorizedEcho: false,
  webhook: null,
};

type SendBody = { to?: unknown; template?: unknown; language?: unknown; parameters?: unknown; reference?: unknown };

export async function startSandboxServer(options: Partial<SandboxSettings> & { port?: number; host?: string } = {}): Promise<SandboxServer> {
  const { port = 0, host = '127.0.0.1', ...rest } = options;
  const settings: SandboxSettings = { ...DEFAULTS, ...rest };
  let stats = emptyStats();
  const uniqueRecipients = new Set<string>();
  /** Accepted sends per arrival second, for the 429 limit (kept apart from the stats, which reset() clears). */
  const limiterCounts = new Map<number, number>();
  const hanging = new Set<ServerResponse>();

  const server: Server = createServer((req, res) => {
    // The arrival: when the request's headers are in, before the body is read or any latency.
    const arrivedAt = Date.now();
    readBody(req)
      .then((raw) => handle(req, res, raw, arrivedAt))
      .catch(() => reply(res, 400, { error: { code: 'bad_request', message: 'The body could not be read.' } }));
  });
  server.keepAliveTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string, arrivedAt: number): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/__sandbox/stats' && req.method === 'GET') return reply(res, 200, stats);
    if (path === '/__sandbox/settings' && req.method === 'PUT') {
      Object.assign(settings, JSON.parse(raw || '{}') as Partial<SandboxSettings>);
      return reply(res, 200, settings);
    }
    if (path !== '/v1/messages' || req.method !== 'POST') {
      return reply(res, 404, { error: { code: 'not_found', message: `No route ${req.method} ${path}.` } });
    }
    stats.received += 1;
    const latency = Array.isArray(settings.latencyMs)
      ? settings.latencyMs[0] + Math.random() * (settings.latencyMs[1] - settings.latencyMs[0])
      : settings.latencyMs;
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));

    if (req.headers.authorization !== `Bearer ${settings.token}`) {
      const quoted = settings.unauthorizedEcho ? ` (${req.headers.authorization ?? 'none'})` : '';
      return count(res, 401, { error: { code: 'unauthorized', message: `The token is not valid${quoted}.` } });
    }
    let body: SendBody;
    try {
      body = JSON.parse(raw) as SendBody;
    } catch {
      return count(res, 400, { error: { code: 'bad_request', message: 'The body is not JSON.' } });
    }
    const to = typeof body.to === 'string' ? body.to : '';
    if (to) (stats.arrivalsPerPhone[to] ??= []).push(arrivedAt);
    const template = typeof body.template === 'string' ? body.template : '';
    const parameters = Array.isArray(body.parameters) ? body.parameters : null;
    if (!template || parameters === null) {
      return count(res, 400, { error: { code: 'bad_request', message: 'template and parameters are required.' } });
    }
    if (!/^\+[1-9]\d{7,14}$/.test(to) || settings.unreachablePhones.includes(to)) {
      return count(res, 400, { error: { code: 'invalid_recipient', message: `The recipient ${to} cannot receive messages.` } });
    }
    if (settings.missingTemplates.includes(template)) {
      return count(res, 404, { error: { code: 'template_not_found', message: `Template ${template} does not exist.` } });
    }
    const expected = settings.templateParamCounts[template];
    if (parameters.some((p) => typeof p !== 'string' || p.trim() === '') || (expected !== undefined && parameters.length !== expected)) {
      return count(res, 400, { error: { code: 'invalid_parameters', message: 'Parameters are empty or their count is wrong.' } });
    }
    if (Math.random() < settings.hangRate) {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (Math.random() < settings.failureRate) {
      return count(res, 500, { error: { code: 'internal', message: 'Injected failure.' } });
    }
    // Counted by the second the request arrived in, as a provider's edge limiter counts.
    const arrivalSecond = Math.floor(arrivedAt / 1000);
    const windowCount = limiterCounts.get(arrivalSecond) ?? 0;
    if ((settings.ratePerSecond > 0 && windowCount >= settings.ratePerSecond) || Math.random() < settings.rateLimitedRate) {
      const retryAfterMs = Math.max(0, (arrivalSecond + 1) * 1000 - Date.now());
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
      return count(res, 429, { error: { code: 'rate_limited', message: 'Too many messages this second.', retry_after_ms: retryAfterMs } });
    }
    if (settings.tierLimit > 0 && !uniqueRecipients.has(to) && uniqueRecipients.size >= settings.tierLimit) {
      return count(res, 403, { error: { code: 'tier_limit', message: `Messaging limit of ${settings.tierLimit} unique recipients per 24 h reached.` } });
    }
    limiterCounts.set(arrivalSecond, windowCount + 1);
    for (const second of limiterCounts.keys()) if (second < arrivalSecond - 5) limiterCounts.delete(second);
    uniqueRecipients.add(to);
    stats.accepted += 1;
    stats.perPhone[to] = (stats.perPhone[to] ?? 0) + 1;
    const key = String(arrivalSecond);
    stats.perSecond[key] = (stats.perSecond[key] ?? 0) + 1;
    stats.maxPerSecond = Math.max(stats.maxPerSecond, stats.perSecond[key] ?? 0);
    const answered = String(Math.floor(Date.now() / 1000));
    stats.perSecondAnswered[answered] = (stats.perSecondAnswered[answered] ?? 0) + 1;
    const id = `sbx_${randomUUID().replace(/-/g, '')}`;
    if (settings.webhook) scheduleCallback(settings.webhook, id, to);
    return count(res, 200, { id });
  }

  function count(res: ServerResponse, status: number, payload: unknown): void {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    reply(res, status, payload);
  }

  const callbacks = new Set<NodeJS.Timeout>();
  function scheduleCallback(webhook: SandboxWebhook, id: string, to: string): void {
    const delay = webhook.delayMs[0] + Math.random() * (webhook.delayMs[1] - webhook.delayMs[0]);
    const timer = setTimeout(() => {
      callbacks.delete(timer);
      void postCallback(webhook, metaCallback(webhook, id, to)).catch(() => undefined);
    }, delay);
    callbacks.add(timer);
  }

  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    settings,
    stats: () => structuredClone(stats),
    accepted: () => stats.accepted,
    reset() {
      stats = emptyStats();
      uniqueRecipients.clear();
    },
    async close() {
      for (const timer of callbacks) clearTimeout(timer);
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function emptyStats(): SandboxStats {
  return { received: 0, accepted: 0, byStatus: {}, perPhone: {}, maxPerSecond: 0, perSecond: {}, perSecondAnswered: {}, arrivalsPerPhone: {} };
}

function reply(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** One Meta-format callback: sent, then delivered and read as drawn, and maybe a reply. */
function metaCallback(webhook: SandboxWebhook, id: string, to: string): string {
  const waId = to.slice(1);
  // Whole seconds, like Meta's; rounded up, since the callback comes after the send.
  const now = Math.ceil(Date.now() / 1000);
  const statuses: { id: string; status: string; timestamp: string; recipient_id: string }[] = [{ id, status: 'sent', timestamp: String(now), recipient_id: waId }];
  const messages: unknown[] = [];
  if (Math.random() < webhook.deliveredRate) {
    statuses.push({ id, status: 'delivered', timestamp: String(now), recipient_id: waId });
    if (Math.random() < webhook.readRate) {
      statuses.push({ id, status: 'read', timestamp: String(now), recipient_id: waId });
      if (Math.random() < webhook.replyRate) {
        const body = Math.random() < webhook.optOutRate ? 'BAJA' : '¡Gracias!';
        messages.push({ from: waId, id: `wamid.sbx_in_${randomUUID().replace(/-/g, '')}`, timestamp: String(now), type: 'text', text: { body } });
      }
    }
  }
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'sandbox',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '56900000000', phone_number_id: 'sandbox' },
              statuses,
              ...(messages.length > 0 ? { contacts: [{ profile: { name: 'Cliente' }, wa_id: waId }], messages } : {}),
            },
          },
        ],
      },
    ],
  });
}

/** Posts a callback signed like Meta's; one retry, as Meta retries non-200 answers. */
async function postCallback(webhook: SandboxWebhook, body: string): Promise<void> {
  const signature = `sha256=${createHmac('sha256', webhook.secret).update(body).digest('hex')}`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const response = await fetch(webhook.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body });
    await response.arrayBuffer();
    if (response.ok) return;
  }
}
