/**
 * The account's sending state in Redis, for the send path's last check before the wire: one
 * read (HMGET) tells a send whether its account is still sending, and under which generation.
 *
 * - State: `active`, or `limited` / `paused` with the code that stopped it. Postgres
 *   (provider_accounts.status) stays the truth for claims and the dashboard; this copy only lets
 *   a send that was claimed before a stop put itself back instead of going out.
 * - Generation: bumped on every resume (operator or probe) and on every credentials or settings
 *   change. A send remembers the generation it started under; a refusal from an older generation
 *   (the old token, a limit the operator has since cleared) does not stop the account again.
 * - Lost keys (Redis restarted): read as active, generation 0. Claims still require the account
 *   to be active in Postgres, so nothing goes out that would not have before.
 */
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import { LuaScript } from '../redis-script.js';

export type AccountSendState = {
  /** null while the account sends; otherwise why it stopped. */
  stopped: { status: 'limited' | 'paused'; code: string } | null;
  generation: number;
};

// Marks the account stopped only if no resume or credentials change happened since the send
// started (ARGV[1] = the send's generation). Returns 1 if marked, 0 if the result is stale.
const STOP_IF_CURRENT = new LuaScript(`
local current = tonumber(redis.call('HGET', KEYS[1], 'generation') or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= current then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'code', ARGV[3])
return 1`);

/** The hash fields a send's state is read from, in the order parseSendState takes their values. */
export const SEND_STATE_FIELDS = ['state', 'code', 'generation'] as const;

/** The values of SEND_STATE_FIELDS (HMGET's answer; absent fields null) as a send's state. */
export function parseSendState([state, code, generation]: readonly (string | null | undefined)[]): AccountSendState {
  const stopped = state === 'limited' || state === 'paused' ? { status: state as 'limited' | 'paused', code: code ?? '' } : null;
  return { stopped, generation: Number(generation ?? 0) };
}

export class AccountStates {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(accountId: string): string {
    return redisKeys.accountState(this.prefix, accountId);
  }

  /** One round trip. (The departure gate reads the same fields in its own script: src/queue/account-rate-limiter.ts.) */
  async read(accountId: string): Promise<AccountSendState> {
    return parseSendState(await this.redis.hmget(this.key(accountId), ...SEND_STATE_FIELDS));
  }

  /**
   * Marks the account stopped, unless `generation` is given and is no longer current (a stale
   * result). Returns whether it was marked.
   */
  async markStopped(accountId: string, status: 'limited' | 'paused', code: string, generation?: number): Promise<boolean> {
    const marked = await STOP_IF_CURRENT.run(this.redis, 1, this.key(accountId), generation === undefined ? '' : String(generation), status, code);
    return Number(marked) === 1;
  }

  /** The account sends again under a new generation (resume, probe). */
  async markActive(accountId: string): Promise<number> {
    const [, generation] = (await this.redis.multi().hset(this.key(accountId), 'state', 'active', 'code', '').hincrby(this.key(accountId), 'generation', 1).exec()) ?? [];
    return Number(generation?.[1] ?? 0);
  }

  /** Credentials or settings changed: results of sends made with the old ones are stale. */
  async bumpGeneration(accountId: string): Promise<number> {
    return this.redis.hincrby(this.key(accountId), 'generation', 1);
  }
}
