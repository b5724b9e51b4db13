/**
 * What an operator sees of a campaign: counts per status, the current rate and an ETA, and the
 * part each sending account has. Counts come from Postgres, which keeps them per campaign, account
 * and status as recipients change (src/recipients/status-counts.ts): exact, and read without
 * counting the recipients, so this stays fast on a campaign of millions while it sends. The rate
 * comes from per-second counters in Redis that the workers bump as results are written.
 *
 * Every read goes through campaign-view.ts (one Postgres statement, one MGET beside it); this
 * module folds that view into progress and shares, the one way both are computed.
 */
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import type { Campaign, Db } from '../db/database.js';
import { DailyBudget, spreadEta } from '../flow/daily-budget.js';
import type { AccountStatus, RecipientStatus } from '../generated/prisma/enums.js';
import { RATE_WINDOW_S, readCampaignView, sentInRateWindow, type CampaignView, type ViewUpload } from './campaign-view.js';

export function sentCounterKey(prefix: string, campaignId: string, second: number): string {
  return redisKeys.sentCounter(prefix, campaignId, second);
}

export type CampaignProgress = {
  counts: Record<RecipientStatus, number>;
  total: number;
  /** Recipients with nothing more to send (sent, failed, unknown, cancelled...). */
  done: number;
  /** Messages per second over the last 10 seconds. */
  ratePerSecond: number;
  /** Seconds until the remaining work is sent at the current rate; null when not moving. */
  etaSeconds: number | null;
  /**
   * Present when the account has a messaging limit (unique recipients per rolling 24 h): what is
   * left of it, and how many more 24 h windows the campaign needs (0: it fits in today's budget).
   * The ETA then includes those waits.
   */
  dailyLimit?: { limit: number; used: number; remaining: number; nextFreeAt: Date | null; extraDays: number };
};

const ALL: RecipientStatus[] = ['pending', 'deferred', 'queued', 'sending', 'accepted', 'sent', 'delivered', 'read', 'failed', 'unknown', 'cancelled'];

/** The progress of the campaign (zero counts when there is no such campaign). */
export async function campaignProgress(db: Db, redis: RedisClient, prefix: string, campaignId: string): Promise<CampaignProgress> {
  const [view, sent] = await Promise.all([readCampaignView(db, campaignId), sentInRateWindow(redis, prefix, campaignId)]);
  return progressOf(view, sent, redis, prefix);
}

/**
 * The campaign by sending account: every account that sends it (the pool's members, or the one
 * account) with its recipients per status. Recipients not handed out yet belong to none.
 */
export async function accountShares(db: Db, campaignId: string): Promise<AccountShare[]> {
  const view = await readCampaignView(db, campaignId);
  return view ? sharesOf(view) : [];
}

/** What GET /v1/campaigns/:id shows of a campaign beside its own fields. */
export type CampaignDetail = {
  campaign: Campaign;
  progress: CampaignProgress;
  account: { id: string; name: string; status: AccountStatus; statusCode: string | null; statusReason: string | null };
  accounts: AccountShare[];
  uploads: ViewUpload[];
};

/**
 * The campaign with its progress, account, shares and uploads: one Postgres statement and one
 * MGET in parallel, then one Redis call more when the account has a messaging limit. Null when
 * there is no such campaign for this tenant.
 */
export async function loadCampaignDetail(db: Db, redis: RedisClient, prefix: string, tenantId: string, campaignId: string): Promise<CampaignDetail | null> {
  const [view, sent] = await Promise.all([readCampaignView(db, campaignId, tenantId), sentInRateWindow(redis, prefix, campaignId)]);
  if (!view) return null;
  const account = view.accounts.find((a) => a.id === view.campaign.accountId);
  // The campaign's account_id references provider_accounts (on delete restrict): it is always there.
  if (!account) throw new Error(`campaign ${campaignId}: its account ${view.campaign.accountId} is missing`);
  return {
    campaign: view.campaign,
    progress: await progressOf(view, sent, redis, prefix),
    account: { id: account.id, name: account.name, status: account.status, statusCode: account.statusCode, statusReason: account.statusReason },
    accounts: sharesOf(view),
    uploads: view.uploads,
  };
}

/** Progress from the view and the messages sent in the rate window; the daily budget is read only for an account with a messaging limit. */
async function progressOf(view: CampaignView | null, sentInWindow: number, redis: RedisClient, prefix: string): Promise<CampaignProgress> {
  const counts = { ...(Object.fromEntries(ALL.map((s) => [s, 0])) as Record<RecipientStatus, number>), ...view?.counts };
  const total = ALL.reduce((sum, s) => sum + counts[s], 0);
  const open = counts.pending + counts.deferred + counts.queued + counts.sending;
  const ratePerSecond = Math.round((sentInWindow / RATE_WINDOW_S) * 10) / 10;
  const progress: CampaignProgress = {
    counts,
    total,
    done: total - open,
    ratePerSecond,
    etaSeconds: open === 0 ? 0 : ratePerSecond > 0 ? Math.ceil(open / ratePerSecond) : null,
  };
  const limits = view?.accounts.find((a) => a.id === view.campaign.accountId);
  if (limits?.messagingLimit) {
    // Sends already queued or under way hold their budget; only what is still waiting needs more.
    const waiting = counts.pending + counts.deferred;
    const usage = await new DailyBudget(redis, prefix).usage(limits.id, limits.messagingLimit);
    const rate = ratePerSecond > 0 ? ratePerSecond : limits.ratePerSecond;
    const spread = spreadEta(waiting, usage.remaining, limits.messagingLimit, usage.nextFreeAt, new Date(), rate);
    progress.dailyLimit = { limit: limits.messagingLimit, used: usage.used, remaining: usage.remaining, nextFreeAt: usage.nextFreeAt, extraDays: spread.days };
    if (open > 0) progress.etaSeconds = spread.etaSeconds + Math.ceil((counts.queued + counts.sending) / rate);
  }
  return progress;
}

/** One account's part of a campaign: its state, and its recipients by status (a pool campaign has one per member). */
export type AccountShare = {
  accountId: string;
  name: string;
  provider: string;
  /** The account's state now: active, limited or paused, with the code that stopped it. */
  status: string;
  statusCode: string | null;
  ratePerSecond: number;
  counts: Partial<Record<RecipientStatus, number>>;
  /** Recipients handed to this account so far. */
  assigned: number;
  /** Its part of every recipient handed out so far, 0-1. */
  share: number;
};

function sharesOf(view: CampaignView): AccountShare[] {
  const countsOf = new Map<string, Partial<Record<RecipientStatus, number>>>();
  for (const c of view.accountCounts) countsOf.set(c.accountId, { ...countsOf.get(c.accountId), [c.status]: c.n });
  const assigned = view.accounts.map((a) => Object.values(countsOf.get(a.id) ?? {}).reduce((x, y) => x + y, 0));
  const all = assigned.reduce((a, b) => a + b, 0);
  return view.accounts.map((a, i) => ({
    accountId: a.id,
    name: a.name,
    provider: a.provider,
    status: a.status,
    statusCode: a.statusCode,
    ratePerSecond: a.ratePerSecond,
    counts: countsOf.get(a.id) ?? {},
    assigned: assigned[i] ?? 0,
    share: all > 0 ? Math.round(((assigned[i] ?? 0) / all) * 1000) / 1000 : 0,
  }));
}
