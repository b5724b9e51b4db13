/**
 * Provider webhook receivers: one unguessable URL per account, /webhooks/<accountId>/<secret>.
 * No API key (providers cannot send one); the secret in the path, and where the provider signs
 * (Meta), the body's signature authenticate the caller. What a provider's webhook is (signature,
 * handshake, parser, replay stamp) is its adapter's webhook capability; nothing here knows a
 * provider by name.
 *
 * Order matters, cheapest refusal first:
 * 1. onRequest, before a byte of the body is read: the URL's account and secret (404 at once for
 *    an unknown URL, however slowly its body arrives), the provider's support for webhooks, and
 *    a declared Content-Length over the webhook limit (413).
 * 2. The body, read up to the small webhook limit (413 past it, WEBHOOK_BODY_TOO_LARGE).
 * 3. Signature, replay window, documented shape, the account's own sender ids.
 * 4. Write before answering: stored raw in webhook_events, and only then answered 200.
 *    Processing happens in the worker processes (src/webhooks/webhook-processor.ts).
 * Anything refused gets a 4xx with a stable code and is counted in /metrics.
 */
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { redisKeys } from '../../redis-keys.js';
import { z } from 'zod';
import { errors, type AppError } from '../../errors.js';
import { webhookRequests, webhookStoreSeconds } from '../../metrics.js';
import { adapterFor, webhookProviders } from '../../providers/registry.js';
import { securitySettings } from '../../security/security-settings.js';
import { WebhookFormatError, type WebhookCapability } from '../../providers/types.js';
import { parseWebhook, webhookCapability } from '../../webhooks/parse-webhook.js';
import { WebhookAccounts, type WebhookAccount } from '../../webhooks/webhook-accounts.js';
import { WebhookStore } from '../../webhooks/webhook-store.js';
import { RedisRateLimiter } from '../rate-limit.js';
import type { AppContext } from '../app.js';
import { doc, json, other } from '../openapi/route-doc.js';

const params = z.object({ accountId: z.string(), secret: z.string() });
const PATH = '/webhooks/:accountId/:secret';

/** What step 1 refuses, before any body is read. */
const urlRefusals = [errors.webhookNotFound(), errors.webhookUnsupported('multichat', ['meta', 'adereso']), errors.webhookRateLimited(2), errors.sandboxProviderDisabled()];
const verifyDoc = doc({
  tag: 'webhooks',
  auth: 'webhookUrl',
  summary: "A provider's verification handshake (Meta: echoes hub.challenge when the verify token matches)",
  description: 'No API key: the secret in the URL, given when the account was created or its webhook secret rotated, identifies the account.',
  params,
  responses: { 200: other('text/plain', z.string(), '1158201444', 'The challenge, echoed') },
  errors: [...urlRefusals, errors.webhookVerifyFailed()],
});
const receiveDoc = doc({
  tag: 'webhooks',
  auth: 'webhookUrl',
  summary: "A provider's status and inbound-message events",
  description:
    'No API key: the secret in the URL and, where the provider signs (Meta, X-Hub-Signature-256), the signature authenticate the call. The body is stored as sent, then answered 200; it is processed by the workers. Anything refused gets a 4xx, so the provider retries what can succeed later.',
  params,
  rawBody: true,
  body: {
    required: true,
    description: "The provider's own payload, as its manual documents it.",
    content: {
      'application/json': {
        schema: z.unknown(),
        example: { object: 'whatsapp_business_account', entry: [{ id: '987654321', changes: [{ field: 'messages', value: { statuses: [{ id: 'wamid.HBgL', status: 'delivered', timestamp: '1795961000', recipient_id: '56912345678' }] } }] }] },
      },
    },
  },
  responses: { 200: json(z.object({ received: z.literal(true) }), { received: true }, 'Stored (or acknowledged as not for this account)') },
  errors: [
    ...urlRefusals,
    errors.webhookBodyTooLarge(256 * 1024),
    errors.webhookSignatureInvalid(),
    errors.webhookSignatureUnconfigured(),
    errors.webhookReplayed(900, 300),
    errors.webhookMalformed('Meta', 'entry is missing'),
    errors.serviceUnavailable('The event store'),
  ],
});

type Found = { account: WebhookAccount; webhook: WebhookCapability<unknown, unknown>; secret: string };

