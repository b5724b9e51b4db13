/**
 * Micro-batching: callers add one item and await its own result; items arriving within
 * `maxWaitMs` (or until `maxSize`) are flushed together by one function call. Used for claims
 * and status writes, so each is one SQL statement per batch rather than per recipient, while
 * every caller still waits until its own write is durable.
 */
export type BatchFlush<In, Out> = (items: In[]) => Promise<Out[]>;

export class Batcher<In, Out> {
  private pending: { item: In; resolve: (value: Out) => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly flushFn: BatchFlush<In, Out>,
    private readonly options: { maxSize: number; maxWaitMs: number },
  ) {}

  add(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.options.maxSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.maxWaitMs);
    });
  }

  /** Flushes what is waiting now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const run = this.flushFn(batch.map((b) => b.item)).then(
      (results) => batch.forEach((b, i) => b.resolve(results[i] as Out)),
      (error: unknown) => batch.forEach((b) => b.reject(error)),
    );
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  /** Flushes and waits for every write under way (graceful shutdown). */
  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }
}
