/**
 * GET /v1/campaigns/:id read in one Postgres statement (src/campaigns/campaign-view.ts): the
 * answer is the one the former read (seven queries through Prisma and pg) gave, kept below as the
 * reference, for a single-account campaign, a pool campaign, an account with a messaging limit,
 * and uploads; tenants stay apart; concurrent reads share one load, and nothing is kept after it.
 */
import { describe, expect, it, vi } from 'vitest';
import { publicCampaign } from '../../src/api/routes/campaigns.js';
import { accountShares, campaignProgress, type AccountShare, type CampaignProgress } from '../../src/campaigns/campaign-stats.js';
import type { Db } from '../../src/db/database.js';
import { DailyBudget, spreadEta } from '../../src/flow/daily-budget.js';
import type { RecipientStatus } from '../../src/generated/prisma/enums.js';
import type { RedisClient } from '../../src/redis-client.js';
import { redisKeys } from '../../src/redis-keys.js';
import { accountStatusCounts, statusCounts } from '../../src/recipients/status-counts.js';
import { SingleFlight } from '../../src/single-flight.js';
import { walkRecipientsTowards } from '../support/fixtures.js';
import { apiForFile, expectError, expectStatus } from './api-harness.js';

const h = apiForFile();

// ---------------------------------------------------------------------------------------------
// The former read, as it was before campaign-view.ts: the reference the new one must equal.

const ALL: RecipientStatus[] = ['pending', 'deferred', 'queued', 'sending', 'accepted', 'sent', 'delivered', 'read', 'failed', 'unknown', 'cancelled'];

async function formerProgress(db: Db, redis: RedisClient, prefix: string, campaignId: string): Promise<CampaignProgress> {
  const counts = { ...(Object.fromEntries(ALL.map((s) => [s, 0])) as Record<RecipientStatus, number>), ...(await statusCounts(db.pool, campaignId)) };
  const total = ALL.reduce((sum, s) => sum + counts[s], 0);
  const open = counts.pending + counts.deferred + counts.queued + counts.sending;
  const now = Math.floor(Date.now() / 1000);
  const keys = Array.from({ length: 10 }, (_, i) => redisKeys.sentCounter(prefix, campaignId, now - 1 - i));
  const values = await redis.mget(...keys);
  const sent = values.reduce((sum, v) => sum + Number(v ?? 0), 0);
  const ratePerSecond = Math.round((sent / 10) * 10) / 10;
  const progress: CampaignProgress = { counts, total, done: total - open, ratePerSecond, etaSeconds: open === 0 ? 0 : ratePerSecond > 0 ? Math.ceil(open / ratePerSecond) : null };
  const account = await db.pool.query<{ account_id: string; messaging_limit: number | null; rate_per_second: number }>(
    `SELECT c.account_id, a.messaging_limit, a.rate_per_second FROM campaigns c JOIN provider_accounts a ON a.id = c.account_id WHERE c.id = $1`,
    [campaignId],
  );
  const limits = account.rows[0];
  if (limits?.messaging_limit) {
    const waiting = counts.pending + counts.deferred;
    const usage = await new DailyBudget(redis, prefix).usage(limits.account_id, limits.messaging_limit);
    const rate = ratePerSecond > 0 ? ratePerSecond : limits.rate_per_second;
    const spread = spreadEta(waiting, usage.remaining, limits.messaging_limit, usage.nextFreeAt, new Date(), rate);
    progress.dailyLimit = { limit: limits.messaging_limit, used: usage.used, remaining: usage.remaining, nextFreeAt: usage.nextFreeAt, extraDays: spread.days };
    if (open > 0) progress.etaSeconds = spread.etaSeconds + Math.ceil((counts.queued + counts.sending) / rate);
  }
  return progress;
}

