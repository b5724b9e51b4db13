/**
 * Template sync: read every template the provider lists for an account, then, in one
 * transaction, create the new ones, update the changed ones and disable the ones the provider
 * no longer lists. Two syncs of one account run in turn (a transaction-scoped advisory lock),
 * so they cannot both create the same template.
 */
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { fetchProviderTemplates } from './fetch-provider-templates.js';
import { planTemplateSync, type StoredTemplate } from './plan-template-sync.js';
import { loadProviderAccount } from './provider-account.js';

export type SyncResult = {
  accountId: string;
  provider: string;
  created: number;
  updated: number;
  /** Listed and stored alike: nothing to write. */
  unchanged: number;
  disabled: number;
  /** Listed entries that could not be stored, each with why. */
  skipped: { name: string; problem: string }[];
};

export type SyncOptions = {
  /** Per provider request, in ms (each listing page is one request). */
  timeoutMs: number;
  /** Where the outcome is logged (a request's or a job's child logger). */
  log?: Pick<Logger, 'info' | 'warn'>;
};

const STORED_COLUMNS = {
  id: true,
  externalId: true,
  name: true,
  language: true,
  category: true,
  body: true,
  paramCount: true,
  paramNames: true,
  status: true,
  headerType: true,
  buttons: true,
} as const;

export async function syncTemplates(db: Db, tenantId: string, accountId: string, options: SyncOptions): Promise<SyncResult> {
  const account = await loadProviderAccount(db, tenantId, accountId);
  const listing = await fetchProviderTemplates(account, options.timeoutMs);

  const result = await db.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtextextended(${`template-sync:${accountId}`}, 0))`;
    const stored: StoredTemplate[] = await tx.template.findMany({ where: { accountId }, select: STORED_COLUMNS });
    const plan = planTemplateSync(stored, listing.templates, listing.skipped);
    if (plan.creates.length > 0) {
      await tx.template.createMany({ data: plan.creates.map((fields) => ({ ...fields, tenantId, accountId })) });
    }
    for (const { id, fields } of plan.updates) await tx.template.update({ where: { id }, data: fields });
    if (plan.disables.length > 0) {
      await tx.template.updateMany({ where: { id: { in: plan.disables }, accountId }, data: { status: 'disabled' } });
    }
    return {
      accountId,
      provider: account.provider,
      created: plan.creates.length,
      updated: plan.updates.length,
      unchanged: plan.unchanged,
      disabled: plan.disables.length,
      skipped: plan.skipped,
    };
    // Prisma's defaults (2 s to get a connection, 5 s in all) fail a large listing on a busy
    // database with a 500; a sync is rare and holds only its own account's advisory lock.
  }, { maxWait: 10_000, timeout: 60_000 });
  options.log?.info(
    { accountId, provider: account.provider, created: result.created, updated: result.updated, disabled: result.disabled, skipped: result.skipped.length },
    'templates synced',
  );
  return result;
}
