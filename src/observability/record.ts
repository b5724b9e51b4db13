/**
 * The one-line calls the engine's hot paths make to count what they do. Recording is in memory
 * (prom-client); ClusterFlusher moves it to Redis in batches, so a send costs no extra round trip.
 */
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import { ingestRejectionsTotal, ingestRowsTotal, providerRequestSeconds, sendsTotal } from './cluster-counters.js';

/** A send's normalized result (src/sending/send-pipeline.ts). */
export function countSend(accountId: string, provider: string, result: { kind: string; code: string }): void {
  sendsTotal.inc({ account: accountId, provider, outcome: result.kind, code: result.code });
}

/** How long the provider took to answer, from `startedMs` (performance.now()) to now. */
export function observeProviderLatency(provider: string, accountId: string, startedMs: number): void {
  providerRequestSeconds.observe({ provider, account: accountId }, (performance.now() - startedMs) / 1000);
}

/** An upload's rows (src/ingest/ingest-recipients.ts), once committed. */
export function countIngest(summary: { accepted: number; rejected: number; duplicates: number; rejectedByReason: Record<string, number> }): void {
  ingestRowsTotal.inc({ result: 'accepted' }, summary.accepted);
  ingestRowsTotal.inc({ result: 'rejected' }, summary.rejected);
  ingestRowsTotal.inc({ result: 'duplicate' }, summary.duplicates);
  for (const [reason, n] of Object.entries(summary.rejectedByReason)) ingestRejectionsTotal.inc({ reason }, n);
}

export function feederRoundKey(prefix: string): string {
  return redisKeys.feederLastRound(prefix);
}

/** The leader's feeder finished a round (src/queue/feeder.ts); the scrape turns it into feeder lag. */
export async function recordFeederRound(redis: RedisClient, prefix: string): Promise<void> {
  await redis.set(feederRoundKey(prefix), String(Date.now()), 'EX', 86_400);
}