async function formerShares(db: Db, campaignId: string): Promise<AccountShare[]> {
  const [{ rows }, perAccount] = await Promise.all([
    db.pool.query<{ id: string; name: string; provider: string; status: string; status_code: string | null; rate_per_second: number }>(
      `SELECT a.id, a.name, a.provider::text, a.status::text, a.status_code, a.rate_per_second FROM campaigns c JOIN provider_accounts a ON a.id = c.account_id WHERE c.id = $1
       UNION
       SELECT a.id, a.name, a.provider::text, a.status::text, a.status_code, a.rate_per_second
         FROM campaigns c JOIN sender_pool_members m ON m.pool_id = c.pool_id JOIN provider_accounts a ON a.id = m.account_id WHERE c.id = $1
       ORDER BY name, id`,
      [campaignId],
    ),
    accountStatusCounts(db.pool, campaignId),
  ]);
  const countsOf = new Map<string, Partial<Record<RecipientStatus, number>>>();
  for (const c of perAccount) countsOf.set(c.accountId, { ...countsOf.get(c.accountId), [c.status]: c.n });
  const assigned = rows.map((r) => Object.values(countsOf.get(r.id) ?? {}).reduce((a, b) => a + b, 0));
  const all = assigned.reduce((a, b) => a + b, 0);
  return rows.map((r, i) => ({
    accountId: r.id,
    name: r.name,
    provider: r.provider,
    status: r.status,
    statusCode: r.status_code,
    ratePerSecond: r.rate_per_second,
    counts: countsOf.get(r.id) ?? {},
    assigned: assigned[i] ?? 0,
    share: all > 0 ? Math.round(((assigned[i] ?? 0) / all) * 1000) / 1000 : 0,
  }));
}

/** The former route's body, serialized as Fastify does (JSON.stringify: Dates as toISOString). */
async function formerDetail(tenantId: string, id: string): Promise<unknown> {
  const { db, config } = h.ctx;
  const campaign = await db.prisma.campaign.findFirst({ where: { id, tenantId } });
  if (!campaign) return null;
  const [progress, account, uploads, accounts] = await Promise.all([
    formerProgress(db, h.redis, config.queuePrefix, id),
    db.prisma.providerAccount.findUniqueOrThrow({ where: { id: campaign.accountId } }),
    db.prisma.upload.findMany({ where: { campaignId: id }, orderBy: { createdAt: 'asc' } }),
    formerShares(db, id),
  ]);
  return JSON.parse(
    JSON.stringify({
      ...publicCampaign(campaign),
      progress,
      account: { id: account.id, name: account.name, status: account.status, statusCode: account.statusCode, statusReason: account.statusReason },
      accounts,
      uploads: uploads.map((u) => ({ id: u.id, status: u.status, filename: u.filename, totalRows: u.totalRows, accepted: u.accepted, rejected: u.rejected, duplicates: u.duplicates, createdAt: u.createdAt })),
    }),
  ) as unknown;
}

// ---------------------------------------------------------------------------------------------
// Rows: accounts, a pool, campaigns, recipients moved along the engine's path, uploads.

async function account(name: string, extra: { id?: string; messagingLimit?: number; status?: 'active' | 'paused' | 'limited'; statusCode?: string; statusReason?: string } = {}): Promise<string> {
  const row = await h.ctx.db.prisma.providerAccount.create({
    data: { tenantId: h.tenant.tenantId, provider: 'sandbox', name, config: { baseUrl: 'http://127.0.0.1:9' }, credentials: { token: 't' }, ratePerSecond: 40, ...extra },
  });
  return row.id;
}

async function campaign(accountId: string, extra: { poolId?: string } = {}): Promise<string> {
  const template = await h.ctx.db.prisma.template.upsert({
    where: { accountId_name_language: { accountId, name: 'greeting', language: 'es' } },
    update: {},
    create: { tenantId: h.tenant.tenantId, accountId, name: 'greeting', body: '{{1}}', paramCount: 1 },
  });
  const row = await h.ctx.db.prisma.campaign.create({
    data: {
      tenantId: h.tenant.tenantId,
      accountId,
      templateId: template.id,
      name: 'detail',
      status: 'running',
      startedAt: new Date('2026-12-05T10:11:12.345Z'),
      expiresAt: new Date('2026-12-31T23:59:59.999Z'),
      windowStart: 9 * 60,
      windowEnd: 20 * 60,
      errorBudget: 0.25,
      options: { noManualReopen: true },
      ...extra,
    },
  });
  return row.id;
}

