/**
 * Samples a monotonic counter (the provider's accepted sends) on a timer, and measures from
 * those samples how long sending took to come back after each fault.
 */

export type Fault = {
  kind: string;
  /** When the fault was injected (Date.now()). */
  startedAt: number;
  /** When the fault was over: the service answers again, the killed process is gone. */
  endedAt: number;
  /** Counter value when the fault was injected. */
  countAtStart: number;
};

export type Recovery = {
  /** Sends per second over the 2 s before the fault. */
  rateBefore: number;
  /** From the fault until the counter moved again after the fault ended (ms); null: it never did. */
  movedAfterMs: number | null;
  /**
   * From the fault until a 1 s window (starting after the fault ended) held at least half the
   * rate before it (ms); null: it never did.
   */
  rateBackAfterMs: number | null;
  /** Lowest 1 s rate in the 10 s after the fault (before the next fault and the campaign's tail), as a share of the rate before. */
  lowestShare: number | null;
};

type Sample = { at: number; count: number };

const WINDOW_MS = 1_000;

export class ProgressRecorder {
  private readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly read: () => number,
    private readonly everyMs = 250,
  ) {}

  /** The last value read. */
  get latest(): number {
    return this.samples[this.samples.length - 1]?.count ?? 0;
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
  }

  private sample(): void {
    this.samples.push({ at: Date.now(), count: this.read() });
  }

  /** The counter's value at a time: the last sample at or before it. */
  countAt(at: number): number {
    let lo = 0;
    let hi = this.samples.length - 1;
    let found = this.samples[0]?.count ?? 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.samples[mid] as Sample;
      if (s.at <= at) {
        found = s.count;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** `until`: when the next fault began; the lowest rate is looked for only before it. */
  recovery(fault: Fault, until = Number.POSITIVE_INFINITY): Recovery {
    const rateBefore = (this.countAt(fault.startedAt) - this.countAt(fault.startedAt - 2_000)) / 2;
    const last = this.samples[this.samples.length - 1]?.at ?? 0;
    const after = this.samples.filter((s) => s.at >= fault.endedAt);

    const countAtEnd = this.countAt(fault.endedAt);
    const moved = after.find((s) => s.count > countAtEnd);

    let rateBack: Sample | undefined;
    let lowest: number | null = null;
    if (rateBefore >= 1) {
      rateBack = after.find((s) => s.at + WINDOW_MS <= last && this.countAt(s.at + WINDOW_MS) - s.count >= 0.5 * rateBefore);
      // The last few percent trickle in (retries waiting out their backoff): not a fault's doing.
      const finalCount = this.latest;
      const tailFrom = this.samples.find((s) => s.count >= 0.97 * finalCount)?.at ?? last;
      for (const s of this.samples) {
        if (s.at < fault.startedAt || s.at + WINDOW_MS > Math.min(fault.startedAt + 10_000, until, tailFrom)) continue;
        const share = (this.countAt(s.at + WINDOW_MS) - s.count) / rateBefore;
        lowest = lowest === null ? share : Math.min(lowest, share);
      }
    }
    return {
      rateBefore,
      movedAfterMs: moved ? moved.at - fault.startedAt : null,
      rateBackAfterMs: rateBack ? rateBack.at - fault.startedAt : null,
      lowestShare: lowest,
    };
  }
}
