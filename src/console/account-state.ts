/**
 * What is holding a campaign's sending back right now, in one word the console can turn into a
 * sentence: read from the flow modules' own state (src/flow/*) and the account and campaign
 * rows, never recomputed from recipients. First match wins, in the order an operator would look:
 * campaign paused, account stopped, circuit open, scheduled, messaging limit, quiet hours,
 * slowed after 429s, sending.
 */
import { ENGINE_CODES } from '../engine-codes.js';
import type { RedisClient } from '../redis-client.js';
import type { Db } from '../db/database.js';
import { AdaptiveRate } from '../flow/adaptive-rate.js';
import { CircuitBreaker } from '../flow/circuit-breaker.js';
import { DailyBudget } from '../flow/daily-budget.js';

export type AccountState =
  | { kind: 'sending'; rate: number; configuredRate: number }
  | { kind: 'slowed'; rate: number; configuredRate: number }
  | { kind: 'circuit_open'; until: string }
  | { kind: 'messaging_limit'; until: string | null; used: number; limit: number }
  | { kind: 'quiet_hours'; until: string | null }
  | { kind: 'scheduled'; until: string }
  | { kind: 'paused'; code: string | null; reason: string | null }
  | { kind: 'account_limited'; code: string | null; reason: string | null; until: string | null }
  | { kind: 'account_paused'; code: string | null; reason: string | null }
  | { kind: 'idle'; campaignStatus: string };

export type AccountRow = {
  id: string;
  status: string;
  statusCode: string | null;
  statusReason: string | null;
  nextProbeAt: Date | null;
  ratePerSecond: number;
  messagingLimit: number | null;
};

export type CampaignFacts = {
  id: string;
  status: string;
  statusCode: string | null;
  statusReason: string | null;
  startAt: Date | null;
  windowStart: number | null;
  /** Recipients deferred (quiet hours or messaging limit) and in flight, from the campaign's counts. */
  deferred: number;
  inFlight: number;
};

export class AccountStateReader {
  private readonly adaptive: AdaptiveRate;
  private readonly breaker: CircuitBreaker;
  private readonly budget: DailyBudget;

  constructor(
    private readonly db: Db,
    redis: RedisClient,
    prefix: string,
  ) {
    this.adaptive = new AdaptiveRate(redis, prefix, { cacheMs: 0 });
    this.breaker = new CircuitBreaker(redis, prefix, { cacheMs: 0 });
    this.budget = new DailyBudget(redis, prefix);
  }

  /** The account alone (accounts page): stopped, circuit, limit, slowed or sending. */
  async ofAccount(account: AccountRow): Promise<AccountState> {
    if (account.status === 'paused') return { kind: 'account_paused', code: account.statusCode, reason: account.statusReason };
    if (account.status === 'limited') {
      return { kind: 'account_limited', code: account.statusCode, reason: account.statusReason, until: account.nextProbeAt?.toISOString() ?? null };
    }
    const breaker = await this.breaker.state(account.id);
    if (breaker.state !== 'closed' && breaker.retryAt) return { kind: 'circuit_open', until: new Date(breaker.retryAt).toISOString() };
    if (account.messagingLimit) {
      const usage = await this.budget.usage(account.id, account.messagingLimit);
      if (usage.remaining === 0) return { kind: 'messaging_limit', until: usage.nextFreeAt?.toISOString() ?? null, used: usage.used, limit: account.messagingLimit };
    }
    const rate = await this.adaptive.rateFor(account.id, account.ratePerSecond);
    const rounded = Math.round(rate * 10) / 10;
    if (rate < account.ratePerSecond * 0.999) return { kind: 'slowed', rate: rounded, configuredRate: account.ratePerSecond };
    return { kind: 'sending', rate: rounded, configuredRate: account.ratePerSecond };
  }

  /** The campaign on its account (campaign page). */
  async ofCampaign(campaign: CampaignFacts, account: AccountRow): Promise<AccountState> {
    if (campaign.status === 'paused') return { kind: 'paused', code: campaign.statusCode, reason: campaign.statusReason };
    if (campaign.status !== 'running') return { kind: 'idle', campaignStatus: campaign.status };
    const state = await this.ofAccount(account);
    if (state.kind !== 'sending' && state.kind !== 'slowed') return state;
    if (campaign.startAt && campaign.startAt.getTime() > Date.now()) return { kind: 'scheduled', until: campaign.startAt.toISOString() };
    if (campaign.deferred > 0 && campaign.inFlight === 0) {
      // Waiting recipients and nothing moving: say why and until when, from one deferred row
      // (an index probe, not a scan: most of a campaign's deferrals share their reason and time).
      const { rows } = await this.db.pool.query<{ at: Date | null; code: string | null }>(
        `SELECT not_before AS at, error_code AS code FROM recipients WHERE campaign_id = $1 AND status = 'deferred' LIMIT 1`,
        [campaign.id],
      );
      const first = rows[0];
      if (first?.code === ENGINE_CODES.DAILY_LIMIT_REACHED && account.messagingLimit) {
        return { kind: 'messaging_limit', until: first.at?.toISOString() ?? null, used: account.messagingLimit, limit: account.messagingLimit };
      }
      if (first?.code === ENGINE_CODES.QUIET_HOURS || campaign.windowStart !== null) return { kind: 'quiet_hours', until: first?.at?.toISOString() ?? null };
    }
    return state;
  }
}
