/** Rows most tests need: a sandbox account, a template, a campaign, and recipients. */
import { expect } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import type { TestContext } from './test-context.js';

export type CampaignFixture = { accountId: string; templateId: string; campaignId: string };

export async function createSandboxCampaign(
  ctx: TestContext,
  options: {
    sandboxUrl: string;
    token?: string;
    ratePerSecond?: number;
    paramCount?: number;
    maxAttempts?: number;
    priority?: number;
    name?: string;
    accountId?: string;
    /** Meta's pair rate; off by default here, so tests that resend to a phone are not slowed by it. */
    pairGapSeconds?: number;
    errorBudget?: number | null;
  },
): Promise<CampaignFixture> {
  const accountId =
    options.accountId ??
    (
      await ctx.db.prisma.providerAccount.create({
        data: {
          tenantId: ctx.tenantId,
          provider: 'sandbox',
          name: 'sandbox',
          config: { baseUrl: options.sandboxUrl },
          credentials: { token: options.token ?? 'sandbox-token' },
          ratePerSecond: options.ratePerSecond ?? 1000,
          pairGapSeconds: options.pairGapSeconds ?? 0,
        },
      })
    ).id;
  const paramCount = options.paramCount ?? 1;
  const template = await ctx.db.prisma.template.upsert({
    where: { accountId_name_language: { accountId, name: 'greeting', language: 'es' } },
    update: {},
    create: {
      tenantId: ctx.tenantId,
      accountId,
      name: 'greeting',
      body: Array.from({ length: paramCount }, (_, i) => `{{${i + 1}}}`).join(' '),
      paramCount,
    },
  });
  const campaign = await ctx.db.prisma.campaign.create({
    data: {
      tenantId: ctx.tenantId,
      accountId,
      templateId: template.id,
      name: options.name ?? 'test campaign',
      maxAttempts: options.maxAttempts ?? 5,
      priority: options.priority ?? 0,
      ...(options.errorBudget === undefined ? {} : { errorBudget: options.errorBudget }),
    },
  });
  return { accountId, templateId: template.id, campaignId: campaign.id };
}

/** Inserts `count` pending recipients with phones +56 9 XXXXXXXX (distinct per `offset`). */
export async function insertRecipients(ctx: TestContext, campaignId: string, count: number, offset = 0): Promise<string[]> {
  const phones = Array.from({ length: count }, (_, i) => `+569${String(10_000_000 + offset + i).padStart(8, '0')}`);
  await ctx.db.pool.query(
    `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables)
     SELECT $1, $2, p, p, n + 1, jsonb_build_array('Ana')
       FROM unnest($3::text[]) WITH ORDINALITY AS t(p, n)`,
    [ctx.tenantId, campaignId, phones],
  );
  return phones;
}

export async function statusCounts(ctx: TestContext, campaignId: string): Promise<Record<string, number>> {
  const { rows } = await ctx.db.pool.query<{ status: string; n: string }>(
    'SELECT status, count(*) AS n FROM recipients WHERE campaign_id = $1 GROUP BY status',
    [campaignId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A negative window that waits on the engine, not on the clock. A small campaign started now,
 * on `accountId` or on an account of its own, is fed and sent to completion: by then the feeder
 * has made several passes over every running campaign and the account's workers have taken
 * everything queued for it, so whatever the engine would still do for another campaign, it has
 * had its chance to. Returns the sentinel's phones (they reach the sandbox too).
 */
export async function runSentinelCampaign(
  ctx: TestContext,
  options: { sandboxUrl: string; accountId?: string; count?: number; offset: number },
): Promise<string[]> {
  const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: options.sandboxUrl, accountId: options.accountId, name: 'sentinel' });
  const phones = await insertRecipients(ctx, campaignId, options.count ?? 3, options.offset);
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
  await waitFor('the sentinel campaign to complete', async () => (await ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } })).status === 'completed');
  expect(await statusCounts(ctx, campaignId)).toEqual({ sent: phones.length });
  return phones;
}

/** Waits until none of the campaign's recipients is queued or being sent (what was under way has landed). */
export async function waitForNothingUnderWay(ctx: TestContext, campaignId: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    'sends under way to land',
    async () => {
      const counts = await statusCounts(ctx, campaignId);
      return !counts.queued && !counts.sending;
    },
    timeoutMs,
  );
}

/** The statuses a recipient passes through on its way from pending to `status`, before the last move. */
const WALK: Record<string, readonly string[]> = {
  queued: [],
  sending: ['queued'],
  accepted: ['queued', 'sending'],
  sent: ['queued', 'sending'],
  unknown: ['queued', 'sending'],
  delivered: ['queued', 'sending', 'sent'],
  read: ['queued', 'sending', 'sent'],
};

/**
 * Walks pending recipients (`where` over `recipients`) along the engine's own path towards
 * `status`, stopping one move short: the database refuses jumps (src/recipients/transitions.ts),
 * so a test seeding "what workers would have written" makes the last move itself.
 */
export async function walkRecipientsTowards(ctx: Pick<TestContext, 'db'>, status: string, where: string, params: unknown[]): Promise<void> {
  let previous = 'pending';
  for (const step of WALK[status] ?? []) {
    await ctx.db.pool.query(`UPDATE recipients SET status = '${step}'::recipient_status WHERE (${where}) AND status = '${previous}'::recipient_status`, params);
    previous = step;
  }
}