export function webhookRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const accounts = new WebhookAccounts(ctx.db);
    const store = new WebhookStore(ctx.db.pool);
    const bodyLimit = ctx.config.webhookBodyLimitBytes;
    const replayWindowMs = ctx.config.webhookReplayWindowSeconds * 1000;
    /** What onRequest found, for the handler; gone with the request. */
    const found = new WeakMap<FastifyRequest, Found>();
    // Per webhook URL (account), across API processes: a flood on one URL cannot starve the others.
    const limiter = new RedisRateLimiter(ctx.redis, redisKeys.webhookRateLimit(ctx.config.queuePrefix), {
      limit: ctx.config.webhookRateLimit,
      windowMs: ctx.config.webhookRateWindowSeconds * 1000,
    });
    app.addHook('onClose', async () => store.drain());

    // The raw bytes are needed as sent: Meta signs them, and they are stored unparsed.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));

    const refuse = (reply: FastifyReply, provider: string, result: string, error: AppError) => {
      webhookRequests.inc({ provider, result });
      return reply.status(error.statusCode).send(error.toJSON());
    };

    // A body over the limit that declared no length (chunked) is cut off while it is read.
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw error;
      return refuse(reply, found.get(request)?.account.provider ?? 'unknown', 'too_large', errors.webhookBodyTooLarge(bodyLimit));
    });

    /** Step 1: everything that needs no body. Replying here leaves the body unread. */
    const identify = async (request: FastifyRequest, reply: FastifyReply) => {
      const { accountId, secret } = parseParams(request.params);
      const account = await accounts.withSecret(accountId, secret);
      if (!account) return refuse(reply, 'unknown', 'unknown_url', errors.webhookNotFound());
      // The sandbox stands in for a provider only where the operator enabled it; elsewhere its
      // events are refused like its sends, so nobody can move recipients with made-up statuses.
      if (adapterFor(account.provider)?.standIn && !securitySettings().sandboxEnabled) return refuse(reply, account.provider, 'disabled', errors.sandboxProviderDisabled());
      const webhook = webhookCapability(account.provider);
      if (!webhook) return refuse(reply, account.provider, 'unsupported', errors.webhookUnsupported(account.provider, webhookProviders()));
      const verdict = await limiter.take(account.id);
      if (!verdict.allowed) {
        const retryAfter = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
        void reply.header('retry-after', String(retryAfter));
        return refuse(reply, account.provider, 'rate_limited', errors.webhookRateLimited(retryAfter));
      }
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > bodyLimit) return refuse(reply, account.provider, 'too_large', errors.webhookBodyTooLarge(bodyLimit));
      found.set(request, { account, webhook, secret });
      return undefined;
    };

    /** The provider's verification handshake (Meta: echo hub.challenge when the verify token matches). */
    app.get(PATH, { onRequest: identify, ...verifyDoc }, async (request, reply) => {
      const { account, webhook, secret } = found.get(request) as Found;
      const query = (request.query ?? {}) as Record<string, unknown>;
      const answer = webhook.handshake && account.settings ? webhook.handshake(query, account.settings, secret) : null;
      if (answer === null) return refuse(reply, account.provider, 'verify_failed', errors.webhookVerifyFailed());
      webhookRequests.inc({ provider: account.provider, result: 'verify_ok' });
      return reply.type('text/plain').send(answer);
    });

    app.post(PATH, { onRequest: identify, bodyLimit, ...receiveDoc }, async (request, reply) => {
      const started = process.hrtime.bigint();
      const { account, webhook } = found.get(request) as Found;
      const { provider } = account;
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);

      if (webhook.verify) {
        const verdict = account.settings ? webhook.verify({ rawBody: raw, headers: request.headers }, account.settings) : ({ ok: false, problem: 'unconfigured' } as const);
        if (!verdict.ok) {
          return refuse(reply, provider, 'bad_signature', verdict.problem === 'unconfigured' ? errors.webhookSignatureUnconfigured() : errors.webhookSignatureInvalid());
        }
      }
      // No provider sends a raw NUL byte (JSON escapes it), and Postgres text cannot store one.
      if (raw.includes(0)) return refuse(reply, provider, 'malformed', errors.webhookMalformed(provider, 'the body contains a NUL byte'));
      const body = raw.toString('utf8');

      const sentAt = webhook.sentAt?.(body) ?? null;
      if (sentAt) {
        const window = webhook.replayWindowMs ?? replayWindowMs;
        const ageMs = Date.now() - sentAt.getTime();
        if (Math.abs(ageMs) > window) return refuse(reply, provider, 'replayed', errors.webhookReplayed(Math.round(ageMs / 1000), Math.round(window / 1000)));
      }

      const contentType = request.headers['content-type'] ?? null;
      let otherAccount: { count: number; ids: string[] } | undefined;
      let applicable: boolean;
      try {
        // Parsed here to refuse what the provider never sends and what belongs to another account; the processor parses again.
        const parsed = parseWebhook(provider, body, contentType, { config: account.config });
        otherAccount = parsed.otherAccount;
        applicable = parsed.events.length > 0 || parsed.ignored > 0 || (parsed.accountHealth?.length ?? 0) > 0;
      } catch (error) {
        if (error instanceof WebhookFormatError) return refuse(reply, provider, 'malformed', errors.webhookMalformed(provider, error.message));
        throw error;
      }
      if (otherAccount) {
        // Signed by the account's app, but about another number or business account (one app has one
        // callback URL for all of them). Not this account's: counted, logged, never applied.
        webhookRequests.inc({ provider, result: 'account_mismatch' });
        request.log.warn({ accountId: account.id, otherAccount }, 'webhook parts for another account dropped');
        if (!applicable) {
          // Acknowledged, so the provider does not retry for days what will never apply here.
          return reply.status(200).send({ received: true });
        }
      }
      try {
        await store.store({ tenantId: account.tenantId, accountId: account.id, provider, contentType, body });
      } catch (error) {
        // Not stored, so not acknowledged: the provider retries.
        request.log.error({ err: error }, 'webhook could not be stored');
        return refuse(reply, provider, 'store_failed', errors.serviceUnavailable('The event store'));
      }
      webhookRequests.inc({ provider, result: 'stored' });
      webhookStoreSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      return reply.status(200).send({ received: true });
    });
  };
}

function parseParams(value: unknown): z.infer<typeof params> {
  const parsed = params.safeParse(value);
  return parsed.success ? parsed.data : { accountId: '', secret: '' };
}
