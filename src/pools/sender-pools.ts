/**
 * Sender pools and business portfolios, as a tenant manages them.
 *
 * - A sender pool groups provider accounts (across providers) that one campaign sends through;
 *   each member has a weight (0 takes it out of the split without removing it) and optionally its
 *   own template for the pool's campaigns (see ./pool-templates.ts). A sticky pool keeps each
 *   phone on the account that last sent it a campaign while that account is active.
 * - A business portfolio groups accounts that share Meta's messaging limit: one rolling 24 h
 *   budget of unique recipients across its accounts (src/flow/daily-budget.ts, keyed by the
 *   portfolio), which replaces each member account's own limit.
 *
 * Every read and write is scoped by tenant; another tenant's ids answer "not found".
 */
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';

export type MemberInput = { weight?: number | undefined; templateId?: string | null | undefined; templateName?: string | null | undefined; templateLanguage?: string | null | undefined };

const POOL_INCLUDE = {
  members: {
    include: { account: { select: { id: true, name: true, provider: true, status: true, statusCode: true, ratePerSecond: true } } },
    orderBy: { accountId: 'asc' as const },
  },
};

export type PoolWithMembers = NonNullable<Awaited<ReturnType<typeof findPool>>>;

function findPool(db: Db, tenantId: string, poolId: string) {
  return db.prisma.senderPool.findFirst({ where: { id: poolId, tenantId }, include: POOL_INCLUDE });
}

export async function getPool(db: Db, tenantId: string, poolId: string): Promise<PoolWithMembers> {
  const pool = await findPool(db, tenantId, poolId);
  if (!pool) throw errors.poolNotFound(poolId);
  return pool;
}

export function listPools(db: Db, tenantId: string): Promise<PoolWithMembers[]> {
  return db.prisma.senderPool.findMany({ where: { tenantId }, include: POOL_INCLUDE, orderBy: { createdAt: 'asc' } });
}

export async function createPool(db: Db, tenantId: string, input: { name: string; sticky: boolean; members: (MemberInput & { accountId: string })[] }): Promise<PoolWithMembers> {
  for (const member of input.members) await checkMember(db, tenantId, member.accountId, member);
  const taken = await db.prisma.senderPool.findFirst({ where: { tenantId, name: input.name }, select: { id: true } });
  if (taken) throw errors.poolNameTaken(input.name);
  const pool = await db.prisma.senderPool.create({
    data: {
      tenantId,
      name: input.name,
      sticky: input.sticky,
      members: { create: input.members.map((m) => ({ accountId: m.accountId, ...memberData(m) })) },
    },
  });
  return getPool(db, tenantId, pool.id);
}

export async function updatePool(db: Db, tenantId: string, poolId: string, input: { name?: string | undefined; sticky?: boolean | undefined }): Promise<PoolWithMembers> {
  await getPool(db, tenantId, poolId);
  if (input.name !== undefined) {
    const taken = await db.prisma.senderPool.findFirst({ where: { tenantId, name: input.name, NOT: { id: poolId } }, select: { id: true } });
    if (taken) throw errors.poolNameTaken(input.name);
  }
  await db.prisma.senderPool.update({
    where: { id: poolId },
    data: { ...(input.name === undefined ? {} : { name: input.name }), ...(input.sticky === undefined ? {} : { sticky: input.sticky }) },
  });
  return getPool(db, tenantId, poolId);
}

export async function deletePool(db: Db, tenantId: string, poolId: string): Promise<void> {
  await getPool(db, tenantId, poolId);
  if ((await db.prisma.campaign.count({ where: { poolId } })) > 0) throw errors.poolInUse(poolId);
  await db.prisma.senderPool.delete({ where: { id: poolId } });
}

/** Adds the account to the pool, or changes its weight and template mapping. */
export async function putMember(db: Db, tenantId: string, poolId: string, accountId: string, input: MemberInput): Promise<PoolWithMembers> {
  await getPool(db, tenantId, poolId);
  await checkMember(db, tenantId, accountId, input);
  await db.prisma.senderPoolMember.upsert({
    where: { poolId_accountId: { poolId, accountId } },
    create: { poolId, accountId, ...memberData(input) },
    update: memberData(input),
  });
  return getPool(db, tenantId, poolId);
}

export async function removeMember(db: Db, tenantId: string, poolId: string, accountId: string): Promise<PoolWithMembers> {
  await getPool(db, tenantId, poolId);
  const { count } = await db.prisma.senderPoolMember.deleteMany({ where: { poolId, accountId } });
  if (count === 0) throw errors.accountNotFound(accountId);
  return getPool(db, tenantId, poolId);
}

