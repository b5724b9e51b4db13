/** The ingest options a campaign implies: its tenant, template parameters and default country. */
import type { CountryCode } from '../phones/country.js';
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';
import type { IngestFormat, IngestOptions } from '../ingest/ingest-recipients.js';
import { adapterFor } from '../providers/registry.js';
import { countPlaceholders } from '../providers/placeholders.js';

/** Campaign states that accept more recipients; a running campaign picks new ones up as it goes. */
export const UPLOAD_STATES = ['draft', 'running', 'paused'] as const;

export async function ingestOptionsFor(
  db: Db,
  tenantId: string,
  campaignId: string,
  extra: { format: IngestFormat; contentType: string; filename?: string; phoneColumn?: string; variables?: readonly (string | number)[]; batchRows?: number },
): Promise<IngestOptions> {
  const campaign = await db.prisma.campaign.findFirst({
    where: { id: campaignId, tenantId },
    include: { template: true, account: true, pool: { include: { members: { include: { account: { select: { provider: true } } } } } } },
  });
  if (!campaign) throw errors.campaignNotFound(campaignId);
  if (!(UPLOAD_STATES as readonly string[]).includes(campaign.status)) {
    throw errors.campaignState(campaignId, campaign.status, 'upload recipients', UPLOAD_STATES);
  }
  // Any account of a pool may send a recipient, so its phone must pass every account's rules.
  const providers = new Set([campaign.account.provider, ...(campaign.pool?.members.map((m) => m.account.provider) ?? [])]);
  const rules = [...providers].flatMap((provider) => adapterFor(provider)?.phoneRule ?? []);
  const phoneRule = rules.length === 0 ? undefined : (e164: string) => rules.reduce<ReturnType<(typeof rules)[number]>>((found, rule) => found ?? rule(e164), null);
  return {
    ...(phoneRule ? { phoneRule } : {}),
    tenantId,
    campaignId,
    ...(extra.batchRows ? { batchRows: extra.batchRows } : {}),
    format: extra.format,
    contentType: extra.contentType,
    ...(extra.filename ? { filename: extra.filename } : {}),
    defaultCountry: campaign.defaultCountry as CountryCode,
    // A text campaign's variables fill its text's {{n}}, as a template's fill its body.
    paramCount: campaign.template?.paramCount ?? countPlaceholders(campaign.text ?? '').count,
    paramNames: campaign.template?.paramNames ?? [],
    ...(extra.phoneColumn ? { phoneColumn: extra.phoneColumn } : {}),
    ...(extra.variables ? { variables: extra.variables } : {}),
  };
}
