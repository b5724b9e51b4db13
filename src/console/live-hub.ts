/**
 * Live campaign figures for the console, computed once per campaign however many people watch
 * it: the first viewer starts a poller for that campaign, every later viewer gets the same
 * snapshots, and the last one to leave stops it. A tick reads the campaign's progress (its
 * status counts and the per-second sent counters the workers keep in Redis), the account's
 * flow state, and the funnel when it is due (src/campaigns/funnel-cache.ts: every
 * FUNNEL_EVERY_TICKS ticks at most, less often for a campaign whose funnel is costly, at once
 * when the campaign's status changes). So twenty operators on one campaign cost what one does.
 * Each API instance has its own hub; viewers spread over N instances cost N pollers, but one
 * funnel computation, shared through Redis.
 */
import type { ServerResponse } from 'node:http';
import type { RedisClient } from '../redis-client.js';
import type { CampaignFunnel } from '../campaigns/campaign-funnel.js';
import { FunnelCache } from '../campaigns/funnel-cache.js';
import { campaignProgress, sentCounterKey, type CampaignProgress } from '../campaigns/campaign-stats.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { AccountStateReader, type AccountState } from './account-state.js';

export type RatePoint = { t: number; n: number };

export type CampaignSnapshot = {
  at: string;
  campaign: { id: string; name: string; status: string; statusCode: string | null; statusReason: string | null; accountId: string };
  account: { id: string; name: string; ratePerSecond: number };
  progress: CampaignProgress;
  accountState: AccountState;
  /** Refreshed when due (it reads every recipient row: src/campaigns/funnel-cache.ts). */
  funnel: CampaignFunnel | null;
  /** When the funnel was computed (ISO); at a million recipients it may be some seconds behind `progress`. */
  funnelAt: string | null;
  /** Messages sent per second, the last HISTORY_SECONDS whole seconds. */
  rate: RatePoint[];
};

type Listener = (snapshot: CampaignSnapshot) => void;

type Watch = {
  listeners: Set<Listener>;
  timer: NodeJS.Timeout | null;
  last: CampaignSnapshot | null;
  rate: RatePoint[];
  ticks: number;
  funnel: { funnel: CampaignFunnel; computedAt: number } | null;
  stopped: boolean;
};

const HISTORY_SECONDS = 120;
const FUNNEL_EVERY_TICKS = 5;
/** A finished campaign changes only through webhooks (delivered, read): look again less often. */
const SETTLED_SLOWDOWN = 10;

export class CampaignLiveHub {
  private readonly watches = new Map<string, Watch>();
  /** Open event streams, ended when the app closes (a stream never ends by itself). */
  private readonly streams = new Set<ServerResponse>();
  private readonly states: AccountStateReader;
  /** The funnels, at a bounded cost, shared with the process's API routes and, through Redis, other instances (the bench and tests read it). */
  readonly funnels: FunnelCache;
  /** Ticks computed since start, across campaigns: the bench and tests read it. */
  ticks = 0;

  constructor(
    private readonly db: Db,
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    funnels?: FunnelCache,
  ) {
    this.states = new AccountStateReader(db, redis, prefix);
    this.funnels = funnels ?? new FunnelCache(db, redis, prefix);
  }

  /** Starts sending this campaign's snapshots to `listener`; call the returned function to stop. */
  subscribe(campaignId: string, listener: Listener): () => void {
    let watch = this.watches.get(campaignId);
    if (!watch) {
      watch = { listeners: new Set(), timer: null, last: null, rate: [], ticks: 0, funnel: null, stopped: false };
      this.watches.set(campaignId, watch);
      const started = watch;
      void this.seedRate(campaignId, started).then(() => this.tick(campaignId, started));
    } else if (watch.last) {
      listener(watch.last);
    }
    watch.listeners.add(listener);
    const current = watch;
    return () => {
      current.listeners.delete(listener);
      if (current.listeners.size === 0) this.stop(campaignId, current);
    };
  }

  /** Campaigns being watched now, and their viewer counts. */
  watching(): Map<string, number> {
    return new Map([...this.watches].map(([id, w]) => [id, w.listeners.size]));
  }

  track(stream: ServerResponse): void {
    this.streams.add(stream);
    stream.on('close', () => this.streams.delete(stream));
  }

  close(): void {
    for (const [id, watch] of this.watches) this.stop(id, watch);
    for (const stream of this.streams) stream.end();
    this.streams.clear();
  }

  private stop(campaignId: string, watch: Watch): void {
    watch.stopped = true;
    if (watch.timer) clearTimeout(watch.timer);
    if (this.watches.get(campaignId) === watch) this.watches.delete(campaignId);
  }

