/**
 * Creating a campaign, optionally with its recipients and an immediate start, in one call.
 *
 * Idempotency: with an Idempotency-Key, a retried call returns the campaign the first call
 * created (same key, same body) instead of a second campaign; the same key with another body
 * is refused. If the first call died after creating the campaign but before its recipients
 * were stored (uploads are atomic), the retry finishes the job.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { CountryCode } from '../phones/country.js';
import pg from 'pg';
import type { Campaign, Db } from '../db/database.js';
import { errors } from '../errors.js';
import { ingestRecipients, type IngestSummary } from '../ingest/ingest-recipients.js';
import { requireBalanceForStart, type BalanceWarning } from '../accounts/balance-check.js';
import { applyCampaignAction } from './campaign-actions.js';
import { mediaProblem, parseHeaderType, type CampaignOptions } from './campaign-options.js';
import { ingestOptionsFor } from './ingest-options.js';
import { countPlaceholders } from '../providers/placeholders.js';
import { adapterFor } from '../providers/registry.js';

export type CreateCampaignInput = {
  name: string;
  /** The one account that sends it; or `poolId`. */
  accountId?: string | undefined;
  /** The sender pool whose accounts share the sending (src/pools/); or `accountId`. */
  poolId?: string | undefined;
  /** The approved template; absent for a `text` campaign. */
  templateId?: string | undefined;
  /** `text`: free text (Adereso's proactive conversation) instead of a template. */
  kind?: 'template' | 'text';
  /** The text of a `text` campaign, with {{n}} placeholders filled from each recipient's variables. */
  text?: string | undefined;
  defaultCountry: string;
  priority: number;
  maxAttempts: number;
  /** Nothing is sent before this time, even once started. */
  startAt?: Date | null;
  /** Recipients not sent by this time expire (failed, MESSAGE_EXPIRED). */
  expiresAt?: Date | null;
  /** Sending window in each recipient's local time, minutes after midnight. */
  windowStart?: number | null;
  windowEnd?: number | null;
  /** Failure ratio of recent sends past which the campaign pauses itself; null: never. Default 0.5. */
  errorBudget?: number | null;
  /** Header media, button parameters, provider options (src/campaigns/campaign-options.ts). */
  options?: CampaignOptions;
  recipients?: readonly unknown[];
  phoneColumn?: string;
  variables?: readonly (string | number)[];
  start: boolean;
};

/** `warnings`: a start whose account's balance could not be read starts anyway, and says so (src/accounts/balance-check.ts). */
export type CreateCampaignResult = { campaign: Campaign; upload: IngestSummary | null; replayed: boolean; warnings: BalanceWarning[] };

export function requestHash(input: CreateCampaignInput): string {
  return createHash('sha256').update(JSON.stringify(input)).digest('hex');
}

export async function createCampaign(db: Db, tenantId: string, input: CreateCampaignInput, idempotencyKey?: string): Promise<CreateCampaignResult> {
  if (!idempotencyKey) return createUnlocked(db, tenantId, input);
  // Calls with one key run in turn (a session advisory lock, held through ingest and start), so
  // a retry racing the original waits for it and then answers as its replay.
  // The lock lives on its own connection, outside the pool the work itself needs: holding a
  // pooled connection while waiting for others could exhaust the pool under concurrent calls.
  const lockName = `campaign-idempotency:${tenantId}:${idempotencyKey}`;
  const client = new pg.Client({ connectionString: db.connectionString });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lockName]);
    return await createUnlocked(db, tenantId, input, idempotencyKey);
  } finally {
    // Closing the session releases the lock even if the unlock is never reached.
    await client.end().catch(() => undefined);
  }
}

