/**
 * Retry delays: exponential with full jitter (AWS's "full jitter"): a random delay up to
 * min(cap, base * 2^(attempt-1)), so many recipients failing together don't retry together; at
 * least a quarter of the base (or of that ceiling, if lower), never at once.
 */
export class Backoff {
  static delayMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
    const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
    // Never zero: a retry at once would hit the same transient fault.
    return Math.max(Math.min(baseMs, ceiling) / 4, Math.round(random() * ceiling));
  }
}
