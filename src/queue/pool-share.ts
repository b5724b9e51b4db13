/**
 * How a pool campaign's recipients are split between its accounts. The feeder hands each account
 * work in proportion to what it can send now: every account takes up to 2 seconds of its
 * current rate (after AIMD slow-downs, times its weight relative to the pool's heaviest member),
 * nothing while its circuit breaker is open, and no more than what is left of its messaging limit.
 * Since each account's queue empties at that account's own rate, the split follows the accounts'
 * real throughput, and every per-account guarantee (exact rate, pair gap, budget, quiet hours)
 * stays the account's own.
 *
 * Failover lives here too: each round, the waiting recipients that pool campaigns handed to a
 * stopped account go back to the pool (src/recipients/account-limit.ts, releasePoolWork).
 * The quality guard acts the same way on marketing: an account with low quality (RED, flagged) or
 * a restriction gets no room in MARKETING pool campaigns and its waiting recipients there go back
 * to the pool, until a later notice lifts it (src/accounts/account-quality.ts).
 */
import type pg from 'pg';
import type { RedisClient } from '../redis-client.js';
import { AdaptiveRate } from '../flow/adaptive-rate.js';
import { CircuitBreaker } from '../flow/circuit-breaker.js';
import { marketingBarredSql, releasePoolWork } from '../recipients/index.js';
import type { Logger } from '../logger.js';

/**
 * Seconds of its rate a pool account holds at most (below QUEUE_WINDOW_SECONDS when that is
 * larger): at the end of a list, an account with a deep queue finishes alone while the others
 * idle, so a pool keeps its accounts' queues shallow. Two seconds still cover provider latency
 * and a feeder round many times over.
 */
const POOL_WINDOW_SECONDS = 2;

export type PoolSeat = { campaignId: string; accountId: string; ratePerSecond: number; weight: number; maxWeight: number };

export class PoolShare {
  private readonly adaptiveRate: AdaptiveRate;
  private readonly breaker: CircuitBreaker;

  constructor(
    private readonly pool: pg.Pool,
    redis: RedisClient,
    prefix: string,
    private readonly windowSeconds: number,
  ) {
    this.adaptiveRate = new AdaptiveRate(redis, prefix);
    this.breaker = new CircuitBreaker(redis, prefix);
  }

  /**
   * How many more of the campaign's recipients the account may take now: its share of the window
   * minus what it holds already (queued or sending). 0 while its breaker is open, and 0 in a
   * marketing campaign while the quality guard bars the account from marketing.
   */
  async room(seat: PoolSeat): Promise<number> {
    if ((await this.breaker.state(seat.accountId)).state !== 'closed') return 0;
    const rate = await this.adaptiveRate.rateFor(seat.accountId, seat.ratePerSecond);
    const share = Math.max(1, Math.ceil(rate * Math.min(this.windowSeconds, POOL_WINDOW_SECONDS) * (seat.weight / Math.max(1, seat.maxWeight))));
    const { rows } = await this.pool.query<{ n: string; barred: boolean }>(
      `SELECT (SELECT count(*) FROM recipients WHERE campaign_id = $1 AND status IN ('queued', 'sending') AND account_id = $2) AS n,
              EXISTS (SELECT 1 FROM campaigns c JOIN templates t ON t.id = c.template_id, provider_accounts a
                       WHERE c.id = $1 AND t.category = 'MARKETING' AND a.id = $2 AND ${marketingBarredSql('a')}) AS barred`,
      [seat.campaignId, seat.accountId],
    );
    if (rows[0]?.barred) return 0;
    return Math.max(0, share - Number(rows[0]?.n ?? 0));
  }

  /**
   * Failover: pool work waiting on accounts that are stopped goes back to the pool, and so does
   * marketing pool work waiting on accounts the quality guard bars from marketing.
   */
  async releaseStopped(logger: Logger): Promise<number> {
    const { rows } = await this.pool.query<{ account_id: string; stopped: boolean }>(
      `SELECT m.account_id, bool_or(a.status <> 'active') AS stopped FROM sender_pool_members m
         JOIN campaigns c ON c.pool_id = m.pool_id AND c.status IN ('running', 'paused')
         JOIN templates t ON t.id = c.template_id
         JOIN provider_accounts a ON a.id = m.account_id
        WHERE a.status <> 'active' OR (t.category = 'MARKETING' AND ${marketingBarredSql('a')})
        GROUP BY m.account_id`,
    );
    let moved = 0;
    for (const { account_id: accountId, stopped } of rows) {
      const n = await releasePoolWork(this.pool, accountId, { marketingOnly: !stopped });
      if (n > 0) logger.info({ accountId, moved: n, stopped }, stopped ? "stopped account's pool recipients handed back to the pool" : "marketing pool recipients of an account barred by the quality guard handed back to the pool");
      moved += n;
    }
    return moved;
  }
}
