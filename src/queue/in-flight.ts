/**
 * How many sends one worker process keeps in flight for an account, so the user never computes
 * it. Little's law: to send `rate` a second when each send holds its slot for `latency` seconds,
 * `rate x latency` sends must be under way at once. The latency is what this process observes:
 * each job's time minus what it spent waiting for its rate slot (the wait is the limiter doing
 * its job, not work), over the account's recent sends, at the 95th percentile, times a headroom
 * for the spread the percentile does not cover. A memory-safe ceiling (WORKER_CONCURRENCY) bounds
 * it: each send in flight is a claimed recipient, a BullMQ job, a socket and its buffers.
 *
 * Several processes each size for the whole rate: the account's rate limiter, shared across them,
 * holds the rate, and whichever process is free takes the next slot.
 */

/** Multiplies rate x p95 latency: covers sends slower than the 95th percentile and the engine's own jitter. */
export const IN_FLIGHT_HEADROOM = 1.5;
/**
 * Latency assumed before an account has enough sends observed in this process (ms). Low on
 * purpose: a send is claimed before it waits for its rate slot, so a process that starts wide
 * holds many recipients `sending` at once, and a crash then leaves all of them `unknown`. (A
 * template error's pause no longer reaches them late: the campaign's stop mark holds them back
 * before the wire, src/campaigns/campaign-stops.ts.) The size grows as soon as real answers are
 * slower (below MIN_SAMPLES the slowest one seen counts).
 */
export const INITIAL_LATENCY_MS = 50;
/** A raise of an account's concurrency sets it this far above the size wanted, so the next ones are rarely needed. */
export const RAISE_MARGIN = 1.25;
/** Fewest sends in flight per account, whatever its rate. */
const MIN_IN_FLIGHT = 2;
/** Recent sends per account the percentile is taken over. */
const SAMPLES = 512;
/** Below this many samples, the slowest seen (or the initial assumption, if larger) stands in for the p95. */
const MIN_SAMPLES = 20;

export type InFlightSize = { size: number; p95LatencyMs: number; samples: number };

export class InFlightSizer {
  private readonly recent = new Map<string, { ring: Float64Array; count: number; next: number }>();

  constructor(private readonly ceiling: number) {}

  /**
   * One send's busy time for the account (ms): its job's time less its wait for the rate slot.
   * True when this observation is the one that makes the estimate real (MIN_SAMPLES reached): the
   * caller re-sizes at once rather than on its next round.
   */
  observe(accountId: string, busyMs: number): boolean {
    let r = this.recent.get(accountId);
    if (!r) {
      r = { ring: new Float64Array(SAMPLES), count: 0, next: 0 };
      this.recent.set(accountId, r);
    }
    r.ring[r.next] = Math.max(0, busyMs);
    r.next = (r.next + 1) % SAMPLES;
    const before = r.count;
    r.count = Math.min(SAMPLES, r.count + 1);
    return before < MIN_SAMPLES && r.count >= MIN_SAMPLES;
  }

  /** The account's recent p95 busy time, ms (the initial assumption until enough sends were seen). */
  p95(accountId: string): number {
    const r = this.recent.get(accountId);
    if (!r || r.count === 0) return INITIAL_LATENCY_MS;
    const sorted = Array.from(r.ring.subarray(0, r.count)).sort((a, b) => a - b);
    if (r.count < MIN_SAMPLES) return Math.max(INITIAL_LATENCY_MS, sorted[sorted.length - 1] ?? 0);
    return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] ?? INITIAL_LATENCY_MS;
  }

  /** Sends to keep in flight for an account sending at `ratePerSecond`: rate x p95 x headroom, within [2, ceiling]. */
  sizeFor(accountId: string, ratePerSecond: number): InFlightSize {
    const p95LatencyMs = this.p95(accountId);
    const wanted = Math.ceil(Math.max(1, ratePerSecond) * (p95LatencyMs / 1000) * IN_FLIGHT_HEADROOM);
    return { size: Math.max(MIN_IN_FLIGHT, Math.min(this.ceiling, wanted)), p95LatencyMs, samples: this.recent.get(accountId)?.count ?? 0 };
  }

  /**
   * The BullMQ concurrency to run an account's worker at, given the one it runs at now and the size
   * wanted (sizeFor): raised as soon as the size passes it, with RAISE_MARGIN to spare; lowered only
   * once the size falls under half of it. A raise is not free: BullMQ (6.7) fetches the jobs it
   * makes room for one round trip at a time, and starts none of them, nor the next jobs of those
   * that finish meanwhile, until it has them all. `npm run bench:bullmq` measures it with plain
   * BullMQ: jobs of 100-300 ms, 75 raised to 800 stopped every start for 161-168 ms and the jobs in
   * flight fell to 14-15 (300 ms and 5 in a first, busier measurement). Following every move of the
   * p95 (every refresh, a few percent up or down) paid that each time, so the concurrency moves
   * only when the size has clearly left it. Raising more rarely still, or in steps, was measured
   * worse (BENCHMARKS.md, session 11): the first raise's jobs wait in the rate gate and keep the
   * sends going through the stall of a second one.
   */
  concurrencyFor(current: number, wanted: number): number {
    if (wanted > current || wanted < current / 2) return Math.min(this.ceiling, Math.max(wanted, Math.ceil(wanted * RAISE_MARGIN)));
    return current;
  }

  forget(accountId: string): void {
    this.recent.delete(accountId);
  }
}