async function createUnlocked(db: Db, tenantId: string, input: CreateCampaignInput, idempotencyKey?: string): Promise<CreateCampaignResult> {
  const hash = requestHash(input);
  if (idempotencyKey) {
    const existing = await db.prisma.campaign.findUnique({ where: { tenantId_idempotencyKey: { tenantId, idempotencyKey } } });
    if (existing) return replay(db, tenantId, existing, input, hash, idempotencyKey);
  }

  const options = input.options ?? {};
  // The template is looked up first: another tenant's ids answer TEMPLATE_NOT_FOUND, as before.
  const template = input.templateId ? await db.prisma.template.findFirst({ where: { id: input.templateId, tenantId } }) : null;
  if (input.templateId && !template) throw errors.templateNotFound(input.templateId);
  const sender = await campaignSender(db, tenantId, input, template?.accountId ?? null);
  if (template && template.accountId !== sender.accountId) throw errors.templateAccountMismatch(template.name);
  const account = await db.prisma.providerAccount.findFirst({ where: { id: sender.accountId, tenantId } });
  if (!account) throw errors.accountNotFound(sender.accountId);
  let templateId: string | null = null;
  if ((input.kind ?? 'template') === 'text') {
    if (!input.text) throw errors.validation(['text: a text campaign needs its text']);
    if (input.templateId) throw errors.validation(['templateId: a text campaign sends its own text, not a template']);
    const { problem } = countPlaceholders(input.text);
    if (problem) throw errors.validation([`text: ${problem}`]);
    for (const provider of sender.providers) if (!adapterFor(provider)?.text) throw errors.textCampaignUnsupported(provider);
  } else {
    if (!template) throw errors.validation(['templateId: required for a template campaign']);
    if (input.start && template.status !== 'approved') throw errors.templateNotApproved(template.name, template.status);
    const media = mediaProblem(parseHeaderType(template.headerType), options);
    if (media) throw errors.templateMediaRequired(template.name, media);
    templateId = template.id;
  }

  let campaign: Campaign;
  try {
    campaign = await db.prisma.campaign.create({
      data: {
        tenantId,
        accountId: sender.accountId,
        poolId: sender.poolId,
        templateId,
        kind: input.kind ?? 'template',
        text: input.kind === 'text' ? (input.text ?? null) : null,
        name: input.name,
        defaultCountry: input.defaultCountry.toUpperCase(),
        priority: input.priority,
        maxAttempts: input.maxAttempts,
        startAt: input.startAt ?? null,
        expiresAt: input.expiresAt ?? null,
        windowStart: input.windowStart ?? null,
        windowEnd: input.windowEnd ?? null,
        options,
        ...(input.errorBudget === undefined ? {} : { errorBudget: input.errorBudget }),
        idempotencyKey: idempotencyKey ?? null,
        requestHash: idempotencyKey ? hash : null,
      },
    });
  } catch (error) {
    // A concurrent call with the same key won the race: answer as its replay.
    if (idempotencyKey && (error as { code?: string }).code === 'P2002') {
      const existing = await db.prisma.campaign.findUniqueOrThrow({ where: { tenantId_idempotencyKey: { tenantId, idempotencyKey } } });
      return replay(db, tenantId, existing, input, hash, idempotencyKey);
    }
    throw error;
  }
  try {
    return await finish(db, tenantId, campaign, input, false);
  } catch (error) {
    // A list the template cannot take, or an empty start: leave no half-made campaign behind,
    // so the corrected retry (same Idempotency-Key, new body) is not refused.
    await db.prisma.campaign.delete({ where: { id: campaign.id } }).catch(() => undefined);
    throw error;
  }
}

/**
 * Who sends the campaign: one account, or a pool. A pool campaign's `accountId` is the pool
 * account the template belongs to (or, with none, its first account by name); each other member
 * sends its own copy of the template (src/pools/pool-templates.ts).
 */
async function campaignSender(
  db: Db,
  tenantId: string,
  input: CreateCampaignInput,
  templateAccountId: string | null,
): Promise<{ accountId: string; poolId: string | null; providers: string[] }> {
  if ((input.accountId === undefined) === (input.poolId === undefined)) throw errors.campaignSender();
  if (input.accountId !== undefined) {
    const account = await db.prisma.providerAccount.findFirst({ where: { id: input.accountId, tenantId }, select: { provider: true } });
    if (!account) throw errors.accountNotFound(input.accountId);
    return { accountId: input.accountId, poolId: null, providers: [account.provider] };
  }
  const poolId = input.poolId as string;
  const pool = await db.prisma.senderPool.findFirst({
    where: { id: poolId, tenantId },
    include: { members: { include: { account: { select: { name: true, provider: true } } } } },
  });
  if (!pool) throw errors.poolNotFound(poolId);
  if (pool.members.length === 0) throw errors.poolEmpty(poolId);
  const members = [...pool.members].sort((a, b) => a.account.name.localeCompare(b.account.name) || a.accountId.localeCompare(b.accountId));
  const primary = members.find((m) => m.accountId === templateAccountId) ?? members[0];
  if (!primary) throw errors.poolEmpty(poolId);
  return { accountId: primary.accountId, poolId, providers: [...new Set(members.map((m) => m.account.provider))] };
}

async function replay(db: Db, tenantId: string, existing: Campaign, input: CreateCampaignInput, hash: string, key: string): Promise<CreateCampaignResult> {
  if (existing.requestHash !== hash) throw errors.idempotencyConflict(key);
  // The first call may have died part-way (uploads are atomic): finish what it left undone.
  if (existing.status === 'draft') {
    const stored = await db.prisma.upload.findFirst({ where: { campaignId: existing.id, status: 'completed' } });
    const recipients = input.recipients && !stored ? input.recipients : undefined;
    if (recipients || input.start) return finish(db, tenantId, existing, { ...input, recipients }, true);
  }
  return { campaign: existing, upload: null, replayed: true, warnings: [] };
}

async function finish(db: Db, tenantId: string, campaign: Campaign, input: CreateCampaignInput, replayed: boolean): Promise<CreateCampaignResult> {
  let upload: IngestSummary | null = null;
  if (input.recipients) {
    const options = await ingestOptionsFor(db, tenantId, campaign.id, {
      format: 'json',
      contentType: 'application/json',
      phoneColumn: input.phoneColumn,
      variables: input.variables,
    });
    upload = await ingestRecipients(db, Readable.from([Buffer.from(JSON.stringify(input.recipients))]), options);
  }
  let warnings: BalanceWarning[] = [];
  if (input.start) {
    warnings = await requireBalanceForStart(db, tenantId, campaign.id);
    await applyCampaignAction(db, tenantId, campaign.id, 'start');
  }
  const fresh = await db.prisma.campaign.findUniqueOrThrow({ where: { id: campaign.id } });
  return { campaign: fresh, upload, replayed, warnings };
}

export type { CountryCode };
