/** Rows an ingest needs (account, template, draft campaign) and small input helpers. */
import { randomUUID } from 'node:crypto';
import type { IngestOptions } from '../../src/ingest/ingest-recipients.js';
import type { TestContext } from '../support/test-context.js';

export type CampaignFixture = { campaignId: string; options: IngestOptions };

export async function createCampaign(
  ctx: TestContext,
  template: { paramCount: number; paramNames?: string[] } = { paramCount: 2 },
): Promise<CampaignFixture> {
  const account = await ctx.db.prisma.providerAccount.create({
    data: { tenantId: ctx.tenantId, provider: 'sandbox', name: `account ${randomUUID().slice(0, 8)}` },
  });
  const created = await ctx.db.prisma.template.create({
    data: {
      tenantId: ctx.tenantId,
      accountId: account.id,
      name: `template_${randomUUID().slice(0, 8)}`,
      body: Array.from({ length: template.paramCount }, (_, i) => `{{${i + 1}}}`).join(' '),
      paramCount: template.paramCount,
      paramNames: template.paramNames ?? [],
    },
  });
  const campaign = await ctx.db.prisma.campaign.create({
    data: { tenantId: ctx.tenantId, accountId: account.id, templateId: created.id, name: 'ingest test', defaultCountry: 'CL' },
  });
  return {
    campaignId: campaign.id,
    options: {
      tenantId: ctx.tenantId,
      campaignId: campaign.id,
      format: 'csv',
      defaultCountry: 'CL',
      paramCount: template.paramCount,
      ...(template.paramNames ? { paramNames: template.paramNames } : {}),
    },
  };
}

/** `content` as a stream of `size`-byte chunks, the way an HTTP body arrives. */
export async function* chunks(content: string | Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export async function storedRecipients(ctx: TestContext, campaignId: string) {
  const { rows } = await ctx.db.pool.query<{ phone: string; raw_phone: string; line: number; variables: string[]; status: string; upload_id: string }>(
    'SELECT phone, raw_phone, line, variables, status, upload_id FROM recipients WHERE campaign_id = $1 ORDER BY line, id',
    [campaignId],
  );
  return rows;
}

export async function storedRejections(ctx: TestContext, uploadId: string) {
  const { rows } = await ctx.db.pool.query<{ line: number; reason: string; message: string; raw: string }>(
    'SELECT line, reason, message, raw FROM rejected_rows WHERE upload_id = $1 ORDER BY line, id',
    [uploadId],
  );
  return rows;
}
