/**
 * Provider webhook receivers: one unguessable URL per account, /webhooks/<accountId>/<secret>.
 * No API key (providers cannot send one); the secret in the path, and for Meta the body's
 * HMAC signature, authenticate the caller.
 *
 * Write before answering: a request is checked (URL secret, signature, documented shape), stored
 * raw in webhook_events, and only then answered 200. Processing happens in the worker processes
 * (src/webhooks/webhook-processor.ts), so a processor that is down delays events, never loses
 * them. Anything refused gets a 4xx with a stable code and is counted in /metrics.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Db } from '../../db/database.js';
import { errors, type AppError } from '../../errors.js';
import { webhookRequests, webhookStoreSeconds } from '../../metrics.js';
import type { ProviderName } from '../../providers/types.js';
import { accountCredentials } from '../../security/security-settings.js';
import { hasWebhooks, parseWebhook } from '../../webhooks/parse-webhook.js';
import { verifyMetaSignature } from '../../webhooks/signature.js';
import { WebhookFormatError } from '../../webhooks/types.js';
import { webhookSecretMatches } from '../../webhooks/webhook-secrets.js';
import { WebhookStore } from '../../webhooks/webhook-store.js';
import type { AppContext } from '../app.js';

const params = z.object({ accountId: z.string(), secret: z.string() });
const ACCOUNT_CACHE_MS = 5_000;
/** Cached accounts per process; past it the cache starts over (ids come from the URL, so anyone can add misses). */
const ACCOUNT_CACHE_MAX = 10_000;
/** Meta batches up to 1,000 updates per request; multichat and Optiwe send one event. */
const WEBHOOK_BODY_LIMIT = 4 * 1_048_576;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type WebhookAccount = {
  tenantId: string;
  provider: ProviderName;
  secretHash: string | null;
  appSecret: string | null;
  verifyToken: string | null;
};

/** Account lookups for webhooks, cached briefly: a burst of callbacks costs one query per account. */
class WebhookAccounts {
  private readonly cache = new Map<string, { account: WebhookAccount | null; until: number }>();

  constructor(private readonly db: Db) {}

  /**
   * The account whose webhook secret is `secret`, or null. A cached account whose secret does not
   * match is read again first, so a URL rotated a moment ago works at once (the old one keeps
   * working here for up to ACCOUNT_CACHE_MS).
   */
  async withSecret(accountId: string, secret: string): Promise<WebhookAccount | null> {
    if (!UUID.test(accountId)) return null;
    const hit = this.cache.get(accountId);
    const cached = hit && hit.until > Date.now() ? hit.account : undefined;
    if (cached === null) return null;
    // A secret that does not match costs one primary-key read, like an id never seen before does.
    const account = cached && webhookSecretMatches(secret, cached.secretHash) ? cached : await this.load(accountId);
    return account && webhookSecretMatches(secret, account.secretHash) ? account : null;
  }

  private async load(accountId: string): Promise<WebhookAccount | null> {
    const row = await this.db.prisma.providerAccount.findUnique({
      where: { id: accountId },
      select: { id: true, tenantId: true, provider: true, webhookSecretHash: true, credentials: true, credentialsSealed: true, credentialsKeyId: true },
    });
    const credentials = row ? accountCredentials(row) : {};
    const text = (value: unknown) => (typeof value === 'string' && value ? value : null);
    const account = row
      ? {
          tenantId: row.tenantId,
          provider: row.provider,
          secretHash: row.webhookSecretHash,
          // The sandbox signs like Meta, with the account's own sandbox token.
          appSecret: row.provider === 'sandbox' ? text(credentials.token) : text(credentials.appSecret),
          verifyToken: text(credentials.webhookVerifyToken),
        }
      : null;
    if (this.cache.size >= ACCOUNT_CACHE_MAX) this.cache.clear();
    this.cache.set(accountId, { account, until: Date.now() + ACCOUNT_CACHE_MS });
    return account;
  }
}

export function webhookRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const accounts = new WebhookAccounts(ctx.db);
    const store = new WebhookStore(ctx.db.pool);
    app.addHook('onClose', async () => store.drain());

    // The raw bytes are needed as sent: Meta signs them, and they are stored unparsed.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) => done(null, body));

    const refuse = (reply: FastifyReply, provider: string, result: string, error: AppError) => {
      webhookRequests.inc({ provider, result });
      return reply.status(error.statusCode).send(error.toJSON());
    };

    /** Meta's verification handshake: echo hub.challenge when the verify token matches. */
    app.get('/webhooks/:accountId/:secret', async (request, reply) => {
      const { accountId, secret } = parseParams(request.params);
      const account = await accounts.withSecret(accountId, secret);
      if (!account) return refuse(reply, 'unknown', 'unknown_url', errors.webhookNotFound());
      const query = request.query as Record<string, string | undefined>;
      const expected = account.verifyToken ?? secret;
      if (query['hub.mode'] !== 'subscribe' || query['hub.verify_token'] !== expected || !query['hub.challenge']) {
        return refuse(reply, account.provider, 'verify_failed', errors.webhookVerifyFailed());
      }
      webhookRequests.inc({ provider: account.provider, result: 'verify_ok' });
      return reply.type('text/plain').send(query['hub.challenge']);
    });

    app.post('/webhooks/:accountId/:secret', async (request, reply) => {
      const started = process.hrtime.bigint();
      const { accountId, secret } = parseParams(request.params);
      const account = await accounts.withSecret(accountId, secret);
      if (!account) return refuse(reply, 'unknown', 'unknown_url', errors.webhookNotFound());
      const { provider } = account;
      if (!hasWebhooks(provider)) return refuse(reply, provider, 'unsupported', errors.webhookUnsupported(provider));

      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (provider === 'meta' || provider === 'sandbox') {
        if (!account.appSecret) return refuse(reply, provider, 'bad_signature', errors.webhookSignatureUnconfigured());
        const signature = request.headers['x-hub-signature-256'];
        if (!verifyMetaSignature(raw, typeof signature === 'string' ? signature : undefined, account.appSecret)) {
          return refuse(reply, provider, 'bad_signature', errors.webhookSignatureInvalid());
        }
      }
      const body = raw.toString('utf8');
      const contentType = request.headers['content-type'] ?? null;
      try {
        // Parsed here only to refuse what the provider never sends; the processor parses again.
        parseWebhook(provider, body, contentType);
      } catch (error) {
        if (error instanceof WebhookFormatError) return refuse(reply, provider, 'malformed', errors.webhookMalformed(provider, error.message));
        throw error;
      }
      try {
        await store.store({ tenantId: account.tenantId, accountId, provider, contentType, body });
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
