/**
 * The campaign funnel at a bounded cost, for the console's live snapshots and the API. `campaignFunnel` reads every recipient row of its campaign: about 0.7-0.8 s of
 * Postgres for a million recipients on the 2-core machine the benchmarks run on. Recomputed every
 * few seconds while operators watch, that is a large share of a core taken from the send itself.
 *
 * So a campaign's funnel is recomputed no sooner than COST_FACTOR times what its last computation
 * took, and no sooner than the caller's own period: whatever the campaign's size, keeping it fresh
 * costs Postgres at most 1/COST_FACTOR of one core's time. A campaign of a thousand recipients
 * (a few ms) still refreshes at the caller's period; one of a million, about every 15 s.
 *
 * Every API instance shares one computation through Redis: the entry holds the funnel, when it was
 * computed and what it took. An instance that finds it stale takes a short lock and recomputes;
 * the others go on answering with the stale entry meanwhile. Within one process, callers share
 * the entry in memory and one load at a time (SingleFlight).
 *
 * GET /v1/campaigns/:id/funnel comes here too, with no period of its own (a small campaign's
 * funnel is then at most a fraction of a second old), and answers with `computedAt`: a client
 * polling a big campaign's funnel would otherwise take Postgres from every tenant's sends.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import { LuaScript } from '../redis-script.js';
import { SingleFlight } from '../single-flight.js';
import { campaignFunnel, type CampaignFunnel } from './campaign-funnel.js';

/** A funnel is recomputed no sooner than this many times its last computation took. */
export const COST_FACTOR = 20;
/** How long a shared entry outlives its computation in Redis (a campaign nobody watches any more). */
const ENTRY_TTL_MS = 3_600_000;
/** Campaigns whose funnel one process keeps in memory, at most (the oldest are dropped first). */
const LOCAL_ENTRIES = 1_000;

export type TimedFunnel = {
  funnel: CampaignFunnel;
  /** When it was computed (ms since the epoch, the computing process's clock). */
  computedAt: number;
  /** How long computing it took, ms (wall time, waits for Postgres included). */
  costMs: number;
};

/** Deletes the lock only while it still holds this process's token. */
const UNLOCK = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

export class FunnelCache {
  private readonly local = new Map<string, TimedFunnel>();
  private readonly flights = new SingleFlight<TimedFunnel>();
  /** Funnels this process computed (tests read it). */
  computed = 0;

  constructor(
    private readonly db: Db,
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly compute: (db: Db, campaignId: string) => Promise<CampaignFunnel> = campaignFunnel,
  ) {}

  /** How long a funnel that took `costMs` stays fresh, for a caller whose own period is `minPeriodMs`. */
  static periodMs(costMs: number, minPeriodMs: number): number {
    return Math.max(minPeriodMs, COST_FACTOR * costMs);
  }

  /**
   * The campaign's funnel, no older than `periodMs` of its last computation allows. `fresh`: compute
   * it now whatever its age (the campaign's status changed: its final figures are wanted at once).
   */
  async get(campaignId: string, options: { minPeriodMs: number; fresh?: boolean }): Promise<TimedFunnel> {
    const fresh = options.fresh ?? false;
    const known = this.local.get(campaignId);
    if (!fresh && known && this.isFresh(known, options.minPeriodMs)) return known;
    return this.flights.run(`${campaignId} ${fresh ? 'fresh' : 'shared'}`, async () => {
      if (!fresh) {
        // Redis only shares the work: while it does not answer, the funnel comes from Postgres.
        const shared = parseEntry(await this.redis.get(redisKeys.campaignFunnel(this.prefix, campaignId)).catch(() => null));
        if (shared) this.remember(campaignId, shared);
        if (shared && this.isFresh(shared, options.minPeriodMs)) return shared;
        // Stale: one instance recomputes, the others answer with the stale entry until it is done.
        if (shared) {
          const token = await this.lock(campaignId, shared.costMs);
          return token ? this.recompute(campaignId, token) : shared;
        }
      }
      return this.recompute(campaignId, null);
    });
  }

  private isFresh(entry: TimedFunnel, minPeriodMs: number): boolean {
    return Date.now() - entry.computedAt < FunnelCache.periodMs(entry.costMs, minPeriodMs);
  }

  /** Computes and shares the funnel; then gives back the recompute lock, when `token` holds it. */
  private async recompute(campaignId: string, token: string | null): Promise<TimedFunnel> {
    const started = performance.now();
    try {
      const funnel = await this.compute(this.db, campaignId);
      const entry: TimedFunnel = { funnel, computedAt: Date.now(), costMs: Math.round(performance.now() - started) };
      this.computed += 1;
      await this.redis.set(redisKeys.campaignFunnel(this.prefix, campaignId), JSON.stringify(entry), 'PX', ENTRY_TTL_MS).catch(() => undefined);
      this.remember(campaignId, entry);
      return entry;
    } finally {
      if (token) await UNLOCK.run(this.redis, 1, redisKeys.campaignFunnelLock(this.prefix, campaignId), token).catch(() => undefined);
    }
  }

  /**
   * Takes the campaign's recompute lock for about as long as a computation can take (should this
   * process die holding it, another takes over when it expires); null when another instance holds it.
   */
  private async lock(campaignId: string, lastCostMs: number): Promise<string | null> {
    const token = randomUUID();
    const holdMs = Math.min(120_000, Math.max(10_000, 5 * lastCostMs));
    const taken = await this.redis.set(redisKeys.campaignFunnelLock(this.prefix, campaignId), token, 'PX', holdMs, 'NX').catch(() => 'OK' as const);
    return taken === 'OK' ? token : null;
  }

  private remember(campaignId: string, entry: TimedFunnel): void {
    const known = this.local.get(campaignId);
    if (known && known.computedAt > entry.computedAt) return;
    this.local.delete(campaignId);
    this.local.set(campaignId, entry);
    if (this.local.size > LOCAL_ENTRIES) {
      const oldest = this.local.keys().next().value;
      if (oldest !== undefined) this.local.delete(oldest);
    }
  }
}

function parseEntry(text: string | null): TimedFunnel | null {
  if (!text) return null;
  try {
    const entry = JSON.parse(text) as Partial<TimedFunnel>;
    if (typeof entry.computedAt !== 'number' || typeof entry.costMs !== 'number' || !entry.funnel) return null;
    return entry as TimedFunnel;
  } catch {
    return null;
  }
}
