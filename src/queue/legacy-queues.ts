/**
 * Upgrading an installation whose queue names changed: before Redis Cluster support each
 * account's queue was `send-<accountId>`; now its name carries the account's hash tag
 * (`send-{a.<accountId>}`, src/redis-keys.ts). Nothing serves the old queues any more, so the
 * leader drops their keys once when it starts.
 *
 * Nothing is lost: Postgres is the truth, and a dropped job's recipient is still `queued` there.
 * The accounts' epoch keys are new too, so the sweeper's first pass finds them missing and
 * re-adds every `queued` recipient's job to the new queues at once. Nothing is doubled: a send
 * needs the recipient's claim in Postgres (`queued` -> `sending`), which only one job can win,
 * even while a not yet upgraded worker still serves an old queue.
 */
import type { Logger } from '../logger.js';
import { masters, type RedisClient } from '../redis-client.js';

const SCAN_COUNT = 1_000;

/** Drops every key of the old, untagged send queues under `prefix`; returns how many. */
export async function dropLegacyQueues(redis: RedisClient, prefix: string, logger: Logger): Promise<number> {
  // `send-` followed by anything but `{`: the old names; the new ones all start `send-{`.
  const pattern = `${escapeGlob(prefix)}:send-[^{]*`;
  let dropped = 0;
  for (const node of masters(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      cursor = next;
      if (keys.length === 0) continue;
      // One key per command: on a cluster node, keys of different slots cannot share a command.
      const pipeline = node.pipeline();
      for (const key of keys) pipeline.unlink(key);
      for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
      dropped += keys.length;
    } while (cursor !== '0');
  }
  if (dropped > 0) logger.info({ keys: dropped }, 'dropped send queues under their old names; their recipients are re-added from Postgres');
  return dropped;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
