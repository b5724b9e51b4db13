/**
 * A campaign's pause or cancel, as the sends already claimed for it see it just before the wire.
 *
 * Postgres is the truth: a claim (queued -> sending) requires the campaign to run, so once a pause
 * commits nothing more is claimed. But sends claimed a moment earlier wait for their rate slot,
 * and at a high rate that is hundreds of them. Without a stop they would still go out, one per
 * slot, after the operator's pause returned; after a template error, each would fail the same way.
 *
 * So a pause or cancel also writes a stop mark, once its transaction has committed, on every
 * account that may hold a claimed send of the campaign (its account, its pool's members, and
 * the accounts of its recipients mid-send). The departure gate reads the mark in the same step as
 * the account's state (src/queue/account-rate-limiter.ts), and a send it finds there puts itself
 * back unsent (src/sending/apply-outcome.ts). Only the sends the gate had already let through go
 * out: at most the account's rate, in the second before the mark.
 *
 * The mark is only ever an early hold, never a reason to drop anything:
 * - Lost (Redis restarted, a write failed): the claim still refuses the paused campaign; only the
 *   claimed sends go out, as without marks.
 * - Stale (a resume whose clear failed, or a pause's late write landing after a resume): a held
 *   send asks Postgres; if the campaign runs, it deletes the mark, and only that mark (each is a
 *   fresh token, so a newer pause's mark stays), then retries.
 * - Each mark expires after STOP_TTL_MS, far longer than a claimed send waits for its slot.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import { LuaScript } from '../redis-script.js';
import type { Queryable } from '../recipients/transitions.js';
import { SingleFlight } from '../single-flight.js';

/** How long a stop mark lives (ms): a claimed send waits for its slot seconds at most; a day is plenty. */
export const STOP_TTL_MS = 24 * 3_600_000;
/** How long a process trusts a mark it found still valid before asking Postgres again (ms). */
const CHECKED_MS = 1_000;

const DELETE_IF_SAME = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

export class CampaignStops {
  private readonly checks = new SingleFlight<void>();
  private readonly checked = new Map<string, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly db: Queryable,
    private readonly logger: Logger,
  ) {}

  /** After a pause or cancel commits: marks the campaign stopped on every account that may hold one of its claimed sends. */
  async mark(campaignId: string): Promise<void> {
    await this.onEachAccount(campaignId, 'mark', (key) => this.redis.set(key, randomUUID(), 'PX', STOP_TTL_MS));
  }

  /** After a paused campaign runs again (resume, resend of the unknown): its marks go. */
  async clear(campaignId: string): Promise<void> {
    await this.onEachAccount(campaignId, 'clear', (key) => this.redis.del(key));
  }

  /**
   * A send was held by `token` on `accountId`: if the campaign runs after all (the mark is stale),
   * deletes that mark. One check per mark per second in a process, however many sends it held.
   */
  async healIfStale(campaignId: string, accountId: string, token: string): Promise<void> {
    const id = `${accountId}:${campaignId}:${token}`;
    if ((this.checked.get(id) ?? 0) > Date.now()) return;
    await this.checks.run(id, async () => {
      const { rows } = await this.db.query<{ status: string }>(`SELECT status::text FROM campaigns WHERE id = $1`, [campaignId]);
      if (rows[0]?.status === 'running') {
        await DELETE_IF_SAME.run(this.redis, 1, redisKeys.campaignStop(this.prefix, accountId, campaignId), token);
        this.logger.info({ campaignId, accountId }, 'stale campaign stop mark removed; the campaign runs');
        return;
      }
      for (const [key, until] of this.checked) if (until <= Date.now()) this.checked.delete(key);
      this.checked.set(id, Date.now() + CHECKED_MS);
    });
  }

  /**
   * Best effort: a failure is logged, not raised. The campaign's status has committed; without the
   * mark, claimed sends go out (mark) or are held once and heal it (clear).
   */
  private async onEachAccount(campaignId: string, what: 'mark' | 'clear', apply: (key: string) => Promise<unknown>): Promise<void> {
    try {
      const accounts = await this.accountsOf(campaignId);
      await Promise.all(accounts.map((accountId) => apply(redisKeys.campaignStop(this.prefix, accountId, campaignId))));
    } catch (error) {
      this.logger.warn({ campaignId, err: error instanceof Error ? error.message : String(error) }, `campaign stop ${what} failed; the claim still holds the campaign's status`);
    }
  }

  /** Every account that may hold a claimed send of the campaign. */
  private async accountsOf(campaignId: string): Promise<string[]> {
    const { rows } = await this.db.query<{ account_id: string }>(
      `SELECT account_id FROM campaigns WHERE id = $1
       UNION SELECT m.account_id FROM sender_pool_members m JOIN campaigns c ON c.pool_id = m.pool_id WHERE c.id = $1
       UNION SELECT DISTINCT account_id FROM recipients WHERE campaign_id = $1 AND status = 'sending' AND account_id IS NOT NULL`,
      [campaignId],
    );
    return rows.map((r) => r.account_id);
  }
}