let phoneOffset = 0;
async function recipients(campaignId: string, count: number): Promise<void> {
  const phones = Array.from({ length: count }, () => `+569${String(20_000_000 + phoneOffset++).padStart(8, '0')}`);
  await h.ctx.db.pool.query(
    `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables)
     SELECT $1, $2, p, p, n + 1, jsonb_build_array('Ana') FROM unnest($3::text[]) WITH ORDINALITY AS t(p, n)`,
    [h.tenant.tenantId, campaignId, phones],
  );
}

/** Moves `count` pending recipients to `status` through the engine's path, handed to `accountId`. */
async function move(campaignId: string, accountId: string, status: 'sent' | 'failed' | 'queued', count: number): Promise<void> {
  const ids = await h.ctx.db.pool.query<{ id: string }>(`SELECT id::text FROM recipients WHERE campaign_id = $1 AND status = 'pending' ORDER BY id LIMIT $2`, [campaignId, count]);
  const where = 'id = ANY($1::bigint[])';
  const params = [ids.rows.map((r) => r.id)];
  await h.ctx.db.pool.query(`UPDATE recipients SET account_id = $2 WHERE ${where}`, [...params, accountId]);
  const towards = status === 'queued' ? 'queued' : 'sent';
  await walkRecipientsTowards(h.ctx, towards, where, params);
  const from = status === 'queued' ? 'pending' : 'sending';
  await h.ctx.db.pool.query(`UPDATE recipients SET status = '${status}'::recipient_status WHERE ${where} AND status = '${from}'::recipient_status`, params);
}

async function upload(campaignId: string, filename: string, createdAt: string, counts: { totalRows: number; accepted: number; rejected: number; duplicates: number }): Promise<void> {
  await h.ctx.db.prisma.upload.create({
    data: { tenantId: h.tenant.tenantId, campaignId, filename, contentType: 'text/csv', status: 'completed', createdAt: new Date(createdAt), ...counts },
  });
}

/** Sent counters over a minute around now, so the 10 s window holds `perSecond` each second whichever second a read falls in. */
async function sentCounters(campaignId: string, perSecond: number): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const pipeline = h.redis.pipeline();
  for (let s = now - 60; s <= now + 60; s++) pipeline.set(redisKeys.sentCounter(h.ctx.config.queuePrefix, campaignId, s), String(perSecond), 'EX', 600);
  await pipeline.exec();
}

async function detail(id: string, api = h.api): Promise<unknown> {
  return expectStatus(await api.get(`/v1/campaigns/${id}`), 200);
}

/**
 * The statements that read a campaign's view, counted on the pool every query goes through; each
 * is held `holdMs` first, so that reads sent together are all under way before the first ends.
 */
function countViewReads(holdMs = 0): { readonly count: number; restore(): void } {
  const pool = h.ctx.db.pool;
  const original = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  let count = 0;
  const spy = vi.spyOn(pool, 'query').mockImplementation(((...args: unknown[]) => {
    const [query] = args;
    const text = typeof query === 'string' ? query : (query as { text?: string } | undefined)?.text;
    if (!text?.startsWith('WITH campaign AS')) return original(...args);
    count++;
    return new Promise((resolve) => setTimeout(resolve, holdMs)).then(() => original(...args));
  }) as typeof pool.query);
  return {
    get count() {
      return count;
    },
    restore: () => spy.mockRestore(),
  };
}

