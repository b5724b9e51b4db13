/**
 * Meta's webhook as an adapter capability: the signature check on the raw bytes, the GET
 * verification handshake, the parser, and the replay window. Built by a factory because the
 * sandbox speaks the same format with its own secret (its account token) and no sender ids.
 */
import type { AccountSettings, WebhookCapability } from '../types.js';
import { verifyMetaSignature } from './signature.js';
import { metaWebhookSentAt, parseMetaWebhook, type MetaSenderIds } from './webhook.js';

/** Meta retries an unacknowledged request for up to 7 days; an hour more covers clock skew and the last retry's own delay. */
export const META_REPLAY_WINDOW_MS = 7 * 86_400_000 + 3_600_000;

export type MetaFormatOptions<Config, Credentials> = {
  /** The key the provider signs with; undefined: not configured, and nothing verifies. */
  appSecret(account: AccountSettings<Config, Credentials>): string | undefined;
  /** The handshake's verify token; undefined: the secret in the webhook URL is the token. */
  verifyToken(account: AccountSettings<Config, Credentials>): string | undefined;
  /** The ids a body must name to be this account's. */
  senderIds(config: Config): MetaSenderIds;
};

export function metaFormatWebhook<Config, Credentials>(options: MetaFormatOptions<Config, Credentials>): WebhookCapability<Config, Credentials> {
  return {
    verify(request, account) {
      const secret = options.appSecret(account);
      if (!secret) return { ok: false, problem: 'unconfigured' };
      const header = request.headers['x-hub-signature-256'];
      return verifyMetaSignature(request.rawBody, typeof header === 'string' ? header : undefined, secret) ? { ok: true } : { ok: false, problem: 'invalid' };
    },
    handshake(query, account, urlSecret) {
      const expected = options.verifyToken(account) ?? urlSecret;
      const challenge = query['hub.challenge'];
      if (query['hub.mode'] !== 'subscribe' || query['hub.verify_token'] !== expected) return null;
      return typeof challenge === 'string' && challenge !== '' ? challenge : null;
    },
    parse: ({ body, receivedAt, config }) => parseMetaWebhook(body, receivedAt, config === null ? {} : options.senderIds(config)),
    sentAt: metaWebhookSentAt,
    replayWindowMs: META_REPLAY_WINDOW_MS,
    // Every Meta status names its wamid.
    statusesByPhone: false,
  };
}
