/**
 * Rows for a campaign sent through a real provider adapter: an account of that provider whose
 * `baseUrl` points at a local fake, a template, a campaign, and recipients each with their own
 * variables. Readers return what a test asserts on: every recipient by phone, the campaign, the
 * account, and the account's BullMQ queue.
 */
import { applyCampaignAction } from '../../../src/campaigns/campaign-actions.js';
import type { InputJsonObject } from '../../../src/generated/prisma/internal/prismaNamespace.js';
import type { ProviderName } from '../../../src/providers/types.js';
import { waitFor } from '../../support/fixtures.js';
import type { TestContext } from '../../support/test-context.js';
import type { Engine as EngineHarness } from '../../support/engine-harness.js';

/** What these helpers read: the test's database and the engine's account queues. */
type Engine = Pick<EngineHarness, 'ctx' | 'queues'>;

export type AccountInput = {
  provider: ProviderName;
  config: InputJsonObject;
  credentials: InputJsonObject;
  /** Messages per second across every worker. Default 1000, so the limiter never shapes a test. */
  ratePerSecond?: number;
};

export async function createAccount(ctx: TestContext, input: AccountInput): Promise<string> {
  const account = await ctx.db.prisma.providerAccount.create({
    data: {
      tenantId: ctx.tenantId,
      provider: input.provider,
      name: `${input.provider} e2e`,
      config: input.config,
      credentials: input.credentials,
      ratePerSecond: input.ratePerSecond ?? 1000,
    },
  });
  return account.id;
}

export type TemplateInput = {
  name: string;
  /** Body with {{1}}..{{n}}; its placeholder count is the template's paramCount. */
  body: string;
  externalId?: string;
  language?: string;
  paramNames?: string[];
};

export type RecipientInput = { phone: string; variables: string[] };

export type CampaignInput = { accountId: string; template: TemplateInput; recipients: readonly RecipientInput[]; maxAttempts?: number; name?: string };

/** A draft campaign with its template (reused per account, name and language) and recipients. */
export async function createCampaign(ctx: TestContext, input: CampaignInput): Promise<string> {
  const t = input.template;
  const language = t.language ?? 'es';
  const template = await ctx.db.prisma.template.upsert({
    where: { accountId_name_language: { accountId: input.accountId, name: t.name, language } },
    update: {},
    create: {
      tenantId: ctx.tenantId,
      accountId: input.accountId,
      name: t.name,
      externalId: t.externalId ?? null,
      language,
      body: t.body,
      paramCount: new Set(t.body.match(/\{\{\d+\}\}/g) ?? []).size,
      paramNames: t.paramNames ?? [],
    },
  });
  const campaign = await ctx.db.prisma.campaign.create({
    data: {
      tenantId: ctx.tenantId,
      accountId: input.accountId,
      templateId: template.id,
      name: input.name ?? 'e2e campaign',
      maxAttempts: input.maxAttempts ?? 3,
    },
  });
  await ctx.db.pool.query(
    `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables)
     SELECT $1, $2, p, p, n + 1, v::jsonb FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS t(p, v, n)`,
    [ctx.tenantId, campaign.id, input.recipients.map((r) => r.phone), input.recipients.map((r) => JSON.stringify(r.variables))],
  );
  return campaign.id;
}

export async function startCampaign(ctx: TestContext, campaignId: string): Promise<void> {
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
}

export type RecipientState = {
  status: string;
  attempts: number;
  errorCode: string | null;
  providerErrorCode: string | null;
  providerMessageId: string | null;
};

/** Every recipient of a campaign, by phone. */
export async function recipientsByPhone(ctx: TestContext, campaignId: string): Promise<Record<string, RecipientState>> {
  const { rows } = await ctx.db.pool.query<RecipientState & { phone: string }>(
    `SELECT phone, status, attempts, error_code AS "errorCode", provider_error_code AS "providerErrorCode", provider_message_id AS "providerMessageId"
       FROM recipients WHERE campaign_id = $1 ORDER BY id`,
    [campaignId],
  );
  return Object.fromEntries(rows.map(({ phone, ...state }) => [phone, state]));
}

export async function recipientErrorText(ctx: TestContext, campaignId: string, phone: string): Promise<string | null> {
  const { rows } = await ctx.db.pool.query<{ text: string | null }>(`SELECT provider_error_text AS text FROM recipients WHERE campaign_id = $1 AND phone = $2`, [campaignId, phone]);
  return rows[0]?.text ?? null;
}

/** When a deferred recipient may be sent again (null when not deferred). */
export async function recipientNotBefore(ctx: TestContext, campaignId: string, phone: string): Promise<Date | null> {
  const { rows } = await ctx.db.pool.query<{ notBefore: Date | null }>(`SELECT not_before AS "notBefore" FROM recipients WHERE campaign_id = $1 AND phone = $2`, [campaignId, phone]);
  return rows[0]?.notBefore ?? null;
}

export async function campaignState(ctx: TestContext, campaignId: string) {
  const c = await ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } });
  return { status: c.status, statusCode: c.statusCode, statusReason: c.statusReason };
}

export async function accountState(ctx: TestContext, accountId: string) {
  const a = await ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id: accountId } });
  return { status: a.status, statusCode: a.statusCode, statusReason: a.statusReason };
}

export async function waitForCampaignStatus(ctx: TestContext, campaignId: string, status: string): Promise<void> {
  await waitFor(`campaign ${status}`, async () => (await campaignState(ctx, campaignId)).status === status, 30_000, 50);
}

/** Waits until no recipient of the campaign is mid-send or waiting for a job. */
export async function waitForSettled(ctx: TestContext, campaignId: string, open: readonly string[] = ['sending', 'queued']): Promise<void> {
  await waitFor(
    'recipients to settle',
    async () => {
      const { rows } = await ctx.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM recipients WHERE campaign_id = $1 AND status = ANY($2::recipient_status[])`, [
        campaignId,
        open,
      ]);
      return rows[0]?.n === 0;
    },
    30_000,
    50,
  );
}

/** Whether the account's queue is paused, and how many jobs it still holds by state. */
export async function accountQueue(engine: Engine, accountId: string): Promise<{ paused: boolean; held: number; active: number; failed: number }> {
  const queue = engine.queues.forAccount(accountId);
  // A paused queue keeps its jobs in `wait` (BullMQ 6 has no separate paused list).
  const counts = await queue.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'failed');
  return {
    paused: await queue.isPaused(),
    held: (counts.wait ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
    active: counts.active ?? 0,
    failed: counts.failed ?? 0,
  };
}

/** How many times each value occurs. */
export function tally(values: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}
