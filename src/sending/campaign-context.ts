/**
 * What a worker needs to send for a campaign (its template, account settings and adapter),
 * loaded once and cached for a few seconds, so per-recipient work touches only the recipient.
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import { checkAccountSettings } from '../providers/account-settings.js';
import { adapterFor } from '../providers/registry.js';
import { accountCredentials, securitySettings } from '../security/security-settings.js';
import { parseButtons, parseCampaignOptions, parseHeaderType, type CampaignOptions } from '../campaigns/campaign-options.js';
import type { AccountSettings, ProviderAdapter, TemplateRef } from '../providers/types.js';
import { memberTemplates } from '../pools/pool-templates.js';

export type CampaignContext = {
  campaignId: string;
  tenantId: string;
  accountId: string;
  maxAttempts: number;
  /** The account's messages per second, across every worker process. */
  ratePerSecond: number;
  /** Least time between two messages to one phone from this account (ms); 0: no gap. */
  pairGapMs: number;
  /** Failure ratio of recent results past which the campaign pauses itself; null: never. */
  errorBudget: number | null;
  adapter: ProviderAdapter<unknown, unknown>;
  account: AccountSettings;
  template: TemplateRef;
  /** `text`: a free-text campaign (the template's body is the campaign's text), sent through the adapter's text capability. */
  kind: 'template' | 'text';
  /** Campaign-wide parts of every message: header media, button parameters, provider options. */
  options: CampaignOptions;
  /**
   * The account's generation (src/accounts/account-state.ts) when these settings were read: read
   * before them, so settings are never older than their generation says.
   */
  generation: number;
};

/** The account's current generation; 0 when not tracked. */
export type GenerationOf = (accountId: string) => Promise<number>;

export class ContextError extends Error {
  override name = 'ContextError';
  constructor(
    readonly code: 'ACCOUNT_MISCONFIGURED' | 'PROVIDER_NOT_SUPPORTED',
    message: string,
    /** The account to stop: its settings are what is wrong. */
    readonly accountId: string,
  ) {
    super(message);
  }
}

const TTL_MS = 5_000;

export class CampaignContexts {
  private readonly cache = new Map<string, { at: number; value: Promise<CampaignContext> }>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly generationOf: GenerationOf = async () => 0,
  ) {}

  /** The campaign as `accountId` sends it (a pool campaign's member); the campaign's own account when absent. */
  get(campaignId: string, accountId?: string): Promise<CampaignContext> {
    const key = `${campaignId}/${accountId ?? ''}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
    const value = this.load(campaignId, accountId);
    this.cache.set(key, { at: Date.now(), value });
    value.catch(() => this.cache.delete(key));
    return value;
  }

  /** Drops cached settings of an account (it was stopped: its credentials or settings are about to change). */
  forgetAccount(accountId: string): void {
    for (const [campaignId, entry] of this.cache) {
      void entry.value.then(
        (context) => {
          if (context.accountId === accountId) this.cache.delete(campaignId);
        },
        () => undefined,
      );
    }
  }

  private async load(campaignId: string, sendAccountId?: string): Promise<CampaignContext> {
    const head = await this.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId }, select: { accountId: true } });
    const accountId = sendAccountId ?? head.accountId;
    const generation = await this.generationOf(accountId);
    const campaign = await this.prisma.campaign.findUniqueOrThrow({
      where: { id: campaignId },
      include: { template: true, account: true },
    });
    let { account, template } = campaign;
    if (accountId !== campaign.accountId) {
      // A pool campaign's other account: its own settings, and its own copy of the template.
      const member = campaign.poolId ? await this.prisma.senderPoolMember.findUnique({ where: { poolId_accountId: { poolId: campaign.poolId, accountId } }, include: { account: true } }) : null;
      if (!member) throw new ContextError('ACCOUNT_MISCONFIGURED', `Account ${accountId} does not send this campaign (not in its sender pool).`, accountId);
      account = member.account;
      if (campaign.template) {
        const [mapped] = await memberTemplates((sql, params) => this.prisma.$queryRawUnsafe(sql, ...params), campaignId, accountId);
        template = mapped?.templateId ? await this.prisma.template.findUnique({ where: { id: mapped.templateId } }) : null;
        if (!template) throw new ContextError('ACCOUNT_MISCONFIGURED', `Account "${account.name}" has no template matching "${campaign.template.name}" (${campaign.template.language}); map it on the pool.`, accountId);
      }
    }
    const adapter = adapterFor(account.provider);
    if (!adapter) throw new ContextError('PROVIDER_NOT_SUPPORTED', `No adapter for provider ${account.provider}.`, accountId);
    if (adapter.standIn && !securitySettings().sandboxEnabled) {
      throw new ContextError('ACCOUNT_MISCONFIGURED', 'The sandbox provider is disabled on this engine (an operator enables it with SANDBOX_PROVIDER_ENABLED=true, for development and tests only).', accountId);
    }
    let stored: unknown;
    try {
      stored = accountCredentials(account);
    } catch {
      throw new ContextError('ACCOUNT_MISCONFIGURED', `The credentials of account "${account.name}" cannot be decrypted with the configured keys (CREDENTIALS_KEYS).`, accountId);
    }
    const checked = checkAccountSettings(account.provider, accountId, account.config, stored);
    if (!checked.ok) {
      throw new ContextError('ACCOUNT_MISCONFIGURED', `The ${account.provider} account "${account.name}" has invalid settings (${checked.problems.join('; ')}); fix them and resume the account.`, accountId);
    }
    const t = template ?? textTemplate(campaign.text);
    return {
      campaignId,
      tenantId: campaign.tenantId,
      accountId,
      maxAttempts: campaign.maxAttempts,
      ratePerSecond: account.ratePerSecond,
      pairGapMs: account.pairGapSeconds * 1000,
      errorBudget: campaign.errorBudget,
      adapter,
      account: checked.settings,
      template: {
        name: t.name,
        externalId: t.externalId,
        language: t.language,
        category: t.category,
        body: t.body,
        paramNames: t.paramNames,
        headerType: parseHeaderType(t.headerType),
        buttons: parseButtons(t.buttons),
      },
      kind: campaign.kind,
      options: parseCampaignOptions(campaign.options),
      generation,
    };
  }
}

/** A text campaign's stand-in template: its body is the text with {{n}} placeholders. */
function textTemplate(text: string | null): { name: string; externalId: null; language: string; category: 'MARKETING'; body: string; paramNames: string[]; headerType: string; buttons: unknown } {
  return { name: 'text', externalId: null, language: 'es', category: 'MARKETING', body: text ?? '', paramNames: [], headerType: 'none', buttons: [] };
}
