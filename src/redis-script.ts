/**
 * The one way the engine runs its Lua scripts: by SHA1 (EVALSHA), sending the source only when
 * the server does not hold it yet (NOSCRIPT: a new or restarted Redis, a failover, a cluster node
 * that never ran it). EVAL with the source on every call, as before, cost the client the write of
 * the whole text and Redis a SHA1 of it, several times per message.
 *
 * In a pipeline or MULTI a NOSCRIPT cannot be retried alone, so those pass `source` to `eval`.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-client.js';

type Arg = string | number | Buffer;

export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script on `keys` (all in one cluster slot) with `args`; as `EVAL source numKeys ...keysAndArgs`. */
  async run(redis: RedisClient, numKeys: number, ...keysAndArgs: Arg[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, numKeys, ...keysAndArgs);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, numKeys, ...keysAndArgs);
    }
  }
}
