/**
 * The account a webhook URL names, found by its id and the SHA-256 of the URL's secret, cached
 * briefly: a burst of callbacks costs one primary-key read per account. This runs before the
 * request's body is read, so an unknown URL costs no body at all.
 */
import type { Db } from '../db/database.js';
import { accountCredentials } from '../security/security-settings.js';
import { checkAccountSettings } from '../providers/account-settings.js';
import type { AccountSettings, ProviderName } from '../providers/types.js';
import { webhookSecretMatches } from './webhook-secrets.js';

export type WebhookAccount = {
  id: string;
  tenantId: string;
  provider: ProviderName;
  secretHash: string | null;
  /** The account's config as stored, for the parsers' account check. */
  config: unknown;
  /** As the adapter reads them; null when they no longer pass its schemas (nothing that needs them verifies). */
  settings: AccountSettings | null;
};

const ACCOUNT_CACHE_MS = 5_000;
/** Cached accounts per process; past it the cache starts over (ids come from the URL, so anyone can add misses). */
const ACCOUNT_CACHE_MAX = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class WebhookAccounts {
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
      select: { id: true, tenantId: true, provider: true, webhookSecretHash: true, config: true, credentials: true, credentialsSealed: true, credentialsKeyId: true },
    });
    let account: WebhookAccount | null = null;
    if (row) {
      const checked = checkAccountSettings(row.provider, row.id, row.config, readableCredentials(row));
      account = {
        id: row.id,
        tenantId: row.tenantId,
        provider: row.provider,
        secretHash: row.webhookSecretHash,
        config: row.config,
        settings: checked.ok ? checked.settings : null,
      };
    }
    if (this.cache.size >= ACCOUNT_CACHE_MAX) this.cache.clear();
    this.cache.set(accountId, { account, until: Date.now() + ACCOUNT_CACHE_MS });
    return account;
  }
}

/** The account's decrypted credentials, or none when this process lacks the key they were sealed with. */
function readableCredentials(row: Parameters<typeof accountCredentials>[0]): unknown {
  try {
    return accountCredentials(row);
  } catch {
    return {};
  }
}