  private async seedRate(campaignId: string, watch: Watch): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const seconds = Array.from({ length: HISTORY_SECONDS }, (_, i) => now - HISTORY_SECONDS + i);
    const values = await this.redis.mget(...seconds.map((s) => sentCounterKey(this.prefix, campaignId, s))).catch(() => []);
    watch.rate = seconds.map((t, i) => ({ t, n: Number(values[i] ?? 0) }));
  }

  private async tick(campaignId: string, watch: Watch): Promise<void> {
    if (watch.stopped) return;
    let settled = false;
    try {
      const snapshot = await this.compute(campaignId, watch);
      if (snapshot && !watch.stopped) {
        watch.last = snapshot;
        settled = !['running', 'paused'].includes(snapshot.campaign.status);
        for (const listener of watch.listeners) listener(snapshot);
      }
    } catch (error) {
      this.logger.warn({ err: error, campaignId }, 'live campaign snapshot failed');
    }
    if (watch.stopped) return;
    watch.timer = setTimeout(() => void this.tick(campaignId, watch), this.intervalMs * (settled ? SETTLED_SLOWDOWN : 1));
  }

  private async compute(campaignId: string, watch: Watch): Promise<CampaignSnapshot | null> {
    this.ticks++;
    watch.ticks++;
    const { rows } = await this.db.pool.query<{
      id: string; name: string; status: string; status_code: string | null; status_reason: string | null; account_id: string;
      start_at: Date | null; window_start: number | null; a_name: string; a_status: string; a_status_code: string | null;
      a_status_reason: string | null; next_probe_at: Date | null; rate_per_second: number; messaging_limit: number | null;
    }>(
      `SELECT c.id, c.name, c.status::text, c.status_code, c.status_reason, c.account_id, c.start_at, c.window_start,
              a.name AS a_name, a.status::text AS a_status, a.status_code AS a_status_code, a.status_reason AS a_status_reason,
              a.next_probe_at, a.rate_per_second, a.messaging_limit
         FROM campaigns c JOIN provider_accounts a ON a.id = c.account_id WHERE c.id = $1`,
      [campaignId],
    );
    const row = rows[0];
    if (!row) return null;
    const progress = await campaignProgress(this.db, this.redis, this.prefix, campaignId);
    const statusChanged = watch.last !== null && watch.last.campaign.status !== row.status;
    watch.funnel = await this.funnels.get(campaignId, { minPeriodMs: FUNNEL_EVERY_TICKS * this.intervalMs, fresh: statusChanged });
    const account = {
      id: row.account_id, status: row.a_status, statusCode: row.a_status_code, statusReason: row.a_status_reason,
      nextProbeAt: row.next_probe_at, ratePerSecond: row.rate_per_second, messagingLimit: row.messaging_limit,
    };
    const accountState = await this.states.ofCampaign(
      {
        id: row.id, status: row.status, statusCode: row.status_code, statusReason: row.status_reason, startAt: row.start_at,
        windowStart: row.window_start, deferred: progress.counts.deferred + progress.counts.pending,
        inFlight: progress.counts.queued + progress.counts.sending,
      },
      account,
    );
    await this.updateRate(campaignId, watch);
    return {
      at: new Date().toISOString(),
      campaign: { id: row.id, name: row.name, status: row.status, statusCode: row.status_code, statusReason: row.status_reason, accountId: row.account_id },
      account: { id: row.account_id, name: row.a_name, ratePerSecond: row.rate_per_second },
      progress,
      accountState,
      funnel: watch.funnel.funnel,
      funnelAt: new Date(watch.funnel.computedAt).toISOString(),
      rate: watch.rate,
    };
  }

  /** Appends the whole seconds since the last point (one MGET), keeping HISTORY_SECONDS. */
  private async updateRate(campaignId: string, watch: Watch): Promise<void> {
    // Two seconds back: the workers write their counters in batches, so the last second is still filling.
    const lastComplete = Math.floor(Date.now() / 1000) - 2;
    const from = (watch.rate[watch.rate.length - 1]?.t ?? lastComplete - 1) + 1;
    if (from > lastComplete) return;
    const seconds: number[] = [];
    for (let s = Math.max(from, lastComplete - HISTORY_SECONDS + 1); s <= lastComplete; s++) seconds.push(s);
    const values = await this.redis.mget(...seconds.map((s) => sentCounterKey(this.prefix, campaignId, s)));
    watch.rate = [...watch.rate, ...seconds.map((t, i) => ({ t, n: Number(values[i] ?? 0) }))].slice(-HISTORY_SECONDS);
  }
}