describe('GET /v1/campaigns/:id in one statement', () => {
  it('answers what the former read answered: one account, pending, sent and failed recipients, a rate, uploads', async () => {
    const accountId = await account('Tienda CL', { status: 'paused', statusCode: 'ACCOUNT_PAUSED', statusReason: 'paused by an operator' });
    const id = await campaign(accountId);
    await recipients(id, 40);
    await move(id, accountId, 'sent', 12);
    await move(id, accountId, 'failed', 5);
    await move(id, accountId, 'queued', 3);
    await upload(id, 'second.csv', '2026-12-05T10:00:01.007Z', { totalRows: 12, accepted: 10, rejected: 1, duplicates: 1 });
    await upload(id, 'first.csv', '2026-12-05T09:59:59.5Z', { totalRows: 30, accepted: 30, rejected: 0, duplicates: 0 });
    await sentCounters(id, 7);

    const answer = await detail(id);
    expect(answer).toEqual(await formerDetail(h.tenant.tenantId, id));
    expect(answer).toMatchObject({
      status: 'running',
      startedAt: '2026-12-05T10:11:12.345Z',
      sendWindow: { start: '09:00', end: '20:00' },
      progress: { counts: { pending: 20, queued: 3, sent: 12, failed: 5 }, total: 40, done: 17, ratePerSecond: 7, etaSeconds: 4 },
      account: { id: accountId, name: 'Tienda CL', status: 'paused', statusCode: 'ACCOUNT_PAUSED', statusReason: 'paused by an operator' },
      accounts: [{ accountId, assigned: 20, share: 1, counts: { queued: 3, sent: 12, failed: 5 } }],
      uploads: [
        { filename: 'first.csv', createdAt: '2026-12-05T09:59:59.500Z', totalRows: 30 },
        { filename: 'second.csv', createdAt: '2026-12-05T10:00:01.007Z', totalRows: 12 },
      ],
    });
    // The key order too: the body is byte for byte the former one.
    expect(JSON.stringify(answer)).toBe(JSON.stringify(await formerDetail(h.tenant.tenantId, id)));
  });

  it('answers what the former read answered for a pool campaign with two member accounts', async () => {
    // Ids in the opposite order of the names: the shares come by name.
    const first = await account('B pool member', { id: '00000000-0000-4000-8000-000000000001' });
    const second = await account('A pool member', { id: '00000000-0000-4000-8000-000000000002', status: 'limited', statusCode: 'ACCOUNT_LIMITED' });
    const pool = await h.ctx.db.prisma.senderPool.create({
      data: { tenantId: h.tenant.tenantId, name: 'pool', members: { create: [{ accountId: first }, { accountId: second, weight: 2 }] } },
    });
    const id = await campaign(first, { poolId: pool.id });
    await recipients(id, 30);
    await move(id, first, 'sent', 6);
    await move(id, second, 'sent', 9);
    await move(id, second, 'failed', 2);

    const answer = (await detail(id)) as { accounts: AccountShare[]; progress: CampaignProgress };
    expect(answer).toEqual(await formerDetail(h.tenant.tenantId, id));
    expect(JSON.stringify(answer)).toBe(JSON.stringify(await formerDetail(h.tenant.tenantId, id)));
    expect(answer.accounts.map((a) => [a.name, a.assigned, a.share, a.status])).toEqual([
      ['A pool member', 11, 0.647, 'limited'],
      ['B pool member', 6, 0.353, 'active'],
    ]);
    expect(answer.progress.etaSeconds).toBeNull();
    // The funnel's shares and the live hub's progress come from the same read.
    expect(await accountShares(h.ctx.db, id)).toEqual(await formerShares(h.ctx.db, id));
    expect(await campaignProgress(h.ctx.db, h.redis, h.ctx.config.queuePrefix, id)).toEqual(await formerProgress(h.ctx.db, h.redis, h.ctx.config.queuePrefix, id));
  });

  it('answers what the former read answered for an account with a messaging limit (dailyLimit)', async () => {
    const accountId = await account('Limited tier', { messagingLimit: 10 });
    const id = await campaign(accountId);
    await recipients(id, 25);
    await move(id, accountId, 'sent', 3);
    await new DailyBudget(h.redis, h.ctx.config.queuePrefix).reserve(accountId, ['+56911111111', '+56911111112', '+56911111113'], 10);

    const answer = (await detail(id)) as { progress: CampaignProgress };
    expect(answer).toEqual(await formerDetail(h.tenant.tenantId, id));
    expect(answer.progress.dailyLimit).toEqual({ limit: 10, used: 3, remaining: 7, nextFreeAt: null, extraDays: 2 });
    expect(await campaignProgress(h.ctx.db, h.redis, h.ctx.config.queuePrefix, id)).toEqual(await formerProgress(h.ctx.db, h.redis, h.ctx.config.queuePrefix, id));
  });

  it("is the campaign's tenant's alone: another tenant gets 404, as for an unknown id", async () => {
    const accountId = await account('Mine');
    const id = await campaign(accountId);
    const other = await h.newTenant('tenant B');
    expectError(await other.api.get(`/v1/campaigns/${id}`), 404, 'CAMPAIGN_NOT_FOUND');
    expectError(await h.api.get('/v1/campaigns/3f1e2d4c-0000-4000-8000-00000000abcd'), 404, 'CAMPAIGN_NOT_FOUND');
    expect(await formerDetail(other.tenant.tenantId, id)).toBeNull();
    // Nor does the other tenant's read join this tenant's load of the same campaign.
    const [mine, theirs] = await Promise.all([h.api.get(`/v1/campaigns/${id}`), other.api.get(`/v1/campaigns/${id}`)]);
    expect([mine.statusCode, theirs.statusCode]).toEqual([200, 404]);
  });
});