async function checkMember(db: Db, tenantId: string, accountId: string, input: MemberInput): Promise<void> {
  const account = await db.prisma.providerAccount.findFirst({ where: { id: accountId, tenantId }, select: { id: true } });
  if (!account) throw errors.accountNotFound(accountId);
  if (input.templateId) {
    const template = await db.prisma.template.findFirst({ where: { id: input.templateId, tenantId } });
    if (!template) throw errors.templateNotFound(input.templateId);
    if (template.accountId !== accountId) throw errors.templateAccountMismatch(template.name);
  }
}

function memberData(input: MemberInput) {
  return {
    ...(input.weight === undefined ? {} : { weight: input.weight }),
    ...(input.templateId === undefined ? {} : { templateId: input.templateId }),
    ...(input.templateName === undefined ? {} : { templateName: input.templateName }),
    ...(input.templateLanguage === undefined ? {} : { templateLanguage: input.templateLanguage }),
  };
}

export function publicPool(pool: PoolWithMembers) {
  return {
    id: pool.id,
    name: pool.name,
    sticky: pool.sticky,
    createdAt: pool.createdAt,
    members: pool.members.map((m) => ({
      accountId: m.accountId,
      name: m.account.name,
      provider: m.account.provider,
      status: m.account.status,
      statusCode: m.account.statusCode,
      ratePerSecond: m.account.ratePerSecond,
      weight: m.weight,
      templateId: m.templateId,
      templateName: m.templateName,
      templateLanguage: m.templateLanguage,
    })),
  };
}

// ---- Business portfolios ----

const PORTFOLIO_INCLUDE = { accounts: { select: { id: true, name: true, provider: true }, orderBy: { name: 'asc' as const } } };

export type PortfolioWithAccounts = NonNullable<Awaited<ReturnType<typeof findPortfolio>>>;

function findPortfolio(db: Db, tenantId: string, portfolioId: string) {
  return db.prisma.businessPortfolio.findFirst({ where: { id: portfolioId, tenantId }, include: PORTFOLIO_INCLUDE });
}

export async function getPortfolio(db: Db, tenantId: string, portfolioId: string): Promise<PortfolioWithAccounts> {
  const portfolio = await findPortfolio(db, tenantId, portfolioId);
  if (!portfolio) throw errors.portfolioNotFound(portfolioId);
  return portfolio;
}

export function listPortfolios(db: Db, tenantId: string): Promise<PortfolioWithAccounts[]> {
  return db.prisma.businessPortfolio.findMany({ where: { tenantId }, include: PORTFOLIO_INCLUDE, orderBy: { createdAt: 'asc' } });
}

export async function savePortfolio(
  db: Db,
  tenantId: string,
  portfolioId: string | null,
  input: { name?: string | undefined; messagingLimit?: number | null | undefined },
): Promise<PortfolioWithAccounts> {
  if (portfolioId) await getPortfolio(db, tenantId, portfolioId);
  if (input.name !== undefined) {
    const taken = await db.prisma.businessPortfolio.findFirst({ where: { tenantId, name: input.name, ...(portfolioId ? { NOT: { id: portfolioId } } : {}) }, select: { id: true } });
    if (taken) throw errors.portfolioNameTaken(input.name);
  }
  const data = { ...(input.messagingLimit === undefined ? {} : { messagingLimit: input.messagingLimit }) };
  const saved = portfolioId
    ? await db.prisma.businessPortfolio.update({ where: { id: portfolioId }, data: { ...data, ...(input.name === undefined ? {} : { name: input.name }) } })
    : await db.prisma.businessPortfolio.create({ data: { tenantId, name: input.name ?? '', ...data } });
  return getPortfolio(db, tenantId, saved.id);
}

export async function deletePortfolio(db: Db, tenantId: string, portfolioId: string): Promise<void> {
  await getPortfolio(db, tenantId, portfolioId);
  await db.prisma.businessPortfolio.delete({ where: { id: portfolioId } });
}

/** Puts the account in the portfolio (null: takes it out); an account is in at most one. */
export async function setAccountPortfolio(db: Db, tenantId: string, portfolioId: string, accountId: string, member: boolean): Promise<PortfolioWithAccounts> {
  await getPortfolio(db, tenantId, portfolioId);
  const { count } = await db.prisma.providerAccount.updateMany({
    where: { id: accountId, tenantId, ...(member ? {} : { portfolioId }) },
    data: { portfolioId: member ? portfolioId : null },
  });
  if (count === 0) throw errors.accountNotFound(accountId);
  return getPortfolio(db, tenantId, portfolioId);
}

export function publicPortfolio(p: PortfolioWithAccounts) {
  return { id: p.id, name: p.name, messagingLimit: p.messagingLimit, createdAt: p.createdAt, accounts: p.accounts };
}