describe('concurrent reads', () => {
  it('share one load, and a read after it settled loads afresh', async () => {
    const accountId = await account('Busy');
    const id = await campaign(accountId);
    await recipients(id, 10);
    const reads = countViewReads(300);
    try {
      const answers = await Promise.all(Array.from({ length: 8 }, () => h.api.get(`/v1/campaigns/${id}`)));
      expect(answers.map((a) => a.statusCode)).toEqual(Array.from({ length: 8 }, () => 200));
      expect(new Set(answers.map((a) => a.body)).size).toBe(1);
      expect(reads.count).toBe(1);
      const shared = reads.count;

      // Nothing kept: the next read sees a change made after the first settled.
      await move(id, accountId, 'sent', 4);
      const after = (await detail(id)) as { progress: { counts: Record<string, number> } };
      expect(reads.count).toBe(shared + 1);
      expect(after.progress.counts).toMatchObject({ pending: 6, sent: 4 });
    } finally {
      reads.restore();
    }
  });
});

describe('SingleFlight', () => {
  it('runs one load for the callers that arrive while it is under way, and forgets it when it settles', async () => {
    const flight = new SingleFlight<number>();
    let loads = 0;
    let release!: (n: number) => void;
    const load = () => {
      loads++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const waiting = [flight.run('a', load), flight.run('a', load), flight.run('a', load)];
    const otherKey = flight.run('b', () => Promise.resolve(-1));
    expect(loads).toBe(1);
    release(42);
    expect(await Promise.all(waiting)).toEqual([42, 42, 42]);
    expect(await otherKey).toBe(-1);
    expect(flight.size).toBe(0);

    const next = flight.run('a', load);
    expect(loads).toBe(2);
    release(43);
    expect(await next).toBe(43);
  });

  it('fails every caller of a failed load, and the next call loads again', async () => {
    const flight = new SingleFlight<string>();
    let fail!: (error: Error) => void;
    const failing = () => new Promise<string>((_, reject) => (fail = reject));
    const callers = [flight.run('k', failing), flight.run('k', failing)];
    fail(new Error('database gone'));
    for (const caller of callers) await expect(caller).rejects.toThrow('database gone');
    expect(flight.size).toBe(0);
    expect(await flight.run('k', () => Promise.resolve('back'))).toBe('back');
  });
});
